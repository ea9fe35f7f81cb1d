//! The host: hypercalls and their transports, the shared protocol structs
//! and memory layout, the command line, the log, and panics reported to
//! the host.

pub mod cmdline;
pub mod fs;
pub mod hypercall;
pub mod layout;
pub mod log;
#[cfg(target_os = "none")]
mod panic;
pub mod protocol;
