//! The scheduler: which process runs, and switching between them.
//!
//! # Design
//!
//! kvmos has one CPU, no timer interrupt and one kernel stack (the TSS
//! RSP0 trap stack, reset on every entry from ring 3). A process runs in
//! ring 3 until it makes a system call that cannot complete yet (a read
//! of an empty pipe, a write to a full one, `wait4` with no zombie, the
//! parent of a `vfork`, the console while other processes can run) or
//! until it exits or dies; only then does another process run. So there
//! is no preemption and no per-process kernel stack:
//!
//! * A handler that must wait calls `block(sys, why)`: the process is
//!   marked blocked on `why` and the call is *restarted*: its saved
//!   registers get RIP back on the 2-byte `syscall` instruction and RAX
//!   the call's number, so when it runs again it simply makes the same
//!   call again, which now completes (or blocks once more). The only
//!   state a call carries across a restart is `restart_done` (the bytes
//!   a long pipe write had written). With no kernel stack to keep, a
//!   switch is a copy of the user registers and a CR3 load.
//! * Handlers never switch themselves: they record what is to happen
//!   (`PENDING`: restart, exit, fork, vfork) and return normally, so every
//!   guard and `RefCell` borrow is released. The #UD fast path checks
//!   `PENDING` after the call and, when set, builds a full `TrapFrame` and
//!   enters `after_trap` (idt), which saves the user registers into the
//!   process and loads another process's into the frame; `iretq` enters
//!   it. Exceptions and the hardware-KVM path end there too.
//! * A blocked process is ready again when its condition holds
//!   (`ready`): data or no writer for a pipe read, a free slot or no
//!   reader for a write, a matching zombie for a wait. Nothing needs to
//!   wake anyone: the predicates are evaluated when choosing. Waits that
//!   cannot be decided that way (a `poll`, the console) are tried last:
//!   the console is read (blocking in the host) only when no other
//!   process can run, as before there were processes.
//! * Processes take turns round-robin. If every process is blocked for
//!   good (a pipe nobody will write to, ...), the guest ends with a notice
//!   instead of hanging.
//! * Where the host reports a timer (BootInfo `BOOT_FLAG_TIMER`: TCG, and
//!   KVM with an in-kernel irqchip, the latter not yet tested) the
//!   local APIC ticks every `apic::TICK_NS`, taken only in ring 3 (the
//!   kernel runs with interrupts off), so the kernel stays
//!   non-preemptible and a tick is one more trap: `tick` moves a process
//!   that has run `SLICE_TICKS` ticks to the back when another is ready,
//!   and delivers its pending signals. Sleeps then block (`Wait::Sleep`)
//!   instead of spinning in the kernel, and when every process waits the
//!   CPU halts until the next tick. Without the timer (a KVM that made no
//!   irqchip) nothing preempts: a process runs until it blocks.
//! * A switch saves the user's FPU/SSE state (FXSAVE) of the process that
//!   stops and restores that of the one that runs.
//!
//! # Threads
//!
//! The scheduler's unit is a task (`Process`): a thread. Threads of one
//! process share one address space, one descriptor table and the rest of
//! `Process::holds`; instead of reference counting all of that (and
//! borrowing it at every use), the running thread *holds* it: a switch
//! to a thread whose process's state another thread holds moves it over
//! (`take_shared`: a few pointer swaps). So every system call finds it in
//! `System::proc`, as before threads. A thread that exits hands it to a
//! sibling; the last one ends the process.
//!
//! A futex wait (`futex`) blocks on `Wait::Futex`; a wake ends the
//! waiter's call itself (`finish`: its saved registers get past the
//! `syscall` with the result), since a restarted wait would test the
//! futex word again and see it changed.

use super::mm::Mm;
use super::table::{Status, Which};
use super::{pipe::Pipe, Process, System, SYSTEM};
use crate::arch::idt::TrapFrame;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicU64, Ordering};

/// What a blocked process waits for.
#[derive(Debug, Clone)]
pub enum Wait {
    /// Data in the pipe, or no writer.
    PipeRead(Rc<RefCell<Pipe>>),
    /// A free slot in the pipe, or no reader.
    PipeWrite(Rc<RefCell<Pipe>>),
    /// A zombie child that the wait selects.
    Child(Which),
    /// The vfork child (pid) to exec or exit: made ready by it.
    Vfork(u32),
    /// `poll`/`select`: anything changed since `GEN` was this, or its
    /// timeout's deadline (monotonic host ns) passed.
    Poll(u64, Option<u64>),
    /// The host's stdin, read only when nothing else can run.
    Console,
    /// The monotonic clock (the host's, ns) to reach this deadline: a
    /// sleep (only with the timer, `apic::timer_running`).
    Sleep(u64),
    /// `pause`: only a signal ends it.
    Signal,
    /// `rt_sigtimedwait`: a signal of this set pending (taken by the
    /// call, not delivered), or the monotonic clock (host ns) reaching the
    /// deadline.
    SigWait(u64, Option<u64>),
    /// A futex wake (`futex::wake`, which ends the call), or the deadline
    /// (monotonic host ns: the call restarts and times out).
    Futex(super::futex::Waiter),
    /// Stopped by a signal (`Fate::Stop`): only SIGCONT (`cont`) or
    /// SIGKILL ends it; a call it was blocked in starts over.
    Stopped,
    /// `wait4`/`waitid` with WUNTRACED or WCONTINUED: a zombie (if
    /// `.1.exited`), or a stop or a continue of a selected child to report.
    ChildJob(Which, super::table::JobWait),
}

#[derive(Debug, Clone, Default)]
pub enum State {
    #[default]
    Ready,
    Blocked(Wait),
}

/// `PENDING` values: nothing; restart the call and block; the process
/// exits (`ARG`: the status); it forked child `ARG`; it vforked `ARG`.
pub const NONE: u8 = 0;
pub const RESTART: u8 = 1;
pub const EXIT: u8 = 2;
pub const FORK: u8 = 3;
pub const VFORK: u8 = 4;
/// A signal is to be delivered (or kill) before the return to user space.
pub const SIGNAL: u8 = 5;
/// `rt_sigreturn`: restore the registers from the signal frame.
pub const SIGRETURN: u8 = 6;
/// `exit` of one thread (`ARG`: the status); the last one ends the
/// process.
pub const EXIT_THREAD: u8 = 7;
/// `sched_yield`: the next ready task runs (the caller goes to the back).
pub const YIELD: u8 = 8;

