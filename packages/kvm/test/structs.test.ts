import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as constants from '../src/constants.js';
import * as ioctls from '../src/ioctls.js';
import {
  CPUID2, CPUID_ENTRY2, DTABLE, ENABLE_CAP, ENABLE_CAP_ARGS, MSRS, MSR_ENTRY, REGS, RUN, RUN_INTERNAL_DATA_LEN,
  RUN_MMIO_DATA_LEN, RUN_SYSTEM_EVENT_DATA_LEN, SEGMENT, SREGS, USERSPACE_MEMORY_REGION,
  decodeCpuid2, decodeMsrs, decodeRegs, decodeSregs, decodeUserMemoryRegion, encodeCpuid2, encodeEnableCap,
  encodeMsrs, encodeRegs, encodeSregs, encodeUserMemoryRegion,
  type CpuidEntry, type Regs, type Segment, type Sregs, type StructLayout,
} from '../src/structs.js';

const LAYOUTS: StructLayout[] = [
  REGS, SEGMENT, DTABLE, SREGS, MSRS, MSR_ENTRY, CPUID2, CPUID_ENTRY2, USERSPACE_MEMORY_REGION, ENABLE_CAP, RUN,
];

/** C expression -> the value our TypeScript says it has. */
function expectations(): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of LAYOUTS) {
    m.set(`sizeof(struct ${l.struct})`, l.size);
    for (const [field, off] of Object.entries(l.offsets)) m.set(`offsetof(struct ${l.struct}, ${field})`, off);
  }
  const count = (s: string, f: string): string => `sizeof(((struct ${s} *)0)->${f}) / sizeof(((struct ${s} *)0)->${f}[0])`;
  m.set(count('kvm_run', 'internal.data'), RUN_INTERNAL_DATA_LEN);
  m.set(count('kvm_run', 'system_event.data'), RUN_SYSTEM_EVENT_DATA_LEN);
  m.set(count('kvm_run', 'mmio.data'), RUN_MMIO_DATA_LEN);
  m.set(count('kvm_sregs', 'interrupt_bitmap'), 4);
  m.set(count('kvm_enable_cap', 'args'), ENABLE_CAP_ARGS);
  for (const [name, value] of Object.entries(ioctls)) if (name.startsWith('KVM')) m.set(name, value as number);
  for (const [name, value] of Object.entries(constants)) m.set(name, value);
  return m;
}

