//! The guest/host contract's constants: a mirror of
//! `packages/protocol/src/layout.ts`, same names in SCREAMING_CASE (the
//! `SELECTOR` and `PORT` objects become `SELECTOR_*` and `PORT_*`).
//! A unit test parses `layout.ts` and checks the two agree, name by name.

macro_rules! layout {
    ($($(#[$meta:meta])* $name:ident: $ty:ty = $value:expr;)*) => {
        $($(#[$meta])* pub const $name: $ty = $value;)*
        /// Every constant of this module by name, for the drift test.
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, u64)] = &[$((stringify!($name), $name as u64)),*];
    };
}

layout! {
    /// Size of a small page.
    PAGE_SIZE: u64 = 0x1000;
    /// Size of a large page (a PD entry with PS set).
    LARGE_PAGE_SIZE: u64 = 0x20_0000;

    /// Never used, so a null pointer faults loudly.
    NULL_GUARD: u64 = 0x0000_0000;
    /// One page: `protocol::BootInfo`.
    BOOT_INFO_ADDR: u64 = 0x0000_1000;
    /// One page: frame/input mailbox (display).
    MAILBOX_ADDR: u64 = 0x0000_2000;
    /// The host's boot GDT (Linux selector layout).
    BOOT_GDT_ADDR: u64 = 0x0000_3000;
    /// The kernel command line, NUL-free bytes.
    CMDLINE_ADDR: u64 = 0x0000_4000;
    CMDLINE_MAX: u64 = 0x4000;
    /// linux-exec's args block: `u32 argc, u32 envc`, then the strings.
    ARGS_ADDR: u64 = 0x0000_8000;
    ARGS_MAX: u64 = 0x8000;
    /// Page tables the host builds before entry.
    BOOT_PAGE_TABLES_ADDR: u64 = 0x0001_0000;
    BOOT_PAGE_TABLES_SIZE: u64 = 0x1_0000;
    /// The boot stack grows down from `KERNEL_BASE + BOOT_STACK_TOP`.
    BOOT_STACK_BOTTOM: u64 = 0x0002_0000;
    BOOT_STACK_TOP: u64 = 0x0008_0000;
    /// Owned by the accelerator before entry (the TCG back end's ROM plan,
    /// trampoline page tables and last stub; unused on KVM). The kernel
    /// never reads it, and never allocates it: its frame allocator starts
    /// at `BootInfo::free_memory_start`, which `paging::init` requires to
    /// be at or above `KERNEL_IMAGE_END`.
    ACCEL_BOOT_ADDR: u64 = 0x0008_0000;
    ACCEL_BOOT_SIZE: u64 = 0x1_0000;
    /// One page: the `HypercallSlot` of the slot transport (TCG;
    /// `protocol::BOOT_FLAG_HYPERCALL_SLOT`), reached through the direct
    /// map. The kernel writes `port`, `value` and `seq`, the host `done`.
    HYPERCALL_SLOT_ADDR: u64 = 0x0009_0000;
    /// The kernel ELF's PT_LOAD segments (p_paddr).
    KERNEL_IMAGE_ADDR: u64 = 0x0010_0000;
    KERNEL_IMAGE_END: u64 = 0x0100_0000;
    /// XRGB8888 pixels, width*height*4 bytes.
    FRAMEBUFFER_ADDR: u64 = 0x0100_0000;
    FRAMEBUFFER_MAX: u64 = 0x0100_0000;
    /// cpio newc archive, when there is one.
    INITRAMFS_ADDR: u64 = 0x0200_0000;

    DEFAULT_RAM_SIZE: u64 = 256 * 1024 * 1024;
    MIN_RAM_SIZE: u64 = 64 * 1024 * 1024;
    /// The boot page tables cover at most this much RAM in the direct map.
    MAX_RAM_SIZE: u64 = 4 * 1024 * 1024 * 1024;

    /// `DIRECT_MAP_BASE + p` is physical byte `p`, for all of RAM.
    DIRECT_MAP_BASE: u64 = 0xffff_8000_0000_0000;
    /// `KERNEL_BASE + p` is physical byte `p`, for `p < KERNEL_WINDOW_SIZE`.
    KERNEL_BASE: u64 = 0xffff_ffff_8000_0000;
    KERNEL_WINDOW_SIZE: u64 = 0x4000_0000;
    /// First address above user space (canonical lower half).
    USER_END: u64 = 0x0000_8000_0000_0000;
    /// The page LSTAR points at; mapped user-executable (see `syscall`).
    SYSCALL_STUB_VA: u64 = 0xffff_ff00_0000_0000;

    SELECTOR_KERNEL_CODE: u16 = 0x10;
    SELECTOR_KERNEL_DATA: u16 = 0x18;
    SELECTOR_USER32_CODE: u16 = 0x23;
    SELECTOR_USER_DATA: u16 = 0x2b;
    SELECTOR_USER_CODE: u16 = 0x33;
    SELECTOR_TSS: u16 = 0x40;

    /// `out32(code)`: the guest is done; the host exits with `code & 0xff`.
    PORT_EXIT: u16 = 0x400;
    /// `out32(phys of ConsoleWrite)`.
    PORT_CONSOLE: u16 = 0x401;
    /// `out32(phys of FaultReport)`: the host reports it and stops.
    PORT_FAULT: u16 = 0x402;
    /// `out32(0)`: a frame is ready in the framebuffer.
    PORT_DOORBELL: u16 = 0x403;
    /// `out32(phys of an IoVec request, fd 0)`: read the host's stdin.
    PORT_CONSOLE_READ: u16 = 0x404;
    /// `out32(phys of a Copy)`: memmove or zero-fill inside guest RAM.
    PORT_COPY: u16 = 0x405;
    /// `out32(phys of a Clock)`: the host fills in the time.
    PORT_CLOCK: u16 = 0x406;
    /// `out32(phys of an IoVec request)`: random bytes.
    PORT_RANDOM: u16 = 0x407;
    /// `out32(phys of a Trace)`: one strace-like line on the host's stderr.
    PORT_TRACE: u16 = 0x408;
    /// `out32(phys of a Log)`: a message for the host's stderr.
    PORT_LOG: u16 = 0x409;
    /// `out32(syscall number)`: a system call the kernel does not implement.
    PORT_UNKNOWN_SYSCALL: u16 = 0x40a;
    /// `out32(phys of a Tty)`: set the terminal's modes, or wait for its input.
    PORT_TTY: u16 = 0x40b;
    /// out32(phys of an `FsRequest`): an operation on a host directory
    /// mounted in the guest (`host::fs`).
    PORT_FS: u16 = 0x40c;

    /// The slot transport's doorbell: a one-byte `out dx, al` (value 0)
    /// here says the HypercallSlot holds a new request (QEMU's
    /// isa-debugcon forwards only one-byte `out`s).
    HYPERCALL_DOORBELL_PORT: u16 = 0x410;
    /// `HypercallSlot` offsets: `u32 port` (the `PORT_*` of the request),
    /// `u32 value` (what `out dx, eax` would have written), `u32 seq` (the
    /// kernel's request number), `u32 done` (the host's: the `seq` it has
    /// finished); 16 bytes in all.
    HYPERCALL_SLOT_PORT: u64 = 0;
    HYPERCALL_SLOT_VALUE: u64 = 4;
    HYPERCALL_SLOT_SEQ: u64 = 8;
    HYPERCALL_SLOT_DONE: u64 = 12;
    HYPERCALL_SLOT_SIZE: u64 = 16;

    /// The mailbox page (docs/protocol.md, "The screen").
    MAILBOX_MAGIC: u32 = 0x786f_626d;
    MAILBOX_HEADER_SIZE: u64 = 32;
    MAILBOX_EVENT_SIZE: u64 = 8;
    MAILBOX_MAX_EVENTS: u64 = 508;
    /// Mailbox flags bit 0: the window was closed; the guest should exit.
    MAILBOX_FLAG_QUIT: u32 = 1;
    /// One frame at 60 Hz, the fixed-time step.
    FRAME_PERIOD_NS: u64 = 16_666_667;

    FRAMEBUFFER_WIDTH: u32 = 640;
    FRAMEBUFFER_HEIGHT: u32 = 480;
}

#[cfg(test)]
mod tests {
    use super::ALL;
    use std::collections::BTreeMap;

    /// `kernelCode` -> `KERNEL_CODE`.
    fn screaming(camel: &str) -> String {
        let mut out = String::new();
        for (i, c) in camel.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        }
        out
    }

    /// Evaluates the TS initializers layout.ts uses: integer literals with
    /// `_` separators, an optional bigint `n` suffix, and `*` products.
    fn eval(expr: &str) -> Option<u64> {
        expr.split('*').try_fold(1u64, |acc, term| {
            let t = term.trim().trim_end_matches('n').replace('_', "");
            let v = match t.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok()?,
                None => t.parse().ok()?,
            };
            acc.checked_mul(v)
        })
    }

    /// The `key: value` members of one line of an object literal (one or
    /// several, comma separated), as `OBJ_KEY`.
    fn object_members(obj: &str, members: &str, out: &mut BTreeMap<String, u64>) {
        for member in members.split(',') {
            let Some((key, value)) = member.split_once(':') else {
                continue;
            };
            let value = value.trim();
            let v = eval(value).unwrap_or_else(|| panic!("cannot evaluate {obj}.{key}: {value}"));
            out.insert(format!("{obj}_{}", screaming(key.trim())), v);
        }
    }

    fn parse_layout_ts(src: &str) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut object: Option<String> = None;
        for line in src.lines().map(str::trim) {
            if line.starts_with("/*") || line.starts_with('*') || line.starts_with("//") {
                continue;
            }
            if let Some(obj) = &object {
                if line.starts_with('}') {
                    object = None;
                } else {
                    object_members(obj, line, &mut out);
                }
            } else if let Some(rest) = line.strip_prefix("export const ") {
                let (name, value) = rest.split_once('=').expect("export const NAME = value");
                let value = value.trim().trim_end_matches(';');
                if let Some(body) = value.strip_prefix('{') {
                    match body.split_once('}') {
                        // `{ a: 1, b: 2 } as const` on one line.
                        Some((members, _)) => object_members(name.trim(), members, &mut out),
                        None => object = Some(name.trim().to_string()),
                    }
                } else {
                    let v =
                        eval(value).unwrap_or_else(|| panic!("cannot evaluate {name}: {value}"));
                    out.insert(name.trim().to_string(), v);
                }
            }
        }
        out
    }

    #[test]
    fn matches_layout_ts() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../packages/protocol/src/layout.ts"
        );
        let src = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let ts = parse_layout_ts(&src);
        let rust: BTreeMap<String, u64> = ALL.iter().map(|&(n, v)| (n.to_string(), v)).collect();
        for (name, value) in &ts {
            assert_eq!(
                rust.get(name),
                Some(value),
                "{name}: layout.ts has {value:#x}, layout.rs {:?}",
                rust.get(name)
            );
        }
        for name in rust.keys() {
            assert!(
                ts.contains_key(name),
                "{name} is in layout.rs but not in layout.ts"
            );
        }
    }

    #[test]
    fn parses_objects_on_one_line_and_on_many() {
        let ts = parse_layout_ts(
            "export const A = { port: 0, seqNo: 0x8, size: 16 } as const;\n\
             export const B = 1;\n\
             export const C = {\n  kernelCode: 0x10,\n  user32Code: 0x23,\n} as const;\n\
             export const D = 2 * 3;\n",
        );
        let want: BTreeMap<String, u64> = [
            ("A_PORT", 0),
            ("A_SEQ_NO", 8),
            ("A_SIZE", 16),
            ("B", 1),
            ("C_KERNEL_CODE", 0x10),
            ("C_USER32_CODE", 0x23),
            ("D", 6),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_string(), v))
        .collect();
        assert_eq!(ts, want);
    }

    #[test]
    fn evaluates_ts_initializers() {
        assert_eq!(eval("256 * 1024 * 1024"), Some(256 << 20));
        assert_eq!(eval("0xffff_8000_0000_0000n"), Some(0xffff_8000_0000_0000));
        assert_eq!(eval("0x0000_1000"), Some(0x1000));
        assert_eq!(screaming("user32Code"), "USER32_CODE");
    }
}
