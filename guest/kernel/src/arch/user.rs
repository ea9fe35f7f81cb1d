//! Entering ring 3.

use crate::mm::addr::VirtAddr;
use crate::mm::paging::AddressSpace;

/// RFLAGS in user mode: IF and the always-one bit.
pub const USER_RFLAGS_INITIAL: u64 = crate::arch::cpu::rflags::IF | crate::arch::cpu::rflags::RESERVED_1;

/// Switches to `space` and `iretq`s to `entry` in ring 3 (CS 0x33, SS
/// 0x2b) with RSP = `stack_top`, RDI = `arg0`, RSI = `arg1` and every other
/// general register zero (no kernel value leaks). Never returns: the kernel
/// runs again only through traps and system calls, on the TSS RSP0 stack;
/// the current kernel stack is abandoned.
///
/// # Panics
/// If `entry` or `stack_top` is not a user address.
pub fn enter(
    space: &AddressSpace,
    entry: VirtAddr,
    stack_top: VirtAddr,
    arg0: u64,
    arg1: u64,
) -> ! {
    assert!(
        entry.is_user() && stack_top.is_user() && stack_top.as_u64() != 0,
        "user entry outside user space"
    );
    space.activate();
    iretq_to_user(entry.as_u64(), stack_top.as_u64(), arg0, arg1)
}

/// Like `enter`, but through the hardware-KVM half of the syscall stub:
/// jumps (in ring 0) into the stub's CPL-0 path as if ring 3 had made an
/// unknown system call at `entry`, so the stub builds the iret frame, the
/// common trap path answers ENOSYS and `iretq`s to `entry` with RDI/RSI
/// preserved. On PVM, where a real `syscall` never takes that path, this
/// is the only way to exercise it (hello's `selftest=cpl0-syscall`).
///
/// # Panics
/// As `enter`.
pub fn enter_via_cpl0_syscall_path(
    space: &AddressSpace,
    entry: VirtAddr,
    stack_top: VirtAddr,
    arg0: u64,
    arg1: u64,
) -> ! {
    assert!(
        entry.is_user() && stack_top.is_user() && stack_top.as_u64() != 0,
        "user entry outside user space"
    );
    let target = super::syscall::cpl0_path_va();
    space.activate();
    jump_to_cpl0_syscall_path(target, entry.as_u64(), stack_top.as_u64(), arg0, arg1)
}

#[cfg(target_os = "none")]
fn jump_to_cpl0_syscall_path(target: u64, entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> ! {
    // SAFETY: reproduces the state after a ring-3 `syscall` on hardware
    // (RCX = return RIP, R11 = RFLAGS, RSP = user stack, RAX = a number no
    // handler has) and jumps to the stub, which runs in ring 0 like the
    // rest of the kernel and returns to ring 3 as `enter` would.
    unsafe {
        core::arch::asm!(
            "mov rsp, rdx",
            "jmp r8",
            in("r8") target,
            in("rax") u64::MAX,
            in("rcx") entry,
            in("r11") USER_RFLAGS_INITIAL,
            in("rdx") stack_top,
            in("rdi") arg0,
            in("rsi") arg1,
            options(noreturn),
        )
    }
}

#[cfg(not(target_os = "none"))]
fn jump_to_cpl0_syscall_path(
    _target: u64,
    _entry: u64,
    _stack_top: u64,
    _arg0: u64,
    _arg1: u64,
) -> ! {
    unimplemented!("ring 3 exists only in the guest")
}

#[cfg(target_os = "none")]
fn iretq_to_user(entry: u64, stack_top: u64, arg0: u64, arg1: u64) -> ! {
    use crate::host::layout::{SELECTOR_USER_CODE, SELECTOR_USER_DATA};
    // SAFETY: builds an iret frame for ring 3 (user selectors of the GDT,
    // user addresses checked by `enter`) and leaves ring 0 for good; what
    // happens in ring 3 cannot touch kernel memory (user pages only).
    unsafe {
        core::arch::asm!(
            "push {ss}",
            "push rdx",
            "push {rflags}",
            "push {cs}",
            "push rcx",
            "xor eax, eax",
            "xor ebx, ebx",
            "xor ecx, ecx",
            "xor edx, edx",
            "xor ebp, ebp",
            "xor r8d, r8d",
            "xor r9d, r9d",
            "xor r10d, r10d",
            "xor r11d, r11d",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            "iretq",
            ss = const SELECTOR_USER_DATA,
            cs = const SELECTOR_USER_CODE,
            rflags = const USER_RFLAGS_INITIAL,
            in("rcx") entry,
            in("rdx") stack_top,
            in("rdi") arg0,
            in("rsi") arg1,
            options(noreturn),
        )
    }
}

#[cfg(not(target_os = "none"))]
fn iretq_to_user(_entry: u64, _stack_top: u64, _arg0: u64, _arg1: u64) -> ! {
    unimplemented!("ring 3 exists only in the guest")
}