/// Read by the #UD fast path after each system call (`arch::syscall`):
/// non-zero sends the trap through `after_trap`. The number of the
/// system call being handled: RAX of a restarted call.
pub use crate::arch::syscall::{PENDING, SYSCALL_NR};
const _: () = assert!(NONE == 0, "the #UD fast path tests PENDING against 0");
static ARG: AtomicU64 = AtomicU64::new(0);
/// Bumped by everything that may make a `poll` ready (pipe transfers
/// and closes, exits).
static GEN: AtomicU64 = AtomicU64::new(0);

pub fn bump() {
    GEN.fetch_add(1, Ordering::Relaxed);
}

pub fn generation() -> u64 {
    GEN.load(Ordering::Relaxed)
}

fn set(what: u8, arg: u64) {
    // An exit wins over anything else the same call asked for.
    if PENDING.load(Ordering::Relaxed) == EXIT {
        return;
    }
    ARG.store(arg, Ordering::Relaxed);
    PENDING.store(what, Ordering::Relaxed);
}

/// The running process waits for `why`; its call is restarted when it
/// runs again. The returned value is what the handler returns (the
/// caller never sees it: RAX becomes the call's number).
pub fn block(sys: &mut System, why: Wait) -> crate::syscall::Errno {
    sys.proc.state = State::Blocked(why);
    set(RESTART, 0);
    crate::syscall::Errno::EINTR
}

fn encode(s: Status) -> u64 {
    match s {
        Status::Exited(c) => c as u64,
        Status::Signaled(sig) => 0x100 | sig as u64,
    }
}

fn decode(v: u64) -> Status {
    if v & 0x100 != 0 {
        Status::Signaled((v & 0xff) as u32)
    } else {
        Status::Exited(v as u8)
    }
}

/// The running process ends with `status` when the current call returns.
pub fn exit_current(status: Status) {
    set(EXIT, encode(status));
}

/// The running thread ends with exit code `code` when the current call
/// returns (its process too if it is the last thread).
pub fn exit_thread(code: u8) {
    set(EXIT_THREAD, code as u64);
}

/// The running task gives way to the next ready one (`sched_yield`).
pub fn yield_now() {
    set(YIELD, 0);
}

/// Ends the blocked call of `p` (not running) with `ret` (a raw return
/// value): its saved registers go past the `syscall` instead of back on
/// it, and it is ready.
pub fn finish(p: &mut Process, ret: u64) {
    p.regs.rip += 2;
    p.regs.rax = ret;
    p.state = State::Ready;
    p.restart_deadline = None;
}

/// The running process has a signal to deliver: the trap goes through
/// `after_trap` (which delivers after anything else asked for).
pub fn signal_pending() {
    if PENDING.load(Ordering::Relaxed) == NONE {
        set(SIGNAL, 0);
    }
}

/// `rt_sigreturn` from the running process.
pub fn sigreturn() {
    set(SIGRETURN, 0);
}

/// The running process forked `child`: it gets the parent's registers
/// (RAX 0) when the call returns.
pub fn forked(child: u32) {
    set(FORK, child as u64);
}

/// The running process vforked `child`: the child runs now, the parent
/// waits until it execs or exits.
pub fn vforked(child: u32) {
    set(VFORK, child as u64);
}

/// Whether a process that is not running can go ahead: its wait is over
/// (`last_resort`: counting the waits that are only tried when nothing
/// else can run).
fn ready(sys: &System, p: &Process, last_resort: bool) -> bool {
    interrupting(p).is_some() || wait_ready(sys, p, last_resort)
}

/// `ready` for the wait alone, signals aside.
fn wait_ready(sys: &System, p: &Process, last_resort: bool) -> bool {
    match &p.state {
        State::Ready => true,
        State::Blocked(w) => match w {
            Wait::PipeRead(pipe) => pipe.borrow().readable(),
            Wait::PipeWrite(pipe) => pipe.borrow().writable(),
            Wait::Child(which) => sys.zombies.has(p.pid, *which),
            Wait::ChildJob(which, w) => {
                (w.exited && sys.zombies.has(p.pid, *which))
                    || sys.zombies.find_job(p.pid, *which, w.stopped, w.continued).is_some()
            }
            Wait::Stopped => false,
            Wait::Vfork(_) => false,
            Wait::Poll(gen, deadline) => {
                *gen != generation()
                    || last_resort
                    || deadline.is_some_and(|d| crate::host::hypercall::clock().monotonic_ns >= d)
            }
            Wait::Console => last_resort,
            Wait::Sleep(deadline) => crate::host::hypercall::clock().monotonic_ns >= *deadline,
            Wait::Signal => false,
            Wait::SigWait(set, deadline) => {
                p.signals.pending & set != 0
                    || deadline.is_some_and(|d| crate::host::hypercall::clock().monotonic_ns >= d)
            }
            Wait::Futex(w) => w
                .deadline
                .is_some_and(|d| crate::host::hypercall::clock().monotonic_ns >= d),
        },
    }
}

/// Whether some process other than the running one can go ahead now
/// (the console and `poll` wait only when one can).
pub fn others_runnable(sys: &System) -> bool {
    sys.others.iter().any(|p| ready(sys, p, false))
}

/// What runs next (`next`).
enum Next {
    Other(usize),
    Running,
}

