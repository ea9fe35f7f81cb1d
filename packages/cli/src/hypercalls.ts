/**
 * Guest requests, decoded separately from handling them (uhyve's
 * `address_to_hypercall` / `handle_hypercall`): every guest address and
 * length is validated here, so handlers only ever see ranges inside RAM.
 */
import {
  PORT,
  checkRange,
  decodeConsoleWriteSegments,
  decodeFaultReport,
  decodeIoVecHeader,
  decodeCopy,
  decodeTrace,
  decodeLog,
  ProtocolError,
  CLOCK_SIZE,
  COPY_SIZE,
  COPY_FLAG_ZERO,
  LOG_SIZE,
  TRACE_SIZE,
  type Trace,
  type LogKind,
  CONSOLE_WRITE_HEADER_SIZE,
  CONSOLE_WRITE_SEGMENT_SIZE,
  FAULT_REPORT_SIZE,
  type FaultReport,
  TTY_SIZE,
  decodeTty,
  type Tty,
  FS_REQUEST_SIZE,
  FS_REQUEST_RESULT_OFFSET,
  FS_OP_SHAPE,
  checkSymlinkTarget,
  decodeFsRequest,
  fsOpName,
  splitRelativePath,
  type FsOpName,
} from '@kvmos/protocol';
import { GuestRequestError } from './errors.js';

/** Read-only access to guest RAM, as the decoder needs it. */
export interface GuestMemoryReader {
  readonly size: number;
  view(addr: number, len: number): Buffer;
}

export type Hypercall =
  | { kind: 'exit'; code: number }
  | { kind: 'console'; fd: 1 | 2; chunks: Buffer[]; resultAddr: number }
  | { kind: 'fault'; report: FaultReport; message: string | undefined }
  | { kind: 'doorbell' }
  /** Read the host's stdin into `chunks` (writable views of guest RAM). */
  | { kind: 'consoleRead'; chunks: Buffer[]; resultAddr: number }
  /** memmove inside RAM (`src` undefined: fill with zeros). */
  | { kind: 'copy'; dst: number; src: number | undefined; len: number }
  | { kind: 'clock'; addr: number }
  | { kind: 'random'; chunks: Buffer[]; resultAddr: number }
  | { kind: 'trace'; trace: Trace }
  | { kind: 'log'; logKind: LogKind; message: string }
  | { kind: 'unknownSyscall'; nr: number }
  /** Set the terminal's modes or wait for its input; the host writes the result at `resultAddr`. */
  | { kind: 'tty'; tty: Tty; resultAddr: number }
  /** An operation on a mounted host directory (host-fs.ts); the host writes the result at `resultAddr`. */
  | { kind: 'fs'; request: FsCall; resultAddr: number };

/**
 * A decoded FsRequest: paths already split into validated names (copied
 * out of guest RAM), the buffer a view of guest RAM inside it.
 */
export interface FsCall {
  op: FsOpName;
  mount: number;
  /** The path's names; empty for the mount's root. */
  path: Buffer[];
  /** rename, link: the second path's names. */
  path2: Buffer[] | undefined;
  /** symlink: the target, bytes as given. */
  target: Buffer | undefined;
  /** The data buffer (a view of guest RAM), for the ops that have one. */
  buf: Buffer | undefined;
  offset: bigint;
  flags: number;
  mode: number;
}

/** Turns a port write into a validated request, or throws GuestRequestError. */
export function decodeHypercall(port: number, value: number, memory: GuestMemoryReader): Hypercall {
  try {
    switch (port) {
      case PORT.exit:
        return { kind: 'exit', code: value >>> 0 };
      case PORT.console:
        return decodeConsole(value, memory);
      case PORT.fault:
        return decodeFault(value, memory);
      case PORT.doorbell:
        // The value is reserved (docs/protocol.md): anything else is a guest bug, not a frame.
        if (value !== 0) throw new GuestRequestError(`doorbell rung with 0x${value.toString(16)}; its value must be 0`);
        return { kind: 'doorbell' };
      case PORT.consoleRead: {
        const { chunks, resultAddr } = decodeIoVec(value, memory, [0]);
        return { kind: 'consoleRead', chunks, resultAddr };
      }
      case PORT.random: {
        const { chunks, resultAddr } = decodeIoVec(value, memory, [0]);
        return { kind: 'random', chunks, resultAddr };
      }
      case PORT.copy:
        return decodeCopyRequest(value, memory);
      case PORT.clock:
        structAt(value, CLOCK_SIZE, memory);
        return { kind: 'clock', addr: value };
      case PORT.trace:
        return { kind: 'trace', trace: decodeTrace(structAt(value, TRACE_SIZE, memory)) };
      case PORT.log: {
        const log = decodeLog(structAt(value, LOG_SIZE, memory));
        checkRange(log.addr, BigInt(log.len), memory.size);
        const message = memory.view(Number(log.addr), log.len).toString('utf8');
        return { kind: 'log', logKind: log.kind, message };
      }
      case PORT.unknownSyscall:
        return { kind: 'unknownSyscall', nr: value };
      case PORT.tty:
        return { kind: 'tty', tty: decodeTty(structAt(value, TTY_SIZE, memory)), resultAddr: value + 8 };
      case PORT.fs:
        return { kind: 'fs', request: decodeFsCall(value, memory), resultAddr: value + FS_REQUEST_RESULT_OFFSET };
      default:
        throw new GuestRequestError(`write to unknown port 0x${port.toString(16)} (value 0x${value.toString(16)})`);
    }
  } catch (e) {
    if (e instanceof ProtocolError) {
      throw new GuestRequestError(`bad ${portName(port)} request at guest-physical 0x${value.toString(16)}: ${e.message}`);
    }
    throw e;
  }
}

