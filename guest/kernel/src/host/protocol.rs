//! The structs the kernel and the host exchange (docs/protocol.md), as
//! `#[repr(C)]` types whose memory *is* the wire format (x86-64 is little
//! endian), plus byte encoders/decoders mirroring
//! `packages/protocol/src/{boot-info,hypercalls}.ts`. The shared vectors in
//! `packages/protocol/vectors/` check both (tests/vectors.rs).

use core::fmt;
use core::mem::{offset_of, size_of, MaybeUninit};

/// A struct that breaks the contract; `field` is the camelCase field of
/// docs/protocol.md at fault, or `size` for a buffer that is too short
/// (the same names the TypeScript `ProtocolError` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    pub field: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}", self.field)
    }
}

const fn err<T>(field: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError { field })
}

fn require_size(bytes: &[u8], size: usize) -> Result<(), DecodeError> {
    if bytes.len() < size {
        err("size")
    } else {
        Ok(())
    }
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

// ---------------------------------------------------------------- BootInfo

/// "kvmo" read as a little-endian u32.
pub const BOOT_INFO_MAGIC: u32 = 0x6f6d_766b;
pub const BOOT_INFO_VERSION: u32 = 1;
pub const BOOT_INFO_SIZE: usize = 160;
pub const RANDOM_SEED_SIZE: usize = 32;
/// `framebuffer_format`: bytes B, G, R, X.
pub const FRAMEBUFFER_FORMAT_XRGB8888: u32 = 1;
/// `flags` bit 0: the guest must use a fixed time (reproducible frames).
pub const BOOT_FLAG_FIXED_TIME: u64 = 1;
/// `flags` bit 1: report every system call with the trace hypercall.
pub const BOOT_FLAG_TRACE: u64 = 2;
/// `flags` bit 2: the host's stdin is a terminal: the console is one.
pub const BOOT_FLAG_STDIN_TTY: u64 = 4;
/// `flags` bit 3: the host's stdout is a terminal.
pub const BOOT_FLAG_STDOUT_TTY: u64 = 8;
/// `flags` bit 4: the host's stderr is a terminal.
pub const BOOT_FLAG_STDERR_TTY: u64 = 16;
/// `flags` bit 5: every hypercall goes through the slot transport (the
/// `HypercallSlot` at `HYPERCALL_SLOT_ADDR` and the one-byte doorbell
/// `HYPERCALL_DOORBELL_PORT`; QEMU TCG) instead of `out dx, eax` (KVM).
/// Read raw at the very start of `kernel::init`, see `hypercall`.
pub const BOOT_FLAG_HYPERCALL_SLOT: u64 = 32;
/// `flags` bit 6: the CPU has a local APIC with a timer (QEMU TCG, and KVM
/// with an in-kernel irqchip): the kernel preempts user programs with its
/// tick (`arch::apic`). Without it (a KVM that made no irqchip) processes
/// switch only when one blocks.
pub const BOOT_FLAG_TIMER: u64 = 64;

/// What the host tells the kernel at entry, at `BOOT_INFO_ADDR`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootInfo {
    pub magic: u32,
    pub version: u32,
    pub ram_size: u64,
    pub free_memory_start: u64,
    pub initramfs_addr: u64,
    pub initramfs_size: u64,
    pub cmdline_addr: u64,
    pub cmdline_size: u64,
    pub framebuffer_addr: u64,
    pub framebuffer_width: u32,
    pub framebuffer_height: u32,
    pub framebuffer_stride: u32,
    pub framebuffer_format: u32,
    pub mailbox_addr: u64,
    pub boot_time_ns: u64,
    pub random_seed: [u8; RANDOM_SEED_SIZE],
    pub flags: u64,
    /// linux-exec's args block (`ARGS_ADDR`), 0 if none.
    pub args_addr: u64,
    /// Its size in bytes, at most `ARGS_MAX`.
    pub args_size: u64,
    /// The terminal's window size in characters, 0 if unknown.
    pub tty_rows: u16,
    pub tty_cols: u16,
    pub reserved: [u8; 4],
}

