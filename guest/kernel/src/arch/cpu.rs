//! The privileged instructions the kernel uses, one small wrapper each.
//!
//! Off the guest (`cargo test` on the host) the wrappers panic: unit tests
//! exercise the logic around them, never the instructions.

/// MSR numbers.
pub const MSR_STAR: u32 = 0xc000_0081;
pub const MSR_LSTAR: u32 = 0xc000_0082;
pub const MSR_SFMASK: u32 = 0xc000_0084;
/// The FS segment base (a Linux thread's TLS pointer, `arch_prctl`).
pub const MSR_FS_BASE: u32 = 0xc000_0100;
/// Extended features: SCE, LME, LMA, NXE (docs/protocol.md, entry state).
pub const MSR_EFER: u32 = 0xc000_0080;

/// `cpuid` (EAX, EBX, ECX, EDX). Unprivileged: the same on the host.
pub fn cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    let (a, b, c, d): (u32, u32, u32, u32);
    // SAFETY: every x86-64 CPU has cpuid; it only reads CPU state. RBX is
    // reserved by LLVM, so it is saved around the instruction.
    unsafe {
        core::arch::asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = out(reg) b,
            inout("eax") leaf => a,
            inout("ecx") subleaf => c,
            out("edx") d,
            options(nomem, nostack, preserves_flags),
        )
    }
    [a, b, c, d]
}

/// RFLAGS bits.
pub mod rflags {
    pub const CF: u64 = 1 << 0;
    /// Bit 1 always reads as 1.
    pub const RESERVED_1: u64 = 1 << 1;
    pub const PF: u64 = 1 << 2;
    pub const AF: u64 = 1 << 4;
    pub const ZF: u64 = 1 << 6;
    pub const SF: u64 = 1 << 7;
    pub const TF: u64 = 1 << 8;
    pub const IF: u64 = 1 << 9;
    pub const DF: u64 = 1 << 10;
    pub const OF: u64 = 1 << 11;
    pub const IOPL: u64 = 3 << 12;
    pub const NT: u64 = 1 << 14;
    pub const RF: u64 = 1 << 16;
    pub const AC: u64 = 1 << 18;
    pub const ID: u64 = 1 << 21;
}

#[cfg(target_os = "none")]
mod imp {
    use core::arch::asm;