/// The process to run next: first one of the others (round-robin order)
/// whose wait is over, then the running one if it may go on
/// (`running_can_run`: it blocked, not exited); else, while a sleep or an
/// interval timer (`alarm`, `setitimer`) will end a wait, the CPU idles
/// until the earliest; only then a last-resort wait (the console is read
/// only when nothing else can happen). Expired timers send their SIGALRM
/// first. If nothing can ever run, the guest ends (`deadlock`).
fn next(sys: &mut System, running_can_run: bool) -> Next {
    loop {
        fire_timers(sys);
        if let Some(i) = (0..sys.others.len()).find(|&i| ready(sys, &sys.others[i], false)) {
            return Next::Other(i);
        }
        if running_can_run && ready(sys, &sys.proc, false) {
            return Next::Running;
        }
        if let Some(deadline) = earliest_wake(sys, running_can_run) {
            // A task reading the terminal takes its input as soon as it
            // comes, though others sleep (not at their deadline).
            if let Some(reader) = console_reader(sys, running_can_run) {
                if crate::dev::tty::present() {
                    if wait_terminal_until(deadline) {
                        return reader;
                    }
                    // A key that raised a signal ends the wait early.
                    terminal_signals(sys);
                    continue;
                }
            }
            idle_until(sys, deadline);
            continue;
        }
        if let Some(i) = (0..sys.others.len()).find(|&i| ready(sys, &sys.others[i], true)) {
            return Next::Other(i);
        }
        if running_can_run && ready(sys, &sys.proc, true) {
            return Next::Running;
        }
        deadlock(sys)
    }
}

/// A task blocked reading the console, to run when terminal input comes.
fn console_reader(sys: &System, running: bool) -> Option<Next> {
    let reads = |p: &Process| matches!(p.state, State::Blocked(Wait::Console));
    if let Some(i) = sys.others.iter().position(|p| reads(p)) {
        return Some(Next::Other(i));
    }
    (running && reads(&sys.proc)).then_some(Next::Running)
}

/// Waits for terminal input until the monotonic clock reaches
/// `deadline` (the host waits); whether input came.
fn wait_terminal_until(deadline: u64) -> bool {
    let now = crate::host::hypercall::clock().monotonic_ns;
    let ms = deadline.saturating_sub(now).div_ceil(1_000_000).min(i64::MAX as u64) as i64;
    crate::host::hypercall::tty_wait_input(ms)
}

/// The earliest time anything the running task does not do itself will
/// happen: another task's deadline or any timer of the running one's
/// (`poll` and the console block until then instead of waiting alone).
pub fn next_wake(sys: &System) -> Option<u64> {
    earliest_wake(sys, true)
}

/// The earliest sleep deadline or interval timer among the others (and
/// the running process when `running`).
fn earliest_wake(sys: &System, running: bool) -> Option<u64> {
    let wake = |p: &Process| {
        let sleep = match p.state {
            State::Blocked(Wait::Sleep(d)) => Some(d),
            State::Blocked(Wait::SigWait(_, d)) => d,
            State::Blocked(Wait::Futex(ref w)) => w.deadline,
            State::Blocked(Wait::Poll(_, d)) => d,
            _ => None,
        };
        let timer = p.itimer.map(|t| t.0);
        sleep.into_iter().chain(timer).chain(p.timers.earliest()).min()
    };
    let others = sys.others.iter().filter_map(|p| wake(p));
    let mine = if running { wake(&sys.proc) } else { None };
    others.chain(mine).min()
}

/// Sends SIGALRM to each process whose interval timer (ITIMER_REAL) has
/// expired, and re-arms a periodic one from now. One whose SIGALRM kills
/// keeps it pending: it dies when it runs next (`interrupting` wakes a
/// blocked one), through `deliver` like any fatal signal.
fn fire_timers(sys: &mut System) {
    use super::signal::{Info, SIGALRM, SI_KERNEL};
    if !sys
        .others
        .iter()
        .chain(core::iter::once(&sys.proc))
        .any(|p| p.itimer.is_some() || p.timers.any_armed())
    {
        return;
    }
    let now = crate::host::hypercall::clock().monotonic_ns;
    let mut expired = alloc::vec::Vec::new();
    for p in sys.others.iter_mut().chain(core::iter::once(&mut sys.proc)) {
        let Some((deadline, interval)) = p.itimer else {
            continue;
        };
        if now < deadline {
            continue;
        }
        p.itimer = (interval > 0).then(|| (now.saturating_add(interval), interval));
        expired.push(p.pid);
    }
    // SIGALRM is the process's: a thread of it that takes it.
    for pid in expired {
        let Some(at) = pick_thread(sys, pid, SIGALRM) else {
            continue;
        };
        let p = task_mut(sys, at);
        let info = Info {
            to_process: true,
            ..Info::user(SI_KERNEL, 0)
        };
        p.signals.send_kept(SIGALRM, info);
    }
    fire_posix_timers(sys, now);
}

/// A tick of ring 3 for the running process `p`: its ITIMER_VIRTUAL and
/// ITIMER_PROF count it down (ticks come only from ring 3, so the
/// profiling timer counts user time alone: the kernel's share of a call
/// is not measured), and send SIGVTALRM / SIGPROF when they run out.
fn charge_tick(p: &mut Process) {
    use super::signal::{Info, SIGPROF, SIGVTALRM, SI_KERNEL};
    for (i, sig) in [(0, SIGVTALRM), (1, SIGPROF)] {
        let Some((left, interval)) = p.cpu_itimers[i] else {
            continue;
        };
        let (rest, fired) = cpu_timer_step(left, interval, crate::arch::apic::TICK_NS);
        p.cpu_itimers[i] = rest;
        if fired {
            p.signals.send_kept(sig, Info::user(SI_KERNEL, 0));
        }
    }
}

/// An interval timer of CPU time with `left` ns to go after `used` more:
/// what remains (re-armed with `interval` once it runs out, the excess
/// carried over as Linux does) and whether it ran out.
pub fn cpu_timer_step(left: u64, interval: u64, used: u64) -> (Option<(u64, u64)>, bool) {
    if used < left {
        return (Some((left - used, interval)), false);
    }
    if interval == 0 {
        return (None, true);
    }
    let over = (used - left) % interval;
    (Some((interval - over, interval)), true)
}

