/**
 * Which CPU back end runs a guest: `--accel kvm|tcg|auto` (or KVMOS_ACCEL).
 * `auto` is KVM when /dev/kvm opens, else TCG (QEMU's software CPU). The
 * rest of the host only sees @kvmos/protocol's Accelerator.
 */
import { KvmMachine, KvmOpenError } from '@kvmos/kvm';
import { BOOT_FLAG_HYPERCALL_SLOT, BOOT_FLAG_TIMER, type Accelerator, type AcceleratorFeatures, type BootState } from '@kvmos/protocol';
import { TcgMachine } from '@kvmos/tcg';
import { UsageError } from './errors.js';

export type AccelChoice = 'kvm' | 'tcg' | 'auto';
export const ACCEL_CHOICES: readonly AccelChoice[] = ['auto', 'kvm', 'tcg'];

/** --help's lines for --accel. */
export const ACCEL_USAGE = `  --accel A         the CPU: kvm (/dev/kvm), tcg (QEMU's software CPU, works anywhere,
                    slower) or auto, the default: kvm when /dev/kvm opens, else tcg.
                    The environment variable KVMOS_ACCEL sets the default; --verbose says which ran`;

export function parseAccel(value: string, where: string): AccelChoice {
  if ((ACCEL_CHOICES as readonly string[]).includes(value)) return value as AccelChoice;
  throw new UsageError(`${where} must be one of ${ACCEL_CHOICES.join(', ')}, got '${value}'`);
}

/** The choice in force: the option if given, else KVMOS_ACCEL, else auto. */
export function accelChoice(option: AccelChoice | undefined, env: NodeJS.ProcessEnv = process.env): AccelChoice {
  if (option !== undefined) return option;
  const fromEnv = env['KVMOS_ACCEL'];
  return fromEnv === undefined || fromEnv === '' ? 'auto' : parseAccel(fromEnv, 'KVMOS_ACCEL');
}

export interface StartedAccelerator {
  accel: Accelerator;
  /** Why auto did not pick KVM (for --verbose), when it did not. */
  fallback?: string;
}

/**
 * Starts a guest on the chosen back end. The boot state depends on what the
 * back end's machine has (BootInfo says which hypercall transport to use
 * and whether there is a timer), so the back end makes it, through
 * `stateFor`, once it knows.
 */
export function startAccelerator<S extends BootState>(
  choice: AccelChoice,
  stateFor: (features: AcceleratorFeatures) => S,
  opts: { kvmPath?: string } = {},
): StartedAccelerator & { state: S } {
  const kvmOpts = opts.kvmPath !== undefined ? { kvmPath: opts.kvmPath } : {};
  const start = (boot: (plan: (f: AcceleratorFeatures) => S) => Accelerator): { accel: Accelerator; state: S } => {
    let state: S | undefined;
    const accel = boot((f) => (state = stateFor(f)));
    if (state === undefined) throw new Error(`internal error: the ${accel.name} back end made no boot state`);
    return { accel, state };
  };
  const onKvm = (): { accel: Accelerator; state: S } => start((plan) => KvmMachine.boot(plan, kvmOpts));
  const onTcg = (): { accel: Accelerator; state: S } => start((plan) => TcgMachine.boot(plan));
  switch (choice) {
    case 'kvm':
      return onKvm();
    case 'tcg':
      return onTcg();
    case 'auto':
      try {
        return onKvm();
      } catch (e) {
        // Only "KVM is not there or not ours": any other KVM failure is a real error.
        if (!(e instanceof KvmOpenError)) throw e;
        return { ...onTcg(), fallback: e.message };
      }
  }
}

/**
 * BootInfo flags a back end needs: TCG's hypercalls go through the slot and
 * doorbell; the timer flag when the machine's CPU has a local APIC whose
 * timer the kernel may use (always on TCG; on KVM when it made an
 * in-kernel irqchip).
 */
export function accelBootFlags(features: AcceleratorFeatures): bigint {
  return (features.name === 'tcg' ? BOOT_FLAG_HYPERCALL_SLOT : 0n) | (features.timer ? BOOT_FLAG_TIMER : 0n);
}
