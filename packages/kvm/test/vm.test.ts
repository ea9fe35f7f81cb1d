/** Real guests on /dev/kvm. */
import test, { type ExecutionContext } from 'ava';
import { accessSync, constants, readdirSync } from 'node:fs';
import { KVM_CAP_USER_MEMORY, KVM_CAP_X86_TRIPLE_FAULT_EVENT, KVM_MP_STATE_HALTED } from '../src/constants.js';
import { deleteAlarm, threadAlarm } from '../src/libc.js';
import { KvmError, KvmOpenError } from '../src/errors.js';
import type { Exit } from '../src/exits.js';
import { GuestMemory } from '../src/memory.js';
import type { Regs } from '../src/structs.js';
import { Kvm } from '../src/system.js';
import type { Vcpu } from '../src/vcpu.js';
import type { Vm } from '../src/vm.js';

/** Why these tests cannot run here, decided once: undefined when /dev/kvm opens read-write. */
const KVM_UNAVAILABLE = ((): string | undefined => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const what = err.code === 'ENOENT' ? '/dev/kvm is missing' : '/dev/kvm is not readable and writable';
    return `${what}: ${err.message}`;
  }
})();

/** A test that needs KVM: a visible skip, with the reason in its title, where /dev/kvm cannot be opened. */
function kvmTest(title: string, impl: (t: ExecutionContext) => void): void {
  if (KVM_UNAVAILABLE === undefined) test(title, impl);
  else test.skip(`${title} (skipped: ${KVM_UNAVAILABLE})`, impl);
}

const RAM = 2 * 1024 * 1024;
const CODE = 0x1000;

interface Machine {
  kvm: Kvm;
  vm: Vm;
  vcpu: Vcpu;
  mem: GuestMemory;
  close(): void;
}

function machine(opts: { irqchip?: boolean } = {}): Machine {
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  // Before any vCPU, as KVM requires.
  if (opts.irqchip) vm.createIrqchip();
  const mem = GuestMemory.allocate(RAM);
  vm.setUserMemoryRegion(0, 0, mem);
  const vcpu = vm.createVcpu(0);
  return {
    kvm, vm, vcpu, mem,
    close() {
      vcpu.close();
      vm.close();
      mem.free();
      kvm.close();
    },
  };
}

const zeroRegs: Regs = {
  rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n,
  r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n, rip: 0n, rflags: 0n,
};

/** 16-bit real mode from CS=0, IP=CODE; `dsBase` lets a guest reach past 1 MiB. */
function realMode(m: Machine, code: number[], dsBase = 0n): void {
  m.mem.write(CODE, Uint8Array.from(code));
  const s = m.vcpu.getSregs();
  m.vcpu.setSregs({ ...s, cs: { ...s.cs, base: 0n, selector: 0 }, ds: { ...s.ds, base: dsBase, selector: 0 } });
  m.vcpu.setRegs({ ...zeroRegs, rip: BigInt(CODE), rflags: 2n });
}

function expectIo(e: Exit): Extract<Exit, { reason: 'io' }> {
  if (e.reason !== 'io') throw new Error(`expected an io exit, got ${e.reason}`);
  return e;
}

kvmTest('a real-mode guest does out, in (answered by the host) and hlt', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  realMode(m, [
    0xba, 0x00, 0x04, //             mov dx, 0x400
    0x66, 0xb8, 42, 0, 0, 0, //      mov eax, 42
    0x66, 0xef, //                   out dx, eax
    0x42, //                         inc dx
    0xec, //                         in al, dx
    0x42, //                         inc dx
    0xee, //                         out dx, al
    0xf4, //                         hlt
  ]);
  const out = expectIo(m.vcpu.run());
  t.like(out, { direction: 'out', port: 0x400, size: 4, count: 1 });
  t.is(out.data.readUInt32LE(0), 42);

  const inn = expectIo(m.vcpu.run());
  t.like(inn, { direction: 'in', port: 0x401, size: 1, count: 1 });
  inn.data[0] = 0x5a;

  const echo = expectIo(m.vcpu.run());
  t.like(echo, { direction: 'out', port: 0x402, size: 1 });
  t.is(echo.data[0], 0x5a);

  t.deepEqual(m.vcpu.run(), { reason: 'hlt' });
  const r = m.vcpu.getRegs();
  t.is(r.rax & 0xffn, 0x5an);
  t.is(r.rip, BigInt(CODE + 16));
});

