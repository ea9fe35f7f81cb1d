//! Reading the mailbox page (docs/protocol.md, "The screen"), which the
//! host writes while the vCPU is stopped at the doorbell.
//!
//! The constants mirror `packages/protocol/src/layout.ts` and
//! `<linux/input-event-codes.h>`. They live here rather than in the kernel
//! library only because `guest/kernel` was being edited concurrently; a
//! `kernel::mailbox` module is the natural home.

use kernel::mm::addr::VirtAddr;

pub const MAILBOX_MAGIC: u32 = 0x786f_626d;
pub const MAILBOX_HEADER_SIZE: usize = 32;
pub const MAILBOX_EVENT_SIZE: usize = 8;
pub const MAILBOX_MAX_EVENTS: u32 = 508;
/// `flags` bit 0: the user closed the window; finish the frame and exit.
pub const MAILBOX_FLAG_QUIT: u32 = 1;
/// One frame at 60 Hz: with fixed time, `time_ns == frame * FRAME_PERIOD_NS`.
pub const FRAME_PERIOD_NS: u64 = 16_666_667;

pub const EV_KEY: u16 = 0x01;
pub const EV_ABS: u16 = 0x03;
pub const ABS_X: u16 = 0x00;
pub const ABS_Y: u16 = 0x01;
pub const KEY_C: u16 = 46;
pub const KEY_PRESSED: i32 = 1;

/// One evdev event: `{u16 type, u16 code, i32 value}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

/// The mailbox page as the guest sees it through the direct map.
pub struct Mailbox {
    base: *const u8,
}

impl Mailbox {
    /// # Safety
    /// `va` must map the host's mailbox page (BootInfo.mailbox_addr in the
    /// direct map) for as long as the Mailbox is used.
    pub unsafe fn at(va: VirtAddr) -> Self {
        Self { base: va.as_ptr() }
    }

    /// Volatile: the host rewrites the page at every doorbell, behind the
    /// compiler's back.
    fn read_u32(&self, offset: usize) -> u32 {
        // SAFETY: offset < 4096 and 4-aligned inside the page `at` promised.
        unsafe { core::ptr::read_volatile(self.base.add(offset).cast::<u32>()) }
    }

    fn read_u64(&self, offset: usize) -> u64 {
        // SAFETY: as read_u32, 8-aligned.
        unsafe { core::ptr::read_volatile(self.base.add(offset).cast::<u64>()) }
    }

    pub fn magic(&self) -> u32 {
        self.read_u32(0)
    }

    /// Events in the page, at most `MAILBOX_MAX_EVENTS` whatever the host wrote.
    pub fn event_count(&self) -> u32 {
        self.read_u32(4).min(MAILBOX_MAX_EVENTS)
    }

    /// Frames shown so far: the frame being drawn now.
    pub fn frame(&self) -> u64 {
        self.read_u64(8)
    }

    pub fn time_ns(&self) -> u64 {
        self.read_u64(16)
    }

    pub fn flags(&self) -> u32 {
        self.read_u32(24)
    }

    /// Event `i` (< `event_count()`), read as one u64: one emulated load in ring 0.
    pub fn event(&self, i: u32) -> Event {
        let raw = self.read_u64(MAILBOX_HEADER_SIZE + i as usize * MAILBOX_EVENT_SIZE);
        Event {
            kind: raw as u16,
            code: (raw >> 16) as u16,
            value: (raw >> 32) as u32 as i32,
        }
    }
}
