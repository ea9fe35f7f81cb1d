//! `prctl`: the name (comm) and the harmless per-process switches.

use super::{Args, Errno, UserPtr};
use crate::process;

const PR_SET_PDEATHSIG: u64 = 1;
const PR_GET_PDEATHSIG: u64 = 2;
const PR_GET_DUMPABLE: u64 = 3;
const PR_SET_DUMPABLE: u64 = 4;
const PR_SET_NAME: u64 = 15;
const PR_GET_NAME: u64 = 16;
const PR_CAPBSET_READ: u64 = 23;
const PR_SET_TIMERSLACK: u64 = 29;
const PR_GET_TIMERSLACK: u64 = 30;
const PR_SET_CHILD_SUBREAPER: u64 = 36;
const PR_GET_CHILD_SUBREAPER: u64 = 37;
const PR_SET_NO_NEW_PRIVS: u64 = 38;
const PR_GET_NO_NEW_PRIVS: u64 = 39;
const PR_SET_THP_DISABLE: u64 = 41;
const PR_GET_THP_DISABLE: u64 = 42;
const PR_SET_VMA: u64 = 0x5356_4d41;
/// Linux's CAP_LAST_CAP.
const CAP_LAST_CAP: u64 = 40;

pub(super) fn prctl(a: &Args) -> Result<usize, Errno> {
    let (option, arg) = (a[0] as u32 as u64, a[1]);
    process::with(|sys| match option {
        PR_SET_NAME => {
            let mut buf = [0u8; 16];
            let p = UserPtr::<u8>::new(arg);
            let name: &[u8] = match p.read_cstr(&sys.proc.mm, &mut buf) {
                Ok(n) => n,
                Err(Errno::ENAMETOOLONG) => &buf[..15],
                Err(e) => return Err(e),
            };
            let mut comm = [0u8; 16];
            let n = name.len().min(15);
            comm[..n].copy_from_slice(&name[..n]);
            sys.proc.comm = comm;
            Ok(0)
        }
        PR_GET_NAME => {
            UserPtr::new(arg).copy_to_user(&sys.proc.mm, &sys.proc.comm)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg > 64 {
                return Err(Errno::EINVAL);
            }
            sys.proc.pdeathsig = arg as u32;
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            UserPtr::<i32>::new(arg).copy_to_user(&sys.proc.mm, &[sys.proc.pdeathsig as i32])?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            sys.proc.child_subreaper = arg != 0;
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            UserPtr::<i32>::new(arg)
                .copy_to_user(&sys.proc.mm, &[sys.proc.child_subreaper as i32])?;
            Ok(0)
        }
        PR_SET_DUMPABLE => {
            if arg > 1 {
                return Err(Errno::EINVAL);
            }
            sys.proc.dumpable = arg == 1;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(sys.proc.dumpable as usize),
        PR_SET_NO_NEW_PRIVS => {
            if arg != 1 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            sys.proc.no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg != 0 || a[2] != 0 || a[3] != 0 || a[4] != 0 {
                return Err(Errno::EINVAL);
            }
            Ok(sys.proc.no_new_privs as usize)
        }
        PR_CAPBSET_READ => {
            if arg > CAP_LAST_CAP {
                return Err(Errno::EINVAL);
            }
            Ok(1)
        }
        PR_GET_TIMERSLACK => Ok(50_000),
        PR_SET_TIMERSLACK | PR_SET_THP_DISABLE | PR_SET_VMA => Ok(0),
        PR_GET_THP_DISABLE => Ok(0),
        _ => Err(Errno::EINVAL),
    })
}
