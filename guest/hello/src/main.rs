#![no_std]
#![no_main]
use core::fmt::Write;
struct W<'a>(&'a mut [u8], usize);
impl Write for W<'_> { fn write_str(&mut self, s: &str) -> core::fmt::Result { for b in s.bytes() { self.0[self.1]=b; self.1+=1;} Ok(()) } }
#[no_mangle]
pub extern "C" fn _start(x: u64) -> ! { let mut b=[0u8;64]; let mut w=W(&mut b,0); let _=write!(w, "{} {}", x, 1.5f64 * x as f64); kernel::out32(0x400, w.1 as u32); loop{} }
