//! `getrandom`: the host's entropy straight into the user's pages.

use super::segments::fill_random;
use super::{Args, Errno, UserPtr};
use crate::process;

const GRND_NONBLOCK: u64 = 1;
const GRND_RANDOM: u64 = 2;
const GRND_INSECURE: u64 = 4;

pub(super) fn getrandom(a: &Args) -> Result<usize, Errno> {
    let (buf, len, flags) = (a[0], a[1] as usize, a[2]);
    if flags & !(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_RANDOM | GRND_INSECURE) == GRND_RANDOM | GRND_INSECURE
    {
        return Err(Errno::EINVAL);
    }
    process::with(|sys| {
        fill_random(
            &sys.proc.mm,
            UserPtr::new(buf),
            len.min(super::read::MAX_RW),
        )
    })
}
