//! hello's ring-3 code: assembly in the `.user` section, because ring-3
//! code may use SSE while the (soft-float) kernel crate cannot emit it.
//!
//! In: RDI = exit code, RSI = crash mode. Computes x = sqrt(3*3 + 4*4)
//! with `sqrtss`, formats it (integer part, then up to three decimals) as
//! `sqrt(3*3 + 4*4) = <x>\n`, `write`s it to fd 1 and calls
//! `exit_group(exit code)`, or `exit_group(125)` if the write did not
//! return the line's length (which also checks that RDX survived the
//! syscall, as the Linux ABI promises).

use kernel::mm::addr::VirtAddr;

pub const CRASH_NONE: u64 = 0;
/// Read a kernel address from ring 3: #PF with a user-mode error code.
pub const CRASH_READ_KERNEL: u64 = 1;
/// `ud2` in ring 3 (not at the syscall stub): a reported #UD.
pub const CRASH_UD: u64 = 2;

/// `[start, end)` of the `.user` section and the entry point (link
/// addresses in the kernel image).
pub fn symbols() -> (VirtAddr, VirtAddr, VirtAddr) {
    extern "C" {
        static __user_start: u8;
        static __user_end: u8;
        static hello_user_main: u8;
    }
    (
        VirtAddr::from_ptr(&raw const __user_start),
        VirtAddr::from_ptr(&raw const __user_end),
        VirtAddr::from_ptr(&raw const hello_user_main),
    )
}

core::arch::global_asm!(
    r#"
    .pushsection .user, "ax"
    .balign 16
hello_user_prefix:
    .ascii "sqrt(3*3 + 4*4) = "
hello_user_prefix_end:

    .balign 16
    .global hello_user_main
hello_user_main:
    mov r12, rdi
    cmp rsi, {read_kernel}
    je .Lhello_read_kernel
    cmp rsi, {ud}
    je .Lhello_ud

    mov eax, 3
    cvtsi2ss xmm0, eax
    mulss xmm0, xmm0
    mov eax, 4
    cvtsi2ss xmm1, eax
    mulss xmm1, xmm1
    addss xmm0, xmm1
    sqrtss xmm0, xmm0

    mov eax, 1000
    cvtsi2ss xmm1, eax
    mulss xmm0, xmm1
    cvtss2si eax, xmm0
    xor edx, edx
    mov ecx, 1000
    div ecx
    mov r13d, edx
    mov r14d, eax

    sub rsp, 128
    mov rdi, rsp
    lea rsi, [rip + hello_user_prefix]
    lea rcx, [rip + hello_user_prefix_end]
    sub rcx, rsi
    rep movsb

    mov eax, r14d
    lea r8, [rsp + 128]
    mov ecx, 10
.Lhello_digit:
    xor edx, edx
    div ecx
    add dl, 48
    dec r8
    mov byte ptr [r8], dl
    test eax, eax
    jnz .Lhello_digit
    lea rcx, [rsp + 128]
    sub rcx, r8
    mov rsi, r8
    rep movsb

    test r13d, r13d
    jz .Lhello_newline
    mov byte ptr [rdi], 46
    mov eax, r13d
    xor edx, edx
    mov ecx, 100
    div ecx
    add al, 48
    mov byte ptr [rdi + 1], al
    mov eax, edx
    xor edx, edx
    mov ecx, 10
    div ecx
    add al, 48
    mov byte ptr [rdi + 2], al
    add dl, 48
    mov byte ptr [rdi + 3], dl
    add rdi, 4
.Lhello_trim:
    cmp byte ptr [rdi - 1], 48
    jne .Lhello_newline
    dec rdi
    jmp .Lhello_trim
.Lhello_newline:
    mov byte ptr [rdi], 10
    inc rdi

    mov rdx, rdi
    sub rdx, rsp
    mov rsi, rsp
    mov edi, 1
    mov eax, {sys_write}
    syscall
    cmp rax, rdx
    mov edi, 125
    cmove edi, r12d
    mov eax, {sys_exit_group}
    syscall
    ud2

.Lhello_read_kernel:
    mov rbx, {kernel_addr}
    mov rax, qword ptr [rbx]
    ud2
.Lhello_ud:
    ud2
    .popsection
    "#,
    read_kernel = const CRASH_READ_KERNEL,
    ud = const CRASH_UD,
    sys_write = const kernel::syscall::nr::WRITE,
    sys_exit_group = const kernel::syscall::nr::EXIT_GROUP,
    kernel_addr = const kernel::host::layout::KERNEL_BASE + kernel::host::layout::KERNEL_IMAGE_ADDR,
);
