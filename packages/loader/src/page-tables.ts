/**
 * The boot page tables (docs/protocol.md, "Machine state at entry"):
 * DIRECT_MAP_BASE + p -> p for all RAM and KERNEL_BASE + p -> p for the
 * RAM below KERNEL_WINDOW_SIZE, with 2 MiB pages, writable, supervisor,
 * executable. Nothing else is mapped, so stray pointers fault.
 */
import {
  BOOT_PAGE_TABLES_ADDR,
  BOOT_PAGE_TABLES_SIZE,
  DIRECT_MAP_BASE,
  KERNEL_BASE,
  KERNEL_WINDOW_SIZE,
  LARGE_PAGE_SIZE,
  MAX_RAM_SIZE,
  PAGE_SIZE,
} from '@kvmos/protocol';
import { BootPlanError } from './errors.js';

/** Bits of a page-table entry (x86-64, 4-level paging). */
export const PTE = {
  PRESENT: 1n << 0n,
  WRITABLE: 1n << 1n,
  USER: 1n << 2n,
  /** In a PD entry: maps a 2 MiB page instead of pointing to a page table. */
  HUGE: 1n << 7n,
  NO_EXECUTE: 1n << 63n,
} as const;
/** The physical address bits of an entry. */
export const PTE_ADDRESS_MASK = 0x000f_ffff_ffff_f000n;
export const ENTRIES_PER_TABLE = 512;
const ENTRY_SIZE = 8;
/** Bytes one PD maps with 2 MiB pages, and one PDPT entry covers. */
const PD_SPAN = ENTRIES_PER_TABLE * LARGE_PAGE_SIZE;
/** Page numbers of the tables inside the region. */
const PML4 = 0;
const KERNEL_PDPT = 1;
const KERNEL_PD = 2;
const DIRECT_PDPT = 3;
const FIRST_DIRECT_PD = 4;

/** Index into the table at `level` (4 = PML4 ... 1 = PT) that translates `va`. */
export function tableIndex(va: bigint, level: 1 | 2 | 3 | 4): number {
  return Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);
}

/**
 * Tables in order, one page each: PML4, kernel PDPT, kernel PD, direct-map
 * PDPT, then one direct-map PD per GiB of RAM.
 */
export function buildBootPageTables(ramSize: number): { addr: number; bytes: Uint8Array } {
  if (!Number.isSafeInteger(ramSize) || ramSize <= 0 || ramSize % LARGE_PAGE_SIZE !== 0 || ramSize > MAX_RAM_SIZE) {
    throw new BootPlanError(
      `cannot map ${ramSize} bytes of RAM: the boot page tables need a positive multiple of 2 MiB up to ${MAX_RAM_SIZE / 2 ** 20} MiB`,
    );
  }
  const directPds = Math.ceil(ramSize / PD_SPAN);
  const pages = FIRST_DIRECT_PD + directPds;
  const bytes = new Uint8Array(pages * PAGE_SIZE);
  if (bytes.length > BOOT_PAGE_TABLES_SIZE) throw new Error('boot page tables outgrew BOOT_PAGE_TABLES_SIZE');
  const dv = new DataView(bytes.buffer);
  const pageAddr = (page: number): bigint => BigInt(BOOT_PAGE_TABLES_ADDR + page * PAGE_SIZE);
  const set = (page: number, index: number, entry: bigint): void =>
    dv.setBigUint64(page * PAGE_SIZE + index * ENTRY_SIZE, entry, true);
  const table = PTE.PRESENT | PTE.WRITABLE;
  const largePage = PTE.PRESENT | PTE.WRITABLE | PTE.HUGE;

  set(PML4, tableIndex(KERNEL_BASE, 4), pageAddr(KERNEL_PDPT) | table);
  set(KERNEL_PDPT, tableIndex(KERNEL_BASE, 3), pageAddr(KERNEL_PD) | table);
  const kernelWindow = Math.min(ramSize, KERNEL_WINDOW_SIZE);
  for (let p = 0; p < kernelWindow; p += LARGE_PAGE_SIZE) {
    set(KERNEL_PD, tableIndex(KERNEL_BASE + BigInt(p), 2), BigInt(p) | largePage);
  }

  set(PML4, tableIndex(DIRECT_MAP_BASE, 4), pageAddr(DIRECT_PDPT) | table);
  for (let pd = 0; pd < directPds; pd++) {
    const va = DIRECT_MAP_BASE + BigInt(pd * PD_SPAN);
    set(DIRECT_PDPT, tableIndex(va, 3), pageAddr(FIRST_DIRECT_PD + pd) | table);
  }
  for (let p = 0; p < ramSize; p += LARGE_PAGE_SIZE) {
    const pd = FIRST_DIRECT_PD + Math.floor(p / PD_SPAN);
    set(pd, tableIndex(DIRECT_MAP_BASE + BigInt(p), 2), BigInt(p) | largePage);
  }
  return { addr: BOOT_PAGE_TABLES_ADDR, bytes };
}
