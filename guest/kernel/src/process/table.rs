//! The pure bookkeeping of processes: wait statuses as Linux encodes
//! them, which children a `wait4`/`waitid` selects, zombies (processes
//! that exited and that their parent has not reaped yet), the stops and
//! continues not reported yet (WUNTRACED, WCONTINUED) and pids.
//! `sched` keeps the processes themselves and switches between them.

use alloc::vec::Vec;

/// How a process ended, as `wait4` reports it in `*wstatus`: an exit
/// code in bits 8..15 (`WIFEXITED`), or the killing signal in bits 0..6
/// (`WIFSIGNALED`; kvmos dumps no core, so bit 7 stays clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Exited(u8),
    Signaled(u32),
}

/// `si_code` values of a SIGCHLD siginfo (`waitid`).
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// A child stopped (by this signal) or continued since its parent last
/// waited for that: what `wait4` with WUNTRACED / WCONTINUED reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    Stopped(u32),
    Continued,
}

impl Job {
    /// The `int` wait4 stores: WIFSTOPPED is `(sig << 8) | 0x7f`,
    /// WIFCONTINUED is 0xffff.
    pub const fn wait_status(self) -> u32 {
        match self {
            Job::Stopped(sig) => (sig << 8) | 0x7f,
            Job::Continued => 0xffff,
        }
    }

    /// `si_code` and `si_status` of waitid's siginfo (and of SIGCHLD's).
    pub const fn siginfo(self) -> (i32, i32) {
        match self {
            Job::Stopped(sig) => (CLD_STOPPED, sig as i32),
            Job::Continued => (CLD_CONTINUED, 18),
        }
    }
}

/// What a blocked `wait4`/`waitid` with WUNTRACED or WCONTINUED waits for:
/// a zombie (WEXITED), a stop, a continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobWait {
    pub exited: bool,
    pub stopped: bool,
    pub continued: bool,
}

/// A stop or continue of a live child, not reported yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobEvent {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub job: Job,
}

impl Status {
    /// The `int` wait4 stores.
    pub const fn wait_status(self) -> u32 {
        match self {
            Status::Exited(code) => (code as u32) << 8,
            Status::Signaled(sig) => sig & 0x7f,
        }
    }

    /// `si_code` and `si_status` of waitid's siginfo.
    pub const fn siginfo(self) -> (i32, i32) {
        match self {
            Status::Exited(code) => (CLD_EXITED, code as i32),
            Status::Signaled(sig) => (CLD_KILLED, sig as i32),
        }
    }

    /// What a shell would report as `$?` (and what the guest exits with
    /// when process 1 ends): the code, or 128 + the signal.
    pub const fn shell_status(self) -> u32 {
        match self {
            Status::Exited(code) => code as u32,
            Status::Signaled(sig) => 128 + sig,
        }
    }
}

/// Which children a wait is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Any child (`wait4(-1)`, `P_ALL`).
    Any,
    /// The child with this pid.
    Pid(u32),
    /// Any child in this process group (`wait4(0)`, `wait4(-pgid)`,
    /// `P_PGID`).
    Group(u32),
}

impl Which {
    /// wait4's `pid` argument, for a caller in process group `pgid`.
    pub fn from_wait4(pid: i32, pgid: u32) -> Self {
        match pid {
            -1 => Which::Any,
            0 => Which::Group(pgid),
            p if p < 0 => Which::Group(p.unsigned_abs()),
            p => Which::Pid(p as u32),
        }
    }

    pub fn selects(self, pid: u32, pgid: u32) -> bool {
        match self {
            Which::Any => true,
            Which::Pid(p) => p == pid,
            Which::Group(g) => g == pgid,
        }
    }
}

/// A process that exited and waits for its parent to reap it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zombie {
    pub pid: u32,
    pub ppid: u32,
    pub pgid: u32,
    pub status: Status,
}

/// The zombies, and the stops and continues of live children that their
/// parents have not waited for (one per child: the latest).
#[derive(Debug, Default)]
pub struct Zombies {
    list: Vec<Zombie>,
    jobs: Vec<JobEvent>,
}

