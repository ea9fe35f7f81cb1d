/**
 * The argument structs of the hypercalls linux-exec adds (docs/protocol.md,
 * "Running Linux programs"). consoleRead and random take an IoVec request,
 * which is ConsoleWrite's layout (hypercalls.ts). Decoders look only at
 * bytes; the host checks addresses with `checkRange`.
 */
import { ProtocolError } from './errors.js';
import { requireSize, setBytes, setI64, setU32, setU64, view } from './binary.js';

export const COPY_SIZE = 32;
/** Copy.flags bit 0: fill the destination with zeros; src is ignored. */
export const COPY_FLAG_ZERO = 1n;
export const CLOCK_SIZE = 16;
export const TRACE_SIZE = 64;
export const TRACE_ARGS = 6;
export const LOG_SIZE = 16;
export const LOG_MESSAGE_MAX = 4096;
/** Log kinds: a diagnostic shown with --verbose; a line shown always. */
export const LOG_KIND = { diagnostic: 0, notice: 1 } as const;
export type LogKind = (typeof LOG_KIND)[keyof typeof LOG_KIND];

export interface Copy {
  dst: bigint;
  src: bigint;
  len: bigint;
  flags: bigint;
}

export interface Clock {
  realtimeNs: bigint;
  monotonicNs: bigint;
}

export interface Trace {
  nr: bigint;
  args: bigint[];
  result: bigint;
}

export interface Log {
  kind: LogKind;
  len: number;
  addr: bigint;
}

export function decodeCopy(bytes: Uint8Array): Copy {
  requireSize(bytes, COPY_SIZE, 'Copy');
  const dv = view(bytes);
  const flags = dv.getBigUint64(24, true);
  if (flags & ~COPY_FLAG_ZERO) throw new ProtocolError('flags', `unknown bits 0x${(flags & ~COPY_FLAG_ZERO).toString(16)}`);
  return { dst: dv.getBigUint64(0, true), src: dv.getBigUint64(8, true), len: dv.getBigUint64(16, true), flags };
}

export function encodeCopy(c: Copy): Uint8Array {
  const out = new Uint8Array(COPY_SIZE);
  const dv = view(out);
  setU64(dv, 0, c.dst, 'dst');
  setU64(dv, 8, c.src, 'src');
  setU64(dv, 16, c.len, 'len');
  setU64(dv, 24, c.flags, 'flags');
  return out;
}

export function encodeClock(c: Clock): Uint8Array {
  const out = new Uint8Array(CLOCK_SIZE);
  const dv = view(out);
  setU64(dv, 0, c.realtimeNs, 'realtimeNs');
  setU64(dv, 8, c.monotonicNs, 'monotonicNs');
  return out;
}

export function decodeTrace(bytes: Uint8Array): Trace {
  requireSize(bytes, TRACE_SIZE, 'Trace');
  const dv = view(bytes);
  const args = Array.from({ length: TRACE_ARGS }, (_, i) => dv.getBigUint64(8 + 8 * i, true));
  return { nr: dv.getBigUint64(0, true), args, result: dv.getBigInt64(56, true) };
}

export function encodeTrace(t: Trace): Uint8Array {
  if (t.args.length !== TRACE_ARGS) throw new ProtocolError('args', `needs ${TRACE_ARGS} values, got ${t.args.length}`);
  const out = new Uint8Array(TRACE_SIZE);
  const dv = view(out);
  setU64(dv, 0, t.nr, 'nr');
  t.args.forEach((a, i) => setU64(dv, 8 + 8 * i, a, 'args'));
  setI64(dv, 56, t.result, 'result');
  return out;
}

export function decodeLog(bytes: Uint8Array): Log {
  requireSize(bytes, LOG_SIZE, 'Log');
  const dv = view(bytes);
  const kind = dv.getUint32(0, true);
  if (kind !== LOG_KIND.diagnostic && kind !== LOG_KIND.notice) throw new ProtocolError('kind', `${kind} is not 0 or 1`);
  const len = dv.getUint32(4, true);
  if (len > LOG_MESSAGE_MAX) throw new ProtocolError('len', `${len} exceeds ${LOG_MESSAGE_MAX}`);
  return { kind, len, addr: dv.getBigUint64(8, true) };
}

export function encodeLog(l: Log): Uint8Array {
  const out = new Uint8Array(LOG_SIZE);
  const dv = view(out);
  setU32(dv, 0, l.kind, 'kind');
  setU32(dv, 4, l.len, 'len');
  setU64(dv, 8, l.addr, 'addr');
  return out;
}

