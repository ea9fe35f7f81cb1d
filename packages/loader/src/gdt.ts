/**
 * The boot GDT: Linux's selector layout, which PVM requires (see
 * docs/platform.md). Entries 0, 1 and 7 are null; the TSS slot at 0x40 is
 * past the limit because the kernel installs its own GDT and TSS.
 */
import { SELECTOR } from '@kvmos/protocol';

/** A code or data segment descriptor, field by field (names as in KVM's `kvm_segment`). */
export interface SegmentDescriptor {
  base: number;
  /** 20 bits; in 4 KiB units when `g` is 1. */
  limit: number;
  /** 4 bits: code/data type, see SEGMENT_TYPE. */
  type: number;
  /** 1 for code/data, 0 for system descriptors. */
  s: number;
  dpl: number;
  present: number;
  avl: number;
  /** 64-bit code. */
  l: number;
  /** 32-bit default operand size; must be 0 when `l` is 1. */
  db: number;
  g: number;
}

export const SEGMENT_TYPE = {
  /** Data, read/write, accessed (the CPU would otherwise write the bit into the GDT). */
  DATA_RW_ACCESSED: 0x3,
  /** Code, execute/read, accessed. */
  CODE_XR_ACCESSED: 0xb,
  /** System: LDT. */
  LDT: 0x2,
  /** System: 64-bit TSS, busy (the state after `ltr`). */
  TSS64_BUSY: 0xb,
} as const;

const flat = { base: 0, limit: 0xf_ffff, s: 1, present: 1, avl: 0, g: 1 } as const;
const code64 = { ...flat, type: SEGMENT_TYPE.CODE_XR_ACCESSED, l: 1, db: 0 } as const;
const code32 = { ...flat, type: SEGMENT_TYPE.CODE_XR_ACCESSED, l: 0, db: 1 } as const;
const data = { ...flat, type: SEGMENT_TYPE.DATA_RW_ACCESSED, l: 0, db: 1 } as const;

export const KERNEL_CODE: SegmentDescriptor = { ...code64, dpl: 0 };
export const KERNEL_DATA: SegmentDescriptor = { ...data, dpl: 0 };
export const USER32_CODE: SegmentDescriptor = { ...code32, dpl: 3 };
export const USER_DATA: SegmentDescriptor = { ...data, dpl: 3 };
export const USER_CODE: SegmentDescriptor = { ...code64, dpl: 3 };

export const BOOT_GDT_ENTRIES = 8;
export const BOOT_GDT_SIZE = BOOT_GDT_ENTRIES * 8;

/** The 8-byte descriptor as a u64. */
export function encodeDescriptor(d: SegmentDescriptor): bigint {
  const base = BigInt(d.base);
  const limit = BigInt(d.limit);
  return (
    (limit & 0xffffn) |
    ((base & 0xff_ffffn) << 16n) |
    (BigInt(d.type & 0xf) << 40n) |
    (BigInt(d.s & 1) << 44n) |
    (BigInt(d.dpl & 3) << 45n) |
    (BigInt(d.present & 1) << 47n) |
    (((limit >> 16n) & 0xfn) << 48n) |
    (BigInt(d.avl & 1) << 52n) |
    (BigInt(d.l & 1) << 53n) |
    (BigInt(d.db & 1) << 54n) |
    (BigInt(d.g & 1) << 55n) |
    (((base >> 24n) & 0xffn) << 56n)
  );
}

/** The BOOT_GDT_SIZE bytes the host writes at BOOT_GDT_ADDR. */
export function buildBootGdt(): Uint8Array {
  const bytes = new Uint8Array(BOOT_GDT_SIZE);
  const dv = new DataView(bytes.buffer);
  const entries: [number, SegmentDescriptor][] = [
    [SELECTOR.kernelCode, KERNEL_CODE],
    [SELECTOR.kernelData, KERNEL_DATA],
    [SELECTOR.user32Code, USER32_CODE],
    [SELECTOR.userData, USER_DATA],
    [SELECTOR.userCode, USER_CODE],
  ];
  // The low 3 bits of a selector are RPL and TI, not part of the offset.
  for (const [selector, d] of entries) dv.setBigUint64(selector & ~7, encodeDescriptor(d), true);
  return bytes;
}
