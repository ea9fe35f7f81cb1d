/**
 * The guest/host contract: every guest-physical and guest-virtual constant of
 * kvmos lives here (as Firecracker keeps its in `arch/x86_64/layout.rs`).
 * The Rust side mirrors this file in `guest/kernel/src/host/layout.rs`; the shared
 * vectors in `packages/protocol/vectors/` keep the two from drifting.
 *
 * Guest-physical memory (one KVM memory slot, from 0 to `ramSize`):
 *
 *   0x0000_0000  NULL_GUARD          never used, so a null pointer faults loudly
 *   0x0000_1000  BOOT_INFO           one page: struct BootInfo (boot-info.ts)
 *   0x0000_2000  MAILBOX             one page: frame/input mailbox (display)
 *   0x0000_3000  BOOT_GDT            the host's boot GDT (Linux selector layout)
 *   0x0000_4000  CMDLINE             16 KiB: the kernel command line, NUL-free bytes
 *   0x0000_8000  ARGS                32 KiB: argv and envp of linux-exec's program
 *   0x0001_0000  BOOT_PAGE_TABLES    64 KiB: page tables the host builds (loader)
 *   0x0002_0000  BOOT_STACK          384 KiB, grows down from BOOT_STACK_TOP
 *   0x0008_0000  ACCEL_BOOT          64 KiB: the TCG back end's ROM plan, trampoline tables and stub (unused on KVM)
 *   0x0009_0000  HYPERCALL_SLOT      one page: the request slot of the TCG hypercall transport (unused on KVM)
 *   0x0010_0000  KERNEL_IMAGE        the kernel ELF's PT_LOAD segments (p_paddr)
 *   0x0100_0000  FRAMEBUFFER         XRGB8888 pixels, width*height*4 bytes
 *   0x0200_0000  INITRAMFS           cpio newc archive, when there is one
 *   bootInfo.freeMemoryStart ...     frames the kernel may allocate (zeroed by the host)
 *
 * Guest-virtual memory (4-level paging, set up by the host before entry):
 *
 *   0x0000_0000_0000_0000 .. USER_END    user space: empty at entry, per process
 *   DIRECT_MAP_BASE + p                   physical byte p, for all of RAM (RW, supervisor)
 *   KERNEL_BASE + p                       physical byte p, for p < 1 GiB (the kernel image runs here)
 *   SYSCALL_STUB_VA                       the one user-visible kernel page (see syscall entry)
 */

/** Size of a small page. */
export const PAGE_SIZE = 0x1000;
/** Size of a large page (a PD entry with PS set). */
export const LARGE_PAGE_SIZE = 0x20_0000;

/** Guest-physical addresses. */
export const NULL_GUARD = 0x0000_0000;
export const BOOT_INFO_ADDR = 0x0000_1000;
export const MAILBOX_ADDR = 0x0000_2000;
export const BOOT_GDT_ADDR = 0x0000_3000;
export const CMDLINE_ADDR = 0x0000_4000;
export const CMDLINE_MAX = 0x4000;
export const ARGS_ADDR = 0x0000_8000;
export const ARGS_MAX = 0x8000;
export const BOOT_PAGE_TABLES_ADDR = 0x0001_0000;
export const BOOT_PAGE_TABLES_SIZE = 0x1_0000;
export const BOOT_STACK_BOTTOM = 0x0002_0000;
export const BOOT_STACK_TOP = 0x0008_0000;
/**
 * Owned by the accelerator before entry: the TCG back end writes the plan
 * its ROM applies, the ROM's trampoline page tables and its last stub here.
 * The kernel never reads or allocates it.
 */
export const ACCEL_BOOT_ADDR = 0x0008_0000;
export const ACCEL_BOOT_SIZE = 0x1_0000;
/**
 * The slot of the TCG hypercall transport (docs/protocol.md, "Hypercall
 * transports"): a HypercallSlot the kernel fills before ringing the
 * doorbell port, and whose `done` word the host writes.
 */
export const HYPERCALL_SLOT_ADDR = 0x0009_0000;
export const KERNEL_IMAGE_ADDR = 0x0010_0000;
export const KERNEL_IMAGE_END = 0x0100_0000;
export const FRAMEBUFFER_ADDR = 0x0100_0000;
export const FRAMEBUFFER_MAX = 0x0100_0000;
export const INITRAMFS_ADDR = 0x0200_0000;

