//! Start-up and the pieces libc would otherwise provide: `_start`, the
//! panic handler and the mem functions the compiler calls.

use core::arch::{asm, global_asm};

// The SysV start stack: rsp points at argc, then argv[argc], NULL,
// envp..., NULL, auxv. Nothing else is set up: no TLS, no init arrays.
global_asm!(
    ".globl _start",
    ".type _start,@function",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start}",
    "ud2",
    ".size _start, . - _start",
    start = sym start,
);

extern "C" {
    // Defined by `ulib::entry!` in the program.
    fn __ulib_main(argc: usize, argv: *const *const u8, envp: *const *const u8) -> i32;
}

unsafe extern "C" fn start(sp: *const usize) -> ! {
    let argc = *sp;
    let argv = sp.add(1) as *const *const u8;
    let envp = argv.add(argc + 1);
    // The auxiliary vector follows envp's NULL.
    let mut auxv = envp;
    while !(*auxv).is_null() {
        auxv = auxv.add(1);
    }
    // The kernel's auxiliary vector; its AT_SYSINFO_EHDR is the kernel's vDSO.
    crate::vdso::init(auxv.add(1) as *const usize);
    crate::sys::exit_group(__ulib_main(argc, argv, envp))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    match info.location() {
        Some(l) => crate::eprintln!("panicked at {}:{}:{}:\n{}", l.file(), l.line(), l.column(), info.message()),
        None => crate::eprintln!("panicked:\n{}", info.message()),
    }
    crate::sys::exit_group(101)
}

// The precompiled `core` is built to unwind; with panic=abort nothing ever
// calls these, but unoptimized builds can still name them.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    crate::sys::exit_group(134)
}

// The mem functions (no libc). `rep movsb`/`rep stosb` are fast on CPUs
// with ERMS and cannot be turned back into calls of themselves.

#[no_mangle]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
         options(nostack, preserves_flags));
    dst
}

#[no_mangle]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // No overlap, or dst below src: forward is safe.
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dst => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    } else {
        asm!("std", "rep movsb", "cld", inout("rcx") n => _,
             inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _, options(nostack));
    }
    dst
}

#[no_mangle]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    asm!("rep stosb", inout("rcx") n => _, inout("rdi") dst => _, in("al") c as u8,
         options(nostack, preserves_flags));
    dst
}

#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // Volatile: keeps the loop from being recognized as memcmp itself.
        let (x, y) = (core::ptr::read_volatile(a.add(i)), core::ptr::read_volatile(b.add(i)));
        if x != y {
            return x as i32 - y as i32;
        }
        i += 1;
    }
    0
}

#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}

#[no_mangle]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    while core::ptr::read_volatile(s.add(n)) != 0 {
        n += 1;
    }
    n
}
