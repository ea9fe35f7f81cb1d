//! The vDSO: a small shared object the kernel maps into every process
//! (Linux's `AT_SYSINFO_EHDR`), whose functions answer without a system
//! call. On kvmos a system call costs ~0.1 ms (ring 0 is emulated on PVM)
//! and the vDSO serves the display's frame clock from ring 3, so
//! `sys::clock_gettime` calls its `__vdso_clock_gettime` when there is
//! one, as a libc does. Looked up the way musl does: the dynamic section's
//! DT_SYMTAB, DT_STRTAB, DT_HASH (the symbol count) and, when present,
//! the symbol versions (`LINUX_2.6`).

use core::sync::atomic::{AtomicUsize, Ordering};

pub const AT_NULL: usize = 0;
pub const AT_SYSINFO_EHDR: usize = 33;

/// `int __vdso_clock_gettime(clockid_t, struct timespec *)`: 0 or -errno.
pub type ClockGettime = unsafe extern "C" fn(i32, *mut crate::sys::Timespec) -> i32;

/// `__vdso_clock_gettime`'s address, or 0 (no vDSO: the system call).
static CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);

/// The vDSO's `clock_gettime`, if start-up found one.
pub fn clock_gettime() -> Option<ClockGettime> {
    match CLOCK_GETTIME.load(Ordering::Relaxed) {
        0 => None,
        // SAFETY: only `init` stores here: the address of the vDSO's
        // __vdso_clock_gettime, which has this signature (Linux's ABI).
        f => Some(unsafe { core::mem::transmute::<usize, ClockGettime>(f) }),
    }
}

/// Start-up: finds the vDSO in the auxiliary vector and its functions.
///
/// # Safety
/// `auxv` must be the process's auxiliary vector (pairs ending in AT_NULL)
/// and AT_SYSINFO_EHDR, if there, the kernel's vDSO.
pub unsafe fn init(auxv: *const usize) {
    let mut p = auxv;
    while *p != AT_NULL {
        if *p == AT_SYSINFO_EHDR {
            if let Some(f) = lookup(*p.add(1), b"__vdso_clock_gettime", b"LINUX_2.6") {
                CLOCK_GETTIME.store(f, Ordering::Relaxed);
            }
        }
        p = p.add(2);
    }
}

/// The `T` at `addr`.
///
/// # Safety
/// `addr` must be mapped and readable for `size_of::<T>()` bytes.
unsafe fn rd<T: Copy>(addr: usize) -> T {
    (addr as *const T).read_unaligned()
}

/// The NUL-terminated string at `p` equals `s`.
///
/// # Safety
/// `p` must be a mapped NUL-terminated string (or at least `s.len() + 1` bytes).
unsafe fn str_eq(p: usize, s: &[u8]) -> bool {
    s.iter().enumerate().all(|(i, &c)| rd::<u8>(p + i) == c) && rd::<u8>(p + s.len()) == 0
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NULL: usize = 0;
const DT_HASH: usize = 4;
const DT_STRTAB: usize = 5;
const DT_SYMTAB: usize = 6;
const DT_VERSYM: usize = 0x6fff_fff0;
const DT_VERDEF: usize = 0x6fff_fffc;
const STT_FUNC: u8 = 2;
const STB_GLOBAL: u8 = 1;
const STB_WEAK: u8 = 2;

/// The address of function `name` of version `version` in the shared
/// object mapped at `ehdr` (a vDSO: loaded as linked, relative to the
/// first PT_LOAD), if it exports one.
///
/// # Safety
/// `ehdr` must be a mapped, well-formed ELF64 shared object.
pub unsafe fn lookup(ehdr: usize, name: &[u8], version: &[u8]) -> Option<usize> {
    let (phoff, phentsize, phnum) = (rd::<u64>(ehdr + 32) as usize, rd::<u16>(ehdr + 54) as usize, rd::<u16>(ehdr + 56) as usize);
    let (mut base, mut dynamic) = (None, None);
    for i in 0..phnum {
        let ph = ehdr + phoff + i * phentsize;
        let (offset, vaddr) = (rd::<u64>(ph + 8) as usize, rd::<u64>(ph + 16) as usize);
        match rd::<u32>(ph) {
            PT_LOAD if base.is_none() => base = Some((ehdr + offset).wrapping_sub(vaddr)),
            PT_DYNAMIC => dynamic = Some(ehdr + offset),
            _ => {}
        }
    }
    let (base, mut d) = (base?, dynamic?);
    let (mut hash, mut strtab, mut symtab, mut versym, mut verdef) = (0, 0, 0, 0, 0);
    loop {
        let (tag, val) = (rd::<usize>(d), rd::<usize>(d + 8));
        match tag {
            DT_NULL => break,
            DT_HASH => hash = base + val,
            DT_STRTAB => strtab = base + val,
            DT_SYMTAB => symtab = base + val,
            DT_VERSYM => versym = base + val,
            DT_VERDEF => verdef = base + val,
            _ => {}
        }
        d += 16;
    }
    if hash == 0 || strtab == 0 || symtab == 0 {
        return None;
    }
    let count = rd::<u32>(hash + 4) as usize;
    for i in 1..count {
        let sym = symtab + i * 24;
        let info = rd::<u8>(sym + 4);
        if info & 0xf != STT_FUNC || !matches!(info >> 4, STB_GLOBAL | STB_WEAK) || rd::<u16>(sym + 6) == 0 {
            continue;
        }
        if !str_eq(strtab + rd::<u32>(sym) as usize, name) {
            continue;
        }
        if versym != 0 && verdef != 0 && !version_is(rd::<u16>(versym + 2 * i) & 0x7fff, verdef, strtab, version) {
            continue;
        }
        return Some(base + rd::<u64>(sym + 8) as usize);
    }
    None
}

/// Version index `index` of the DT_VERDEF chain at `verdef` is named `name`.
///
/// # Safety
/// `verdef` and `strtab` must be the mapped tables of one shared object.
unsafe fn version_is(index: u16, mut verdef: usize, strtab: usize, name: &[u8]) -> bool {
    loop {
        // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32.
        const VER_FLG_BASE: u16 = 1;
        if rd::<u16>(verdef + 2) & VER_FLG_BASE == 0 && rd::<u16>(verdef + 4) & 0x7fff == index {
            // The first Elf64_Verdaux: vda_name u32.
            let aux = verdef + rd::<u32>(verdef + 12) as usize;
            return str_eq(strtab + rd::<u32>(aux) as usize, name);
        }
        match rd::<u32>(verdef + 16) {
            0 => return false,
            next => verdef += next as usize,
        }
    }
}