    /// `out dx, eax`: a hypercall on KVM. Call `hypercall::send` instead,
    /// which also knows the slot transport (TCG).
    ///
    /// # Safety
    /// Ring 0 only; the host acts on `value` (for most ports the physical
    /// address of an argument struct that must be valid and initialized).
    #[inline(always)]
    pub unsafe fn out32(port: u16, value: u32) {
        // SAFETY: the caller upholds the port's contract. No `nomem`: the
        // host reads and writes guest memory during the exit.
        unsafe {
            asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack, preserves_flags))
        }
    }

    /// `out dx, al`: the slot transport's doorbell (`hypercall::send`).
    ///
    /// # Safety
    /// Ring 0 only; `port` must be one whose write the host expects (the
    /// host reads guest memory, the HypercallSlot, during the exit).
    #[inline(always)]
    pub unsafe fn out8(port: u16, value: u8) {
        // SAFETY: the caller upholds the port's contract. No `nomem`: the
        // host reads guest memory during the exit.
        unsafe {
            asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags))
        }
    }

    pub fn read_cr0() -> u64 {
        let v;
        // SAFETY: reading CR0 has no side effect.
        unsafe { asm!("mov {}, cr0", out(reg) v, options(nomem, nostack, preserves_flags)) }
        v
    }

    pub fn read_cr4() -> u64 {
        let v;
        // SAFETY: reading CR4 has no side effect.
        unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) }
        v
    }

    /// # Safety
    /// `msr` must exist on this CPU (else #GP).
    pub unsafe fn rdmsr(msr: u32) -> u64 {
        let (lo, hi): (u32, u32);
        // SAFETY: the caller guarantees the MSR exists; reading it has no
        // side effect for the MSRs the kernel reads.
        unsafe {
            asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi,
                 options(nomem, nostack, preserves_flags))
        }
        (u64::from(hi) << 32) | u64::from(lo)
    }

    pub fn read_cr2() -> u64 {
        let v;
        // SAFETY: reading CR2 has no side effect.
        unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
        v
    }

    pub fn read_cr3() -> u64 {
        let v;
        // SAFETY: reading CR3 has no side effect.
        unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
        v
    }

    /// # Safety
    /// `value` must be the physical address of a PML4 that maps the running
    /// kernel (code, stack, data) exactly as the current one does.
    pub unsafe fn write_cr3(value: u64) {
        // SAFETY: the caller guarantees the kernel stays mapped.
        unsafe { asm!("mov cr3, {}", in(reg) value, options(nostack, preserves_flags)) }
    }

    /// # Safety
    /// `msr` must exist and `value` must be valid for it; the MSR's effect
    /// (e.g. where `syscall` jumps) is the caller's responsibility.
    pub unsafe fn wrmsr(msr: u32, value: u64) {
        // SAFETY: the caller upholds the MSR's contract.
        unsafe {
            asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
                 options(nostack, preserves_flags))
        }
    }

    pub fn read_cs() -> u16 {
        let v: u16;
        // SAFETY: reading CS has no side effect.
        unsafe { asm!("mov {:x}, cs", out(reg) v, options(nomem, nostack, preserves_flags)) }
        v
    }

    pub fn read_rflags() -> u64 {
        let v;
        // SAFETY: pushfq/pop only touches the stack slot it pushes.
        unsafe { asm!("pushfq", "pop {}", out(reg) v, options(nomem, preserves_flags)) }
        v
    }

    /// Halts until an interrupt (the timer tick) and takes it: interrupts
    /// are on only between `sti` and `hlt` (`sti` holds them off for one
    /// more instruction, so none is missed before `hlt`), off again after.
    pub fn wait_for_interrupt() {
        // SAFETY: the only interrupt that can come is the APIC tick, whose
        // handler just ends it when it arrives in ring 0; no memory is
        // touched here.
        unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
    }

    /// Stops this CPU for good (interrupts off, then `hlt` forever).
    pub fn halt_forever() -> ! {
        loop {
            // SAFETY: cli/hlt only stop the CPU; no memory is touched.
            unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
        }
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    const MSG: &str = "privileged instructions exist only in the guest";

    /// # Safety
    /// Never callable off the guest.
    pub unsafe fn out32(_port: u16, _value: u32) {
        unimplemented!("{MSG}")
    }
    /// # Safety
    /// Never callable off the guest.
    pub unsafe fn out8(_port: u16, _value: u8) {
        unimplemented!("{MSG}")
    }
    pub fn read_cr0() -> u64 {
        unimplemented!("{MSG}")
    }
    pub fn read_cr4() -> u64 {
        unimplemented!("{MSG}")
    }
    /// # Safety
    /// Never callable off the guest.
    pub unsafe fn rdmsr(_msr: u32) -> u64 {
        unimplemented!("{MSG}")
    }
    pub fn read_cr2() -> u64 {
        unimplemented!("{MSG}")
    }
    pub fn read_cr3() -> u64 {
        unimplemented!("{MSG}")
    }
    /// # Safety
    /// Never callable off the guest.
    pub unsafe fn write_cr3(_value: u64) {
        unimplemented!("{MSG}")
    }
    /// # Safety
    /// Never callable off the guest.
    pub unsafe fn wrmsr(_msr: u32, _value: u64) {
        unimplemented!("{MSG}")
    }
    pub fn read_cs() -> u16 {
        unimplemented!("{MSG}")
    }
    pub fn read_rflags() -> u64 {
        unimplemented!("{MSG}")
    }
    pub fn halt_forever() -> ! {
        unimplemented!("{MSG}")
    }
    pub fn wait_for_interrupt() {
        unimplemented!("{MSG}")
    }
}

pub use imp::*;