/// Sends the signals of the POSIX timers that have expired at `now`
/// (`ptimer`), each to its SIGEV_THREAD_ID thread or to a thread of its
/// process that takes it: one whose signal is still pending adds the
/// expiry and the periods missed to that signal's overrun instead.
fn fire_posix_timers(sys: &mut System, now: u64) {
    use super::ptimer::{add_overrun, SI_TIMER};
    use super::signal::Info;
    let mut fired = alloc::vec::Vec::new();
    for p in sys.others.iter_mut().chain(core::iter::once(&mut sys.proc)) {
        for t in p.timers.list.iter_mut().filter(|t| t.signo != 0) {
            if let Some(missed) = t.expire(now) {
                fired.push((p.pid, t.tid, t.signo, t.id, t.value, missed));
            }
        }
    }
    for (pid, tid, sig, id, value, missed) in fired {
        // A SIGEV_THREAD_ID timer whose thread is gone signals nobody.
        let at = if tid != 0 {
            find_tid(sys, tid).filter(|&w| task(sys, w).pid == pid)
        } else {
            pick_thread(sys, pid, sig)
        };
        let Some(at) = at else {
            continue;
        };
        let p = task_mut(sys, at);
        if let Some(queued) = p.signals.pending_from_timer(sig, id) {
            queued.overrun = add_overrun(queued.overrun, missed.saturating_add(1));
            continue;
        }
        let info = Info {
            code: SI_TIMER,
            timer: id,
            overrun: add_overrun(0, missed),
            value,
            to_process: tid == 0,
            ..Default::default()
        };
        p.signals.send_kept(sig, info);
    }
}

/// Halts until the monotonic clock reaches `deadline`: with the timer,
/// each tick wakes the CPU (interrupts are on only across the `hlt`; a
/// tick in ring 0 just ends, see `trap`); without it, the clock is read
/// until then. A key of the terminal that raised a signal ends it early
/// (`terminal_signals`).
fn idle_until(sys: &mut System, deadline: u64) {
    while crate::host::hypercall::clock().monotonic_ns < deadline {
        if terminal_signals(sys) {
            return;
        }
        if crate::arch::apic::timer_running() {
            crate::arch::cpu::wait_for_interrupt();
        }
    }
}

/// Where a task is: running, or at this index of `others`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    Running,
    Other(usize),
}

/// A thread of process `pid` (the running one if it is one of them).
fn find(sys: &System, pid: u32) -> Option<Where> {
    if sys.proc.pid == pid {
        return Some(Where::Running);
    }
    sys.others
        .iter()
        .position(|p| p.pid == pid)
        .map(Where::Other)
}

pub fn find_mut(sys: &mut System, pid: u32) -> Option<&mut Process> {
    match find(sys, pid)? {
        Where::Running => Some(&mut sys.proc),
        Where::Other(i) => Some(&mut sys.others[i]),
    }
}

/// Where thread `tid` is.
pub fn find_tid(sys: &System, tid: u32) -> Option<Where> {
    if sys.proc.tid == tid {
        return Some(Where::Running);
    }
    sys.others.iter().position(|p| p.tid == tid).map(Where::Other)
}

pub fn task(sys: &System, w: Where) -> &Process {
    match w {
        Where::Running => &sys.proc,
        Where::Other(i) => &sys.others[i],
    }
}

pub fn task_mut(sys: &mut System, w: Where) -> &mut Process {
    match w {
        Where::Running => &mut sys.proc,
        Where::Other(i) => &mut sys.others[i],
    }
}

/// Whether `pid` is taken (a live process or thread, or a zombie).
pub fn pid_in_use(sys: &System, pid: u32) -> bool {
    find(sys, pid).is_some() || find_tid(sys, pid).is_some() || sys.zombies.contains(pid)
}

/// The thread of process `pid` that takes a signal sent to the process,
/// as Linux chooses: one waiting for it in `rt_sigtimedwait`, else the
/// first thread if it does not block it, else another that does not,
/// else the first (where it stays pending). None: no such process.
pub fn pick_thread(sys: &System, pid: u32, sig: u32) -> Option<Where> {
    let b = super::signal::bit(sig);
    let tasks = || {
        core::iter::once((Where::Running, &*sys.proc))
            .chain(sys.others.iter().enumerate().map(|(i, p)| (Where::Other(i), &**p)))
            .filter(move |(_, p)| p.pid == pid)
    };
    let waiting = |p: &Process| matches!(p.state, State::Blocked(Wait::SigWait(set, _)) if set & b != 0);
    let leader = tasks().find(|(_, p)| p.tid == pid).or_else(|| tasks().next())?;
    tasks()
        .find(|(_, p)| waiting(p))
        .or_else(|| Some(leader).filter(|(_, p)| p.signals.blocked & b == 0))
        .or_else(|| tasks().find(|(_, p)| p.signals.blocked & b == 0))
        .or(Some(leader))
        .map(|(w, _)| w)
}

/// Moves to the running thread the signals of `mask` sent to its
/// process that are pending on its other threads (which blocked them
/// when they came): a thread that unblocks them or waits for them takes
/// them, as from Linux's process-wide pending set.
pub fn gather(sys: &mut System, mask: u64) {
    let pid = sys.proc.pid;
    for t in sys.others.iter_mut().filter(|t| t.pid == pid) {
        if t.signals.pending & mask == 0 {
            continue;
        }
        for (sig, info) in t.signals.take_process_directed(mask) {
            sys.proc.signals.make_pending(sig, info);
        }
    }
}

/// The process-wide signals pending on the running thread's siblings.
pub fn siblings_pending(sys: &System) -> u64 {
    let pid = sys.proc.pid;
    sys.others
        .iter()
        .filter(|t| t.pid == pid)
        .fold(0, |m, t| m | t.signals.process_directed())
}

/// Whether process `pid` has threads other than the running one.
pub fn has_siblings(sys: &System) -> bool {
    let pid = sys.proc.pid;
    sys.others.iter().any(|p| p.pid == pid)
}

/// Gives the running thread its process's shared state if another
/// thread of it holds that (the running thread always holds it).
fn take_shared(sys: &mut System) {
    if sys.proc.holds {
        return;
    }
    let pid = sys.proc.pid;
    if let Some(h) = sys.others.iter_mut().find(|p| p.pid == pid && p.holds) {
        hand_over(h, &mut sys.proc);
    }
}