const _: () = {
    assert!(size_of::<BootInfo>() == BOOT_INFO_SIZE);
    assert!(offset_of!(BootInfo, ram_size) == 8);
    assert!(offset_of!(BootInfo, free_memory_start) == 16);
    assert!(offset_of!(BootInfo, cmdline_addr) == 40);
    assert!(offset_of!(BootInfo, framebuffer_addr) == 56);
    assert!(offset_of!(BootInfo, framebuffer_width) == 64);
    assert!(offset_of!(BootInfo, framebuffer_format) == 76);
    assert!(offset_of!(BootInfo, mailbox_addr) == 80);
    assert!(offset_of!(BootInfo, boot_time_ns) == 88);
    assert!(offset_of!(BootInfo, random_seed) == 96);
    assert!(offset_of!(BootInfo, flags) == 128);
    assert!(offset_of!(BootInfo, args_addr) == 136);
    assert!(offset_of!(BootInfo, args_size) == 144);
    assert!(offset_of!(BootInfo, tty_rows) == 152);
    assert!(offset_of!(BootInfo, tty_cols) == 154);
    assert!(offset_of!(BootInfo, reserved) == 156);
};

impl BootInfo {
    /// A valid BootInfo with every other field zero.
    pub const fn empty() -> Self {
        Self {
            magic: BOOT_INFO_MAGIC,
            version: BOOT_INFO_VERSION,
            ram_size: 0,
            free_memory_start: 0,
            initramfs_addr: 0,
            initramfs_size: 0,
            cmdline_addr: 0,
            cmdline_size: 0,
            framebuffer_addr: 0,
            framebuffer_width: 0,
            framebuffer_height: 0,
            framebuffer_stride: 0,
            framebuffer_format: 0,
            mailbox_addr: 0,
            boot_time_ns: 0,
            random_seed: [0; RANDOM_SEED_SIZE],
            flags: 0,
            args_addr: 0,
            args_size: 0,
            tty_rows: 0,
            tty_cols: 0,
            reserved: [0; 4],
        }
    }

    /// Checks what the decoder checks: magic and version. Reserved bytes
    /// are ignored so that a later version may use them.
    pub fn validate(&self) -> Result<(), DecodeError> {
        if self.magic != BOOT_INFO_MAGIC {
            return err("magic");
        }
        if self.version != BOOT_INFO_VERSION {
            return err("version");
        }
        Ok(())
    }

    pub fn encode(&self) -> [u8; BOOT_INFO_SIZE] {
        let mut out = [0u8; BOOT_INFO_SIZE];
        put(&mut out, 0, &self.magic.to_le_bytes());
        put(&mut out, 4, &self.version.to_le_bytes());
        put(&mut out, 8, &self.ram_size.to_le_bytes());
        put(&mut out, 16, &self.free_memory_start.to_le_bytes());
        put(&mut out, 24, &self.initramfs_addr.to_le_bytes());
        put(&mut out, 32, &self.initramfs_size.to_le_bytes());
        put(&mut out, 40, &self.cmdline_addr.to_le_bytes());
        put(&mut out, 48, &self.cmdline_size.to_le_bytes());
        put(&mut out, 56, &self.framebuffer_addr.to_le_bytes());
        put(&mut out, 64, &self.framebuffer_width.to_le_bytes());
        put(&mut out, 68, &self.framebuffer_height.to_le_bytes());
        put(&mut out, 72, &self.framebuffer_stride.to_le_bytes());
        put(&mut out, 76, &self.framebuffer_format.to_le_bytes());
        put(&mut out, 80, &self.mailbox_addr.to_le_bytes());
        put(&mut out, 88, &self.boot_time_ns.to_le_bytes());
        put(&mut out, 96, &self.random_seed);
        put(&mut out, 128, &self.flags.to_le_bytes());
        put(&mut out, 136, &self.args_addr.to_le_bytes());
        put(&mut out, 144, &self.args_size.to_le_bytes());
        put(&mut out, 152, &self.tty_rows.to_le_bytes());
        put(&mut out, 154, &self.tty_cols.to_le_bytes());
        put(&mut out, 156, &self.reserved);
        out
    }

