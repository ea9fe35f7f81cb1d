import test from 'ava';
import { BOOT_INFO_ADDR, BOOT_PAGE_TABLES_ADDR, BOOT_STACK_TOP, KERNEL_BASE } from '@kvmos/protocol';
import { MSR_STAR, bootMsrs, bootRegs, bootSregs } from '../src/index.js';

test('control registers and EFER: long mode with paging, WP, SSE for ring 3, NX, syscall', (t) => {
  const s = bootSregs();
  t.is(s.cr0, 0x8001_0033n);
  t.is(s.cr4, 0x620n);
  t.is(s.efer, 0xd01n);
  t.is(s.cr3, BigInt(BOOT_PAGE_TABLES_ADDR));
  t.deepEqual(s.idt, { base: 0n, limit: 0 });
});

test('segments as KVM expects them in long mode', (t) => {
  const s = bootSregs();
  const flat = { base: 0n, limit: 0xffff_ffff, present: 1, dpl: 0, s: 1, g: 1, avl: 0, unusable: 0 };
  t.deepEqual(s.cs, { ...flat, selector: 0x10, type: 11, l: 1, db: 0 });
  for (const seg of [s.ds, s.es, s.fs, s.gs, s.ss]) t.deepEqual(seg, { ...flat, selector: 0x18, type: 3, l: 0, db: 1 });
  t.like(s.tr, { selector: 0x40, type: 11, present: 1, s: 0, unusable: 0, limit: 103 });
  t.like(s.ldt, { present: 0, unusable: 1 });
});

test('registers: entry, boot stack in the kernel window, BootInfo in RDI, interrupts off', (t) => {
  const r = bootRegs(0xffff_ffff_8010_0000n);
  t.is(r.rip, 0xffff_ffff_8010_0000n);
  t.is(r.rsp, KERNEL_BASE + BigInt(BOOT_STACK_TOP));
  t.is(r.rdi, BigInt(BOOT_INFO_ADDR));
  t.is(r.rflags, 2n);
  const others = Object.entries(r).filter(([k]) => !['rip', 'rsp', 'rdi', 'rflags'].includes(k));
  t.is(others.length, 14);
  for (const [, v] of others) t.is(v, 0n);
});

test("STAR: Linux's syscall/sysret selectors", (t) => {
  t.deepEqual(bootMsrs(), [{ index: MSR_STAR, data: 0x0023_0010n << 32n }]);
  t.is(MSR_STAR, 0xc000_0081);
});
