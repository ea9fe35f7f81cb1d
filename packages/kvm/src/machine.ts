/**
 * A kvmos guest on /dev/kvm: one VM, one memory slot, one vCPU set to the
 * boot plan's state. The KVM implementation of @kvmos/protocol's
 * Accelerator (the TCG one is @kvmos/tcg's TcgMachine).
 */
import type { Accelerator, BootState, CpuLocation, Exit } from '@kvmos/protocol';
import { KvmError } from './errors.js';
import { deleteAlarm, threadAlarm } from './libc.js';
import { GuestMemory } from './memory.js';
import { Kvm } from './system.js';
import type { Vm } from './vm.js';
import type { Vcpu } from './vcpu.js';

/** How often SIGALRM comes again once the run deadline has passed. */
const ALARM_REPEAT_MS = 20;

export class KvmMachine implements Accelerator {
  readonly name = 'kvm' as const;
  #closed = false;

  private constructor(
    private readonly kvm: Kvm,
    private readonly vm: Vm,
    private readonly vcpu: Vcpu,
    readonly memory: GuestMemory,
  ) {}

  /** Opens /dev/kvm (or `kvmPath`), creates the VM and sets the vCPU to `state`. */
  static boot(state: BootState, opts: { kvmPath?: string } = {}): KvmMachine {
    const kvm = Kvm.open(opts.kvmPath);
    const cleanup: (() => void)[] = [() => kvm.close()];
    try {
      kvm.apiVersion();
      const vm = kvm.createVm();
      cleanup.unshift(() => vm.close());
      const memory = GuestMemory.allocate(state.ramSize);
      cleanup.unshift(() => memory.free());
      vm.setUserMemoryRegion(0, 0, memory);
      for (const w of state.writes) memory.write(w.addr, w.data);
      const vcpu = vm.createVcpu(0);
      cleanup.unshift(() => vcpu.close());
      vcpu.setCpuid(kvm.supportedCpuid());
      vcpu.setSregs({ ...vcpu.getSregs(), ...state.sregs });
      vcpu.setRegs(state.regs);
      vcpu.setMsrs([...state.msrs]);
      return new KvmMachine(kvm, vm, vcpu, memory);
    } catch (e) {
      for (const f of cleanup) f();
      throw e;
    }
  }

  /**
   * With a deadline, a thread timer sends SIGALRM to this thread from the
   * deadline on (every ALARM_REPEAT_MS, in case one comes just before
   * KVM_RUN starts), so a guest that never exits is still stopped: the
   * signal makes KVM_RUN return EINTR. Armed once, for the first deadline.
   */
  run(deadlineMs?: number): Exit {
    if (deadlineMs !== undefined && this.#alarm === undefined) this.#armAlarm(deadlineMs);
    return this.vcpu.run(deadlineMs);
  }

  #alarm: number | undefined;
  readonly #onAlarm = (): void => {};

  #armAlarm(deadlineMs: number): void {
    // A handler, so SIGALRM interrupts instead of ending Node (libuv's
    // handler only notes it; KVM_RUN returns EINTR either way).
    process.on('SIGALRM', this.#onAlarm);
    const t = threadAlarm(deadlineMs - performance.now(), ALARM_REPEAT_MS);
    if ('errno' in t) {
      process.off('SIGALRM', this.#onAlarm);
      throw new KvmError('timer_create', t.errno, 'the run deadline needs a POSIX timer');
    }
    this.#alarm = t.id;
  }

  /** The vCPU is out of KVM_RUN during an exit: nothing runs while the host waits. */
  willBlock(): void {}

  location(): CpuLocation {
    const regs = this.vcpu.getRegs();
    const sregs = this.vcpu.getSregs();
    return { rip: regs.rip, rsp: regs.rsp, cs: sregs.cs.selector, cr2: sregs.cr2, cr3: sregs.cr3 };
  }

  /** KVM's per-vCPU counters (exits, emulated instructions, page faults...). */
  stats(): Map<string, bigint> {
    return this.vcpu.stats();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#alarm !== undefined) {
      deleteAlarm(this.#alarm);
      process.off('SIGALRM', this.#onAlarm);
      this.#alarm = undefined;
    }
    this.vcpu.close();
    this.memory.free();
    this.vm.close();
    this.kvm.close();
  }
}