    /// Reads the first `BOOT_INFO_SIZE` bytes; checks size, magic, version.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        require_size(b, BOOT_INFO_SIZE)?;
        let info = Self {
            magic: get_u32(b, 0),
            version: get_u32(b, 4),
            ram_size: get_u64(b, 8),
            free_memory_start: get_u64(b, 16),
            initramfs_addr: get_u64(b, 24),
            initramfs_size: get_u64(b, 32),
            cmdline_addr: get_u64(b, 40),
            cmdline_size: get_u64(b, 48),
            framebuffer_addr: get_u64(b, 56),
            framebuffer_width: get_u32(b, 64),
            framebuffer_height: get_u32(b, 68),
            framebuffer_stride: get_u32(b, 72),
            framebuffer_format: get_u32(b, 76),
            mailbox_addr: get_u64(b, 80),
            boot_time_ns: get_u64(b, 88),
            random_seed: b[96..128].try_into().unwrap(),
            flags: get_u64(b, 128),
            args_addr: get_u64(b, 136),
            args_size: get_u64(b, 144),
            tty_rows: u16::from_le_bytes([b[152], b[153]]),
            tty_cols: u16::from_le_bytes([b[154], b[155]]),
            reserved: b[156..160].try_into().unwrap(),
        };
        info.validate()?;
        Ok(info)
    }
}

// ------------------------------------------------------------ ConsoleWrite

pub const CONSOLE_WRITE_HEADER_SIZE: usize = 16;
pub const CONSOLE_WRITE_SEGMENT_SIZE: usize = 16;
pub const CONSOLE_WRITE_MAX_SEGMENTS: usize = 64;
/// Bound on the sum of segment lengths of one ConsoleWrite (1 MiB).
pub const CONSOLE_WRITE_MAX_TOTAL: u64 = 0x10_0000;
pub const STDOUT: u32 = 1;
pub const STDERR: u32 = 2;

/// A guest-physical byte range.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    pub addr: u64,
    pub len: u64,
}

/// The argument of the console hypercall: header plus room for the
/// maximum number of segments. Only the first `count` segments are part
/// of the message (and initialized): building one writes 16 bytes, not
/// 1040, which matters in emulated ring 0.
#[repr(C, align(8))]
pub struct ConsoleWrite {
    pub fd: u32,
    count: u32,
    /// Written by the host: bytes written, or `-errno`.
    pub result: i64,
    segments: [MaybeUninit<Segment>; CONSOLE_WRITE_MAX_SEGMENTS],
    /// Sum of the segment lengths (kernel bookkeeping, after the wire bytes).
    total: u64,
}

const _: () = {
    assert!(offset_of!(ConsoleWrite, count) == 4);
    assert!(offset_of!(ConsoleWrite, result) == 8);
    assert!(offset_of!(ConsoleWrite, segments) == CONSOLE_WRITE_HEADER_SIZE);
    assert!(size_of::<Segment>() == CONSOLE_WRITE_SEGMENT_SIZE);
};

impl ConsoleWrite {
    /// An empty message to `fd` (a valid message needs at least one segment).
    pub const fn new(fd: u32) -> Self {
        Self {
            fd,
            count: 0,
            result: 0,
            segments: [const { MaybeUninit::uninit() }; CONSOLE_WRITE_MAX_SEGMENTS],
            total: 0,
        }
    }

    /// Exactly these segments (no merging), validated like the decoder.
    pub fn from_segments(fd: u32, result: i64, segments: &[Segment]) -> Result<Self, DecodeError> {
        check_fd(fd)?;
        check_count(segments.len() as u64)?;
        check_total(segments.iter().map(|s| s.len))?;
        let mut msg = Self::new(fd);
        msg.result = result;
        for (slot, s) in msg.segments.iter_mut().zip(segments) {
            slot.write(*s);
        }
        msg.count = segments.len() as u32;
        msg.total = segments.iter().map(|s| s.len).sum();
        Ok(msg)
    }

    pub fn count(&self) -> usize {
        self.count as usize
    }

    pub fn segments(&self) -> &[Segment] {
        let init = &self.segments[..self.count as usize];
        // SAFETY: the first `count` slots are initialized (every writer
        // writes a slot before raising `count` over it), and
        // MaybeUninit<Segment> has Segment's layout.
        unsafe { &*(init as *const [MaybeUninit<Segment>] as *const [Segment]) }
    }

    /// Sum of the segment lengths.
    pub fn total_len(&self) -> u64 {
        self.total
    }

