//! Panics go to the host as a FaultReport with vector 256 and the message
//! (`file:line:col: message`), then the guest stops.

use crate::mm::addr::VirtAddr;
use crate::host::protocol::{FaultReport, FAULT_MESSAGE_MAX, FAULT_VECTOR_PANIC};
use crate::sync::Global;
use core::fmt::Write;
use core::panic::PanicInfo;

struct Message {
    bytes: [u8; FAULT_MESSAGE_MAX as usize],
    len: usize,
}

/// Keeps what fits (on a char boundary) and drops the rest.
impl Write for Message {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.bytes.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

static MESSAGE: Global<Message> = Global::new(Message {
    bytes: [0; FAULT_MESSAGE_MAX as usize],
    len: 0,
});

fn phys(ptr: *const u8) -> u64 {
    VirtAddr::from_ptr(ptr)
        .kernel_to_phys()
        .map_or(0, |p| p.as_u64())
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let rsp: u64;
    // SAFETY: reads RSP.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) rsp, options(nomem, nostack, preserves_flags))
    };
    let mut report = FaultReport {
        vector: FAULT_VECTOR_PANIC,
        cs: crate::arch::cpu::read_cs() as u64,
        rflags: crate::arch::cpu::read_rflags(),
        rsp,
        ss: crate::host::layout::SELECTOR_KERNEL_DATA as u64,
        cr3: crate::arch::cpu::read_cr3(),
        ..FaultReport::default()
    };
    match MESSAGE.try_lock() {
        Some(mut m) => {
            m.len = 0;
            if let Some(loc) = info.location() {
                let _ = write!(m, "{}:{}:{}: ", loc.file(), loc.line(), loc.column());
            }
            let _ = write!(m, "{}", info.message());
            report.message_addr = phys(m.bytes.as_ptr());
            report.message_len = m.len as u64;
            crate::host::hypercall::fault(&report)
        }
        None => {
            const NESTED: &str = "panic while panicking";
            report.message_addr = phys(NESTED.as_ptr());
            report.message_len = NESTED.len() as u64;
            crate::host::hypercall::fault(&report)
        }
    }
}
