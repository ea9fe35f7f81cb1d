//! Signal delivery to user handlers, as Linux x86-64 does it.
//!
//! On the way back to user space (`sched::after_trap`), each pending
//! signal that is not blocked and is caught gets Linux's `rt_sigframe`
//! on the user stack: below the 128-byte red zone (or at the top of the
//! alternate stack, SA_ONSTACK), a 64-byte aligned FXSAVE area (512
//! bytes, `uc_mcontext.fpstate` points at it), then the frame
//! (`pretcode` = `sa_restorer`, `struct ucontext` with the interrupted
//! registers in `uc_mcontext` and the old mask in `uc_sigmask`, and the
//! `siginfo`, written with SA_SIGINFO), placed at `(sp & ~15) - 8` as if
//! called. The handler gets RDI = signal, RSI = &info, RDX = &uc; the
//! mask gains `sa_mask` and the signal (unless SA_NODEFER); SA_RESETHAND
//! resets the action. `rt_sigreturn` reads the frame back, checks it
//! (a user RIP, a canonical RSP, user flags only, an MXCSR the CPU
//! takes) and restores registers, FXSAVE state and mask. A frame that
//! cannot be written (or no SA_RESTORER) or read back kills the process
//! with SIGSEGV. Not restored by `rt_sigreturn`: `uc_stack` (the
//! alternate stack stays as it is).
//!
//! The kernel is soft-float, so at a trap the SSE registers still hold
//! the user's; FXSAVE/FXRSTOR only move them to and from memory (no SSE
//! arithmetic in ring 0, which PVM cannot run).

use super::signal::*;
use super::System;
use crate::arch::cpu::rflags;
use crate::arch::idt::TrapFrame;
use crate::host::layout::{SELECTOR_USER_CODE, SELECTOR_USER_DATA, USER_END};
use crate::syscall::user_ptr::UserPtr;

const SA_SIGINFO: u64 = 4;
const SA_RESTORER: u64 = 0x0400_0000;
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SA_RESETHAND: u64 = 0x8000_0000;
const SS_ONSTACK: i32 = 1;
const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);
/// UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS (no UC_FP_XSTATE: FXSAVE only).
const UC_FLAGS: u64 = 0x2 | 0x4;

/// Offsets in `struct rt_sigframe`.
const UC: usize = 8;
const STACK: usize = UC + 16;
const MCONTEXT: usize = UC + 40;
const SIGMASK: usize = UC + 296;
const INFO: usize = UC + 304;
pub const FRAME_SIZE: usize = INFO + 128;
const FX_SIZE: u64 = 512;
const REDZONE: u64 = 128;
/// `sigcontext_64` u64 slots after the 18 registers.
const SEGS: usize = 18;
const ERR: usize = 19;
const TRAPNO: usize = 20;
const OLDMASK: usize = 21;
const CR2: usize = 22;
const FPSTATE: usize = 23;

/// A signal frame that cannot be written or read back: SIGSEGV.
#[derive(Debug)]
pub struct BadFrame;

/// The 512-byte FXSAVE area.
#[repr(C, align(16))]
pub struct Fx(pub [u8; 512]);

