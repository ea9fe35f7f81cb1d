/**
 * Argument structs of the port hypercalls (docs/protocol.md, PORT in
 * layout.ts). Decoders look only at bytes; whether the addresses inside lie
 * in guest RAM is for the host to check with `checkRange`.
 * Types: u32 fields are `number`, u64/i64 fields are `bigint`.
 */
import { ProtocolError } from './errors.js';
import { hex, requireSize, setI64, setU32, setU64, view } from './binary.js';

export const CONSOLE_WRITE_HEADER_SIZE = 16;
export const CONSOLE_WRITE_SEGMENT_SIZE = 16;
/** Where the host stores the i64 result, from the start of a ConsoleWrite. */
export const CONSOLE_WRITE_RESULT_OFFSET = 8;
export const CONSOLE_WRITE_MAX_SEGMENTS = 64;
/** Bound on the sum of segment lengths of one ConsoleWrite (1 MiB). */
export const CONSOLE_WRITE_MAX_TOTAL = 0x10_0000;

export const FAULT_REPORT_SIZE = 96;
export const FAULT_MESSAGE_MAX = 4096;
/** FaultReport.vector of a kernel panic (no CPU exception, message only). */
export const FAULT_VECTOR_PANIC = 256;

export type ConsoleFd = 1 | 2;

export interface ConsoleWriteHeader {
  fd: ConsoleFd;
  /** Number of segments that follow the header, 1..=CONSOLE_WRITE_MAX_SEGMENTS. */
  count: number;
  /** Written by the host: bytes written, or -errno. */
  result: bigint;
}

/** A guest-physical byte range. */
export interface ConsoleSegment {
  addr: bigint;
  len: bigint;
}

/** A whole ConsoleWrite; its `count` is `segments.length`. */
export interface ConsoleWrite {
  fd: ConsoleFd;
  result: bigint;
  segments: ConsoleSegment[];
}

export interface FaultReport {
  /** 0..=31 exception vector, or FAULT_VECTOR_PANIC. */
  vector: bigint;
  errorCode: bigint;
  rip: bigint;
  /** Low 2 bits: the ring the fault happened in. */
  cs: bigint;
  rflags: bigint;
  rsp: bigint;
  ss: bigint;
  cr2: bigint;
  cr3: bigint;
  /** Guest-physical address of a UTF-8 message, 0 if none. */
  messageAddr: bigint;
  /** At most FAULT_MESSAGE_MAX. */
  messageLen: bigint;
}

/** Offsets of docs/protocol.md's table; reserved (u64, zero) is at 88. */
const FAULT_OFFSET = {
  vector: 0,
  errorCode: 8,
  rip: 16,
  cs: 24,
  rflags: 32,
  rsp: 40,
  ss: 48,
  cr2: 56,
  cr3: 64,
  messageAddr: 72,
  messageLen: 80,
} as const satisfies Record<keyof FaultReport, number>;
const FAULT_FIELDS = Object.keys(FAULT_OFFSET) as (keyof FaultReport)[];

/**
 * Reads the 16-byte header of an IoVec request: the layout ConsoleWrite,
 * consoleRead and random share; `fds` are the fd values the port accepts.
 */
export function decodeIoVecHeader<F extends number>(bytes: Uint8Array, fds: readonly F[]): { fd: F; count: number; result: bigint } {
  requireSize(bytes, CONSOLE_WRITE_HEADER_SIZE, 'IoVec header');
  const dv = view(bytes);
  const fd = dv.getUint32(0, true);
  if (!(fds as readonly number[]).includes(fd)) throw new ProtocolError('fd', `${fd} is not ${fds.join(' or ')}`);
  const count = dv.getUint32(4, true);
  checkCount(count);
  return { fd: fd as F, count, result: dv.getBigInt64(CONSOLE_WRITE_RESULT_OFFSET, true) };
}

/** Reads the fixed 16-byte header of a ConsoleWrite (fd 1 = stdout or 2 = stderr). */
export function decodeConsoleWriteHeader(bytes: Uint8Array): ConsoleWriteHeader {
  return decodeIoVecHeader(bytes, [1, 2] as const);
}

/** Reads `count` segments (the bytes after the header) and bounds their total length. */
export function decodeConsoleWriteSegments(bytes: Uint8Array, count: number): ConsoleSegment[] {
  checkCount(count);
  requireSize(bytes, count * CONSOLE_WRITE_SEGMENT_SIZE, `ConsoleWrite with ${count} segments`);
  const dv = view(bytes);
  const segments: ConsoleSegment[] = [];
  let total = 0n;
  for (let i = 0; i < count; i++) {
    const addr = dv.getBigUint64(i * CONSOLE_WRITE_SEGMENT_SIZE, true);
    const len = dv.getBigUint64(i * CONSOLE_WRITE_SEGMENT_SIZE + 8, true);
    total += len;
    if (total > BigInt(CONSOLE_WRITE_MAX_TOTAL)) {
      throw new ProtocolError(
        'segments',
        `total length exceeds ${CONSOLE_WRITE_MAX_TOTAL} bytes at segment ${i} (len ${hex(len)})`,
      );
    }
    segments.push({ addr, len });
  }
  return segments;
}

