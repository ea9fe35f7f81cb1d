/**
 * What the TCG back end writes into ACCEL_BOOT before QEMU starts: the plan
 * its ROM applies (rom/rom.S) and the ROM's trampoline page tables. Pure:
 * the boot plan's registers in, bytes out (docs in rom/rom.S; the offsets
 * here and there are checked against each other by test/boot-area.test.ts).
 *
 * Trampoline tables (ACCEL_BOOT + 0x1000 ...), 2 MiB pages:
 *   0 .. 2 MiB                   -> 0          (the plan and the ROM's stack)
 *   0xFFE0_0000 .. 4 GiB         -> itself     (this ROM)
 *   DIRECT_MAP_BASE + 0 .. 2 MiB -> 0          (the boot GDT, the stub)
 * The kernel's own tables (the plan's CR3) map the stub's direct-map page
 * too, which is what lets the stub switch CR3 under itself.
 */
import { ACCEL_BOOT_ADDR, ACCEL_BOOT_SIZE, DIRECT_MAP_BASE, PAGE_SIZE, type BootState, type Segment } from '@kvmos/protocol';
import { TcgError } from './errors.js';

export const PLAN_VERSION = 1;
/** Offsets in the plan (rom/rom.S's P_* symbols). */
export const PLAN = {
  cr0: 0x00, cr3: 0x08, cr4: 0x10, efer: 0x18, rip: 0x20, rsp: 0x28,
  gdtr: 0x30, idtr: 0x40,
  cs: 0x50, ds: 0x52, es: 0x54, ss: 0x56, fs: 0x58, gs: 0x5a, tr: 0x5c,
  rdi: 0x60, rflags: 0x68, trampolineCr3: 0x70, stubVa: 0x78, stubPa: 0x80,
  msrCount: 0x84, msrs: 0x88,
  /** The ROM's stack grows down from here. */
  stackTop: 0x1000,
} as const;
export const MAX_MSRS = 16;
const MSR_ENTRY_SIZE = 16;
const TABLES = 0x1000;
const STUB = 0x7000;

export const MSR_EFER = 0xc000_0080;
export const MSR_FS_BASE = 0xc000_0100;
export const MSR_GS_BASE = 0xc000_0101;
export const MSR_KERNEL_GS_BASE = 0xc000_0102;
const EFER_LMA = 1n << 10n;
const PRESENT_WRITABLE = 0x3n;
const HUGE = 0x80n;
const ROM_PAGE = 0xffe0_0000n;
/** The general-purpose registers the ROM sets: everything else starts at 0. */
const SET_BY_ROM = new Set(['rip', 'rsp', 'rdi', 'rflags']);

