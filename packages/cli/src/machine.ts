/**
 * One kvmos virtual machine: builds the boot plan (loader), creates the VM
 * (kvm), and runs the vCPU, performing what handleExit decides.
 */
import { writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Kvm, GuestMemory, type Vm, type Vcpu } from '@kvmos/kvm';
import { planBoot, type BootPlan } from '@kvmos/loader';
import { exceptionName, type FaultReport } from '@kvmos/protocol';
import { handleExit, type GuestStop } from './exit-handler.js';
import type { Hypercall } from './hypercalls.js';
import { GuestStoppedError, hex, type GuestLocation } from './errors.js';

export interface BootOptions {
  kernel: Uint8Array;
  ramSize?: number;
  cmdline?: string;
  initramfs?: Uint8Array;
  /** Host fds that the guest's fd 1 and 2 write to. */
  stdoutFd?: number;
  stderrFd?: number;
  kvmPath?: string;
}

export interface RunResult {
  exitCode: number;
  /** How many VM exits the run took. */
  exits: number;
}

export class Machine {
  private closed = false;

  private constructor(
    private readonly kvm: Kvm,
    private readonly vm: Vm,
    private readonly vcpu: Vcpu,
    readonly memory: GuestMemory,
    readonly plan: BootPlan,
    private readonly fds: { 1: number; 2: number },
  ) {}

  /** Plans the boot (pure, may throw loader errors), then creates and loads the VM. */
  static boot(opts: BootOptions): Machine {
    const plan = planBoot({
      kernel: opts.kernel,
      ...(opts.ramSize !== undefined && { ramSize: opts.ramSize }),
      ...(opts.cmdline !== undefined && { cmdline: opts.cmdline }),
      ...(opts.initramfs !== undefined && { initramfs: opts.initramfs }),
      bootTimeNs: BigInt(Date.now()) * 1_000_000n,
      randomSeed: randomBytes(32),
    });
    const kvm = Kvm.open(opts.kvmPath);
    const cleanup: (() => void)[] = [() => kvm.close()];
    try {
      kvm.apiVersion();
      const vm = kvm.createVm();
      cleanup.unshift(() => vm.close());
      const memory = GuestMemory.allocate(plan.ramSize);
      cleanup.unshift(() => memory.free());
      vm.setUserMemoryRegion(0, 0, memory);
      for (const w of plan.writes) memory.write(w.addr, w.data);
      const vcpu = vm.createVcpu(0);
      cleanup.unshift(() => vcpu.close());
      vcpu.setCpuid(kvm.supportedCpuid());
      vcpu.setSregs({ ...vcpu.getSregs(), ...plan.sregs });
      vcpu.setRegs(plan.regs);
      vcpu.setMsrs(plan.msrs);
      return new Machine(kvm, vm, vcpu, memory, plan, { 1: opts.stdoutFd ?? 1, 2: opts.stderrFd ?? 2 });
    } catch (e) {
      for (const f of cleanup) f();
      throw e;
    }
  }

  /** Runs until the guest exits (its code) or stops abnormally (GuestStoppedError). */
  run(): RunResult {
    let exits = 0;
    for (;;) {
      const exit = this.vcpu.run();
      exits++;
      const action = handleExit(exit, this.memory);
      if (action.kind === 'stop') throw this.stopError(action.error);
      const code = this.perform(action.call);
      if (code !== undefined) return { exitCode: code, exits };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.vcpu.close();
    this.memory.free();
    this.vm.close();
    this.kvm.close();
  }

  /** Performs a hypercall; returns an exit code when the guest is done. */
  private perform(call: Hypercall): number | undefined {
    switch (call.kind) {
      case 'exit':
        return call.code & 0xff;
      case 'console': {
        let written = 0n;
        try {
          for (const chunk of call.chunks) written += BigInt(writeAll(this.fds[call.fd], chunk));
        } catch (e) {
          // A closed pipe on our side is the guest's EPIPE, not a host crash.
          written = -BigInt(errnoOf(e));
        }
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(written);
        return undefined;
      }
      case 'fault':
        throw faultError(call.report, call.message);
      case 'doorbell':
        throw new GuestStoppedError('the guest rang the frame doorbell', this.location(), 'this guest needs a display');
    }
  }

  private location(): GuestLocation {
    const regs = this.vcpu.getRegs();
    const sregs = this.vcpu.getSregs();
    return { rip: regs.rip, rsp: regs.rsp, cs: sregs.cs.selector, cr2: sregs.cr2, cr3: sregs.cr3 };
  }

  private stopError(stop: GuestStop): GuestStoppedError {
    const where = this.location();
    switch (stop.type) {
      case 'bad-request':
        return new GuestStoppedError(`bad guest request: ${stop.message}`, where, 'a kernel bug: the host refused it');
      case 'halted':
        return new GuestStoppedError('the guest halted without exiting', where, 'the kernel must end with the exit hypercall');
      case 'shutdown':
        return new GuestStoppedError(
          'the guest triple-faulted',
          where,
          'an exception it could not handle: a fault before the IDT was installed, or a broken stack, GDT or TSS',
        );
      case 'internal-error':
        return new GuestStoppedError(
          `KVM internal error (suberror ${stop.suberror}${stop.suberror === 1 ? ': instruction emulation failed' : ''})`,
          where,
          'on PVM-backed KVM ring-0 code is emulated and cannot use SSE arithmetic: build the kernel soft-float (guest/build.sh)',
        );
      case 'fail-entry':
        return new GuestStoppedError(
          `KVM could not enter the guest (hardware entry failure ${hex(stop.reason)})`,
          where,
          'the initial CPU state is invalid: see packages/loader',
        );
      case 'mmio':
        return new GuestStoppedError(
          `the guest ${stop.isWrite ? 'wrote' : 'read'} ${stop.len} bytes at guest-physical ${hex(stop.physAddr)}, which is not RAM`,
          where,
          'a wild pointer in the kernel',
        );
      case 'unexpected-exit':
        return new GuestStoppedError(`unexpected VM exit: ${stop.what}`, where, 'kvmos does not handle it');
    }
  }
}

export function faultError(report: FaultReport, message: string | undefined): GuestStoppedError {
  const where: GuestLocation = {
    rip: report.rip,
    rsp: report.rsp,
    cs: Number(report.cs & 0xffffn),
    cr3: report.cr3,
    ...(report.vector === 14n && { cr2: report.cr2 }),
  };
  if (report.vector === 256n) {
    // A panic has no faulting instruction; its message carries file:line.
    return new GuestStoppedError(`kernel panic: ${message ?? '(no message)'}`, undefined, 'a kernel bug');
  }
  const user = (report.cs & 3n) === 3n;
  return new GuestStoppedError(
    `guest exception ${exceptionName(Number(report.vector))} (vector ${report.vector}, error code ${hex(report.errorCode)})`,
    where,
    user ? 'the user program faulted' : 'a kernel bug, reported by its exception handler',
  );
}

function writeAll(fd: number, data: Buffer): number {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      // A non-blocking pipe that is full: wait for it rather than drop bytes.
      if (errnoOf(e) === 11) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw e;
    }
  }
  return off;
}

function errnoOf(e: unknown): number {
  const code = (e as { errno?: number }).errno;
  return typeof code === 'number' ? Math.abs(code) : 5; // EIO when unknown
}
