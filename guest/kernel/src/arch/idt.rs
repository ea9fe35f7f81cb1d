//! The IDT: a handler for each of the 32 exception vectors. Every stub
//! saves the registers as a `TrapFrame` and calls `trap_dispatch`, which
//! hands it to the OS layer through one hook, the symbol `kvmos_os_trap`
//! (`process::trap::dispatch`): that decides between a system call (on
//! PVM a ring-3 `syscall` arrives as #UD at the stub's `ud2`, see
//! `arch::syscall`), a process's fault and a report to the host through
//! the fault port (`fault_report`), so no exception ends in a triple
//! fault. This layer imports nothing from `process` or `syscall`.

use crate::arch::gdt::DescriptorTablePointer;
use crate::host::layout::SELECTOR_KERNEL_CODE;
use crate::host::protocol::FaultReport;
use crate::sync::Global;
use core::mem::size_of;

pub const DIVIDE_ERROR: u64 = 0;
pub const INVALID_OPCODE: u64 = 6;
pub const DOUBLE_FAULT: u64 = 8;
pub const GENERAL_PROTECTION: u64 = 13;
pub const PAGE_FAULT: u64 = 14;

/// Vectors for which the CPU pushes an error code.
pub const fn has_error_code(vector: u64) -> bool {
    matches!(vector, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

/// The stack as `kvmos_trap_common` leaves it: general registers, the
/// vector and error code the stub pushed (0 if the CPU pushes none), then
/// the CPU's interrupt frame. Changes are restored by `iretq`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

const _: () = assert!(size_of::<TrapFrame>() == 22 * 8);

/// One 16-byte IDT entry.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GateDescriptor {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const _: () = assert!(size_of::<GateDescriptor>() == 16);

impl GateDescriptor {
    pub const MISSING: Self = Self {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    /// A present 64-bit interrupt gate (IF cleared on entry) to `handler`
    /// in the kernel code segment, callable by `int n` from ring `dpl`.
    pub const fn interrupt_gate(handler: u64, ist: u8, dpl: u8) -> Self {
        Self {
            offset_low: handler as u16,
            selector: SELECTOR_KERNEL_CODE,
            ist: ist & 7,
            type_attr: 0x80 | ((dpl & 3) << 5) | 0xe,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }

    pub const fn handler(&self) -> u64 {
        self.offset_low as u64 | (self.offset_mid as u64) << 16 | (self.offset_high as u64) << 32
    }
}

static IDT: Global<[GateDescriptor; 256]> = Global::new([GateDescriptor::MISSING; 256]);

/// Installs gates for vectors 0..=31 (#DF on its IST stack) and for the
/// local APIC's timer and spurious vectors (`apic`, raised only once its
/// timer is started), and loads the IDT. The other vectors stay absent;
/// every gate has DPL 0, so `int n` from ring 3 is a #GP, reported like
/// any fault (a user cannot fake a tick).
pub fn init() {
    let stubs = trap_stubs();
    {
        let mut idt = IDT.lock();
        for (vector, &stub) in stubs.iter().enumerate() {
            let ist = if vector as u64 == DOUBLE_FAULT {
                crate::arch::gdt::DOUBLE_FAULT_IST
            } else {
                0
            };
            idt[vector] = GateDescriptor::interrupt_gate(stub, ist, 0);
        }
        let (timer, spurious) = interrupt_stubs();
        idt[super::apic::TIMER_VECTOR as usize] = GateDescriptor::interrupt_gate(timer, 0, 0);
        idt[super::apic::SPURIOUS_VECTOR as usize] =
            GateDescriptor::interrupt_gate(spurious, 0, 0);
    }
    let idtr = DescriptorTablePointer {
        limit: (256 * 16 - 1) as u16,
        base: IDT.as_ptr() as u64,
    };
    load(&idtr);
}

/// The exception a report describes, from a trap frame.
pub fn fault_report(frame: &TrapFrame) -> FaultReport {
    FaultReport {
        vector: frame.vector,
        error_code: frame.error_code,
        rip: frame.rip,
        cs: frame.cs,
        rflags: frame.rflags,
        rsp: frame.rsp,
        ss: frame.ss,
        cr2: if frame.vector == PAGE_FAULT || frame.vector == DOUBLE_FAULT {
            crate::arch::cpu::read_cr2()
        } else {
            0
        },
        cr3: crate::arch::cpu::read_cr3(),
        ..FaultReport::default()
    }
}

/// The `vector` of the frame the #UD fast path builds after a system
/// call that asked for the scheduler (not an IDT vector: the IDT has
/// gates for 0..=31 only).
pub const SCHEDULE_VECTOR: u64 = 0x81;

// The OS layer's two entry points, resolved at link time (defined with
// `#[no_mangle]` in `process::trap` and `syscall::entry`): the only way
// this layer calls up.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
extern "Rust" {
    /// Handles every trap: system call, rescheduling after one
    /// (`SCHEDULE_VECTOR`), a process's exception, or a fault report.
    fn kvmos_os_trap(frame: &mut TrapFrame);
}
#[cfg(target_os = "none")]
extern "C" {
    /// The #UD fast path's system call: number, saved RDI..R9; the result.
    fn kvmos_os_syscall(nr: u64, args: &[u64; 6]) -> u64;
}

/// Called by every trap stub with the saved state.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    // SAFETY: `process::trap` defines `kvmos_os_trap` with this signature.
    unsafe { kvmos_os_trap(frame) }
}

#[cfg(target_os = "none")]
fn trap_stubs() -> &'static [u64; 32] {
    extern "C" {
        static kvmos_trap_stubs: [u64; 32];
    }
    // SAFETY: the table is initialized data in the global_asm below.
    unsafe { &*core::ptr::addr_of!(kvmos_trap_stubs) }
}

#[cfg(target_os = "none")]
fn interrupt_stubs() -> (u64, u64) {
    extern "C" {
        static kvmos_trap_32: u8;
        static kvmos_trap_255: u8;
    }
    (
        &raw const kvmos_trap_32 as u64,
        &raw const kvmos_trap_255 as u64,
    )
}

#[cfg(not(target_os = "none"))]
fn interrupt_stubs() -> (u64, u64) {
    unimplemented!("trap stubs exist only in the guest")
}

#[cfg(target_os = "none")]
fn load(idtr: &DescriptorTablePointer) {
    // SAFETY: the IDT is a static with valid gates for 0..=31 and absent
    // ones after; handlers are the stubs below.
    unsafe {
        core::arch::asm!("lidt [{}]", in(reg) idtr, options(readonly, nostack, preserves_flags))
    }
}

#[cfg(not(target_os = "none"))]
fn trap_stubs() -> &'static [u64; 32] {
    unimplemented!("trap stubs exist only in the guest")
}

#[cfg(not(target_os = "none"))]
fn load(_idtr: &DescriptorTablePointer) {
    unimplemented!("lidt exists only in the guest")
}

// Stubs: push a 0 error code where the CPU pushes none, push the vector,
// join `kvmos_trap_common`, which saves the general registers (the frame
// is then 16-byte aligned: the CPU aligns RSP before pushing its frame),
// clears DF for Rust, calls `trap_dispatch`, restores and `iretq`s.
#[cfg(target_os = "none")]
core::arch::global_asm!(
    r#"
    .pushsection .text.kvmos_traps, "ax"
    .macro kvmos_trap_noerr vec
        .balign 16
    kvmos_trap_\vec:
        push 0
        push \vec
        jmp kvmos_trap_common
    .endm
    .macro kvmos_trap_err vec
        .balign 16
    kvmos_trap_\vec:
        push \vec
        jmp kvmos_trap_common
    .endm

    kvmos_trap_noerr 0
    kvmos_trap_noerr 1
    kvmos_trap_noerr 2
    kvmos_trap_noerr 3
    kvmos_trap_noerr 4
    kvmos_trap_noerr 5

    // #UD: the PVM system call path first (see arch::syscall). A #UD
    // from ring 3 at the syscall stub's ud2, with a user return address
    // in RCX, is a system call: save the argument registers (the Linux
    // ABI preserves all but RAX, RCX, R11), dispatch, return to RCX with
    // R11's flags. Anything else takes the general path.
        .balign 16
    kvmos_trap_6:
        test byte ptr [rsp + 8], 3
        jz 1f
        push rax
        mov rax, qword ptr [rip + {stub_ud}]
        cmp rax, qword ptr [rsp + 8]
        mov rax, rcx
        jne 2f
        shr rax, 47
        jnz 2f
        pop rax
        push r9
        push r8
        push r10
        push rdx
        push rsi
        push rdi
        push rcx
        push r11
        sub rsp, 8
        cld
        mov rdi, rax
        mov qword ptr [rip + {syscall_nr}], rax
        lea rsi, [rsp + 24]
        call {fast_dispatch}
        add rsp, 8
        pop r11
        pop rcx
        pop rdi
        pop rsi
        pop rdx
        pop r10
        pop r8
        pop r9
        and r11, {user_rflags}
        or r11, {rflags_on}
        mov qword ptr [rsp], rcx
        mov qword ptr [rsp + 8], {user_cs}
        mov qword ptr [rsp + 16], r11
        mov qword ptr [rsp + 32], {user_ss}
        cmp byte ptr [rip + {pending}], 0
        jne 3f
        iretq
    3:
        // The call asked for the scheduler (PENDING): the full frame,
        // as the general path builds it, to the trap hook.
        push 0
        push {schedule_vector}
        jmp kvmos_trap_common
    2:
        pop rax
    1:
        push 0
        push 6
        jmp kvmos_trap_common

    kvmos_trap_noerr 7
    kvmos_trap_err 8
    kvmos_trap_noerr 9
    kvmos_trap_err 10
    kvmos_trap_err 11
    kvmos_trap_err 12
    kvmos_trap_err 13
    kvmos_trap_err 14
    kvmos_trap_noerr 15
    kvmos_trap_noerr 16
    kvmos_trap_err 17
    kvmos_trap_noerr 18
    kvmos_trap_noerr 19
    kvmos_trap_noerr 20
    kvmos_trap_err 21
    kvmos_trap_noerr 22
    kvmos_trap_noerr 23
    kvmos_trap_noerr 24
    kvmos_trap_noerr 25
    kvmos_trap_noerr 26
    kvmos_trap_noerr 27
    kvmos_trap_noerr 28
    kvmos_trap_err 29
    kvmos_trap_err 30
    kvmos_trap_noerr 31
    // The local APIC's timer tick and spurious interrupt (`apic`).
    .global kvmos_trap_32
    kvmos_trap_noerr 32
    .global kvmos_trap_255
    kvmos_trap_noerr 255

    .balign 16
    .global kvmos_trap_common
    kvmos_trap_common:
        push rax
        push rbx
        push rcx
        push rdx
        push rsi
        push rdi
        push rbp
        push r8
        push r9
        push r10
        push r11
        push r12
        push r13
        push r14
        push r15
        cld
        mov rdi, rsp
        call {dispatch}
        pop r15
        pop r14
        pop r13
        pop r12
        pop r11
        pop r10
        pop r9
        pop r8
        pop rbp
        pop rdi
        pop rsi
        pop rdx
        pop rcx
        pop rbx
        pop rax
        add rsp, 16
        iretq
    .popsection

    .pushsection .rodata.kvmos_trap_stubs, "a"
    .balign 8
    .global kvmos_trap_stubs
    kvmos_trap_stubs:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad kvmos_trap_\vec
    .endr
    .popsection
    "#,
    dispatch = sym trap_dispatch,
    stub_ud = sym super::syscall::STUB_UD_VA,
    fast_dispatch = sym kvmos_os_syscall,
    syscall_nr = sym super::syscall::SYSCALL_NR,
    pending = sym super::syscall::PENDING,
    schedule_vector = const SCHEDULE_VECTOR,
    user_rflags = const super::syscall::USER_RFLAGS,
    rflags_on = const crate::arch::cpu::rflags::RESERVED_1 | crate::arch::cpu::rflags::IF,
    user_cs = const crate::host::layout::SELECTOR_USER_CODE,
    user_ss = const crate::host::layout::SELECTOR_USER_DATA,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_encoding() {
        let g = GateDescriptor::interrupt_gate(0xffff_ffff_8010_2030, 1, 0);
        assert_eq!(g.handler(), 0xffff_ffff_8010_2030);
        // SAFETY: reading the bytes of a plain value.
        let b: [u8; 16] = unsafe { core::mem::transmute(g) };
        assert_eq!(
            b,
            [0x30, 0x20, 0x10, 0x00, 1, 0x8e, 0x10, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(GateDescriptor::interrupt_gate(0, 0, 3).type_attr, 0xee);
    }

    #[test]
    fn error_codes() {
        let with: Vec<u64> = (0..32).filter(|&v| has_error_code(v)).collect();
        assert_eq!(with, [8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
    }
}
