//! The kernel's GDT, in Linux's selector layout (PVM requires it: ring-3
//! code with other user selectors runs in the wrong mode), and the 64-bit
//! TSS at `SELECTOR_TSS` with RSP0 (the stack for traps from ring 3) and an
//! IST stack for #DF (so a kernel stack overflow is still reported).
//!
//! | selector | entry |
//! | --- | --- |
//! | 0x08 | unused (Linux: 32-bit kernel code) |
//! | 0x10 | kernel code, 64-bit |
//! | 0x18 | kernel data |
//! | 0x20 (0x23) | user code, 32-bit |
//! | 0x28 (0x2b) | user data |
//! | 0x30 (0x33) | user code, 64-bit |
//! | 0x40 | TSS (two entries) |

use crate::host::layout::SELECTOR_TSS;
use crate::sync::Global;
use core::cell::UnsafeCell;
use core::mem::size_of;

/// Segment descriptors (accessed bit preset, so the CPU never writes them).
pub const KERNEL_CODE64: u64 = 0x00af_9b00_0000_ffff;
pub const KERNEL_DATA: u64 = 0x00cf_9300_0000_ffff;
pub const USER_CODE32: u64 = 0x00cf_fb00_0000_ffff;
pub const USER_DATA: u64 = 0x00cf_f300_0000_ffff;
pub const USER_CODE64: u64 = 0x00af_fb00_0000_ffff;

/// IST slot (1-based, as in the IDT gate) of the #DF stack.
pub const DOUBLE_FAULT_IST: u8 = 1;

const GDT_ENTRIES: usize = 10;

/// The 64-bit task-state segment (Intel SDM vol. 3, 8.7).
#[repr(C, packed(4))]
pub struct TaskStateSegment {
    reserved_1: u32,
    /// RSP0..RSP2: stacks for a switch to ring 0..2.
    pub privilege_stack_table: [u64; 3],
    reserved_2: u64,
    /// IST1..IST7.
    pub interrupt_stack_table: [u64; 7],
    reserved_3: u64,
    reserved_4: u16,
    /// Offset of the I/O permission bitmap; `size_of::<Self>()` = none.
    pub iomap_base: u16,
}

const _: () = assert!(size_of::<TaskStateSegment>() == 104);

impl TaskStateSegment {
    pub const fn new(rsp0: u64, ist1: u64) -> Self {
        Self {
            reserved_1: 0,
            privilege_stack_table: [rsp0, 0, 0],
            reserved_2: 0,
            interrupt_stack_table: [ist1, 0, 0, 0, 0, 0, 0],
            reserved_3: 0,
            reserved_4: 0,
            iomap_base: size_of::<Self>() as u16,
        }
    }
}

/// The two GDT entries of an available 64-bit TSS at `base`.
pub const fn tss_descriptor(base: u64, limit: u32) -> [u64; 2] {
    let low = (limit as u64 & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x89 << 40) // present, DPL 0, type 9: available 64-bit TSS
        | (((limit as u64 >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    [low, base >> 32]
}

/// A kernel stack in .bss (the host zeroes it; nothing here touches it).
#[repr(C, align(16))]
pub struct Stack<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: the CPU uses the memory as a stack; Rust code never reads it.
unsafe impl<const N: usize> Sync for Stack<N> {}

impl<const N: usize> Stack<N> {
    pub const fn new() -> Self {
        Self(UnsafeCell::new([0; N]))
    }
    /// One past the highest byte (the initial RSP).
    pub fn top(&self) -> u64 {
        self.0.get() as u64 + N as u64
    }
}

impl<const N: usize> Default for Stack<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Where traps from ring 3 and system calls run (TSS RSP0).
pub static TRAP_STACK: Stack<{ 32 * 1024 }> = Stack::new();
static DOUBLE_FAULT_STACK: Stack<{ 16 * 1024 }> = Stack::new();

static TSS: Global<TaskStateSegment> = Global::new(TaskStateSegment::new(0, 0));
static GDT: Global<[u64; GDT_ENTRIES]> = Global::new([
    0,
    0,
    KERNEL_CODE64,
    KERNEL_DATA,
    USER_CODE32,
    USER_DATA,
    USER_CODE64,
    0,
    0,
    0,
]);

/// The operand of `lgdt`/`lidt`.
#[repr(C, packed(2))]
pub struct DescriptorTablePointer {
    pub limit: u16,
    pub base: u64,
}

/// Installs the GDT and TSS and reloads every segment register.
pub fn init() {
    *TSS.lock() = TaskStateSegment::new(TRAP_STACK.top(), DOUBLE_FAULT_STACK.top());
    {
        let mut gdt = GDT.lock();
        let [low, high] = tss_descriptor(
            TSS.as_ptr() as u64,
            size_of::<TaskStateSegment>() as u32 - 1,
        );
        gdt[SELECTOR_TSS as usize / 8] = low;
        gdt[SELECTOR_TSS as usize / 8 + 1] = high;
    }
    let gdtr = DescriptorTablePointer {
        limit: (GDT_ENTRIES * 8 - 1) as u16,
        base: GDT.as_ptr() as u64,
    };
    load(&gdtr);
}

#[cfg(target_os = "none")]
fn load(gdtr: &DescriptorTablePointer) {
    use crate::host::layout::{SELECTOR_KERNEL_CODE, SELECTOR_KERNEL_DATA};
    // SAFETY: the GDT and TSS are statics (they live forever) and keep the
    // selectors the boot GDT had, so reloading them changes no segment's
    // meaning. The far return reloads CS from the new table.
    unsafe {
        core::arch::asm!(
            "lgdt [{gdtr}]",
            "push {code}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov {tmp:e}, {data}",
            "mov ds, {tmp:x}",
            "mov es, {tmp:x}",
            "mov ss, {tmp:x}",
            "mov fs, {tmp:x}",
            "mov gs, {tmp:x}",
            "mov {tmp:e}, {tss}",
            "ltr {tmp:x}",
            gdtr = in(reg) gdtr,
            code = const SELECTOR_KERNEL_CODE,
            data = const SELECTOR_KERNEL_DATA,
            tss = const SELECTOR_TSS,
            tmp = out(reg) _,
        );
    }
}

#[cfg(not(target_os = "none"))]
fn load(_gdtr: &DescriptorTablePointer) {
    unimplemented!("lgdt exists only in the guest")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        // Same values as Linux's GDT_ENTRY_INIT for these segments.
        assert_eq!(KERNEL_CODE64 >> 40 & 0xff, 0x9b);
        assert_eq!(USER_CODE64 >> 53 & 1, 1, "L bit");
        assert_eq!(USER_DATA >> 45 & 3, 3, "DPL 3");
        assert_eq!(
            tss_descriptor(0xffff_ffff_8012_3456, 103),
            [0x8000_8912_3456_0067, 0xffff_ffff]
        );
        assert_eq!(SELECTOR_TSS as usize / 8 + 2, GDT_ENTRIES);
    }

    #[test]
    fn tss_layout() {
        let t = TaskStateSegment::new(0x1111, 0x2222);
        // SAFETY: reading the bytes of a plain value.
        let b: [u8; 104] = unsafe { core::mem::transmute(t) };
        assert_eq!(
            u64::from_le_bytes(b[4..12].try_into().unwrap()),
            0x1111,
            "RSP0 at 4"
        );
        assert_eq!(
            u64::from_le_bytes(b[36..44].try_into().unwrap()),
            0x2222,
            "IST1 at 36"
        );
        assert_eq!(u16::from_le_bytes(b[102..104].try_into().unwrap()), 104);
    }
}