/** Default and limits of guest RAM. */
export const DEFAULT_RAM_SIZE = 256 * 1024 * 1024;
export const MIN_RAM_SIZE = 64 * 1024 * 1024;
/** The boot page tables cover at most this much RAM in the direct map. */
export const MAX_RAM_SIZE = 4 * 1024 * 1024 * 1024;

/** Guest-virtual addresses (bigint: they do not fit a double). */
export const DIRECT_MAP_BASE = 0xffff_8000_0000_0000n;
export const KERNEL_BASE = 0xffff_ffff_8000_0000n;
/** How much physical memory the KERNEL_BASE window maps. */
export const KERNEL_WINDOW_SIZE = 0x4000_0000;
/** First address above user space (canonical lower half). */
export const USER_END = 0x0000_8000_0000_0000n;
/**
 * The page LSTAR points at. It must be user-executable: on PVM a ring-3
 * `syscall` arrives here still in ring 3 (see docs/platform.md).
 */
export const SYSCALL_STUB_VA = 0xffff_ff00_0000_0000n;

/** GDT selectors: Linux's layout, required by PVM. TSS follows at 0x40. */
export const SELECTOR = {
  kernelCode: 0x10,
  kernelData: 0x18,
  user32Code: 0x23,
  userData: 0x2b,
  userCode: 0x33,
  tss: 0x40,
} as const;

/**
 * I/O ports. Only ring 0 can use them. A port selects a hypercall; the
 * 32-bit value written is either the argument itself (EXIT) or the
 * guest-physical address of an argument struct (hypercalls.ts).
 */
export const PORT = {
  /** out32(code): the guest is done; the host exits with `code`. */
  exit: 0x400,
  /** out32(phys of ConsoleWrite): write gathered bytes to fd 1 or 2. */
  console: 0x401,
  /** out32(phys of FaultReport): an exception or panic; the host reports it and stops. */
  fault: 0x402,
  /** out32(0): a frame is ready in the framebuffer (display). */
  doorbell: 0x403,
  /** out32(phys of an IoVec request, fd 0): read the host's stdin into it. */
  consoleRead: 0x404,
  /** out32(phys of a Copy): memmove or zero-fill inside guest RAM. */
  copy: 0x405,
  /** out32(phys of a Clock): the host fills in the time. */
  clock: 0x406,
  /** out32(phys of an IoVec request): random bytes from the host's entropy. */
  random: 0x407,
  /** out32(phys of a Trace): one strace-like line on the host's stderr. */
  trace: 0x408,
  /** out32(phys of a Log): a message for the host's stderr. */
  log: 0x409,
  /** out32(syscall number): a system call the kernel does not implement. */
  unknownSyscall: 0x40a,
  /** out32(phys of a Tty): set the terminal's modes, or wait for terminal input (exec-hypercalls.ts). */
  tty: 0x40b,
  /** out32(phys of an FsRequest): an operation on a host directory mounted in the guest (fs-hypercalls.ts). */
  fs: 0x40c,
} as const;

/**
 * The TCG transport's doorbell: a one-byte `out` here (an isa-debugcon on
 * the host's side) says the HypercallSlot holds a new request.
 */
export const HYPERCALL_DOORBELL_PORT = 0x410;
/** HypercallSlot: u32 port, u32 value, u32 seq (the kernel's), u32 done (the host's). */
export const HYPERCALL_SLOT = { port: 0, value: 4, seq: 8, done: 12, size: 16 } as const;

/** The mailbox page (docs/protocol.md, "The screen"). */
export const MAILBOX_MAGIC = 0x786f_626d;
export const MAILBOX_HEADER_SIZE = 32;
export const MAILBOX_EVENT_SIZE = 8;
export const MAILBOX_MAX_EVENTS = 508;
/** Mailbox.flags bit 0: the window was closed; the guest should exit. */
export const MAILBOX_FLAG_QUIT = 1;
/** One frame at 60 Hz, the fixed-time step. */
export const FRAME_PERIOD_NS = 16_666_667;

/** Framebuffer geometry of the demos. */
export const FRAMEBUFFER_WIDTH = 640;
export const FRAMEBUFFER_HEIGHT = 480;