function structAt(addr: number, len: number, memory: GuestMemoryReader): Buffer {
  checkRange(BigInt(addr), BigInt(len), memory.size);
  if (addr % 8 !== 0) throw new ProtocolError('address', `0x${addr.toString(16)} is not 8-byte aligned`);
  return memory.view(addr, len);
}

/** An IoVec request (ConsoleWrite's layout) whose fd must be one of `fds`. */
function decodeIoVec(addr: number, memory: GuestMemoryReader, fds: readonly number[]): { fd: number; chunks: Buffer[]; resultAddr: number } {
  const header = decodeIoVecHeader(structAt(addr, CONSOLE_WRITE_HEADER_SIZE, memory), fds);
  const segmentBytes = structAt(addr + CONSOLE_WRITE_HEADER_SIZE, header.count * CONSOLE_WRITE_SEGMENT_SIZE, memory);
  const chunks = decodeConsoleWriteSegments(segmentBytes, header.count).map((s) => {
    checkRange(s.addr, s.len, memory.size);
    return memory.view(Number(s.addr), Number(s.len));
  });
  return { fd: header.fd, chunks, resultAddr: addr + 8 };
}

/** Every address and length of an FsRequest checked against RAM, its paths against the rules of splitRelativePath. */
export function decodeFsCall(addr: number, memory: GuestMemoryReader): FsCall {
  const r = decodeFsRequest(structAt(addr, FS_REQUEST_SIZE, memory));
  const op = fsOpName(r.op);
  const shape = FS_OP_SHAPE[op];
  const bytesAt = (at: bigint, len: number | bigint): Buffer => {
    checkRange(at, BigInt(len), memory.size);
    return memory.view(Number(at), Number(len));
  };
  // Paths are copied: the names must not change between check and use.
  const path = splitRelativePath(Buffer.from(bytesAt(r.pathAddr, r.pathLen)), 'path');
  let path2: Buffer[] | undefined;
  let target: Buffer | undefined;
  if (shape.path2 === 'relative') path2 = splitRelativePath(Buffer.from(bytesAt(r.path2Addr, r.path2Len)), 'path2');
  if (shape.path2 === 'target') {
    target = Buffer.from(bytesAt(r.path2Addr, r.path2Len));
    checkSymlinkTarget(target);
  }
  const buf = shape.buf === 'none' ? undefined : bytesAt(r.bufAddr, r.bufLen);
  return { op, mount: r.mount, path, path2, target, buf, offset: r.offset, flags: r.flags, mode: r.mode };
}

function decodeCopyRequest(addr: number, memory: GuestMemoryReader): Hypercall {
  const c = decodeCopy(structAt(addr, COPY_SIZE, memory));
  checkRange(c.dst, c.len, memory.size);
  const zero = (c.flags & COPY_FLAG_ZERO) !== 0n;
  if (!zero) checkRange(c.src, c.len, memory.size);
  return { kind: 'copy', dst: Number(c.dst), src: zero ? undefined : Number(c.src), len: Number(c.len) };
}

function decodeConsole(addr: number, memory: GuestMemoryReader): Hypercall {
  const { fd, chunks, resultAddr } = decodeIoVec(addr, memory, [1, 2]);
  return { kind: 'console', fd: fd as 1 | 2, chunks, resultAddr };
}

const MESSAGE_MAX = 4096;

function decodeFault(addr: number, memory: GuestMemoryReader): Hypercall {
  const report = decodeFaultReport(structAt(addr, FAULT_REPORT_SIZE, memory));
  let message: string | undefined;
  if (report.messageAddr !== 0n && report.messageLen > 0n) {
    // A bad message pointer must not hide the fault itself: report it without the text.
    const len = report.messageLen > BigInt(MESSAGE_MAX) ? BigInt(MESSAGE_MAX) : report.messageLen;
    try {
      checkRange(report.messageAddr, len, memory.size);
      message = memory.view(Number(report.messageAddr), Number(len)).toString('utf8');
    } catch {
      message = `(message at guest-physical 0x${report.messageAddr.toString(16)} is outside guest RAM)`;
    }
  }
  return { kind: 'fault', report, message };
}

function portName(port: number): string {
  for (const [name, p] of Object.entries(PORT)) if (p === port) return name;
  return `port 0x${port.toString(16)}`;
}