/** Tty (docs/protocol.md, "The terminal"): 64 bytes, 8-byte aligned. */
export const TTY_SIZE = 64;
/** `struct termios` of the Linux kernel (TCGETS): c_cc has 19 slots. */
export const TERMIOS_NCCS = 19;
/** The kernel's `struct termios` as TCGETS/TCSETS pass it. */
export const TERMIOS_SIZE = 36;
/** Where Tty.termios starts. */
const TTY_TERMIOS_OFFSET = 24;
/**
 * Tty.op: set the host terminal's modes; wait for input on it; take the
 * signals its keys (VINTR, VQUIT, VSUSP) raised since last asked.
 */
export const TTY_OP = { setModes: 0, waitInput: 1, signals: 2 } as const;
export type TtyOp = (typeof TTY_OP)[keyof typeof TTY_OP];
/** Tty.action for setModes: TCSANOW (TCSETS), TCSADRAIN (TCSETSW), TCSAFLUSH (TCSETSF). */
export const TTY_ACTION = { now: 0, drain: 1, flush: 2 } as const;

/** The kernel's `struct termios` (36 bytes). */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  /** TERMIOS_NCCS bytes. */
  cc: Uint8Array;
}

export interface Tty {
  op: TtyOp;
  /** setModes: TTY_ACTION; waitInput, signals: 0. */
  action: number;
  /**
   * Written by the host: setModes 0 or -errno; waitInput 1 (input is there)
   * or 0 (timed out, or a terminal signal came: ask with `signals`);
   * signals: the mask of them (bit `sig - 1`: SIGINT, SIGQUIT, SIGTSTP).
   */
  result: bigint;
  /** waitInput: how long to wait in ms, -1 for ever; setModes, signals: 0. */
  timeoutMs: bigint;
  /** setModes: the modes; waitInput: zero. */
  termios: Termios;
}

export function decodeTty(bytes: Uint8Array): Tty {
  requireSize(bytes, TTY_SIZE, 'Tty');
  const dv = view(bytes);
  const op = dv.getUint32(0, true);
  if (op !== TTY_OP.setModes && op !== TTY_OP.waitInput && op !== TTY_OP.signals) throw new ProtocolError('op', `${op} is not 0, 1 or 2`);
  const action = dv.getUint32(4, true);
  if (op === TTY_OP.setModes ? action > TTY_ACTION.flush : action !== 0) {
    throw new ProtocolError('action', `${action} is not valid for op ${op}`);
  }
  const timeoutMs = dv.getBigInt64(16, true);
  if (timeoutMs < -1n || (op !== TTY_OP.waitInput && timeoutMs !== 0n)) throw new ProtocolError('timeoutMs', `${timeoutMs} is not valid for op ${op}`);
  const reserved = dv.getUint32(60, true);
  if (reserved !== 0) throw new ProtocolError('reserved', `must be 0, got ${reserved}`);
  return {
    op,
    action,
    result: dv.getBigInt64(8, true),
    timeoutMs,
    termios: decodeTermios(bytes.subarray(TTY_TERMIOS_OFFSET, TTY_TERMIOS_OFFSET + TERMIOS_SIZE)),
  };
}

export function encodeTty(t: Tty): Uint8Array {
  const out = new Uint8Array(TTY_SIZE);
  const dv = view(out);
  setU32(dv, 0, t.op, 'op');
  setU32(dv, 4, t.action, 'action');
  setI64(dv, 8, t.result, 'result');
  setI64(dv, 16, t.timeoutMs, 'timeoutMs');
  out.set(encodeTermios(t.termios), TTY_TERMIOS_OFFSET);
  return out;
}

/** The kernel's `struct termios` as TCGETS/TCSETS pass it (36 bytes). */
export function encodeTermios(t: Termios): Uint8Array {
  const out = new Uint8Array(TERMIOS_SIZE);
  const dv = view(out);
  setU32(dv, 0, t.iflag, 'iflag');
  setU32(dv, 4, t.oflag, 'oflag');
  setU32(dv, 8, t.cflag, 'cflag');
  setU32(dv, 12, t.lflag, 'lflag');
  if (!Number.isInteger(t.line) || t.line < 0 || t.line > 0xff) throw new ProtocolError('line', `${t.line} does not fit in a u8`);
  out[16] = t.line;
  setBytes(out, 17, t.cc, TERMIOS_NCCS, 'cc');
  return out;
}

export function decodeTermios(bytes: Uint8Array): Termios {
  requireSize(bytes, TERMIOS_SIZE, 'Termios');
  const dv = view(bytes);
  return {
    iflag: dv.getUint32(0, true),
    oflag: dv.getUint32(4, true),
    cflag: dv.getUint32(8, true),
    lflag: dv.getUint32(12, true),
    line: bytes[16] ?? 0,
    cc: bytes.slice(17, 17 + TERMIOS_NCCS),
  };
}
