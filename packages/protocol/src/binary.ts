/**
 * Little-endian field access for the protocol codecs. Internal: readers
 * assume the caller checked the buffer size; writers refuse values that do
 * not fit, because DataView would silently wrap them.
 */
import { ProtocolError } from './errors.js';

export const U32_MAX = 0xffff_ffff;
export const U64_MAX = 0xffff_ffff_ffff_ffffn;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws `size` unless `bytes` holds at least `size` bytes. */
export function requireSize(bytes: Uint8Array, size: number, struct: string): void {
  if (bytes.byteLength < size) {
    throw new ProtocolError('size', `${struct} needs ${size} bytes, got ${bytes.byteLength}`);
  }
}

export function hex(v: number | bigint): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

export function setU16(dv: DataView, offset: number, value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new ProtocolError(field, `${value} does not fit in a u16`);
  }
  dv.setUint16(offset, value, true);
}

export function setU32(dv: DataView, offset: number, value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new ProtocolError(field, `${value} does not fit in a u32`);
  }
  dv.setUint32(offset, value, true);
}

export function setU64(dv: DataView, offset: number, value: bigint, field: string): void {
  if (value < 0n || value > U64_MAX) throw new ProtocolError(field, `${value} does not fit in a u64`);
  dv.setBigUint64(offset, value, true);
}

export function setI64(dv: DataView, offset: number, value: bigint, field: string): void {
  if (value < I64_MIN || value > I64_MAX) throw new ProtocolError(field, `${value} does not fit in an i64`);
  dv.setBigInt64(offset, value, true);
}

export function setBytes(out: Uint8Array, offset: number, value: Uint8Array, length: number, field: string): void {
  if (value.byteLength !== length) {
    throw new ProtocolError(field, `must be exactly ${length} bytes, got ${value.byteLength}`);
  }
  out.set(value, offset);
}
