//! `<linux/input.h>` and `<linux/input-event-codes.h>`: evdev
//! (`/dev/input/event0`).

pub const EV_SYN: u16 = 0x00;
pub const EV_KEY: u16 = 0x01;
pub const EV_REL: u16 = 0x02;
pub const EV_ABS: u16 = 0x03;
pub const SYN_REPORT: u16 = 0;
pub const SYN_DROPPED: u16 = 3;
pub const REL_X: u16 = 0x00;
pub const REL_Y: u16 = 0x01;
pub const REL_WHEEL: u16 = 0x08;
pub const ABS_X: u16 = 0x00;
pub const ABS_Y: u16 = 0x01;
pub const KEY_ESC: u16 = 1;
pub const KEY_Q: u16 = 16;
pub const KEY_C: u16 = 46;
pub const KEY_SPACE: u16 = 57;
pub const BTN_LEFT: u16 = 0x110;
pub const BTN_RIGHT: u16 = 0x111;
pub const BTN_MIDDLE: u16 = 0x112;

/// `struct input_event` on x86-64 (24 bytes): a `struct timeval` (two
/// longs), then `{u16 type, u16 code, i32 value}`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputEvent {
    pub tv_sec: i64,
    pub tv_usec: i64,
    pub type_: u16,
    pub code: u16,
    pub value: i32,
}

pub const INPUT_EVENT_SIZE: usize = 24;
const _: () = assert!(core::mem::size_of::<InputEvent>() == INPUT_EVENT_SIZE);