    /// Appends `len` bytes at physical `addr`, merged into the last segment
    /// when contiguous. Returns how many bytes were taken: fewer than `len`
    /// (possibly 0) once the 1 MiB total or the 64 segments are used up.
    pub fn push(&mut self, addr: u64, len: u64) -> u64 {
        let take = len.min(CONSOLE_WRITE_MAX_TOTAL - self.total);
        if take == 0 {
            return 0;
        }
        let n = self.count as usize;
        if n > 0 {
            // SAFETY: slot n-1 is initialized (n <= count).
            let last = unsafe { self.segments[n - 1].assume_init_mut() };
            if last.addr.wrapping_add(last.len) == addr {
                last.len += take;
                self.total += take;
                return take;
            }
        }
        if n == CONSOLE_WRITE_MAX_SEGMENTS {
            return 0;
        }
        self.segments[n].write(Segment { addr, len: take });
        self.count += 1;
        self.total += take;
        take
    }

    /// Size of the encoded message: header plus `count` segments.
    pub fn encoded_len(&self) -> usize {
        CONSOLE_WRITE_HEADER_SIZE + self.count as usize * CONSOLE_WRITE_SEGMENT_SIZE
    }

    /// Writes the wire bytes into `out[..encoded_len()]` and returns that
    /// length.
    ///
    /// # Panics
    /// If `out` is shorter than `encoded_len()`.
    pub fn encode(&self, out: &mut [u8]) -> usize {
        put(out, 0, &self.fd.to_le_bytes());
        put(out, 4, &self.count.to_le_bytes());
        put(out, 8, &self.result.to_le_bytes());
        for (i, s) in self.segments().iter().enumerate() {
            let at = CONSOLE_WRITE_HEADER_SIZE + i * CONSOLE_WRITE_SEGMENT_SIZE;
            put(out, at, &s.addr.to_le_bytes());
            put(out, at + 8, &s.len.to_le_bytes());
        }
        self.encoded_len()
    }

    /// Reads a header and its segments, checked in the TypeScript
    /// decoder's order: size of the header, fd, count, size of the
    /// segments, total length.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        require_size(b, CONSOLE_WRITE_HEADER_SIZE)?;
        let fd = get_u32(b, 0);
        check_fd(fd)?;
        let count = get_u32(b, 4);
        check_count(count as u64)?;
        let result = get_u64(b, 8) as i64;
        require_size(
            b,
            CONSOLE_WRITE_HEADER_SIZE + count as usize * CONSOLE_WRITE_SEGMENT_SIZE,
        )?;
        let mut msg = Self::new(fd);
        msg.result = result;
        for i in 0..count as usize {
            let at = CONSOLE_WRITE_HEADER_SIZE + i * CONSOLE_WRITE_SEGMENT_SIZE;
            msg.segments[i].write(Segment {
                addr: get_u64(b, at),
                len: get_u64(b, at + 8),
            });
        }
        msg.count = count;
        check_total(msg.segments().iter().map(|s| s.len))?;
        msg.total = msg.segments().iter().map(|s| s.len).sum();
        Ok(msg)
    }
}

impl fmt::Debug for ConsoleWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleWrite")
            .field("fd", &self.fd)
            .field("result", &self.result)
            .field("segments", &self.segments())
            .finish()
    }
}

fn check_fd(fd: u32) -> Result<(), DecodeError> {
    if fd == STDOUT || fd == STDERR {
        Ok(())
    } else {
        err("fd")
    }
}

fn check_count(count: u64) -> Result<(), DecodeError> {
    if (1..=CONSOLE_WRITE_MAX_SEGMENTS as u64).contains(&count) {
        Ok(())
    } else {
        err("count")
    }
}

fn check_total(lens: impl Iterator<Item = u64>) -> Result<(), DecodeError> {
    let mut total = 0u64;
    for len in lens {
        total = match total.checked_add(len) {
            Some(t) if t <= CONSOLE_WRITE_MAX_TOTAL => t,
            _ => return err("segments"),
        };
    }
    Ok(())
}

/// The fd of an IoVec request to the `consoleRead` and `random` ports.
pub const STDIN: u32 = 0;

/// An IoVec request (`consoleRead`, `random`) has ConsoleWrite's layout.
pub type IoVec = ConsoleWrite;

// ------------------------------------------------- linux-exec hypercalls

/// Slots of the kernel's `struct termios` `c_cc`.
pub const TERMIOS_NCCS: usize = 19;

/// The Linux kernel's `struct termios` (what TCGETS/TCSETS copy), 36 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; TERMIOS_NCCS],
}

const _: () = assert!(size_of::<Termios>() == 36);

