import test from 'ava';
import fc from 'fast-check';
import {
  BOOT_PAGE_TABLES_ADDR,
  BOOT_PAGE_TABLES_SIZE,
  DIRECT_MAP_BASE,
  KERNEL_BASE,
  KERNEL_WINDOW_SIZE,
  LARGE_PAGE_SIZE,
  MAX_RAM_SIZE,
  MIN_RAM_SIZE,
  USER_END,
} from '@kvmos/protocol';
import { BootPlanError, PTE, PTE_ADDRESS_MASK, buildBootPageTables } from '../src/index.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

interface Mapping {
  pa: bigint;
  writable: boolean;
  user: boolean;
  noExecute: boolean;
}

/**
 * What the CPU would do: a 4-level walk from CR3 over the produced bytes.
 * Tables must lie inside the produced region (anything else would be
 * zeroed RAM or the kernel's own memory).
 */
function translate(tables: { addr: number; bytes: Uint8Array }, va: bigint): Mapping | undefined {
  const top = va >> 47n;
  if (top !== 0n && top !== 0x1_ffffn) return undefined; // not canonical
  const dv = new DataView(tables.bytes.buffer, tables.bytes.byteOffset, tables.bytes.byteLength);
  let table = BigInt(tables.addr);
  let writable = true;
  let user = true;
  let noExecute = false;
  for (let level = 4; level >= 1; level--) {
    const index = (va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn;
    const at = Number(table - BigInt(tables.addr) + index * 8n);
    if (at < 0 || at + 8 > tables.bytes.length) throw new Error(`table at 0x${table.toString(16)} outside the region`);
    const entry = dv.getBigUint64(at, true);
    if ((entry & PTE.PRESENT) === 0n) return undefined;
    writable &&= (entry & PTE.WRITABLE) !== 0n;
    user &&= (entry & PTE.USER) !== 0n;
    noExecute ||= (entry & PTE.NO_EXECUTE) !== 0n;
    const frame = entry & PTE_ADDRESS_MASK;
    const pageBits = BigInt(12 + 9 * (level - 1));
    if (level === 1 || ((level === 2 || level === 3) && (entry & PTE.HUGE) !== 0n)) {
      const mask = (1n << pageBits) - 1n;
      if ((frame & mask) !== 0n) throw new Error(`misaligned large page frame 0x${frame.toString(16)}`);
      return { pa: frame | (va & mask), writable, user, noExecute };
    }
    table = frame;
  }
  throw new Error('unreachable');
}

const RAM_SIZES = [MIN_RAM_SIZE, 256 * MiB, GiB, GiB + 2 * MiB, 3 * GiB - 2 * MiB, MAX_RAM_SIZE];

for (const ramSize of RAM_SIZES) {
  const tables = buildBootPageTables(ramSize);
  const kernelWindow = Math.min(ramSize, KERNEL_WINDOW_SIZE);

  test(`${ramSize / MiB} MiB: tables fit their region`, (t) => {
    t.is(tables.addr, BOOT_PAGE_TABLES_ADDR);
    t.true(tables.bytes.length <= BOOT_PAGE_TABLES_SIZE);
  });

  test(`${ramSize / MiB} MiB: direct map and kernel window map p -> p, RW, supervisor, executable`, (t) => {
    const samples = [0, 1, 0xfff, LARGE_PAGE_SIZE - 1, LARGE_PAGE_SIZE, 0x123_4567, ramSize - 1, kernelWindow - 1];
    for (const p of samples) {
      t.deepEqual(translate(tables, DIRECT_MAP_BASE + BigInt(p)), {
        pa: BigInt(p),
        writable: true,
        user: false,
        noExecute: false,
      });
      if (p < kernelWindow) {
        t.deepEqual(translate(tables, KERNEL_BASE + BigInt(p)), {
          pa: BigInt(p),
          writable: true,
          user: false,
          noExecute: false,
        });
      }
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ramSize - 1 }), (p) => {
        const direct = translate(tables, DIRECT_MAP_BASE + BigInt(p));
        const kernel = translate(tables, KERNEL_BASE + BigInt(p));
        return direct?.pa === BigInt(p) && (p < kernelWindow ? kernel?.pa === BigInt(p) : kernel === undefined);
      }),
    );
  });

  test(`${ramSize / MiB} MiB: nothing in the lower half, nothing beyond RAM`, (t) => {
    const unmapped = [
      0n,
      0x1000n,
      0x10_0000n,
      BigInt(ramSize - 1),
      USER_END - 1n,
      USER_END, // non-canonical
      DIRECT_MAP_BASE - 1n,
      DIRECT_MAP_BASE + BigInt(ramSize),
      DIRECT_MAP_BASE + BigInt(MAX_RAM_SIZE),
      KERNEL_BASE - 1n,
      KERNEL_BASE + BigInt(kernelWindow),
      KERNEL_BASE + BigInt(KERNEL_WINDOW_SIZE),
      0xffff_ffff_ffff_f000n,
    ];
    for (const va of unmapped) t.is(translate(tables, va), undefined, `0x${va.toString(16)}`);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: USER_END - 1n }), (va) => translate(tables, va) === undefined),
    );
  });
}

test('maps exactly RAM in the direct map and the kernel window, nothing more', (t) => {
  const ramSize = 3 * GiB - 2 * MiB;
  const tables = buildBootPageTables(ramSize);
  // Enumerate every present leaf by probing each 2 MiB page of both windows and their surroundings.
  let direct = 0;
  let kernel = 0;
  for (let p = 0; p < MAX_RAM_SIZE + GiB; p += LARGE_PAGE_SIZE) {
    if (translate(tables, DIRECT_MAP_BASE + BigInt(p))) direct++;
  }
  for (let p = 0; p < 2 * GiB; p += LARGE_PAGE_SIZE) {
    if (translate(tables, KERNEL_BASE + BigInt(p))) kernel++;
  }
  t.is(direct * LARGE_PAGE_SIZE, ramSize);
  t.is(kernel * LARGE_PAGE_SIZE, KERNEL_WINDOW_SIZE);
  // And no PML4 entry besides the two windows.
  const pml4 = new DataView(tables.bytes.buffer, 0, 4096);
  const present: number[] = [];
  for (let i = 0; i < 512; i++) if (pml4.getBigUint64(i * 8, true) & PTE.PRESENT) present.push(i);
  t.deepEqual(present, [256, 511]);
});

test('rejects RAM sizes it cannot map', (t) => {
  for (const ramSize of [0, -LARGE_PAGE_SIZE, MIN_RAM_SIZE + 4096, MAX_RAM_SIZE + LARGE_PAGE_SIZE, 1.5 * LARGE_PAGE_SIZE, NaN]) {
    t.throws(() => buildBootPageTables(ramSize), { instanceOf: BootPlanError, message: /multiple of 2 MiB/ });
  }
});