fn put(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

/// `sigcontext_64`'s registers, in its order.
fn regs_of(f: &TrapFrame) -> [u64; 18] {
    [
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rbx, f.rdx,
        f.rax, f.rcx, f.rsp, f.rip, f.rflags,
    ]
}

/// Builds the frame's bytes (without the FXSAVE area).
#[allow(clippy::too_many_arguments)]
pub fn build_frame(
    frame: &TrapFrame,
    sig: u32,
    act: &SigAction,
    info: &Info,
    old_mask: u64,
    stack: &StackT,
    fpstate: u64,
) -> [u8; FRAME_SIZE] {
    let mut b = [0u8; FRAME_SIZE];
    put(&mut b, 0, act.restorer);
    put(&mut b, UC, UC_FLAGS);
    put(&mut b, STACK, stack.sp);
    b[STACK + 8..STACK + 12].copy_from_slice(&stack.flags.to_le_bytes());
    put(&mut b, STACK + 16, stack.size);
    for (i, r) in regs_of(frame).iter().enumerate() {
        put(&mut b, MCONTEXT + i * 8, *r);
    }
    let segs = SELECTOR_USER_CODE as u64 | (SELECTOR_USER_DATA as u64) << 48;
    put(&mut b, MCONTEXT + SEGS * 8, segs);
    put(&mut b, MCONTEXT + ERR * 8, info.error);
    put(&mut b, MCONTEXT + TRAPNO * 8, info.trapno);
    put(&mut b, MCONTEXT + OLDMASK * 8, old_mask);
    put(&mut b, MCONTEXT + CR2 * 8, if info.fault { info.addr } else { 0 });
    put(&mut b, MCONTEXT + FPSTATE * 8, fpstate);
    put(&mut b, SIGMASK, old_mask);
    if act.flags & SA_SIGINFO != 0 {
        b[INFO..INFO + SIGINFO_SIZE].copy_from_slice(&siginfo(sig, info));
    }
    b
}

/// The 128-byte `siginfo_t` of `sig` as Linux lays it out for x86-64.
pub fn siginfo(sig: u32, info: &Info) -> [u8; SIGINFO_SIZE] {
    let mut b = [0u8; SIGINFO_SIZE];
    b[0..4].copy_from_slice(&(sig as i32).to_le_bytes());
    b[8..12].copy_from_slice(&info.code.to_le_bytes());
    if info.fault {
        put(&mut b, 16, info.addr);
    } else if info.code == super::ptimer::SI_TIMER {
        b[16..20].copy_from_slice(&info.timer.to_le_bytes());
        b[20..24].copy_from_slice(&info.overrun.to_le_bytes());
        put(&mut b, 24, info.value);
    } else {
        b[16..20].copy_from_slice(&info.pid.to_le_bytes());
        b[20..24].copy_from_slice(&info.uid.to_le_bytes());
        if sig == super::signal::SIGCHLD {
            b[24..28].copy_from_slice(&info.status.to_le_bytes());
        } else {
            put(&mut b, 24, info.value);
        }
    }
    b
}

pub const SIGINFO_SIZE: usize = 128;

/// Where the FXSAVE area and the frame go, for the user's `rsp`.
pub fn place(rsp: u64, act: &SigAction, alt: &StackT) -> (u64, u64) {
    let mut sp = rsp.wrapping_sub(REDZONE);
    let enabled = alt.flags & SS_DISABLE == 0 && alt.size != 0;
    let on_alt = sp.wrapping_sub(alt.sp) < alt.size;
    if act.flags & SA_ONSTACK != 0 && enabled && !on_alt {
        sp = alt.sp.wrapping_add(alt.size);
    }
    let fx = sp.wrapping_sub(FX_SIZE) & !63;
    let frame = (fx.wrapping_sub(FRAME_SIZE as u64) & !15).wrapping_sub(8);
    (fx, frame)
}

/// Delivers the pending unblocked signals of the running process: a
/// handler frame for each caught one. `Err(sig)`: the process dies of
/// `sig` (its action kills, or its frame could not be built: SIGSEGV).
pub fn deliver(sys: &mut System, frame: &mut TrapFrame) -> Result<(), u32> {
    while let Some((sig, fate)) = sys.proc.signals.next_unblocked() {
        match fate {
            Fate::Kill => return Err(sig),
            Fate::Discard => {}
            Fate::Handler => setup(sys, frame, sig).map_err(|BadFrame| SIGSEGV)?,
            // `sched::stop_running` acts on stops first; one left is put
            // back for it.
            Fate::Stop => {
                sys.proc.signals.pending |= super::signal::bit(sig);
                return Ok(());
            }
        }
    }
    Ok(())
}

fn setup(sys: &mut System, frame: &mut TrapFrame, sig: u32) -> Result<(), BadFrame> {
    // After `rt_sigsuspend` the handler returns to the mask from before it.
    let suspended = sys.proc.sigsuspend_saved.take();
    let s = &sys.proc.signals;
    let act = s.actions[sig as usize - 1];
    let info = s.infos[sig as usize - 1];
    if info.code == super::ptimer::SI_TIMER {
        // timer_getoverrun reports the overrun of the signal delivered last.
        if let Ok(t) = sys.proc.timers.get(info.timer) {
            t.overrun_last = info.overrun;
        }
    }
    let s = &sys.proc.signals;
    let old_mask = suspended.unwrap_or(s.blocked);
    let alt = s.altstack;
    if act.flags & SA_RESTORER == 0 {
        return Err(BadFrame);
    }
    let (fx_at, at) = place(frame.rsp, &act, &alt);
    let stack = StackT {
        flags: if alt.flags & SS_DISABLE != 0 {
            SS_DISABLE
        } else if frame.rsp.wrapping_sub(alt.sp) < alt.size {
            SS_ONSTACK
        } else {
            alt.flags
        },
        ..alt
    };
    let mut fx = Fx([0; 512]);
    fxsave(&mut fx);
    // The software-reserved bytes (Linux's fx_sw_bytes): not XSAVE.
    fx.0[464..].fill(0);
    let bytes = build_frame(frame, sig, &act, &info, old_mask, &stack, fx_at);
    let mm = &sys.proc.mm;
    UserPtr::<u8>::new(fx_at)
        .copy_to_user(mm, &fx.0)
        .map_err(|_| BadFrame)?;
    UserPtr::<u8>::new(at)
        .copy_to_user(mm, &bytes)
        .map_err(|_| BadFrame)?;
    frame.rdi = sig as u64;
    frame.rsi = at + INFO as u64;
    frame.rdx = at + UC as u64;
    frame.rax = 0;
    frame.rsp = at;
    frame.rip = act.handler;
    frame.rflags &= !(rflags::DF | rflags::RF | rflags::TF);
    frame.cs = SELECTOR_USER_CODE as u64;
    frame.ss = SELECTOR_USER_DATA as u64;
    let s = &mut sys.proc.signals;
    s.blocked |= act.mask;
    if act.flags & SA_NODEFER == 0 {
        s.blocked |= bit(sig);
    }
    s.blocked &= !UNBLOCKABLE;
    if act.flags & SA_RESETHAND != 0 {
        // The disposition is the process's: every thread's copy.
        let pid = sys.proc.pid;
        let threads = core::iter::once(&mut *sys.proc).chain(sys.others.iter_mut().map(|p| &mut **p));
        for p in threads.filter(|p| p.pid == pid) {
            p.signals.actions[sig as usize - 1].handler = SIG_DFL;
        }
    }
    Ok(())
}

fn canonical(a: u64) -> bool {
    a < USER_END || a >= 0u64.wrapping_sub(USER_END)
}

/// The registers and mask a frame's bytes give back, checked; None if
/// they cannot be (a kernel RIP, a non-canonical RSP).
pub fn restore_regs(b: &[u8; FRAME_SIZE], frame: &mut TrapFrame) -> Option<(u64, u64)> {
    let r = |i: usize| get(b, MCONTEXT + i * 8);
    let (rip, rsp) = (r(16), r(15));
    if rip >= USER_END || !canonical(rsp) {
        return None;
    }
    frame.r8 = r(0);
    frame.r9 = r(1);
    frame.r10 = r(2);
    frame.r11 = r(3);
    frame.r12 = r(4);
    frame.r13 = r(5);
    frame.r14 = r(6);
    frame.r15 = r(7);
    frame.rdi = r(8);
    frame.rsi = r(9);
    frame.rbp = r(10);
    frame.rbx = r(11);
    frame.rdx = r(12);
    frame.rax = r(13);
    frame.rcx = r(14);
    frame.rsp = rsp;
    frame.rip = rip;
    frame.rflags = (r(17) & crate::syscall::entry::USER_RFLAGS) | rflags::RESERVED_1 | rflags::IF;
    frame.cs = SELECTOR_USER_CODE as u64;
    frame.ss = SELECTOR_USER_DATA as u64;
    Some((get(b, SIGMASK) & !UNBLOCKABLE, r(FPSTATE)))
}

/// `rt_sigreturn`: the frame the handler returned from (its `ret` popped
/// `pretcode`) gives back the registers, FXSAVE state and mask. Err: a
/// bad frame (the process dies of SIGSEGV).
pub fn sigreturn(sys: &mut System, frame: &mut TrapFrame) -> Result<(), BadFrame> {
    let at = frame.rsp.wrapping_sub(8);
    let mut b = [0u8; FRAME_SIZE];
    UserPtr::<u8>::new(at)
        .copy_from_user(&sys.proc.mm, &mut b)
        .map_err(|_| BadFrame)?;
    let mut regs = *frame;
    let (mask, fpstate) = restore_regs(&b, &mut regs).ok_or(BadFrame)?;
    if fpstate != 0 {
        let mut fx = Fx([0; 512]);
        UserPtr::<u8>::new(fpstate)
            .copy_from_user(&sys.proc.mm, &mut fx.0)
            .map_err(|_| BadFrame)?;
        let mxcsr = u32::from_le_bytes([fx.0[24], fx.0[25], fx.0[26], fx.0[27]]);
        if mxcsr & !mxcsr_mask() != 0 {
            return Err(BadFrame);
        }
        fxrstor(&fx);
    }
    *frame = regs;
    sys.proc.signals.blocked = mask;
    Ok(())
}

#[cfg(target_os = "none")]
pub(super) fn fxsave(fx: &mut Fx) {
    // SAFETY: FXSAVE writes 512 bytes at a 16-byte aligned address: `fx`
    // is exactly that. CR4.OSFXSR is set (user programs use SSE).
    unsafe {
        core::arch::asm!("fxsave64 [{}]", in(reg) fx.0.as_mut_ptr(), options(nostack, preserves_flags))
    }
}

#[cfg(target_os = "none")]
pub(super) fn fxrstor(fx: &Fx) {
    // SAFETY: 512 bytes, 16-byte aligned; MXCSR was checked against the
    // CPU's mask (reserved bits would #GP), the rest is taken as is.
    unsafe {
        core::arch::asm!("fxrstor64 [{}]", in(reg) fx.0.as_ptr(), options(nostack, preserves_flags, readonly))
    }
}

/// The MXCSR bits the CPU accepts (FXSAVE's MXCSR_MASK; 0 means 0xffbf).
#[cfg(target_os = "none")]
fn mxcsr_mask() -> u32 {
    let mut fx = Fx([0; 512]);
    fxsave(&mut fx);
    match u32::from_le_bytes([fx.0[28], fx.0[29], fx.0[30], fx.0[31]]) {
        0 => 0xffbf,
        m => m,
    }
}

#[cfg(not(target_os = "none"))]
pub(super) fn fxsave(_fx: &mut Fx) {}

#[cfg(not(target_os = "none"))]
pub(super) fn fxrstor(_fx: &Fx) {}

#[cfg(not(target_os = "none"))]
fn mxcsr_mask() -> u32 {
    0xffbf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_layout_round_trips() {
        assert_eq!(FRAME_SIZE, 440);
        let f = TrapFrame {
            rip: 0x401000,
            rsp: 0x7fff_0000_1238,
            rax: 7,
            r15: 15,
            rflags: 0x246 | rflags::TF,
            ..Default::default()
        };
        let act = SigAction {
            handler: 0x402000,
            flags: SA_SIGINFO | SA_RESTORER,
            restorer: 0x403000,
            mask: 0,
        };
        let info = Info {
            addr: 8,
            fault: true,
            code: 1,
            ..Default::default()
        };
        let b = build_frame(&f, SIGSEGV, &act, &info, 0x1234, &StackT::default(), 0x5000);
        assert_eq!(get(&b, 0), 0x403000);
        assert_eq!(get(&b, INFO + 16), 8);
        assert_eq!(get(&b, SIGMASK), 0x1234);
        let mut back = TrapFrame::default();
        let (mask, fp) = restore_regs(&b, &mut back).unwrap();
        assert_eq!((mask, fp), (0x1234, 0x5000));
        assert_eq!((back.rip, back.rsp, back.rax, back.r15), (f.rip, f.rsp, 7, 15));
        let (fx, at) = place(0x7fff_0000_1238, &act, &StackT::default());
        assert_eq!(fx % 64, 0);
        assert_eq!((at + 8) % 16, 0);
        assert!(at + FRAME_SIZE as u64 <= fx);
        let mut bad = b;
        put(&mut bad, MCONTEXT + 16 * 8, USER_END);
        assert!(restore_regs(&bad, &mut back).is_none(), "kernel RIP");
    }
}