/** The ACCEL_BOOT bytes for `state`; throws TcgError for a state the ROM cannot apply. */
export function buildAccelBoot(state: BootState): { addr: number; bytes: Uint8Array } {
  const { regs, sregs } = state;
  for (const [name, value] of Object.entries(regs) as [string, bigint][]) {
    if (!SET_BY_ROM.has(name) && value !== 0n) {
      throw new TcgError('boot plan', `register ${name} is 0x${value.toString(16)} at entry; the TCG ROM sets only RIP, RSP, RDI and RFLAGS (the rest are 0)`);
    }
  }
  const msrs = [
    ...state.msrs,
    { index: MSR_FS_BASE, data: sregs.fs.base },
    { index: MSR_GS_BASE, data: sregs.gs.base },
  ];
  if (msrs.length > MAX_MSRS) throw new TcgError('boot plan', `${msrs.length} MSRs at entry; the TCG ROM takes at most ${MAX_MSRS}`);
  for (const m of msrs) {
    if (m.index === MSR_EFER) throw new TcgError('boot plan', 'EFER belongs in the system registers, not the MSR list');
  }
  for (const [name, s] of Object.entries({ ds: sregs.ds, es: sregs.es, ss: sregs.ss })) checkFlat(name, s);

  const bytes = new Uint8Array(ACCEL_BOOT_SIZE);
  const dv = new DataView(bytes.buffer);
  const u64 = (at: number, v: bigint): void => dv.setBigUint64(at, BigInt.asUintN(64, v), true);
  const u32 = (at: number, v: number): void => dv.setUint32(at, v, true);
  const u16 = (at: number, v: number): void => dv.setUint16(at, v, true);

  u64(PLAN.cr0, sregs.cr0);
  u64(PLAN.cr3, sregs.cr3);
  u64(PLAN.cr4, sregs.cr4);
  // LMA is the CPU's to set when paging turns on; wrmsr would refuse it.
  u64(PLAN.efer, sregs.efer & ~EFER_LMA);
  u64(PLAN.rip, regs.rip);
  u64(PLAN.rsp, regs.rsp);
  u16(PLAN.gdtr, sregs.gdt.limit);
  u64(PLAN.gdtr + 2, sregs.gdt.base);
  u16(PLAN.idtr, sregs.idt.limit);
  u64(PLAN.idtr + 2, sregs.idt.base);
  u16(PLAN.cs, sregs.cs.selector);
  u16(PLAN.ds, sregs.ds.selector);
  u16(PLAN.es, sregs.es.selector);
  u16(PLAN.ss, sregs.ss.selector);
  u16(PLAN.fs, sregs.fs.selector);
  u16(PLAN.gs, sregs.gs.selector);
  // The boot GDT has no TSS descriptor: KVM sets TR's hidden part directly,
  // `ltr` would fault. TR keeps its reset value until the kernel loads its own.
  u16(PLAN.tr, 0);
  u64(PLAN.rdi, regs.rdi);
  u64(PLAN.rflags, regs.rflags);
  u32(PLAN.msrCount, msrs.length);
  msrs.forEach((m, i) => {
    u32(PLAN.msrs + i * MSR_ENTRY_SIZE, m.index);
    u64(PLAN.msrs + i * MSR_ENTRY_SIZE + 8, m.data);
  });

  // Trampoline tables: PML4, low PDPT, PD for 0..1 GiB, PD for 3..4 GiB, direct-map PDPT.
  const table = (k: number): number => TABLES + k * PAGE_SIZE;
  const phys = (off: number): bigint => BigInt(ACCEL_BOOT_ADDR + off);
  const entry = (tableOff: number, index: number, value: bigint): void => u64(tableOff + index * 8, value);
  const [pml4, lowPdpt, firstPd, topPd, directPdpt] = [0, 1, 2, 3, 4].map(table) as [number, number, number, number, number];
  entry(pml4, 0, phys(lowPdpt) | PRESENT_WRITABLE);
  entry(pml4, index(DIRECT_MAP_BASE, 4), phys(directPdpt) | PRESENT_WRITABLE);
  entry(lowPdpt, 0, phys(firstPd) | PRESENT_WRITABLE);
  entry(lowPdpt, index(ROM_PAGE, 3), phys(topPd) | PRESENT_WRITABLE);
  entry(firstPd, 0, 0n | HUGE | PRESENT_WRITABLE);
  entry(topPd, index(ROM_PAGE, 2), ROM_PAGE | HUGE | PRESENT_WRITABLE);
  entry(directPdpt, index(DIRECT_MAP_BASE, 3), phys(firstPd) | PRESENT_WRITABLE);
  u64(PLAN.trampolineCr3, phys(pml4));
  u32(PLAN.stubPa, ACCEL_BOOT_ADDR + STUB);
  u64(PLAN.stubVa, DIRECT_MAP_BASE + phys(STUB));
  return { addr: ACCEL_BOOT_ADDR, bytes };
}

function index(va: bigint, level: 2 | 3 | 4): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
}

/** The ROM loads data selectors from the GDT, so only flat data segments come out as KVM would set them. */
function checkFlat(name: string, s: Segment): void {
  if (s.base !== 0n) throw new TcgError('boot plan', `${name} has base 0x${s.base.toString(16)}; the TCG ROM loads flat data segments only`);
}
