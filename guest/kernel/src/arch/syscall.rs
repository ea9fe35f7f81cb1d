//! The system call entry mechanism, shared by PVM and hardware KVM. It
//! knows nothing of what a system call does: the OS layer handles the
//! calls (`syscall::entry`) and is reached through the trap hook (`idt`).
//!
//! LSTAR points at `SYSCALL_STUB_VA`, a page mapped user-executable (and
//! read-only) onto the physical page of the `.syscall_stub` section below.
//! The stub first finds out its privilege level without touching a single
//! register (the Linux ABI lets a syscall clobber only RCX and R11): `verr`
//! on the kernel data selector sets ZF only at CPL 0.
//!
//! * CPL 3 (PVM: `syscall` arrived still in ring 3): `ud2`. The #UD reaches
//!   ring 0 through the IDT on the TSS RSP0 stack. The #UD stub (`idt`)
//!   sees RIP at that `ud2` and takes a short path: it saves only the
//!   argument registers, calls the OS layer's `kvmos_os_syscall` and `iretq`s to the user's
//!   RCX with its R11 flags (every ring-0 instruction costs ~1 us on PVM;
//!   the general trap path saves all 15 registers and builds a
//!   TrapFrame). Other traps there still reach `syscall::try_handle`.
//! * CPL 0 (hardware KVM): switch to the trap stack (one CPU, interrupts
//!   masked by SFMASK, so one static scratch slot is enough), push the same
//!   frame a trap from ring 3 would have (SS 0x2b, user RSP, R11, CS 0x33,
//!   RCX) plus vector `HARDWARE_SYSCALL_VECTOR`, and join the common trap
//!   path, which returns with `iretq`.
//!
//! The stub runs at `SYSCALL_STUB_VA`, not at its link address, so it uses
//! only absolute addresses for kernel symbols and RIP-relative ones inside
//! its own page.

use crate::arch::cpu::rflags;
use crate::arch::idt::{TrapFrame, INVALID_OPCODE};
use crate::host::layout::{SELECTOR_USER_CODE, SELECTOR_USER_DATA, USER_END};
use core::sync::atomic::{AtomicU64, AtomicU8};

/// The number of the system call being handled (stored by the #UD fast
/// path and `syscall::try_handle`): RAX of a restarted call
/// (`process::sched`).
pub static SYSCALL_NR: AtomicU64 = AtomicU64::new(0);

/// Read by the #UD fast path after each system call (`idt`): non-zero
/// sends the trap, as a full `TrapFrame` with vector `SCHEDULE_VECTOR`,
/// through the trap hook. The OS layer's scheduler sets it
/// (`process::sched`, whose `NONE` is 0).
pub static PENDING: AtomicU8 = AtomicU8::new(0);

/// The `vector` the CPL-0 path stores in its frame (no IDT vector is 0x80
/// here: the IDT has gates for 0..=31 only).
pub const HARDWARE_SYSCALL_VECTOR: u64 = 0x80;

/// RFLAGS bits a user may carry through a system call; IF is forced on,
/// IOPL, NT, RF, VM, VIF and VIP are forced off.
pub const USER_RFLAGS: u64 = rflags::CF
    | rflags::PF
    | rflags::AF
    | rflags::ZF
    | rflags::SF
    | rflags::TF
    | rflags::DF
    | rflags::OF
    | rflags::AC
    | rflags::ID;

/// Cleared on `syscall` entry (Linux's set minus the arithmetic flags).
pub const SFMASK: u64 = rflags::TF
    | rflags::IF
    | rflags::DF
    | rflags::IOPL
    | rflags::NT
    | rflags::RF
    | rflags::AC
    | rflags::ID;

/// `STAR`: kernel CS 0x10 (SS 0x18) for `syscall`; 0x23 base for `sysret`
/// (user CS 0x33, SS 0x2b), which is never used (`iretq` returns).
pub const STAR: u64 = 0x0023_0010 << 32;

/// Is this trap a system call? On PVM: #UD from ring 3 at the stub's
/// `ud2`; on hardware: the stub's own vector.
pub fn is_syscall(frame: &TrapFrame, stub_ud_va: u64) -> bool {
    frame.vector == HARDWARE_SYSCALL_VECTOR
        || (frame.vector == INVALID_OPCODE && frame.cs & 3 == 3 && frame.rip == stub_ud_va)
}

