/**
 * Whether a KVM guest has an in-kernel irqchip, hence a local APIC and its
 * timer (BootInfo's BOOT_FLAG_TIMER). The decisions are pure, so they are
 * tested without KVM.
 */
import { KvmError } from './errors.js';

/** Where KVM's local APIC sits (APIC_DEFAULT_PHYS_BASE), the same as QEMU's. */
export const APIC_DEFAULT_PHYS_BASE = 0xfee0_0000;

/** Whether the guest has an irqchip, and if not, why (for --verbose). */
export type Irqchip = { readonly present: true } | { readonly present: false; readonly why: string };

/**
 * Whether guest RAM [0, ramSize) leaves the local APIC's page alone. On
 * Intel, KVM maps its APIC-access page there, in a memory slot of its own
 * that must not overlap RAM's (real machines leave a hole below 4 GiB;
 * kvmos's RAM is one slot from 0).
 */
export function ramLeavesApicPage(ramSize: number): boolean {
  return ramSize <= APIC_DEFAULT_PHYS_BASE;
}

/** Why there is no irqchip when RAM covers the APIC page. */
export function ramCoversApic(ramSize: number): Irqchip {
  return { present: false, why: `guest RAM (${ramSize / 2 ** 20} MiB) covers the local APIC's page at 0xfee00000` };
}

/**
 * Tries `create` (KVM_CREATE_IRQCHIP on a VM without vCPUs): a KVM that
 * cannot (an old or unusual one, e.g. PVM) leaves the guest without a
 * timer, cooperative as before, and says why. Other errors are real.
 */
export function tryIrqchip(create: () => void): Irqchip {
  try {
    create();
    return { present: true };
  } catch (e) {
    if (!(e instanceof KvmError)) throw e;
    return { present: false, why: e.message };
  }
}
