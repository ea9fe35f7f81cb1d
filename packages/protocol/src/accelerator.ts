/**
 * The one small interface every CPU back end implements (QEMU's `-accel`,
 * gVisor's platforms, uhyve's back ends): create a machine from a boot
 * plan, run it until the next exit, say where it stopped, close it. The
 * run loop (packages/cli machine.ts), the exit handler and the hypercall
 * handlers never know which back end runs.
 */
import type { CpuLocation, LongModeSregs, MsrEntry, Regs } from './cpu-state.js';

export type AcceleratorName = 'kvm' | 'tcg';

/**
 * Why the vCPU stopped running guest code. KVM decodes these from its
 * kvm_run page; TCG makes the same shapes (a hypercall is an `io` exit).
 */
export type Exit =
  | {
      reason: 'io';
      direction: 'in' | 'out';
      port: number;
      size: 1 | 2 | 4;
      count: number;
      /** Zero-copy view (size*count bytes): write into it to answer an 'in'. */
      data: Buffer;
    }
  | {
      reason: 'mmio';
      physAddr: bigint;
      len: number;
      isWrite: boolean;
      /** Zero-copy view (len bytes): the written value, or where to put the value of a read. */
      data: Buffer;
    }
  | { reason: 'hlt' }
  | { reason: 'shutdown' }
  | { reason: 'internal-error'; suberror: number; data: bigint[] }
  | { reason: 'fail-entry'; hardwareEntryFailureReason: bigint; cpu: number }
  | { reason: 'system-event'; type: number; flags: bigint[] }
  | { reason: 'unknown'; code: number }
  /** The host's deadline (run's `deadlineMs`) passed while the guest ran. */
  | { reason: 'deadline' };

/** Guest RAM as the host sees it: bounds-checked, zero-copy views. */
export interface GuestRam {
  readonly size: number;
  /** Whether [addr, addr+len) lies inside RAM. */
  contains(addr: number, len: number): boolean;
  /** A zero-copy view of [addr, addr+len); throws outside RAM. */
  view(addr: number, len: number): Buffer;
  write(addr: number, data: Uint8Array): void;
}

/** What a back end needs to start a guest: the loader's BootPlan has all of it. */
export interface BootState {
  ramSize: number;
  /** Bytes to put into zeroed RAM before the first instruction. */
  writes: readonly { addr: number; data: Uint8Array }[];
  regs: Regs;
  sregs: LongModeSregs;
  msrs: readonly MsrEntry[];
}

/**
 * What a back end's machine offers the guest, known once the machine
 * exists and before the boot state is made (BootInfo's flags depend on it).
 */
export interface AcceleratorFeatures {
  readonly name: AcceleratorName;
  /**
   * The CPU has a local APIC whose periodic timer can interrupt the guest
   * (BOOT_FLAG_TIMER): always on TCG; on KVM only with an in-kernel irqchip.
   */
  readonly timer: boolean;
}

/** Makes the boot state once the machine's features are known. */
export type BootStateFor<S extends BootState = BootState> = (features: AcceleratorFeatures) => S;

export interface Accelerator extends AcceleratorFeatures {
  /** Why there is no timer, when there is none (for --verbose). */
  readonly noTimerReason?: string;
  /** Guest RAM, owned by the host: every hypercall is served from here. */
  readonly memory: GuestRam;
  /**
   * Runs the guest until its next exit. Calling it again resumes the
   * guest: whatever the host wrote into RAM for the last exit is its answer.
   * With `deadlineMs` (a `performance.now()` time) it returns
   * `{ reason: 'deadline' }` once that time has passed, even if the guest
   * never exits (KVM: a signal interrupts KVM_RUN); the guest is then left
   * as it is, for close().
   */
  run(deadlineMs?: number): Exit;
  /**
   * The host is about to wait before it answers the current exit (stdin, a
   * terminal, a paced screen). A back end whose CPU does not stop at an
   * exit (TCG: the guest spins on its completion word) parks it until the
   * next run(); on KVM the vCPU is stopped anyway and this does nothing.
   */
  willBlock(): void;
  /** Where the guest is now (crash reports, the trace's page walks). */
  location(): CpuLocation;
  /** The back end's counters by name (KVM: per-vCPU statistics), for benchmarks. */
  stats(): Map<string, bigint>;
  /** Stops the guest and frees everything; idempotent. */
  close(): void;
}
