//! The local APIC's periodic timer: the tick that preempts ring 3.
//!
//! Only where the host says there is one (BootInfo `BOOT_FLAG_TIMER`): QEMU
//! TCG, whose CPU always has a local APIC, and KVM when the host made an
//! in-kernel irqchip (KVM then emulates the same xAPIC at the same base,
//! 0xfee00000). On a KVM that cannot make one there is no APIC and the
//! kernel stays cooperative. (The KVM tick is not yet tested on a machine
//! with /dev/kvm.) The kernel itself never runs with interrupts on: a
//! tick is taken only in ring 3 (IF is set on every return to user space
//! and cleared by every gate and by SFMASK), so nothing in the kernel is
//! ever interrupted. The APIC is reached through its xAPIC MMIO page
//! (QEMU 7's TCG has no x2APIC), mapped once at `APIC_VA`.

use core::sync::atomic::{AtomicBool, Ordering};

/// The IDT vector of the timer tick.
pub const TIMER_VECTOR: u64 = 0x20;
/// The spurious-interrupt vector (no EOI is due for it).
pub const SPURIOUS_VECTOR: u64 = 0xff;
/// Nanoseconds between ticks.
pub const TICK_NS: u64 = 4_000_000;
/// The APIC timer counts at the bus clock, 1 GHz on QEMU and on KVM
/// (both `APIC_BUS_CYCLE_NS` = 1; KVM's default, which a host could change
/// with KVM_CAP_X86_APIC_BUS_CYCLES_NS and kvmos does not); with
/// divide-by-16 one count is 16 ns.
const COUNTS_PER_TICK: u32 = (TICK_NS / 16) as u32;

#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const MSR_APIC_BASE: u32 = 0x1b;
/// Where the kernel maps the APIC page (below the syscall stub, in the
/// kernel half every address space shares).
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const APIC_VA: u64 = 0xffff_fe80_0000_0000;

const REG_TPR: u64 = 0x80;
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_DIVIDE: u64 = 0x3e0;
const SVR_ENABLE: u32 = 1 << 8;
const LVT_PERIODIC: u32 = 1 << 17;
/// Divide configuration 0b0011: divide by 16.
const DIVIDE_16: u32 = 0b0011;

/// The register writes that start the tick, in order: accept every
/// priority, enable the APIC with its spurious vector, then the timer
/// (the initial count last: writing it starts the count).
pub const fn start_writes() -> [(u64, u32); 5] {
    [
        (REG_TPR, 0),
        (REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR as u32),
        (REG_TIMER_DIVIDE, DIVIDE_16),
        (REG_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR as u32),
        (REG_TIMER_INITIAL, COUNTS_PER_TICK),
    ]
}

static RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether the tick is running (`start` was called).
pub fn timer_running() -> bool {
    RUNNING.load(Ordering::Relaxed)
}

#[cfg(target_os = "none")]
fn write(reg: u64, v: u32) {
    // SAFETY: `start` mapped the APIC page at APIC_VA before any write;
    // the register offsets are the xAPIC's (Intel SDM vol. 3, 11.4.1).
    unsafe { core::ptr::write_volatile((APIC_VA + reg) as *mut u32, v) }
}

/// Maps the APIC, enables it and starts the periodic tick on
/// `TIMER_VECTOR`. Call once, before any process exists (their address
/// spaces copy the kernel half then), and only when the host reports a
/// timer.
#[cfg(target_os = "none")]
pub fn start() {
    use crate::mm::addr::{PhysAddr, VirtAddr};
    use crate::mm::paging::{AddressSpace, KernelFrames, PageTableFlags};
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC, which the
    // host guarantees by setting BOOT_FLAG_TIMER.
    let base = unsafe { super::cpu::rdmsr(MSR_APIC_BASE) } & 0x000f_ffff_ffff_f000;
    AddressSpace::kernel()
        .map(
            VirtAddr::new(APIC_VA),
            PhysAddr::new(base),
            PageTableFlags::WRITABLE | PageTableFlags::NO_CACHE,
            &mut KernelFrames,
        )
        .expect("mapping the local APIC");
    for (reg, v) in start_writes() {
        write(reg, v);
    }
    RUNNING.store(true, Ordering::Relaxed);
}

/// Ends the tick's interrupt, so the next one can come.
#[cfg(target_os = "none")]
pub fn eoi() {
    write(REG_EOI, 0);
}

#[cfg(not(target_os = "none"))]
pub fn start() {
    unimplemented!("the local APIC exists only in the guest")
}

#[cfg(not(target_os = "none"))]
pub fn eoi() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_writes_program_a_periodic_tick() {
        let w = start_writes();
        // SVR: software enable (bit 8) and the spurious vector.
        assert_eq!(w[1], (0xf0, 0x1ff));
        // Divide by 16 (SDM: bits 0, 1, 3 = 0b0011).
        assert_eq!(w[2], (0x3e0, 0b0011));
        // LVT timer: periodic (bits 18:17 = 01), unmasked, vector 0x20.
        assert_eq!(w[3], (0x320, 0x2_0020));
        // 4 ms at 1 GHz / 16; the count goes last, it starts the timer.
        assert_eq!(w[4], (0x380, 250_000));
    }
}