/// `Tty::op`: set the host terminal's modes; wait for input on it; take
/// the signals its keys raised (`result`: bit `sig - 1`).
pub const TTY_OP_SET_MODES: u32 = 0;
pub const TTY_OP_WAIT_INPUT: u32 = 1;
pub const TTY_OP_SIGNALS: u32 = 2;
/// `Tty::action` of `TTY_OP_SET_MODES`: TCSANOW, TCSADRAIN, TCSAFLUSH.
pub const TTY_ACTION_NOW: u32 = 0;
pub const TTY_ACTION_DRAIN: u32 = 1;
pub const TTY_ACTION_FLUSH: u32 = 2;
pub const TTY_SIZE: usize = 64;

/// The argument of the `tty` port (docs/protocol.md, "The terminal").
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tty {
    pub op: u32,
    pub action: u32,
    /// Written by the host: set modes 0 or -errno; wait 1 (input) or 0.
    pub result: i64,
    /// Wait: ms, -1 for ever; set modes: 0.
    pub timeout_ms: i64,
    pub termios: Termios,
    pub reserved: u32,
}

const _: () = {
    assert!(size_of::<Tty>() == TTY_SIZE);
    assert!(offset_of!(Tty, termios) == 24);
    assert!(offset_of!(Tty, reserved) == 60);
};

impl Tty {
    pub fn encode(&self) -> [u8; TTY_SIZE] {
        let mut out = [0u8; TTY_SIZE];
        put(&mut out, 0, &self.op.to_le_bytes());
        put(&mut out, 4, &self.action.to_le_bytes());
        put(&mut out, 8, &self.result.to_le_bytes());
        put(&mut out, 16, &self.timeout_ms.to_le_bytes());
        let t = &self.termios;
        put(&mut out, 24, &t.iflag.to_le_bytes());
        put(&mut out, 28, &t.oflag.to_le_bytes());
        put(&mut out, 32, &t.cflag.to_le_bytes());
        put(&mut out, 36, &t.lflag.to_le_bytes());
        out[40] = t.line;
        put(&mut out, 41, &t.cc);
        put(&mut out, 60, &self.reserved.to_le_bytes());
        out
    }

    /// Reads a Tty, checking what the host checks.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        require_size(b, TTY_SIZE)?;
        let t = Self {
            op: get_u32(b, 0),
            action: get_u32(b, 4),
            result: get_u64(b, 8) as i64,
            timeout_ms: get_u64(b, 16) as i64,
            termios: Termios {
                iflag: get_u32(b, 24),
                oflag: get_u32(b, 28),
                cflag: get_u32(b, 32),
                lflag: get_u32(b, 36),
                line: b[40],
                cc: b[41..60].try_into().unwrap(),
            },
            reserved: get_u32(b, 60),
        };
        let set = match t.op {
            TTY_OP_SET_MODES => true,
            TTY_OP_WAIT_INPUT | TTY_OP_SIGNALS => false,
            _ => return err("op"),
        };
        if (set && t.action > TTY_ACTION_FLUSH) || (!set && t.action != 0) {
            return err("action");
        }
        if t.timeout_ms < -1 || (t.op != TTY_OP_WAIT_INPUT && t.timeout_ms != 0) {
            return err("timeoutMs");
        }
        if t.reserved != 0 {
            return err("reserved");
        }
        Ok(t)
    }
}

// ---------------------------------------------------------- HypercallSlot

/// The request slot of the slot transport (TCG), at `HYPERCALL_SLOT_ADDR`
/// (docs/protocol.md, "Hypercall transports"). Every field is accessed
/// volatile: the host reads and writes the page while the guest runs.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HypercallSlot {
    /// The `PORT_*` of the request (what `out dx, eax` would use).
    pub port: u32,
    /// Its value (what `out dx, eax` would write).
    pub value: u32,
    /// Written by the kernel, last: the request's number (one more than
    /// the previous one, wrapping).
    pub seq: u32,
    /// Written by the host: the `seq` of the last request it finished.
    pub done: u32,
}

const _: () = {
    use crate::host::layout::{
        HYPERCALL_SLOT_DONE, HYPERCALL_SLOT_PORT, HYPERCALL_SLOT_SEQ, HYPERCALL_SLOT_SIZE,
        HYPERCALL_SLOT_VALUE,
    };
    assert!(size_of::<HypercallSlot>() as u64 == HYPERCALL_SLOT_SIZE);
    assert!(offset_of!(HypercallSlot, port) as u64 == HYPERCALL_SLOT_PORT);
    assert!(offset_of!(HypercallSlot, value) as u64 == HYPERCALL_SLOT_VALUE);
    assert!(offset_of!(HypercallSlot, seq) as u64 == HYPERCALL_SLOT_SEQ);
    assert!(offset_of!(HypercallSlot, done) as u64 == HYPERCALL_SLOT_DONE);
};

