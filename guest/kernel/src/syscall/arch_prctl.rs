//! `arch_prctl`: the FS and GS bases (TLS). The kernel never changes them
//! itself, so the MSR is written here and stays while the thread runs
//! (each thread keeps its values for `ARCH_GET_FS`/`ARCH_GET_GS`, and
//! `sched` loads them when it runs).

use super::{Args, Errno, UserPtr};
use crate::host::layout::USER_END;
use crate::process;

pub const ARCH_SET_GS: u64 = 0x1001;
pub const ARCH_SET_FS: u64 = 0x1002;
pub const ARCH_GET_FS: u64 = 0x1003;
pub const ARCH_GET_GS: u64 = 0x1004;
const MSR_GS_BASE: u32 = 0xc000_0101;

#[cfg(target_os = "none")]
fn write_base(msr: u32, value: u64) {
    // SAFETY: FS/GS base MSRs accept any canonical address (checked by
    // the caller to be a user one); the kernel does not use FS or GS.
    unsafe { crate::arch::cpu::wrmsr(msr, value) }
}

#[cfg(not(target_os = "none"))]
fn write_base(_msr: u32, _value: u64) {}

pub(super) fn arch_prctl(a: &Args) -> Result<usize, Errno> {
    let (code, addr) = (a[0], a[1]);
    process::with(|sys| match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= USER_END {
                return Err(Errno::EPERM);
            }
            if code == ARCH_SET_FS {
                sys.proc.fs_base = addr;
                write_base(crate::arch::cpu::MSR_FS_BASE, addr);
            } else {
                sys.proc.gs_base = addr;
                write_base(MSR_GS_BASE, addr);
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            UserPtr::<u64>::new(addr).copy_to_user(&sys.proc.mm, &[sys.proc.fs_base])?;
            Ok(0)
        }
        ARCH_GET_GS => {
            UserPtr::<u64>::new(addr).copy_to_user(&sys.proc.mm, &[sys.proc.gs_base])?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    })
}