/// If `frame` is a system call, points its iret frame back at the caller
/// and returns true (the OS layer then handles the call: RAX, RDI...);
/// false means a real exception (or a forged entry whose return address
/// is not a user address) for the caller to report.
pub fn take(frame: &mut TrapFrame) -> bool {
    if !is_syscall(frame, stub_ud_va()) || frame.rcx >= USER_END {
        return false;
    }
    // `syscall` saved the user's RIP in RCX and RFLAGS in R11: the iret
    // frame returns there (on PVM it pointed at the stub's ud2).
    frame.rip = frame.rcx;
    frame.rflags = (frame.r11 & USER_RFLAGS) | rflags::RESERVED_1 | rflags::IF;
    frame.cs = SELECTOR_USER_CODE as u64;
    frame.ss = SELECTOR_USER_DATA as u64;
    true
}

#[cfg(target_os = "none")]
mod stub {
    use crate::mm::addr::VirtAddr;
    use crate::host::layout::{
        SELECTOR_KERNEL_DATA, SELECTOR_USER_CODE, SELECTOR_USER_DATA, SYSCALL_STUB_VA,
    };
    use core::sync::atomic::{AtomicU64, Ordering};

    /// The user RSP while the CPL-0 path switches stacks.
    static USER_RSP: AtomicU64 = AtomicU64::new(0);
    /// The stack the CPL-0 path switches to (the TSS RSP0 stack).
    pub(super) static KERNEL_RSP: AtomicU64 = AtomicU64::new(0);

    extern "C" {
        static kvmos_syscall_stub_start: u8;
        static kvmos_syscall_entry: u8;
        static kvmos_syscall_stub_ud: u8;
        static kvmos_syscall_cpl0: u8;
        static kvmos_syscall_stub_end: u8;
    }

    fn addr(sym: *const u8) -> u64 {
        VirtAddr::from_ptr(sym).as_u64()
    }

    /// Link addresses: `[start, end)` of the stub pages, the entry, the ud2.
    pub(super) fn symbols() -> (u64, u64, u64, u64) {
        (
            addr(&raw const kvmos_syscall_stub_start),
            addr(&raw const kvmos_syscall_stub_end),
            addr(&raw const kvmos_syscall_entry),
            addr(&raw const kvmos_syscall_stub_ud),
        )
    }

    /// Where the stub's `ud2` appears to user space; set by `init` (read
    /// on every system call, so computed once).
    pub(crate) static STUB_UD_VA: AtomicU64 = AtomicU64::new(0);

    pub(super) fn stub_ud_va() -> u64 {
        STUB_UD_VA.load(Ordering::Relaxed)
    }

    /// Where the stub's CPL-0 path starts, at `SYSCALL_STUB_VA`.
    pub fn cpl0_path_va() -> u64 {
        let (start, ..) = symbols();
        SYSCALL_STUB_VA + (addr(&raw const kvmos_syscall_cpl0) - start)
    }

    core::arch::global_asm!(
        r#"
        .pushsection .syscall_stub, "ax"
        .balign 4096
        .global kvmos_syscall_stub_start
        kvmos_syscall_stub_start:
        .global kvmos_syscall_entry
        kvmos_syscall_entry:
            verr word ptr [rip + kvmos_syscall_kernel_ds]
            jz kvmos_syscall_cpl0
        .global kvmos_syscall_stub_ud
        kvmos_syscall_stub_ud:
            ud2
        .global kvmos_syscall_cpl0
        kvmos_syscall_cpl0:
            mov qword ptr [{user_rsp}], rsp
            mov rsp, qword ptr [{kernel_rsp}]
            push {user_ss}
            push qword ptr [{user_rsp}]
            push r11
            push {user_cs}
            push rcx
            push 0
            push {vector}
            push offset kvmos_trap_common
            ret
        kvmos_syscall_kernel_ds:
            .word {kernel_ds}
        .balign 4096
        .global kvmos_syscall_stub_end
        kvmos_syscall_stub_end:
        .popsection
        "#,
        user_rsp = sym USER_RSP,
        kernel_rsp = sym KERNEL_RSP,
        user_ss = const SELECTOR_USER_DATA,
        user_cs = const SELECTOR_USER_CODE,
        kernel_ds = const SELECTOR_KERNEL_DATA,
        vector = const super::HARDWARE_SYSCALL_VECTOR,
    );
}

