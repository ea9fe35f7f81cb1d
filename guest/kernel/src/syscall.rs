//! System calls, Linux x86-64 convention: number in RAX, arguments in RDI,
//! RSI, RDX, R10, R8, R9, result in RAX (`-errno` on error); RCX and R11
//! are clobbered, every other register is preserved. One dispatch table
//! keyed by Linux's numbers; an unknown number returns ENOSYS.
//!
//! Entry (`entry.rs`) works on PVM, where a ring-3 `syscall` lands on
//! LSTAR still in ring 3 and traps to ring 0 as #UD, and on hardware KVM,
//! where it lands in ring 0: both end in `try_handle`.

pub mod entry;
pub mod errno;
mod exit;
pub mod user_ptr;
mod write;

#[cfg(target_os = "none")]
pub use entry::init;
pub use entry::try_handle;
pub use errno::Errno;
pub use exit::{sys_exit, sys_exit_group};
pub use user_ptr::UserPtr;
pub use write::sys_write;

/// Linux x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
pub mod nr {
    pub const WRITE: u64 = 1;
    pub const EXIT: u64 = 60;
    pub const EXIT_GROUP: u64 = 231;
}

/// RDI, RSI, RDX, R10, R8, R9.
pub type Args = [u64; 6];
pub type Handler = fn(&Args) -> Result<usize, Errno>;

/// Covers every Linux x86-64 number in use (the highest is in the 400s).
const TABLE_LEN: usize = 512;

const fn table(entries: &[(u64, Handler)]) -> [Option<Handler>; TABLE_LEN] {
    let mut t: [Option<Handler>; TABLE_LEN] = [None; TABLE_LEN];
    let mut i = 0;
    while i < entries.len() {
        let (nr, handler) = entries[i];
        assert!(
            t[nr as usize].is_none(),
            "two handlers for one syscall number"
        );
        t[nr as usize] = Some(handler);
        i += 1;
    }
    t
}

static TABLE: [Option<Handler>; TABLE_LEN] = table(&[
    (nr::WRITE, write::handle),
    (nr::EXIT, exit::handle_exit),
    (nr::EXIT_GROUP, exit::handle_exit_group),
]);

/// Runs system call `nr` and returns the RAX value for the caller.
pub fn dispatch(nr: u64, args: &Args) -> u64 {
    let handler = usize::try_from(nr)
        .ok()
        .and_then(|n| TABLE.get(n).copied().flatten());
    return_value(match handler {
        Some(h) => h(args),
        None => Err(Errno::ENOSYS),
    })
}

/// The RAX value for a result: the count, or `-errno`.
pub const fn return_value(r: Result<usize, Errno>) -> u64 {
    match r {
        Ok(n) => n as u64,
        Err(e) => e.to_return_value(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_keyed_by_linux_numbers() {
        assert!(TABLE[1].is_some(), "write");
        assert!(TABLE[60].is_some(), "exit");
        assert!(TABLE[231].is_some(), "exit_group");
        assert_eq!(TABLE.iter().filter(|h| h.is_some()).count(), 3);
    }

    #[test]
    fn unknown_numbers_are_enosys() {
        let args = [0; 6];
        for nr in [0, 2, 59, 335, 511, 512, u64::MAX] {
            assert_eq!(dispatch(nr, &args), (-38i64) as u64, "nr {nr}");
        }
    }

    #[test]
    fn write_to_a_bad_fd_is_ebadf() {
        assert_eq!(
            dispatch(nr::WRITE, &[3, 0x1000, 1, 0, 0, 0]),
            (-9i64) as u64
        );
        assert_eq!(
            dispatch(nr::WRITE, &[u64::MAX, 0x1000, 1, 0, 0, 0]),
            (-9i64) as u64
        );
    }

    #[test]
    fn return_values() {
        assert_eq!(return_value(Ok(5)), 5);
        assert_eq!(return_value(Err(Errno::EFAULT)), 0xffff_ffff_ffff_fff2);
    }
}