kvmTest('with an in-kernel irqchip, hlt with interrupts off stays in KVM (mp_state halted) until a signal; the run then reports it', (t) => {
  const m = machine({ irqchip: true });
  t.teardown(() => m.close());
  realMode(m, [
    0xba, 0x00, 0x04, //  mov dx, 0x400
    0xee, //              out dx, al
    0xfa, //              cli
    0xf4, //              hlt
  ]);
  t.like(expectIo(m.vcpu.run()), { port: 0x400 });
  // The hlt is no exit now: a thread alarm interrupts KVM_RUN, and the
  // check sees a vCPU halted with IF clear (what KvmMachine does).
  const onAlarm = (): void => {};
  process.on('SIGALRM', onAlarm);
  const alarm = threadAlarm(50, 50);
  if ('errno' in alarm) return t.fail(`timer_create: errno ${alarm.errno}`);
  t.teardown(() => {
    deleteAlarm(alarm.id);
    process.off('SIGALRM', onAlarm);
  });
  let checks = 0;
  const exit = m.vcpu.run(performance.now() + 10_000, () => {
    checks++;
    return m.vcpu.haltedForGood() ? { reason: 'hlt' } : undefined;
  });
  t.deepEqual(exit, { reason: 'hlt' });
  t.true(checks >= 1);
  t.is(m.vcpu.mpState(), KVM_MP_STATE_HALTED);
  t.is(m.vcpu.getRegs().rip, BigInt(CODE + 6));
});

kvmTest('an access to guest-physical memory with no slot is an mmio exit', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  const base = 0x100_0000n; // 16 MiB: far past the 2 MiB of RAM
  realMode(m, [
    0xa0, 0x10, 0x00, //  mov al, [0x10]
    0xa2, 0x20, 0x00, //  mov [0x20], al
    0xf4, //              hlt
  ], base);
  const read = m.vcpu.run();
  if (read.reason !== 'mmio') return t.fail(read.reason);
  t.like(read, { physAddr: base + 0x10n, len: 1, isWrite: false });
  read.data[0] = 0x77;
  const write = m.vcpu.run();
  if (write.reason !== 'mmio') return t.fail(write.reason);
  t.like(write, { physAddr: base + 0x20n, len: 1, isWrite: true });
  t.is(write.data[0], 0x77);
  t.deepEqual(m.vcpu.run(), { reason: 'hlt' });
});

kvmTest('regs and sregs round-trip through KVM', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  const regs: Regs = {
    rax: 1n, rbx: 2n, rcx: 3n, rdx: 4n, rsi: 5n, rdi: 6n, rsp: 0x8000n, rbp: 8n,
    r8: 9n, r9: 10n, r10: 11n, r11: 12n, r12: 13n, r13: 14n, r14: 15n, r15: 0xffff_ffff_ffff_ffffn,
    rip: 0x1234n, rflags: 0x202n,
  };
  m.vcpu.setRegs(regs);
  t.deepEqual(m.vcpu.getRegs(), regs);

  const s = m.vcpu.getSregs();
  const changed = { ...s, cr2: 0xdead_0000n, gdt: { base: 0x5000n, limit: 0x3f }, idt: { base: 0x6000n, limit: 0xfff } };
  m.vcpu.setSregs(changed);
  t.deepEqual(m.vcpu.getSregs(), changed);
});