#[cfg(target_os = "none")]
pub use stub::cpl0_path_va;
#[cfg(target_os = "none")]
pub(crate) use stub::STUB_UD_VA;

#[cfg(target_os = "none")]
use stub::stub_ud_va;

#[cfg(not(target_os = "none"))]
fn stub_ud_va() -> u64 {
    unimplemented!("the syscall stub exists only in the guest")
}

/// Where the stub's CPL-0 path starts, at `SYSCALL_STUB_VA`.
#[cfg(not(target_os = "none"))]
pub fn cpl0_path_va() -> u64 {
    unimplemented!("the syscall stub exists only in the guest")
}

/// Maps the stub at `SYSCALL_STUB_VA` (user-executable, read-only) in the
/// kernel's address space, before any user address space copies its upper
/// half, and points the syscall MSRs at it.
#[cfg(target_os = "none")]
pub fn init() {
    use crate::mm::addr::VirtAddr;
    use crate::arch::cpu::{wrmsr, MSR_LSTAR, MSR_SFMASK, MSR_STAR};
    use crate::host::layout::SYSCALL_STUB_VA;
    use crate::mm::paging::{AddressSpace, KernelFrames, PageTableFlags};
    use core::sync::atomic::Ordering;

    let (start, end, entry, ud) = stub::symbols();
    let phys = VirtAddr::new(start)
        .kernel_to_phys()
        .expect("syscall stub in the kernel image");
    AddressSpace::kernel()
        .map_range(
            VirtAddr::new(SYSCALL_STUB_VA),
            phys,
            end - start,
            PageTableFlags::USER,
            &mut KernelFrames,
        )
        .expect("mapping the syscall stub");
    stub::KERNEL_RSP.store(crate::arch::gdt::TRAP_STACK.top(), Ordering::Relaxed);
    stub::STUB_UD_VA.store(SYSCALL_STUB_VA + (ud - start), Ordering::Relaxed);
    // SAFETY: STAR holds Linux's selectors (the GDT has them); LSTAR points
    // at the stub just mapped; SFMASK masks interrupts and DF on entry.
    unsafe {
        wrmsr(MSR_STAR, STAR);
        wrmsr(MSR_LSTAR, SYSCALL_STUB_VA + (entry - start));
        wrmsr(MSR_SFMASK, SFMASK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UD: u64 = 0xffff_ff00_0000_0008;

    #[test]
    fn which_traps_are_syscalls() {
        let ud_from_user = TrapFrame {
            vector: 6,
            cs: 0x33,
            rip: UD,
            ..Default::default()
        };
        assert!(is_syscall(&ud_from_user, UD));
        assert!(
            !is_syscall(
                &TrapFrame {
                    rip: UD + 2,
                    ..ud_from_user
                },
                UD
            ),
            "#UD elsewhere"
        );
        assert!(
            !is_syscall(
                &TrapFrame {
                    cs: 0x10,
                    ..ud_from_user
                },
                UD
            ),
            "#UD from ring 0"
        );
        assert!(
            !is_syscall(
                &TrapFrame {
                    vector: 13,
                    ..ud_from_user
                },
                UD
            ),
            "#GP at the stub"
        );
        assert!(is_syscall(
            &TrapFrame {
                vector: HARDWARE_SYSCALL_VECTOR,
                ..Default::default()
            },
            UD
        ));
    }

    #[test]
    fn flags() {
        assert_eq!(STAR, 0x0023_0010_0000_0000);
        assert_eq!(SFMASK & rflags::IF, rflags::IF);
        assert_eq!(SFMASK & rflags::DF, rflags::DF);
        assert_eq!(
            USER_RFLAGS & (rflags::IOPL | rflags::IF | rflags::NT | rflags::RF),
            0
        );
    }
}