/// Moves a process's shared state (`Process::holds`) from one of its
/// threads to another (which leaves its empty placeholders with `from`).
pub fn hand_over(from: &mut Process, to: &mut Process) {
    core::mem::swap(&mut from.mm, &mut to.mm);
    core::mem::swap(&mut from.fds, &mut to.fds);
    core::mem::swap(&mut from.cwd, &mut to.cwd);
    core::mem::swap(&mut from.umask, &mut to.umask);
    core::mem::swap(&mut from.rlimits, &mut to.rlimits);
    core::mem::swap(&mut from.itimer, &mut to.itimer);
    core::mem::swap(&mut from.cpu_itimers, &mut to.cpu_itimers);
    core::mem::swap(&mut from.timers, &mut to.timers);
    from.holds = false;
    to.holds = true;
}

/// The other threads of the running process end (`exit_group`, a fatal
/// signal, `execve`), without a trace: the process goes on or ends as
/// one. Their placeholders are freed.
pub fn kill_siblings(sys: &mut System) {
    let pid = sys.proc.pid;
    let mut k = 0;
    while k < sys.others.len() {
        if sys.others[k].pid == pid {
            let t = sys.others.remove(k);
            let Process { mm, fds, .. } = *t;
            drop(fds);
            mm.release();
        } else {
            k += 1;
        }
    }
    bump();
}

/// Whether `parent` has a live or zombie child that `which` selects.
pub fn has_child(sys: &System, parent: u32, which: Which) -> bool {
    let live = |p: &Process| p.ppid == parent && which.selects(p.pid, p.pgid);
    live(&sys.proc) || sys.others.iter().any(|p| live(p)) || sys.zombies.has(parent, which)
}

/// Loads the running process's state onto the CPU and into `frame`.
fn load(sys: &mut System, frame: &mut TrapFrame) {
    RAN_TICKS.store(0, Ordering::Relaxed);
    let over = wait_over(sys, &sys.proc);
    let p = &mut sys.proc;
    p.mm.space.activate();
    if !over {
        if let Some(restart) = interrupting(p) {
            if !restart {
                end_interrupted(p);
            }
        }
    }
    p.state = State::Ready;
    *frame = p.regs;
    set_bases(p.fs_base, p.gs_base);
}

/// Whether a process's wait is over by itself (not by a signal): its
/// call, restarted, completes (a console read or a poll is tried again).
fn wait_over(sys: &System, p: &Process) -> bool {
    wait_ready(sys, p, false)
}

/// A blocked process with a signal to act on (a handler to run, or one
/// that kills): `Some(restart)` says whether its call starts over after
/// the handler (Linux's rule: SA_RESTART and a call that restarts: pipe
/// reads and writes, wait4, the console) or ends with EINTR (sleeps,
/// poll, pause, rt_sigsuspend: never restarted once a handler ran) or,
/// for a pipe write that had written some bytes, with their count. None: not blocked,
/// no such signal, or a vfork parent (which only its child wakes).
fn interrupting(p: &Process) -> Option<bool> {
    use super::signal::{bit, Fate};
    let State::Blocked(w) = &p.state else {
        return None;
    };
    if matches!(w, Wait::Vfork(_) | Wait::Stopped) {
        return None;
    }
    let s = &p.signals;
    // The signals a sigtimedwait waits for are its to take.
    let waited = match w {
        Wait::SigWait(set, _) => *set,
        _ => 0,
    };
    let mut ready = s.pending & !s.blocked & !waited;
    while ready != 0 {
        let sig = ready.trailing_zeros() + 1;
        ready &= !bit(sig);
        match s.fate(sig) {
            Fate::Discard => continue,
            Fate::Kill => return Some(false),
            // It runs to stop (`stop_running`); its call starts over
            // once it is continued.
            Fate::Stop => return Some(true),
            Fate::Handler => {
                let sa_restart = s.actions[sig as usize - 1].flags & SA_RESTART != 0;
                // A futex wait without a timeout restarts (Linux's
                // ERESTARTSYS); with one it ends (ERESTART_RESTARTBLOCK).
                let restartable = matches!(
                    w,
                    Wait::PipeRead(_)
                        | Wait::PipeWrite(_)
                        | Wait::Child(_)
                        | Wait::ChildJob(..)
                        | Wait::Console
                ) || matches!(w, Wait::Futex(f) if f.deadline.is_none());
                // A pipe write that wrote some bytes returns them instead.
                return Some(sa_restart && restartable && p.restart_done == 0);
            }
        }
    }
    None
}

const SA_RESTART: u64 = 0x1000_0000;

/// The blocked call of `p` (the running process, its space active) ends
/// because of a signal: past its `syscall` with EINTR, or with the bytes
/// a pipe write had written; an interrupted relative sleep reports the
/// time left (`rem`), as Linux does.
fn end_interrupted(p: &mut Process) {
    use crate::syscall::Errno;
    let nr = p.regs.rax;
    p.regs.rip += 2;
    let done = core::mem::take(&mut p.restart_done);
    p.regs.rax = if done > 0 {
        done as u64
    } else {
        Errno::EINTR.to_return_value()
    };
    if let Some(deadline) = p.restart_deadline.take() {
        let (nanosleep, clock_nanosleep) = (35, 230);
        // nanosleep(req, rem); clock_nanosleep(clock, flags, req, rem),
        // not for an absolute sleep (TIMER_ABSTIME = 1).
        let rem = match nr {
            n if n == nanosleep => p.regs.rsi,
            n if n == clock_nanosleep && p.regs.rsi & 1 == 0 => p.regs.r10,
            _ => 0,
        };
        if rem != 0 {
            let left = deadline.saturating_sub(crate::host::hypercall::clock().monotonic_ns);
            let ts = crate::syscall::time::Timespec::from_ns(left);
            // A bad `rem` is the program's: Linux ignores that fault too
            // (the call still returns EINTR).
            let _ = crate::syscall::UserPtr::new(rem).copy_to_user(&p.mm, &[ts]);
        }
    }
}


#[cfg(target_os = "none")]
fn set_bases(fs: u64, gs: u64) {
    // SAFETY: user addresses checked by arch_prctl (or 0); the kernel
    // does not use FS or GS.
    unsafe {
        crate::arch::cpu::wrmsr(crate::arch::cpu::MSR_FS_BASE, fs);
        crate::arch::cpu::wrmsr(0xc000_0101, gs);
    }
}