kvmTest('MSRs set and read back; a rejected MSR is named', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  const msrs = [
    { index: 0x174, data: 0x10n }, // IA32_SYSENTER_CS
    { index: 0xc000_0081, data: 0x0023_0010n << 32n }, // STAR
  ];
  m.vcpu.setMsrs(msrs);
  t.deepEqual(m.vcpu.getMsrs(msrs.map((e) => e.index)), msrs);
  const e = t.throws(() => m.vcpu.setMsrs([msrs[0]!, { index: 0xdead_beef, data: 1n }]), { instanceOf: KvmError });
  t.is(e?.ioctl, 'KVM_SET_MSRS');
  t.regex(e?.message ?? '', /0xdeadbeef/);
  t.throws(() => m.vcpu.getMsrs([0xdead_beef]), { instanceOf: KvmError, message: /0xdeadbeef/ });
});

kvmTest('system queries: API version, mmap size, extensions, CPUID', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  t.is(m.kvm.apiVersion(), 12);
  t.true(m.kvm.vcpuMmapSize() >= 4096);
  t.true(m.kvm.checkExtension(KVM_CAP_USER_MEMORY) > 0);
  const cpuid = m.kvm.supportedCpuid();
  t.true(cpuid.length > 0);
  t.true(cpuid.some((e) => e.function === 0), 'leaf 0 (vendor) is there');
  t.notThrows(() => m.vcpu.setCpuid(cpuid));
  if (m.kvm.checkExtension(KVM_CAP_X86_TRIPLE_FAULT_EVENT) > 0) {
    t.notThrows(() => m.vm.enableCap(KVM_CAP_X86_TRIPLE_FAULT_EVENT, [1n]));
  }
});

kvmTest('errors name the ioctl, the errno and a hint', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  const unaligned = t.throws(() => m.vm.setUserMemoryRegion(1, 0x40_0001, m.mem), { instanceOf: KvmError });
  t.like(unaligned, { ioctl: 'KVM_SET_USER_MEMORY_REGION', errno: 22 });
  t.regex(unaligned?.message ?? '', /EINVAL \(errno 22\) - .*aligned/);

  const vcpu = m.vm.createVcpu(1);
  vcpu.close();
  const closed = t.throws(() => vcpu.getRegs(), { instanceOf: KvmError });
  t.like(closed, { ioctl: 'KVM_GET_REGS', errno: 9 });
  t.regex(closed?.message ?? '', /KVM_GET_REGS: EBADF/);
  t.throws(() => vcpu.run(), { instanceOf: KvmError, message: /KVM_RUN: EBADF/ });
});

test('opening a missing device is a KvmOpenError with errno and a hint', (t) => {
  const missing = t.throws(() => Kvm.open('/nonexistent/kvm'), { instanceOf: KvmOpenError });
  t.like(missing, { errno: 2 });
  t.regex(missing?.hint ?? '', /kvm_intel or kvm_amd/);
});

kvmTest('closing everything releases every fd', (t) => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  for (let i = 0; i < 3; i++) {
    const m = machine();
    m.vcpu.getRegs();
    m.kvm.supportedCpuid();
    m.close();
  }
  t.is(fds(), before);
});

kvmTest('stats(): KVM counters for the vCPU, by name, counting its exits', (t) => {
  const m = machine();
  t.teardown(() => m.close());
  realMode(m, [
    0xba, 0x00, 0x04, // mov dx, 0x400
    0xee, //             l: out dx, al
    0xeb, 0xfd, //       jmp l
  ]);
  const before = m.vcpu.stats();
  t.true(before.has('exits'), `counters: ${[...before.keys()].join(' ')}`);
  for (let i = 0; i < 10; i++) expectIo(m.vcpu.run());
  const after = m.vcpu.stats();
  t.true(after.get('exits')! - before.get('exits')! >= 10n);
  for (const v of after.values()) t.is(typeof v, 'bigint');
});
