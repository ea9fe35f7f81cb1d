/**
 * The argument structs of the hypercalls linux-exec adds (docs/protocol.md,
 * "Running Linux programs"). consoleRead and random take an IoVec request,
 * which is ConsoleWrite's layout (hypercalls.ts). Decoders look only at
 * bytes; the host checks addresses with `checkRange`.
 */
import { ProtocolError } from './errors.js';
import { requireSize, setI64, setU32, setU64, view } from './binary.js';

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
