/**
 * A kvmos guest on /dev/kvm: one VM with an in-kernel irqchip when KVM
 * can make one (a local APIC, so the kernel has its timer tick), one
 * memory slot, one vCPU set to the boot plan's state. The KVM
 * implementation of @kvmos/protocol's Accelerator (the TCG one is
 * @kvmos/tcg's TcgMachine).
 */
import type { Accelerator, BootState, BootStateFor, CpuLocation, Exit } from '@kvmos/protocol';
import { KvmError } from './errors.js';
import { ramCoversApic, ramLeavesApicPage, tryIrqchip, type Irqchip } from './irqchip.js';
import { deleteAlarm, threadAlarm } from './libc.js';
import { GuestMemory } from './memory.js';
import { Kvm } from './system.js';
import type { Vm } from './vm.js';
import type { Vcpu } from './vcpu.js';

/** How often SIGALRM comes again once the run deadline has passed. */
const ALARM_REPEAT_MS = 20;
/**
 * With an irqchip, how often SIGALRM interrupts KVM_RUN so the host can
 * see a vCPU halted with interrupts off (which then never exits) and the
 * run deadline.
 */
const HALT_CHECK_MS = 100;

export interface KvmBootOptions {
  /** The KVM device, /dev/kvm by default. */
  kvmPath?: string;
  /** false: no in-kernel irqchip, hence no timer (the cooperative kernel). */
  irqchip?: boolean;
}

export class KvmMachine implements Accelerator {
  readonly name = 'kvm' as const;
  /** Whether the guest has a local APIC timer: an in-kernel irqchip was made. */
  readonly timer: boolean;
  readonly noTimerReason?: string;
  #closed = false;

  private constructor(
    private readonly kvm: Kvm,
    private readonly vm: Vm,
    private readonly vcpu: Vcpu,
    readonly memory: GuestMemory,
    /** The in-kernel irqchip, or why there is none. */
    readonly irqchip: Irqchip,
  ) {
    this.timer = irqchip.present;
    if (!irqchip.present) this.noTimerReason = `no in-kernel irqchip: ${irqchip.why}`;
  }

  /**
   * Opens /dev/kvm (or `kvmPath`), creates the VM with an in-kernel
   * irqchip if KVM makes one (before any vCPU, as KVM requires), then
   * makes the boot state for what the machine has (`timer`), loads it and
   * sets the vCPU to it.
   */
  static boot(plan: BootState | BootStateFor, opts: KvmBootOptions = {}): KvmMachine {
    const stateFor: BootStateFor = typeof plan === 'function' ? plan : () => plan;
    const kvm = Kvm.open(opts.kvmPath);
    const cleanup: (() => void)[] = [() => kvm.close()];
    try {
      kvm.apiVersion();
      let vm = kvm.createVm();
      cleanup.unshift(() => vm.close());
      let irqchip: Irqchip = opts.irqchip === false
        ? { present: false, why: 'turned off by the caller' }
        : tryIrqchip(() => vm.createIrqchip());
      let state = stateFor({ name: 'kvm', timer: irqchip.present });
      if (irqchip.present && !ramLeavesApicPage(state.ramSize)) {
        // An irqchip cannot be taken back: start again on a VM without one.
        vm.close();
        vm = kvm.createVm();
        irqchip = ramCoversApic(state.ramSize);
        state = stateFor({ name: 'kvm', timer: false });
      }
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
      return new KvmMachine(kvm, vm, vcpu, memory, irqchip);
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
   *
   * With an irqchip, `hlt` waits inside KVM instead of exiting, so a guest
   * halted with interrupts off would wait for ever: the timer then runs
   * from the first run, every HALT_CHECK_MS, and at each interruption a
   * vCPU halted for good is a `hlt` exit, as without an irqchip (the
   * deadline, if any, is seen within HALT_CHECK_MS).
   */
  run(deadlineMs?: number): Exit {
    if (this.#alarm === undefined) {
      if (this.timer) this.#armAlarm(HALT_CHECK_MS, HALT_CHECK_MS);
      else if (deadlineMs !== undefined) this.#armAlarm(deadlineMs - performance.now(), ALARM_REPEAT_MS);
    }
    return this.timer ? this.vcpu.run(deadlineMs, this.#haltCheck) : this.vcpu.run(deadlineMs);
  }

  readonly #haltCheck = (): Exit | undefined => (this.vcpu.haltedForGood() ? { reason: 'hlt' } : undefined);

  #alarm: number | undefined;
  readonly #onAlarm = (): void => {};

  #armAlarm(firstMs: number, everyMs: number): void {
    // A handler, so SIGALRM interrupts instead of ending Node (libuv's
    // handler only notes it; KVM_RUN returns EINTR either way).
    process.on('SIGALRM', this.#onAlarm);
    const t = threadAlarm(firstMs, everyMs);
    if ('errno' in t) {
      process.off('SIGALRM', this.#onAlarm);
      throw new KvmError('timer_create', t.errno, 'the run deadline (and, with an irqchip, the halt check) needs a POSIX timer');
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