/// `Copy::flags` bit 0: fill `[dst, dst + len)` with zeros; `src` ignored.
pub const COPY_FLAG_ZERO: u64 = 1;

/// The argument of the `copy` port: a memmove inside guest RAM.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Copy {
    pub dst: u64,
    pub src: u64,
    pub len: u64,
    pub flags: u64,
}

/// The argument of the `clock` port, written by the host.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    /// Nanoseconds since the Unix epoch.
    pub realtime_ns: u64,
    /// Nanoseconds since boot.
    pub monotonic_ns: u64,
}

/// The argument of the `trace` port: one finished system call.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trace {
    pub nr: u64,
    pub args: [u64; 6],
    pub result: i64,
}

/// `Log::kind`: a diagnostic, shown with `--verbose`.
pub const LOG_KIND_DIAGNOSTIC: u32 = 0;
/// `Log::kind`: shown always (e.g. a killed program's `Segmentation fault`).
pub const LOG_KIND_NOTICE: u32 = 1;
pub const LOG_MESSAGE_MAX: usize = 4096;

/// The argument of the `log` port.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Log {
    pub kind: u32,
    pub len: u32,
    /// Physical address of the UTF-8 message.
    pub addr: u64,
}

const _: () = {
    assert!(size_of::<Copy>() == 32);
    assert!(size_of::<Clock>() == 16);
    assert!(size_of::<Trace>() == 64);
    assert!(offset_of!(Trace, result) == 56);
    assert!(size_of::<Log>() == 16);
    assert!(offset_of!(Log, addr) == 8);
};

// ------------------------------------------------------------- FaultReport

pub const FAULT_REPORT_SIZE: usize = 96;
pub const FAULT_MESSAGE_MAX: u64 = 4096;
/// `FaultReport::vector` of a kernel panic (no CPU exception, message only).
pub const FAULT_VECTOR_PANIC: u64 = 256;

/// The argument of the fault hypercall: an exception or a panic.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultReport {
    /// 0..=31 exception vector, or `FAULT_VECTOR_PANIC`.
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    /// Low 2 bits: the ring it happened in.
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub cr2: u64,
    pub cr3: u64,
    /// Physical address of a UTF-8 message, 0 if none.
    pub message_addr: u64,
    /// At most `FAULT_MESSAGE_MAX`.
    pub message_len: u64,
    pub reserved: u64,
}

const _: () = {
    assert!(size_of::<FaultReport>() == FAULT_REPORT_SIZE);
    assert!(offset_of!(FaultReport, cr2) == 56);
    assert!(offset_of!(FaultReport, message_addr) == 72);
    assert!(offset_of!(FaultReport, reserved) == 88);
};

impl FaultReport {
    fn words(&self) -> [u64; 12] {
        [
            self.vector,
            self.error_code,
            self.rip,
            self.cs,
            self.rflags,
            self.rsp,
            self.ss,
            self.cr2,
            self.cr3,
            self.message_addr,
            self.message_len,
            self.reserved,
        ]
    }

    pub fn encode(&self) -> [u8; FAULT_REPORT_SIZE] {
        let mut out = [0u8; FAULT_REPORT_SIZE];
        for (i, w) in self.words().iter().enumerate() {
            put(&mut out, i * 8, &w.to_le_bytes());
        }
        out
    }