impl Zombies {
    pub const fn new() -> Self {
        Self {
            list: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// Child `e.pid` stopped or continued: replaces what it had to report
    /// (a continue after an unreported stop, or the other way).
    pub fn add_job(&mut self, e: JobEvent) {
        self.forget_job(e.pid);
        self.jobs.push(e);
    }

    /// The oldest stop (`stopped`) or continue (`continued`) of a child of
    /// `parent` that `which` selects.
    pub fn find_job(&self, parent: u32, which: Which, stopped: bool, continued: bool) -> Option<JobEvent> {
        self.jobs
            .iter()
            .find(|e| {
                e.ppid == parent
                    && which.selects(e.pid, e.pgid)
                    && match e.job {
                        Job::Stopped(_) => stopped,
                        Job::Continued => continued,
                    }
            })
            .copied()
    }

    /// `pid` has nothing more to report (reported, or it exited).
    pub fn forget_job(&mut self, pid: u32) {
        self.jobs.retain(|e| e.pid != pid);
    }

    /// The parent of `pid` is now `ppid` (for the reports of its stops).
    pub fn reparent_jobs(&mut self, parent: u32, init: u32) {
        for e in &mut self.jobs {
            if e.ppid == parent {
                e.ppid = init;
            }
        }
    }

    pub fn add(&mut self, z: Zombie) {
        self.list.push(z);
    }

    /// The oldest zombie child of `parent` that `which` selects.
    pub fn find(&self, parent: u32, which: Which) -> Option<Zombie> {
        self.list
            .iter()
            .find(|z| z.ppid == parent && which.selects(z.pid, z.pgid))
            .copied()
    }

    /// Reaps zombie `pid` (it is gone for good).
    pub fn remove(&mut self, pid: u32) {
        self.list.retain(|z| z.pid != pid);
    }

    /// Whether `parent` has a zombie child that `which` selects.
    pub fn has(&self, parent: u32, which: Which) -> bool {
        self.find(parent, which).is_some()
    }

    /// The zombie children of `parent` become `init`'s (their parent
    /// exited before reaping them).
    pub fn reparent(&mut self, parent: u32, init: u32) {
        for z in &mut self.list {
            if z.ppid == parent {
                z.ppid = init;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn contains(&self, pid: u32) -> bool {
        self.list.iter().any(|z| z.pid == pid)
    }
}

/// Linux's default `pid_max`: pids wrap around below it.
pub const PID_MAX: u32 = 32768;

/// The next free pid after `last`, skipping the ones `in_use` says are
/// taken (live processes and zombies), wrapping to 2 after `PID_MAX - 1`
/// as Linux does (pid 1 stays init's). None if every pid is taken.
pub fn next_pid(last: u32, in_use: impl Fn(u32) -> bool) -> Option<u32> {
    let mut p = last;
    for _ in 0..PID_MAX {
        p = if p + 1 >= PID_MAX { 2 } else { p + 1 };
        if !in_use(p) {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_as_linux_encodes_them() {
        // WIFEXITED(s) = (s & 0x7f) == 0, WEXITSTATUS(s) = (s >> 8) & 0xff;
        // WIFSIGNALED(s) = ((s & 0x7f) + 1) >> 1 > 0, WTERMSIG(s) = s & 0x7f.
        assert_eq!(Status::Exited(0).wait_status(), 0);
        assert_eq!(Status::Exited(3).wait_status(), 0x300);
        assert_eq!(Status::Exited(255).wait_status(), 0xff00);
        assert_eq!(Status::Signaled(11).wait_status(), 11);
        assert_eq!(Status::Signaled(9).wait_status(), 9);
        assert_eq!(Status::Exited(7).siginfo(), (CLD_EXITED, 7));
        assert_eq!(Status::Signaled(13).siginfo(), (CLD_KILLED, 13));
        assert_eq!(Status::Exited(42).shell_status(), 42);
        assert_eq!(Status::Signaled(11).shell_status(), 139);
    }

    #[test]
    fn which_children() {
        assert_eq!(Which::from_wait4(-1, 5), Which::Any);
        assert_eq!(Which::from_wait4(0, 5), Which::Group(5));
        assert_eq!(Which::from_wait4(-7, 5), Which::Group(7));
        assert_eq!(Which::from_wait4(9, 5), Which::Pid(9));
        assert!(Which::Any.selects(3, 1));
        assert!(Which::Pid(3).selects(3, 1) && !Which::Pid(3).selects(4, 1));
        assert!(Which::Group(1).selects(3, 1) && !Which::Group(2).selects(3, 1));
    }

    #[test]
    fn zombies_are_found_reaped_and_reparented() {
        let mut z = Zombies::new();
        let zombie = |pid, ppid| Zombie {
            pid,
            ppid,
            pgid: 1,
            status: Status::Exited(pid as u8),
        };
        z.add(zombie(5, 2));
        z.add(zombie(6, 2));
        z.add(zombie(7, 3));
        assert_eq!(
            z.find(2, Which::Any).map(|z| z.pid),
            Some(5),
            "oldest first"
        );
        assert_eq!(z.find(2, Which::Pid(6)).map(|z| z.pid), Some(6));
        assert_eq!(z.find(2, Which::Pid(7)), None, "not its child");
        assert!(!z.has(4, Which::Any));
        z.remove(5);
        assert_eq!(z.find(2, Which::Any).map(|z| z.pid), Some(6));
        z.reparent(3, 1);
        assert_eq!(z.find(1, Which::Any).map(|z| z.pid), Some(7));
        assert_eq!(z.len(), 2);
        assert!(z.contains(6) && !z.contains(5));
    }

    #[test]
    fn stops_and_continues_are_reported_once() {
        // WIFSTOPPED(s) = (s & 0xff) == 0x7f, WSTOPSIG(s) = s >> 8 & 0xff;
        // WIFCONTINUED(s) = s == 0xffff.
        assert_eq!(Job::Stopped(19).wait_status(), 0x137f);
        assert_eq!(Job::Continued.wait_status(), 0xffff);
        assert_eq!(Job::Stopped(20).siginfo(), (CLD_STOPPED, 20));
        let mut z = Zombies::new();
        let ev = |pid, job| JobEvent {
            pid,
            ppid: 2,
            pgid: pid,
            job,
        };
        z.add_job(ev(5, Job::Stopped(19)));
        assert_eq!(z.find_job(2, Which::Any, false, true), None);
        assert_eq!(z.find_job(2, Which::Group(5), true, false).map(|e| e.pid), Some(5));
        z.add_job(ev(5, Job::Continued));
        assert_eq!(z.find_job(2, Which::Any, true, false), None, "the continue replaced the stop");
        assert_eq!(z.find_job(2, Which::Pid(5), false, true).map(|e| e.job), Some(Job::Continued));
        z.forget_job(5);
        assert_eq!(z.find_job(2, Which::Any, true, true), None);
    }

    #[test]
    fn pids_wrap_and_skip_taken_ones() {
        assert_eq!(next_pid(1, |_| false), Some(2));
        assert_eq!(next_pid(2, |p| p == 3 || p == 4), Some(5));
        assert_eq!(next_pid(PID_MAX - 1, |_| false), Some(2), "wraps past init");
        assert_eq!(
            next_pid(PID_MAX - 2, |p| p == PID_MAX - 1 || p == 2),
            Some(3)
        );
        assert_eq!(next_pid(5, |_| true), None);
    }
}
