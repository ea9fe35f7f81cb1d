/**
 * The vCPU state at entry (docs/protocol.md, "Machine state at entry") as
 * plain data in the shapes of @kvmos/protocol's cpu-state, which both CPU
 * back ends consume (KVM through its ioctls, TCG through its ROM).
 */
import {
  BOOT_GDT_ADDR,
  BOOT_INFO_ADDR,
  BOOT_PAGE_TABLES_ADDR,
  BOOT_STACK_TOP,
  DIRECT_MAP_BASE,
  KERNEL_BASE,
  SELECTOR,
  type LongModeSregs,
  type MsrEntry,
  type Regs,
  type Segment,
} from '@kvmos/protocol';
import { BOOT_GDT_SIZE, KERNEL_CODE, KERNEL_DATA, SEGMENT_TYPE, type SegmentDescriptor } from './gdt.js';

export type { Regs, Segment, DescriptorTable, LongModeSregs, MsrEntry } from '@kvmos/protocol';

export const CR0 = {
  PE: 1n << 0n,
  MP: 1n << 1n,
  ET: 1n << 4n,
  NE: 1n << 5n,
  WP: 1n << 16n,
  PG: 1n << 31n,
} as const;

export const CR4 = {
  PAE: 1n << 5n,
  OSFXSR: 1n << 9n,
  OSXMMEXCPT: 1n << 10n,
} as const;

export const EFER = {
  SCE: 1n << 0n,
  LME: 1n << 8n,
  LMA: 1n << 10n,
  NXE: 1n << 11n,
} as const;

/** RFLAGS bit 1 always reads 1; everything else clear, so interrupts are off. */
export const RFLAGS_AT_ENTRY = 0x2n;
export const MSR_STAR = 0xc000_0081;
/** Bytes of a 64-bit TSS, for TR's limit. */
const TSS64_SIZE = 104;

export function bootRegs(entry: bigint): Regs {
  return {
    rax: 0n,
    rbx: 0n,
    rcx: 0n,
    rdx: 0n,
    rsi: 0n,
    rdi: BigInt(BOOT_INFO_ADDR),
    rsp: KERNEL_BASE + BigInt(BOOT_STACK_TOP),
    rbp: 0n,
    r8: 0n,
    r9: 0n,
    r10: 0n,
    r11: 0n,
    r12: 0n,
    r13: 0n,
    r14: 0n,
    r15: 0n,
    rip: entry,
    rflags: RFLAGS_AT_ENTRY,
  };
}

export function bootSregs(): LongModeSregs {
  const data = segment(SELECTOR.kernelData, KERNEL_DATA);
  return {
    cs: segment(SELECTOR.kernelCode, KERNEL_CODE),
    ds: data,
    es: { ...data },
    fs: { ...data },
    gs: { ...data },
    ss: { ...data },
    // VM entry in long mode requires TR to hold a present, busy 64-bit TSS. The
    // CPU reads it only on a privilege change, and the kernel loads its own first.
    tr: {
      base: 0n,
      limit: TSS64_SIZE - 1,
      selector: SELECTOR.tss,
      type: SEGMENT_TYPE.TSS64_BUSY,
      present: 1,
      dpl: 0,
      db: 0,
      s: 0,
      l: 0,
      g: 0,
      avl: 0,
      unusable: 0,
    },
    ldt: {
      base: 0n,
      limit: 0,
      selector: 0,
      type: SEGMENT_TYPE.LDT,
      present: 0,
      dpl: 0,
      db: 0,
      s: 0,
      l: 0,
      g: 0,
      avl: 0,
      unusable: 1,
    },
    // GDTR holds a virtual address: with paging on, the GDT is reached through the direct map.
    gdt: { base: DIRECT_MAP_BASE + BigInt(BOOT_GDT_ADDR), limit: BOOT_GDT_SIZE - 1 },
    idt: { base: 0n, limit: 0 },
    cr0: CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG,
    cr3: BigInt(BOOT_PAGE_TABLES_ADDR),
    cr4: CR4.PAE | CR4.OSFXSR | CR4.OSXMMEXCPT,
    efer: EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE,
  };
}

/**
 * STAR[47:32] is the kernel CS for `syscall` (SS = CS + 8); STAR[63:48] is
 * the base for `sysretq` (CS = base + 16, SS = base + 8): Linux's layout.
 */
export function bootMsrs(): MsrEntry[] {
  return [{ index: MSR_STAR, data: (BigInt(SELECTOR.user32Code) << 48n) | (BigInt(SELECTOR.kernelCode) << 32n) }];
}

/** The hidden part of a segment register, as loading `selector` from the GDT would set it. */
function segment(selector: number, d: SegmentDescriptor): Segment {
  return {
    base: BigInt(d.base),
    // KVM takes the limit in bytes, already scaled by the granularity bit.
    limit: d.g ? d.limit * 0x1000 + 0xfff : d.limit,
    selector,
    type: d.type,
    present: d.present,
    dpl: d.dpl,
    db: d.db,
    s: d.s,
    l: d.l,
    g: d.g,
    avl: d.avl,
    unusable: 0,
  };
}