/** Reads a header and its segments from one buffer. */
export function decodeConsoleWrite(bytes: Uint8Array): ConsoleWrite {
  const { fd, count, result } = decodeConsoleWriteHeader(bytes);
  const segments = decodeConsoleWriteSegments(bytes.subarray(CONSOLE_WRITE_HEADER_SIZE), count);
  return { fd, result, segments };
}

/** Header and segments; refuses only values that do not fit their fields. */
export function encodeConsoleWrite(write: ConsoleWrite): Uint8Array {
  const out = new Uint8Array(CONSOLE_WRITE_HEADER_SIZE + write.segments.length * CONSOLE_WRITE_SEGMENT_SIZE);
  const dv = view(out);
  setU32(dv, 0, write.fd, 'fd');
  setU32(dv, 4, write.segments.length, 'count');
  setI64(dv, CONSOLE_WRITE_RESULT_OFFSET, write.result, 'result');
  write.segments.forEach((s, i) => {
    const at = CONSOLE_WRITE_HEADER_SIZE + i * CONSOLE_WRITE_SEGMENT_SIZE;
    setU64(dv, at, s.addr, 'segments');
    setU64(dv, at + 8, s.len, 'segments');
  });
  return out;
}

export function decodeFaultReport(bytes: Uint8Array): FaultReport {
  requireSize(bytes, FAULT_REPORT_SIZE, 'FaultReport');
  const dv = view(bytes);
  const u64 = (f: keyof FaultReport): bigint => dv.getBigUint64(FAULT_OFFSET[f], true);
  const messageLen = u64('messageLen');
  if (messageLen > BigInt(FAULT_MESSAGE_MAX)) {
    throw new ProtocolError('messageLen', `${messageLen} exceeds ${FAULT_MESSAGE_MAX}`);
  }
  return {
    vector: u64('vector'),
    errorCode: u64('errorCode'),
    rip: u64('rip'),
    cs: u64('cs'),
    rflags: u64('rflags'),
    rsp: u64('rsp'),
    ss: u64('ss'),
    cr2: u64('cr2'),
    cr3: u64('cr3'),
    messageAddr: u64('messageAddr'),
    messageLen,
  };
}

/** The 96 bytes of a FaultReport; reserved is zero. */
export function encodeFaultReport(report: FaultReport): Uint8Array {
  const out = new Uint8Array(FAULT_REPORT_SIZE);
  const dv = view(out);
  for (const f of FAULT_FIELDS) setU64(dv, FAULT_OFFSET[f], report[f], f);
  return out;
}

const EXCEPTIONS: Record<number, string> = {
  0: '#DE divide error',
  1: '#DB debug',
  2: 'NMI non-maskable interrupt',
  3: '#BP breakpoint',
  4: '#OF overflow',
  5: '#BR bound range exceeded',
  6: '#UD invalid opcode',
  7: '#NM device not available',
  8: '#DF double fault',
  9: 'coprocessor segment overrun',
  10: '#TS invalid TSS',
  11: '#NP segment not present',
  12: '#SS stack-segment fault',
  13: '#GP general protection fault',
  14: '#PF page fault',
  16: '#MF x87 floating-point error',
  17: '#AC alignment check',
  18: '#MC machine check',
  19: '#XM SIMD floating-point exception',
  20: '#VE virtualization exception',
  21: '#CP control protection exception',
  28: '#HV hypervisor injection exception',
  29: '#VC VMM communication exception',
  30: '#SX security exception',
  [FAULT_VECTOR_PANIC]: 'kernel panic',
};

/** A FaultReport vector for people: `#PF page fault`, `kernel panic`, `reserved vector 15`. */
export function exceptionName(vector: number): string {
  const name = EXCEPTIONS[vector];
  if (name !== undefined) return name;
  if (Number.isInteger(vector) && vector >= 0 && vector < 32) return `reserved vector ${vector}`;
  return `unknown vector ${vector}`;
}

/** Throws unless [addr, addr + len) lies inside guest RAM [0, ramSize). */
export function checkRange(addr: bigint, len: bigint, ramSize: number): void {
  if (addr < 0n || len < 0n || addr + len > BigInt(ramSize)) {
    throw new ProtocolError(
      'range',
      `${len} bytes at guest-physical ${hex(addr)} do not lie inside guest RAM (${hex(ramSize)} bytes)`,
    );
  }
}

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > CONSOLE_WRITE_MAX_SEGMENTS) {
    throw new ProtocolError('count', `${count} is not in 1..=${CONSOLE_WRITE_MAX_SEGMENTS}`);
  }
}