#[cfg(not(target_os = "none"))]
fn set_bases(_fs: u64, _gs: u64) {}

/// Makes `others[i]` the running process; the one running before goes
/// to the back of `others` (its registers are saved already) and is
/// returned there.
fn run(sys: &mut System, i: usize, frame: &mut TrapFrame) {
    save_fpu(&mut sys.proc);
    let next = sys.others.remove(i);
    let mut prev = core::mem::replace(&mut sys.proc, next);
    restore_fpu(&sys.proc);
    // `/proc/self/exe` follows the running process.
    core::mem::swap(&mut prev.exe_path, sys.vfs.self_exe_mut());
    core::mem::swap(sys.vfs.self_exe_mut(), &mut sys.proc.exe_path);
    sys.others.push(prev);
    take_shared(sys);
    load(sys, frame);
}

/// The running process stops (its registers are `frame`) and the next
/// one runs; it may be the same one if nothing else can.
fn switch_away(sys: &mut System, frame: &mut TrapFrame) {
    sys.proc.regs = *frame;
    match next(sys, true) {
        Next::Other(i) => run(sys, i, frame),
        Next::Running => load(sys, frame),
    }
}

/// Ticks since the running process last started running.
static RAN_TICKS: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
/// A time slice, in ticks: a process that has run this long gives way
/// to a ready one at the next tick.
pub const SLICE_TICKS: u32 = 3;

/// A timer tick from ring 3 (`frame`: the interrupted user registers):
/// round-robin when the slice is used up and another process is ready,
/// then the pending signals of the process that runs on.
pub fn tick(frame: &mut TrapFrame) {
    let mut g = SYSTEM.lock();
    let Some(sys) = g.as_mut() else { return };
    charge_tick(&mut sys.proc);
    fire_timers(sys);
    if TICKS.fetch_add(1, Ordering::Relaxed).is_multiple_of(TERMINAL_TICKS) {
        terminal_signals(sys);
    }
    if RAN_TICKS.fetch_add(1, Ordering::Relaxed) + 1 >= SLICE_TICKS {
        RAN_TICKS.store(0, Ordering::Relaxed);
        if let Some(i) = (0..sys.others.len()).find(|&i| ready(sys, &sys.others[i], false)) {
            sys.proc.regs = *frame;
            run(sys, i, frame);
        }
    }
    stop_running(sys, frame);
    while let Err(sig) = super::deliver::deliver(sys, frame) {
        signal_death(sys, frame, sig);
    }
}

/// Saves the user's FPU/SSE state into `p` (the running process).
fn save_fpu(p: &mut Process) {
    let fx = p
        .fpu
        .get_or_insert_with(|| alloc::boxed::Box::new(super::deliver::Fx([0; 512])));
    super::deliver::fxsave(fx);
}

/// Loads `p`'s FPU/SSE state (kept since it last stopped) onto the CPU.
/// A process that never stopped yet (`None`) keeps what is there: a
/// fork child gets its parent's state in `after_trap`.
fn restore_fpu(p: &Process) {
    if let Some(fx) = &p.fpu {
        super::deliver::fxrstor(fx);
    }
}

/// Every process waits for something no process can do.
fn deadlock(sys: &System) -> ! {
    crate::notice!(
        "kvmos: every process is blocked for good (pid {} and {} more): ending the guest",
        sys.proc.pid,
        sys.others.len()
    );
    crate::host::hypercall::exit(1)
}

/// After a system call or exception that set `PENDING` (idt): carries
/// it out on the full user register state in `frame`.
pub fn after_trap(frame: &mut TrapFrame) {
    let what = PENDING.swap(NONE, Ordering::Relaxed);
    let arg = ARG.load(Ordering::Relaxed);
    let mut g = SYSTEM.lock();
    let Some(sys) = g.as_mut() else {
        if what == EXIT {
            end_guest(decode(arg));
        }
        return;
    };
    match what {
        RESTART => {
            // Back on the `syscall` (0f 05), with the call's number.
            frame.rip -= 2;
            frame.rax = SYSCALL_NR.load(Ordering::Relaxed);
            switch_away(sys, frame);
        }
        FORK | VFORK => {
            let pid = arg as u32;
            if let Some(child) = sys.others.iter_mut().find(|p| p.tid == pid) {
                let sp = child.regs.rsp;
                // The child starts with the parent's FPU/SSE state.
                save_fpu(child);
                child.regs = *frame;
                child.regs.rax = 0;
                if sp != 0 {
                    child.regs.rsp = sp;
                }
            }
            if what == VFORK {
                sys.proc.state = State::Blocked(Wait::Vfork(pid));
                sys.proc.regs = *frame;
                match sys.others.iter().position(|p| p.tid == pid) {
                    Some(i) => run(sys, i, frame),
                    None => load(sys, frame),
                }
            }
        }
        EXIT => exit_running(sys, frame, decode(arg)),
        EXIT_THREAD => exit_thread_running(sys, frame, arg as u8),
        YIELD => {
            RAN_TICKS.store(0, Ordering::Relaxed);
            switch_away(sys, frame);
        }
        SIGRETURN if super::deliver::sigreturn(sys, frame).is_err() => {
            signal_death(sys, frame, super::signal::SIGSEGV);
        }
        _ => {}
    }
    // Signals of the process that runs now, which may die of one.
    stop_running(sys, frame);
    while let Err(sig) = super::deliver::deliver(sys, frame) {
        signal_death(sys, frame, sig);
    }
}

/// The running process dies of `sig` on its way back to user space, told
/// as `process::die` and the shells tell it.
fn signal_death(sys: &mut System, frame: &mut TrapFrame, sig: u32) {
    use super::signal::{describe, SIGINT, SIGPIPE};
    if sys.proc.pid == 1 {
        if sig != SIGPIPE && sig != SIGINT {
            crate::notice!("{}", describe(sig));
        }
    } else {
        crate::diagnostic!("kvmos: pid {}: {}", sys.proc.pid, describe(sig));
    }
    exit_running(sys, frame, Status::Signaled(sig));
}