/** Compiles a C program that prints every expression's value per <linux/kvm.h>. */
function fromHeader(exprs: string[]): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'kvm-layout-'));
  try {
    const lines = exprs.map((e) => `  printf("%llu\\n", (unsigned long long)(${e}));`);
    const src = ['#include <linux/kvm.h>', '#include <stddef.h>', '#include <stdio.h>', 'int main(void) {', ...lines, '  return 0;', '}'];
    writeFileSync(join(dir, 'layout.c'), src.join('\n'));
    try {
      execFileSync('cc', ['-o', join(dir, 'layout'), join(dir, 'layout.c')], { stdio: 'pipe' });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
      throw new Error(
        `cannot compile the <linux/kvm.h> layout check with cc (Debian packages gcc, libc6-dev and linux-libc-dev; scripts/setup.sh installs them): ${err.stderr?.toString() || err.message}`,
      );
    }
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n');
    return new Map(exprs.map((e, i) => [e, Number(out[i])]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('struct sizes, field offsets, ioctl numbers and constants match <linux/kvm.h>', (t) => {
  const ours = expectations();
  const header = fromHeader([...ours.keys()]);
  t.true(ours.size > 100, `checked ${ours.size} values`);
  t.deepEqual(Object.fromEntries(ours), Object.fromEntries(header));
});

test('ioctl helpers encode direction, size, type and number', (t) => {
  t.is(ioctls._IO(0xae, 0x80), 0xae80);
  t.is(ioctls._IOR(0xae, 0x81, 144), 0x8090ae81);
  t.is(ioctls._IOW(0xae, 0x82, 144), 0x4090ae82);
  t.is(ioctls._IOWR(0xae, 0x05, 8), 0xc008ae05);
});

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u8 = fc.integer({ min: 0, max: 0xff });

const regsArb: fc.Arbitrary<Regs> = fc.record({
  rax: u64, rbx: u64, rcx: u64, rdx: u64, rsi: u64, rdi: u64, rsp: u64, rbp: u64,
  r8: u64, r9: u64, r10: u64, r11: u64, r12: u64, r13: u64, r14: u64, r15: u64, rip: u64, rflags: u64,
});
const segArb: fc.Arbitrary<Segment> = fc.record({
  base: u64, limit: u32, selector: u16, type: u8, present: u8, dpl: u8, db: u8, s: u8, l: u8, g: u8, avl: u8, unusable: u8,
});
const dtArb = fc.record({ base: u64, limit: u16 });
const sregsArb: fc.Arbitrary<Sregs> = fc.record({
  cs: segArb, ds: segArb, es: segArb, fs: segArb, gs: segArb, ss: segArb, tr: segArb, ldt: segArb,
  gdt: dtArb, idt: dtArb, cr0: u64, cr2: u64, cr3: u64, cr4: u64, cr8: u64, efer: u64, apicBase: u64,
  interruptBitmap: fc.tuple(u64, u64, u64, u64),
});
const cpuidArb: fc.Arbitrary<CpuidEntry> = fc.record({
  function: u32, index: u32, flags: u32, eax: u32, ebx: u32, ecx: u32, edx: u32,
});

test('regs and sregs round-trip through their encoders', (t) => {
  fc.assert(fc.property(regsArb, (r) => { t.deepEqual(decodeRegs(encodeRegs(r)), r); }));
  fc.assert(fc.property(sregsArb, (s) => { t.deepEqual(decodeSregs(encodeSregs(s)), s); }));
});

test('msrs, cpuid2 and memory regions round-trip', (t) => {
  fc.assert(fc.property(fc.array(fc.record({ index: u32, data: u64 }), { maxLength: 20 }), (es) => {
    t.deepEqual(decodeMsrs(encodeMsrs(es)), es);
  }));
  fc.assert(fc.property(fc.array(cpuidArb, { maxLength: 20 }), (es) => {
    t.deepEqual(decodeCpuid2(encodeCpuid2(es)), es);
  }));
  const region = { slot: 3, flags: 2, guestPhysAddr: 0x10_0000n, memorySize: 0x20_0000n, userspaceAddr: 0x7f00_0000_0000n };
  t.deepEqual(decodeUserMemoryRegion(encodeUserMemoryRegion(region)), region);
});

test('encoders write exact bytes and zero padding in a reused buffer', (t) => {
  const out = Buffer.alloc(64, 0xff);
  encodeMsrs([{ index: 0x174, data: 0x10n }], out);
  t.deepEqual([...out.subarray(0, 24)], [1, 0, 0, 0, 0, 0, 0, 0, 0x74, 1, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0]);
  t.is(out[24], 0xff, 'bytes past the struct are left alone');
  const cap = encodeEnableCap(218, [1n]);
  t.is(cap.length, ENABLE_CAP.size);
  t.is(cap.readUInt32LE(0), 218);
  t.is(cap.readBigUInt64LE(ENABLE_CAP.offsets.args), 1n);
  t.throws(() => encodeEnableCap(1, [1n, 2n, 3n, 4n, 5n]), { instanceOf: RangeError });
  t.throws(() => encodeRegs(decodeRegs(Buffer.alloc(REGS.size)), Buffer.alloc(8)), { instanceOf: RangeError });
});

test('decoders refuse counts beyond the buffer', (t) => {
  const b = Buffer.alloc(CPUID2.size + CPUID_ENTRY2.size);
  b.writeUInt32LE(1000, 0);
  t.throws(() => decodeCpuid2(b), { instanceOf: RangeError });
  const m = Buffer.alloc(MSRS.size);
  m.writeUInt32LE(0xffff_ffff, 0);
  t.throws(() => decodeMsrs(m), { instanceOf: RangeError });
});
