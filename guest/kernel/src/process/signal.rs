//! Signal state: dispositions, the blocked mask and the alternate stack.
//! kvmos stores what `rt_sigaction`, `rt_sigprocmask` and `sigaltstack`
//! set and reports it back; it does not deliver signals to handlers yet.
//! A signal that would kill (a CPU exception, `kill` to self with the
//! default action) ends the program as Linux would: status 128 + signal.

use crate::syscall::user_ptr::Pod;

pub const NSIG: usize = 64;
pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGSEGV: u32 = 11;
pub const SIGPIPE: u32 = 13;
pub const SIGTERM: u32 = 15;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGURG: u32 = 23;
pub const SIGWINCH: u32 = 28;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

/// The kernel's `struct sigaction` (x86-64): handler, flags, restorer,
/// mask.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

// SAFETY: four u64, no padding.
unsafe impl Pod for SigAction {}

/// `stack_t`: `void *ss_sp; int ss_flags; size_t ss_size`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackT {
    pub sp: u64,
    pub flags: i32,
    pub pad: i32,
    pub size: u64,
}

// SAFETY: integers, explicit padding.
unsafe impl Pod for StackT {}

pub const SS_DISABLE: i32 = 2;

pub struct Signals {
    pub actions: [SigAction; NSIG],
    pub blocked: u64,
    /// Signals sent while blocked, waiting (bit `sig - 1`).
    pub pending: u64,
    pub altstack: StackT,
}

/// The mask bit of `sig`.
pub const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// What becomes of a signal that is not blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Ignored (SIG_IGN, or a default of ignore, stop or continue: there
    /// is no job control).
    Discard,
    /// The default action kills the process.
    Kill,
    /// A handler would run (kvmos does not deliver yet: dropped).
    Handler,
}

impl Signals {
    pub fn fate(&self, sig: u32) -> Fate {
        if sig == SIGKILL {
            return Fate::Kill;
        }
        match self.actions[sig as usize - 1].handler {
            SIG_IGN => Fate::Discard,
            SIG_DFL => match default_action(sig) {
                DefaultAction::Terminate => Fate::Kill,
                _ => Fate::Discard,
            },
            _ => Fate::Handler,
        }
    }

    /// A signal for this process: pending if blocked (even one that would
    /// be ignored: its disposition may change meanwhile, as on Linux),
    /// else its fate now.
    pub fn send(&mut self, sig: u32) -> Option<Fate> {
        if sig != SIGKILL && self.blocked & bit(sig) != 0 {
            self.pending |= bit(sig);
            return None;
        }
        Some(self.fate(sig))
    }

    /// After the mask or a disposition changed: takes out the lowest
    /// pending signal that is no longer blocked, with its fate; pending
    /// signals now ignored are dropped on the way.
    pub fn next_unblocked(&mut self) -> Option<(u32, Fate)> {
        loop {
            let ready = self.pending & !self.blocked;
            if ready == 0 {
                return None;
            }
            let sig = ready.trailing_zeros() + 1;
            self.pending &= !bit(sig);
            match self.fate(sig) {
                Fate::Discard => continue,
                f => return Some((sig, f)),
            }
        }
    }

    /// A disposition changed: a pending signal now ignored is discarded
    /// (POSIX), blocked or not.
    pub fn discard_ignored(&mut self, sig: u32) {
        if self.fate(sig) == Fate::Discard {
            self.pending &= !bit(sig);
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Self {
            actions: [SigAction::default(); NSIG],
            blocked: 0,
            pending: 0,
            altstack: StackT {
                flags: SS_DISABLE,
                ..StackT::default()
            },
        }
    }
}

/// What the default action of `sig` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Ignore,
    Stop,
    Continue,
}

pub const fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGURG | SIGWINCH => DefaultAction::Ignore,
        SIGCONT => DefaultAction::Continue,
        SIGSTOP | 20..=22 => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

/// How a shell reports a program killed by `sig` (bash's wording).
pub const fn describe(sig: u32) -> &'static str {
    match sig {
        SIGHUP => "Hangup",
        SIGINT => "Interrupt",
        SIGQUIT => "Quit",
        SIGILL => "Illegal instruction",
        SIGTRAP => "Trace/breakpoint trap",
        SIGABRT => "Aborted",
        SIGBUS => "Bus error",
        SIGFPE => "Floating point exception",
        SIGKILL => "Killed",
        10 => "User defined signal 1",
        SIGSEGV => "Segmentation fault",
        12 => "User defined signal 2",
        SIGPIPE => "Broken pipe",
        14 => "Alarm clock",
        SIGTERM => "Terminated",
        16 => "Stack fault",
        24 => "CPU time limit exceeded",
        25 => "File size limit exceeded",
        26 => "Virtual timer expired",
        27 => "Profiling timer expired",
        29 => "I/O possible",
        30 => "Power failure",
        31 => "Bad system call",
        _ => "Killed by a signal",
    }
}

/// The signal Linux sends for CPU exception `vector` from ring 3.
pub const fn for_exception(vector: u64) -> u32 {
    match vector {
        0 | 7 | 16 | 19 => SIGFPE,
        1 | 3 => SIGTRAP,
        6 => SIGILL,
        17 => SIGBUS,
        _ => SIGSEGV,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_signals() {
        let mut s = Signals::default();
        const SIGUSR1: u32 = 10;
        s.blocked = bit(SIGUSR1) | bit(SIGCHLD);
        assert_eq!(s.send(SIGUSR1), None, "blocked: pending");
        assert_eq!(s.send(SIGCHLD), None, "blocked and ignored: still pending");
        assert_eq!(s.pending, bit(SIGUSR1) | bit(SIGCHLD));
        assert_eq!(s.send(SIGTERM), Some(Fate::Kill));
        assert_eq!(s.send(SIGKILL), Some(Fate::Kill), "cannot be blocked");
        s.actions[SIGUSR1 as usize - 1].handler = SIG_IGN;
        s.discard_ignored(SIGUSR1);
        assert_eq!(s.pending, bit(SIGCHLD));
        s.blocked = 0;
        assert_eq!(s.next_unblocked(), None, "SIGCHLD's default is to ignore");
        assert_eq!(s.pending, 0);
        s.actions[SIGUSR1 as usize - 1].handler = SIG_DFL;
        s.blocked = bit(SIGUSR1);
        s.send(SIGUSR1);
        s.blocked = 0;
        assert_eq!(s.next_unblocked(), Some((SIGUSR1, Fate::Kill)));
    }

    #[test]
    fn exceptions_map_to_linux_signals() {
        assert_eq!(for_exception(0), SIGFPE);
        assert_eq!(for_exception(6), SIGILL);
        assert_eq!(for_exception(13), SIGSEGV);
        assert_eq!(for_exception(14), SIGSEGV);
        assert_eq!(for_exception(17), SIGBUS);
        assert_eq!(for_exception(3), SIGTRAP);
        assert_eq!(describe(SIGSEGV), "Segmentation fault");
        assert_eq!(default_action(SIGCHLD), DefaultAction::Ignore);
        assert_eq!(default_action(SIGABRT), DefaultAction::Terminate);
        assert_eq!(core::mem::size_of::<SigAction>(), 32);
        assert_eq!(core::mem::size_of::<StackT>(), 24);
    }
}