/// The vfork child that is running is done with its parent's address
/// space (it execs, leaving `mm`, or exits): the parent gets `mm` back
/// and may run again. Returns the space to release (the parent's
/// placeholder, or `mm` itself if the parent is gone or there is none).
pub fn vfork_done(sys: &mut System, parent: u32, mm: Mm) -> Mm {
    if parent == 0 {
        return mm;
    }
    match find_tid(sys, parent) {
        Some(w) => {
            let p = task_mut(sys, w);
            p.state = State::Ready;
            core::mem::replace(&mut p.mm, mm)
        }
        None => mm,
    }
}

/// What is left of process `pid` once it is gone: its children go to
/// init, it becomes a zombie for its parent (unless the parent ignores
/// SIGCHLD or set SA_NOCLDWAIT: Linux reaps those at once).
fn bury(sys: &mut System, pid: u32, ppid: u32, pgid: u32, status: Status) {
    for p in sys.others.iter_mut() {
        if p.ppid == pid {
            p.ppid = 1;
        }
    }
    if sys.proc.ppid == pid {
        sys.proc.ppid = 1;
    }
    sys.zombies.reparent(pid, 1);
    sys.zombies.forget_job(pid);
    sys.zombies.reparent_jobs(pid, 1);
    if let Some(w) = pick_thread(sys, ppid, super::signal::SIGCHLD) {
        let running = w == Where::Running;
        let p = task_mut(sys, w);
        let (code, st) = status.siginfo();
        let info = super::signal::Info {
            code,
            pid,
            status: st,
            to_process: true,
            ..Default::default()
        };
        let fate = p.signals.send_info(super::signal::SIGCHLD, info);
        if running && fate == Some(super::signal::Fate::Handler) {
            signal_pending();
        }
    }
    let parent_ignores = find_mut(sys, ppid).is_some_and(|p| {
        let a = &p.signals.actions[super::signal::SIGCHLD as usize - 1];
        a.handler == super::signal::SIG_IGN || a.flags & SA_NOCLDWAIT != 0
    });
    if !parent_ignores {
        sys.zombies.add(super::table::Zombie {
            pid,
            ppid,
            pgid,
            status,
        });
    }
    bump();
}

const SA_NOCLDWAIT: u64 = 2;

/// Process 1 ended: so does the guest, with its status.
fn end_guest(status: Status) -> ! {
    crate::host::hypercall::exit(status.shell_status() & 0xff)
}

/// The running process exits: the guest ends if it is process 1; else
/// its descriptors close, it becomes a zombie, and the next process runs.
fn exit_running(sys: &mut System, frame: &mut TrapFrame, status: Status) {
    if sys.proc.pid == 1 {
        end_guest(status);
    }
    // Descriptors first: pipe readers may see end of file now.
    drop(core::mem::take(&mut sys.proc.fds));
    kill_siblings(sys);
    let parent = core::mem::replace(&mut sys.proc.vfork_parent, 0);
    if parent != 0 {
        if let Some(w) = find_tid(sys, parent) {
            task_mut(sys, w).state = State::Ready;
        }
    }
    // A zombie now: a parent in wait4 can go ahead.
    let (pid, ppid, pgid) = (sys.proc.pid, sys.proc.ppid, sys.proc.pgid);
    bury(sys, pid, ppid, pgid, status);
    let dead = run_instead_of_dead(sys);
    // A vfork child hands its parent's address space back (the space is
    // still live: released only after the switch below).
    let leftover = vfork_done(sys, parent, dead.mm);
    take_shared(sys);
    load(sys, frame);
    leftover.release();
}

/// The running task is gone: the next one to run takes its place (its
/// FPU state and `/proc/self/exe` loaded; its registers are loaded by the
/// caller, `load`). Returns the dead task, to free.
fn run_instead_of_dead(sys: &mut System) -> alloc::boxed::Box<Process> {
    let Next::Other(i) = next(sys, false) else {
        deadlock(sys)
    };
    let next = sys.others.remove(i);
    let dead = core::mem::replace(&mut sys.proc, next);
    restore_fpu(&sys.proc);
    core::mem::swap(sys.vfs.self_exe_mut(), &mut sys.proc.exe_path);
    dead
}

/// The running thread exits with `code` (`exit`): the last thread of a
/// process ends it (`exit_running`); another one wakes a joiner
/// (CLONE_CHILD_CLEARTID: 0 written and a futex wake), marks the robust
/// futexes it held as their owner's death (`futex::exit_robust_list`),
/// hands the process's shared state to a sibling and is gone: threads
/// leave no zombie.
fn exit_thread_running(sys: &mut System, frame: &mut TrapFrame, code: u8) {
    if !has_siblings(sys) {
        return exit_running(sys, frame, Status::Exited(code));
    }
    super::futex::exit_robust_list(sys);
    super::futex::clear_child_tid(sys);
    let pid = sys.proc.pid;
    if let Some(j) = sys.others.iter().position(|p| p.pid == pid) {
        hand_over(&mut sys.proc, &mut sys.others[j]);
    }
    // The process's signals pending here go to a thread that stays.
    let passed = sys.proc.signals.take_process_directed(!0);
    bump();
    let dead = run_instead_of_dead(sys);
    take_shared(sys);
    for (sig, info) in passed {
        if let Some(at) = pick_thread(sys, pid, sig) {
            task_mut(sys, at).signals.send_kept(sig, info);
        }
    }
    load(sys, frame);
    let Process { mm, fds, .. } = *dead;
    drop(fds);
    mm.release();
}

/// Process `others[i]` (not running) dies of `status` (a signal from
/// another process).
/// Its other threads die with it (the running one is not of it: a
/// signal that kills the caller's own process goes through
/// `exit_current`).
pub fn kill_other(sys: &mut System, i: usize, status: Status) {
    let pid = sys.others[i].pid;
    if sys.proc.pid == pid {
        exit_current(status);
        return;
    }
    if pid == 1 {
        if let Status::Signaled(sig) = status {
            crate::notice!("{}", super::signal::describe(sig));
        }
        end_guest(status);
    }
    let (ppid, pgid) = (sys.others[i].ppid, sys.others[i].pgid);
    let mut k = 0;
    while k < sys.others.len() {
        if sys.others[k].pid != pid {
            k += 1;
            continue;
        }
        let dead = sys.others.remove(k);
        let Process {
            mm,
            fds,
            vfork_parent,
            ..
        } = *dead;
        drop(fds);
        let leftover = vfork_done(sys, vfork_parent, mm);
        leftover.release();
    }
    bury(sys, pid, ppid, pgid, status);
}

