import test from 'ava';
import { BOOT_GDT_ADDR, DIRECT_MAP_BASE, SELECTOR } from '@kvmos/protocol';
import {
  BOOT_GDT_ENTRIES,
  SEGMENT_TYPE,
  bootSregs,
  buildBootGdt,
  encodeDescriptor,
  type Segment,
  type SegmentDescriptor,
} from '../src/index.js';

/** The inverse of encodeDescriptor, written from the SDM's figure 3-8. */
function decodeDescriptor(raw: bigint): SegmentDescriptor {
  const bits = (lo: number, n: number): number => Number((raw >> BigInt(lo)) & ((1n << BigInt(n)) - 1n));
  return {
    limit: bits(0, 16) | (bits(48, 4) << 16),
    base: bits(16, 24) + bits(56, 8) * 2 ** 24,
    type: bits(40, 4),
    s: bits(44, 1),
    dpl: bits(45, 2),
    present: bits(47, 1),
    avl: bits(52, 1),
    l: bits(53, 1),
    db: bits(54, 1),
    g: bits(55, 1),
  };
}

const gdt = buildBootGdt();
const dv = new DataView(gdt.buffer);
const entry = (selector: number): bigint => dv.getBigUint64(selector & ~7, true);

test('has 8 entries, with null at 0x00, 0x08 and 0x38', (t) => {
  t.is(gdt.length, BOOT_GDT_ENTRIES * 8);
  for (const s of [0x00, 0x08, 0x38]) t.is(entry(s), 0n);
});

test("matches Linux's descriptors bit for bit", (t) => {
  // arch/x86/kernel/cpu/common.c: GDT_ENTRY_INIT(DESC_CODE64, 0, 0xfffff) and friends.
  t.is(entry(SELECTOR.kernelCode), 0x00af_9b00_0000_ffffn);
  t.is(entry(SELECTOR.kernelData), 0x00cf_9300_0000_ffffn);
  t.is(entry(SELECTOR.user32Code), 0x00cf_fb00_0000_ffffn);
  t.is(entry(SELECTOR.userData), 0x00cf_f300_0000_ffffn);
  t.is(entry(SELECTOR.userCode), 0x00af_fb00_0000_ffffn);
});

test('decodes to flat code and data segments of the right ring and mode', (t) => {
  const flat = { base: 0, limit: 0xf_ffff, present: 1, s: 1, g: 1, avl: 0 };
  const code64 = { ...flat, type: SEGMENT_TYPE.CODE_XR_ACCESSED, l: 1, db: 0 };
  const data = { ...flat, type: SEGMENT_TYPE.DATA_RW_ACCESSED, l: 0, db: 1 };
  t.deepEqual(decodeDescriptor(entry(SELECTOR.kernelCode)), { ...code64, dpl: 0 });
  t.deepEqual(decodeDescriptor(entry(SELECTOR.kernelData)), { ...data, dpl: 0 });
  t.deepEqual(decodeDescriptor(entry(SELECTOR.user32Code)), { ...code64, l: 0, db: 1, dpl: 3 });
  t.deepEqual(decodeDescriptor(entry(SELECTOR.userData)), { ...data, dpl: 3 });
  t.deepEqual(decodeDescriptor(entry(SELECTOR.userCode)), { ...code64, dpl: 3 });
});

test('encodeDescriptor round-trips split base and limit fields', (t) => {
  const d: SegmentDescriptor = { base: 0xfedc_ba98, limit: 0xa_bcde, type: 5, s: 1, dpl: 2, present: 1, avl: 1, l: 0, db: 1, g: 0 };
  t.deepEqual(decodeDescriptor(encodeDescriptor(d)), d);
});

test('the sregs segments are what loading their selectors from this GDT gives', (t) => {
  const sregs = bootSregs();
  t.deepEqual(sregs.gdt, { base: DIRECT_MAP_BASE + BigInt(BOOT_GDT_ADDR), limit: gdt.length - 1 });
  const check = (seg: Segment): void => {
    t.true((seg.selector & ~7) + 8 <= gdt.length);
    const d = decodeDescriptor(entry(seg.selector));
    t.deepEqual(
      { base: seg.base, limit: seg.limit, type: seg.type, s: seg.s, dpl: seg.dpl, present: seg.present, l: seg.l, db: seg.db, g: seg.g, avl: seg.avl },
      { base: BigInt(d.base), limit: d.g ? d.limit * 4096 + 4095 : d.limit, type: d.type, s: d.s, dpl: d.dpl, present: d.present, l: d.l, db: d.db, g: d.g, avl: d.avl },
    );
  };
  for (const seg of [sregs.cs, sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss]) check(seg);
});
