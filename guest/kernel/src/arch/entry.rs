//! The machine state the host entered the kernel with (docs/protocol.md,
//! "Machine state at entry"), captured by `kernel::init` before anything
//! changes it, so that a test can compare it with the contract on every
//! accelerator (`hello report=entry-state`).

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Control registers, EFER and CS as they were at the kernel's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryState {
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
    pub cs: u16,
}

static CAPTURED: AtomicBool = AtomicBool::new(false);
static CR0: AtomicU64 = AtomicU64::new(0);
static CR3: AtomicU64 = AtomicU64::new(0);
static CR4: AtomicU64 = AtomicU64::new(0);
static EFER: AtomicU64 = AtomicU64::new(0);
static CS: AtomicU64 = AtomicU64::new(0);

/// Reads CR0, CR3, CR4, EFER and CS (ring 0 only: moves from control
/// registers and `rdmsr`; no SSE) and keeps them. `kernel::init` calls it
/// first thing: before `gdt::init` reloads CS and paging changes CR3.
pub fn capture() {
    let cs = crate::arch::cpu::read_cs();
    CR0.store(crate::arch::cpu::read_cr0(), Ordering::Relaxed);
    CR3.store(crate::arch::cpu::read_cr3(), Ordering::Relaxed);
    CR4.store(crate::arch::cpu::read_cr4(), Ordering::Relaxed);
    // SAFETY: EFER exists on every x86-64 CPU (long mode needs it).
    EFER.store(unsafe { crate::arch::cpu::rdmsr(crate::arch::cpu::MSR_EFER) }, Ordering::Relaxed);
    CS.store(u64::from(cs), Ordering::Relaxed);
    CAPTURED.store(true, Ordering::Relaxed);
}

/// The state `capture` kept, None before it ran.
pub fn get() -> Option<EntryState> {
    CAPTURED.load(Ordering::Relaxed).then(|| EntryState {
        cr0: CR0.load(Ordering::Relaxed),
        cr3: CR3.load(Ordering::Relaxed),
        cr4: CR4.load(Ordering::Relaxed),
        efer: EFER.load(Ordering::Relaxed),
        cs: CS.load(Ordering::Relaxed) as u16,
    })
}

/// One line, no newline: `entry: cr0=0x80050033 cr3=0x10000 cr4=0x620
/// efer=0xd01 cs=0x10` (each value lowercase hex with `0x`, no padding).
impl fmt::Display for EntryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "entry: cr0={:#x} cr3={:#x} cr4={:#x} efer={:#x} cs={:#x}",
            self.cr0, self.cr3, self.cr4, self.efer, self.cs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_one_line_of_lowercase_hex() {
        let s = EntryState {
            cr0: 0x8005_0033,
            cr3: 0x1_0000,
            cr4: 0x620,
            efer: 0xd01,
            cs: 0x10,
        };
        assert_eq!(
            s.to_string(),
            "entry: cr0=0x80050033 cr3=0x10000 cr4=0x620 efer=0xd01 cs=0x10"
        );
    }

    #[test]
    fn nothing_before_capture() {
        assert_eq!(get(), None);
    }
}