/// The running process stops if a stop signal (`Fate::Stop`) is pending
/// and not blocked: its parent is told (`report_job`) and another process
/// runs; so for the one that runs then. Process 1 does not stop (nothing
/// could continue it): the signal is dropped.
fn stop_running(sys: &mut System, frame: &mut TrapFrame) {
    use super::signal::{Fate, STOP_SIGNALS};
    use super::table::Job;
    loop {
        let s = &sys.proc.signals;
        let stops = s.pending & !s.blocked & STOP_SIGNALS;
        let Some(sig) = (0..64)
            .filter(|b| stops & (1 << b) != 0)
            .map(|b| b + 1)
            .find(|&sig| s.fate(sig) == Fate::Stop)
        else {
            return;
        };
        sys.proc.signals.take(sig);
        if sys.proc.pid == 1 {
            continue;
        }
        sys.proc.state = State::Blocked(Wait::Stopped);
        let (pid, ppid, pgid) = (sys.proc.pid, sys.proc.ppid, sys.proc.pgid);
        // The whole process stops (Linux's group stop): a call another
        // thread was blocked in starts over once it is continued.
        for t in sys.others.iter_mut().filter(|t| t.pid == pid) {
            t.state = State::Blocked(Wait::Stopped);
        }
        report_job(sys, pid, ppid, pgid, Job::Stopped(sig));
        switch_away(sys, frame);
    }
}

/// Whether process `pid` is stopped.
pub fn is_stopped(sys: &mut System, pid: u32) -> bool {
    find_mut(sys, pid).is_some_and(|p| matches!(p.state, State::Blocked(Wait::Stopped)))
}

/// SIGCONT was sent to process `pid`: if it is stopped it is ready again
/// (a call it was blocked in starts over) and its parent is told.
pub fn cont(sys: &mut System, pid: u32) {
    use super::table::Job;
    let mut was = None;
    for p in sys.others.iter_mut().chain(core::iter::once(&mut sys.proc)) {
        if p.pid == pid && matches!(p.state, State::Blocked(Wait::Stopped)) {
            // Each of its threads.
            p.state = State::Ready;
            was = Some((p.ppid, p.pgid));
        }
    }
    if let Some((ppid, pgid)) = was {
        report_job(sys, pid, ppid, pgid, Job::Continued);
    }
}

/// Child `pid` stopped or continued: `wait4` with WUNTRACED/WCONTINUED
/// reports it, and the parent gets SIGCHLD (CLD_STOPPED, CLD_CONTINUED)
/// unless its SIGCHLD action has SA_NOCLDSTOP.
fn report_job(sys: &mut System, pid: u32, ppid: u32, pgid: u32, job: super::table::Job) {
    use super::signal::{Fate, Info, SIGCHLD};
    sys.zombies.add_job(super::table::JobEvent { pid, ppid, pgid, job });
    if let Some(at) = pick_thread(sys, ppid, SIGCHLD) {
        let running = at == Where::Running;
        let p = task_mut(sys, at);
        if p.signals.actions[SIGCHLD as usize - 1].flags & SA_NOCLDSTOP == 0 {
            let (code, status) = job.siginfo();
            let info = Info {
                code,
                pid,
                status,
                to_process: true,
                ..Default::default()
            };
            if p.signals.send_info(SIGCHLD, info) == Some(Fate::Handler) && running {
                signal_pending();
            }
        }
    }
    bump();
}

const SA_NOCLDSTOP: u64 = 1;

/// Sends `sig` (from the kernel: the terminal's ISIG characters) to every
/// process of group `pgrp`, the running one included, wherever the
/// scheduler is: one that it kills keeps it pending and dies when it runs
/// next (`interrupting` wakes a blocked one), as `fire_timers` does.
/// Whether some process was in the group.
pub fn signal_group(sys: &mut System, pgrp: u32, sig: u32) -> bool {
    use super::signal::{Info, SI_KERNEL};
    // Each process once, to a thread of it that takes the signal.
    let mut pids: alloc::vec::Vec<u32> = sys
        .others
        .iter()
        .chain(core::iter::once(&sys.proc))
        .filter(|p| p.pgid == pgrp)
        .map(|p| p.pid)
        .collect();
    pids.sort_unstable();
    pids.dedup();
    for &pid in &pids {
        let Some(at) = pick_thread(sys, pid, sig) else {
            continue;
        };
        let info = Info {
            to_process: true,
            ..Info::user(SI_KERNEL, 0)
        };
        let p = task_mut(sys, at);
        p.signals.send_kept(sig, info);
    }
    !pids.is_empty()
}

/// Ticks so far (`tick`).
static TICKS: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
/// How often a tick asks the host for the terminal's signals (every
/// 100 ms): a program that computes without a system call can be
/// interrupted too.
const TERMINAL_TICKS: u32 = 25;

/// The signals the terminal's keys raised (host `tty` port: with ISIG
/// the host's terminal turns VINTR, VQUIT and VSUSP into SIGINT, SIGQUIT
/// and SIGTSTP, flushing and echoing as Linux's n_tty does) go to the
/// terminal's foreground process group (`signal_group`). Whether any came.
pub fn terminal_signals(sys: &mut System) -> bool {
    if !crate::dev::tty::present() {
        return false;
    }
    let mut bits = crate::host::hypercall::tty_signals();
    if bits == 0 {
        return false;
    }
    let pgrp = crate::dev::tty::with(|t| Ok(t.pgrp)).unwrap_or(0);
    while bits != 0 {
        let sig = bits.trailing_zeros() + 1;
        bits &= bits - 1;
        if (1..=super::signal::NSIG as u32).contains(&sig) {
            signal_group(sys, pgrp, sig);
        }
    }
    true
}