    /// Checks size and `messageLen`, like the TypeScript decoder.
    pub fn decode(b: &[u8]) -> Result<Self, DecodeError> {
        require_size(b, FAULT_REPORT_SIZE)?;
        let w = |i: usize| get_u64(b, i * 8);
        let report = Self {
            vector: w(0),
            error_code: w(1),
            rip: w(2),
            cs: w(3),
            rflags: w(4),
            rsp: w(5),
            ss: w(6),
            cr2: w(7),
            cr3: w(8),
            message_addr: w(9),
            message_len: w(10),
            reserved: w(11),
        };
        if report.message_len > FAULT_MESSAGE_MAX {
            return err("messageLen");
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-memory bytes of a value: what the host reads.
    fn raw<T>(v: &T, len: usize) -> Vec<u8> {
        assert!(len <= size_of::<T>());
        // SAFETY: reads `len <= size_of::<T>()` bytes of a live value; every
        // byte read is initialized (callers pass padding-free prefixes).
        unsafe { core::slice::from_raw_parts(v as *const T as *const u8, len).to_vec() }
    }

    #[test]
    fn boot_info_layout_is_its_encoding() {
        let mut info = BootInfo::empty();
        info.ram_size = 0x1000_0000;
        info.framebuffer_width = 640;
        info.random_seed[31] = 0xaa;
        info.flags = BOOT_FLAG_FIXED_TIME | BOOT_FLAG_TRACE;
        info.args_addr = crate::host::layout::ARGS_ADDR;
        info.args_size = 0x1234;
        assert_eq!(raw(&info, BOOT_INFO_SIZE), info.encode());
        assert_eq!(BootInfo::decode(&info.encode()), Ok(info));
        assert_eq!(BootInfo::decode(&info.encode()[..159]), err("size"));
    }

    #[test]
    fn console_write_layout_is_its_encoding() {
        let segs = [
            Segment {
                addr: 0x5000,
                len: 13,
            },
            Segment {
                addr: 0x9000,
                len: 2,
            },
        ];
        let mut msg = ConsoleWrite::from_segments(STDERR, -32, &segs).unwrap();
        let mut out = [0u8; 1040];
        let n = msg.encode(&mut out);
        assert_eq!(n, 48);
        assert_eq!(raw(&msg, n), &out[..n]);
        let back = ConsoleWrite::decode(&out[..n]).unwrap();
        assert_eq!(
            (back.fd, back.result, back.segments()),
            (STDERR, -32, &segs[..])
        );
        msg.result = 7;
        assert_eq!(raw(&msg, 16)[8], 7);
    }

    #[test]
    fn console_write_push_merges_and_bounds() {
        let mut msg = ConsoleWrite::new(STDOUT);
        assert_eq!(msg.push(0x1000, 0x800), 0x800);
        assert_eq!(msg.push(0x1800, 0x800), 0x800); // contiguous: merged
        assert_eq!(msg.push(0x5000, 0x10), 0x10);
        assert_eq!(
            msg.segments(),
            &[
                Segment {
                    addr: 0x1000,
                    len: 0x1000
                },
                Segment {
                    addr: 0x5000,
                    len: 0x10
                }
            ]
        );
        assert_eq!(
            msg.push(0x10_0000, CONSOLE_WRITE_MAX_TOTAL),
            CONSOLE_WRITE_MAX_TOTAL - 0x1010
        );
        assert_eq!(msg.push(0x90_0000, 1), 0);
        let mut msg = ConsoleWrite::new(STDOUT);
        for i in 0..CONSOLE_WRITE_MAX_SEGMENTS as u64 {
            assert_eq!(msg.push(i * 0x2000, 1), 1);
        }
        assert_eq!(msg.push(0x100_0000, 1), 0, "65th segment refused");
        assert_eq!(msg.count(), CONSOLE_WRITE_MAX_SEGMENTS);
    }

    #[test]
    fn console_write_rejects() {
        assert_eq!(
            ConsoleWrite::from_segments(3, 0, &[Segment::default()])
                .unwrap_err()
                .field,
            "fd"
        );
        assert_eq!(
            ConsoleWrite::from_segments(1, 0, &[]).unwrap_err().field,
            "count"
        );
        let wrap = [
            Segment {
                addr: 0,
                len: u64::MAX,
            },
            Segment { addr: 0, len: 2 },
        ];
        assert_eq!(
            ConsoleWrite::from_segments(1, 0, &wrap).unwrap_err().field,
            "segments"
        );
    }

    #[test]
    fn fault_report_layout_is_its_encoding() {
        let r = FaultReport {
            vector: 14,
            error_code: 2,
            rip: 0xffff_ffff_8010_1234,
            cr2: 0xdead,
            ..Default::default()
        };
        assert_eq!(raw(&r, FAULT_REPORT_SIZE), r.encode());
        assert_eq!(FaultReport::decode(&r.encode()), Ok(r));
        let long = FaultReport {
            message_len: FAULT_MESSAGE_MAX + 1,
            ..r
        };
        assert_eq!(FaultReport::decode(&long.encode()), err("messageLen"));
    }
}
