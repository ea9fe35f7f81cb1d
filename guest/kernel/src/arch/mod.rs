//! The x86-64 CPU layer: segment and interrupt tables, the trap frame and
//! the exception entry stubs, privileged instructions, the machine state
//! at entry and the way into ring 3. Nothing here knows about processes
//! or system calls: traps go up through one hook (`idt`).

pub mod apic;
pub mod cpu;
pub mod entry;
pub mod gdt;
pub mod idt;
pub mod syscall;
pub mod user;
