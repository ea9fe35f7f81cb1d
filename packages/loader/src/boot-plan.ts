/**
 * Everything the host must do to boot a kernel, as data: which bytes go
 * where in guest RAM and the vCPU state at entry. Pure: no files, clock or
 * randomness (the caller passes bootTimeNs and randomSeed), so it is tested
 * without /dev/kvm.
 */
import {
  ARGS_ADDR,
  ARGS_MAX,
  BOOT_GDT_ADDR,
  BOOT_INFO_ADDR,
  CMDLINE_ADDR,
  DEFAULT_RAM_SIZE,
  FRAMEBUFFER_ADDR,
  FRAMEBUFFER_FORMAT_XRGB8888,
  FRAMEBUFFER_MAX,
  INITRAMFS_ADDR,
  KERNEL_BASE,
  KERNEL_IMAGE_ADDR,
  KERNEL_IMAGE_END,
  LARGE_PAGE_SIZE,
  MAILBOX_ADDR,
  MAX_RAM_SIZE,
  MIN_RAM_SIZE,
  ProtocolError,
  RANDOM_SEED_SIZE,
  encodeBootInfo,
  encodeCmdline,
  type BootInfo,
} from '@kvmos/protocol';
import { bootMsrs, bootRegs, bootSregs, type LongModeSregs, type MsrEntry, type Regs } from './cpu-state.js';
import { BootPlanError } from './errors.js';
import { ET_EXEC, PF_R, PF_W, PF_X, parseElf, type ElfImage } from './elf.js';
import { buildBootGdt } from './gdt.js';
import { buildBootPageTables } from './page-tables.js';

export interface BootPlanOptions {
  /** The kernel ELF image (ET_EXEC, linked at KERNEL_BASE + KERNEL_IMAGE_ADDR). */
  kernel: Uint8Array;
  /** Bytes of guest RAM; DEFAULT_RAM_SIZE if not given. */
  ramSize?: number;
  cmdline?: string;
  initramfs?: Uint8Array;
  /** A display: the framebuffer's geometry; the mailbox page comes with it. */
  framebuffer?: { width: number; height: number };
  /** Host wall clock, ns since the Unix epoch. */
  bootTimeNs: bigint;
  /** RANDOM_SEED_SIZE bytes of host entropy. */
  randomSeed: Uint8Array;
  /** BootInfo.flags, e.g. BOOT_FLAG_FIXED_TIME. */
  flags?: bigint;
  /** linux-exec's args block (protocol's encodeArgsBlock), at most ARGS_MAX bytes. */
  args?: Uint8Array;
  /** The host terminal's window size (BootInfo ttyRows/ttyCols); 0 x 0 if not given. */
  ttySize?: { rows: number; cols: number };
}

export interface GuestWrite {
  /** Guest-physical address. */
  addr: number;
  data: Uint8Array;
  /** For logs and errors: what these bytes are. */
  what: string;
}

export interface BootPlan {
  ramSize: number;
  /** Bytes to copy into zeroed guest RAM; they do not overlap. */
  writes: GuestWrite[];
  regs: Regs;
  sregs: LongModeSregs;
  msrs: MsrEntry[];
  entry: bigint;
  bootInfo: BootInfo;
  image: ElfImage;
}

const MiB = 2 ** 20;
const U64_MAX = (1n << 64n) - 1n;

export function planBoot(opts: BootPlanOptions): BootPlan {
  const ramSize = opts.ramSize ?? DEFAULT_RAM_SIZE;
  checkRamSize(ramSize);
  checkU64(opts.bootTimeNs, 'bootTimeNs');
  const flags = opts.flags ?? 0n;
  checkU64(flags, 'flags');
  if (opts.randomSeed.length !== RANDOM_SEED_SIZE) {
    throw new BootPlanError(`randomSeed is ${opts.randomSeed.length} bytes; pass exactly ${RANDOM_SEED_SIZE} bytes of entropy`);
  }

  const image = parseElf(opts.kernel);
  checkKernel(image);
  const cmdline = encodeCommandLine(opts.cmdline ?? '');

  let initramfsAddr = 0;
  let initramfsEnd = INITRAMFS_ADDR;
  if (opts.initramfs) {
    initramfsAddr = INITRAMFS_ADDR;
    initramfsEnd = INITRAMFS_ADDR + opts.initramfs.length;
    if (initramfsEnd > ramSize) {
      throw new BootPlanError(
        `the initramfs (${opts.initramfs.length} bytes at 0x${INITRAMFS_ADDR.toString(16)}) does not fit in ${ramSize / MiB} MiB of RAM: give the guest at least ${Math.ceil(initramfsEnd / (2 * MiB)) * 2} MiB`,
      );
    }
  }
  // Whole 2 MiB pages, so the kernel can hand out large pages from here.
  const freeMemoryStart = Math.ceil(initramfsEnd / LARGE_PAGE_SIZE) * LARGE_PAGE_SIZE;

  const args = opts.args ?? new Uint8Array(0);
  if (args.length > ARGS_MAX) {
    throw new BootPlanError(`the program's arguments and environment take ${args.length} bytes; at most ${ARGS_MAX} fit: pass fewer or shorter ones`);
  }
  const fb = opts.framebuffer ? framebufferGeometry(opts.framebuffer) : undefined;
  const bootInfo: BootInfo = {
    ramSize: BigInt(ramSize),
    freeMemoryStart: BigInt(freeMemoryStart),
    initramfsAddr: BigInt(initramfsAddr),
    initramfsSize: BigInt(opts.initramfs?.length ?? 0),
    cmdlineAddr: BigInt(CMDLINE_ADDR),
    cmdlineSize: BigInt(cmdline.length),
    framebufferAddr: fb ? BigInt(FRAMEBUFFER_ADDR) : 0n,
    framebufferWidth: fb?.width ?? 0,
    framebufferHeight: fb?.height ?? 0,
    framebufferStride: fb?.stride ?? 0,
    framebufferFormat: fb ? FRAMEBUFFER_FORMAT_XRGB8888 : 0,
    // The mailbox carries the display's input and time, so it exists exactly when the framebuffer does.
    mailboxAddr: fb ? BigInt(MAILBOX_ADDR) : 0n,
    bootTimeNs: opts.bootTimeNs,
    randomSeed: Uint8Array.from(opts.randomSeed),
    flags,
    argsAddr: args.length > 0 ? BigInt(ARGS_ADDR) : 0n,
    argsSize: BigInt(args.length),
    // Sizes a terminal cannot have are "unknown" (0), as Linux reports then.
    ttyRows: clampU16(opts.ttySize?.rows),
    ttyCols: clampU16(opts.ttySize?.cols),
  };

  const tables = buildBootPageTables(ramSize);
  const writes: GuestWrite[] = image.loadSegments
    .filter((s) => s.filesz > 0)
    .map((s) => ({ addr: Number(s.paddr), data: s.data, what: `kernel segment at 0x${s.vaddr.toString(16)} (${perms(s.flags)})` }));
  writes.push(
    { addr: tables.addr, data: tables.bytes, what: 'boot page tables' },
    { addr: BOOT_GDT_ADDR, data: buildBootGdt(), what: 'boot GDT' },
    { addr: BOOT_INFO_ADDR, data: encodeBootInfo(bootInfo), what: 'boot info' },
  );
  if (cmdline.length > 0) writes.push({ addr: CMDLINE_ADDR, data: cmdline, what: 'command line' });
  if (args.length > 0) writes.push({ addr: ARGS_ADDR, data: args, what: 'program arguments' });
  if (opts.initramfs && opts.initramfs.length > 0) {
    writes.push({ addr: INITRAMFS_ADDR, data: opts.initramfs, what: 'initramfs' });
  }

  return {
    ramSize,
    writes,
    regs: bootRegs(image.entry),
    sregs: bootSregs(),
    msrs: bootMsrs(),
    entry: image.entry,
    bootInfo,
    image,
  };
}

function checkRamSize(ramSize: number): void {
  if (
    !Number.isSafeInteger(ramSize) ||
    ramSize < MIN_RAM_SIZE ||
    ramSize > MAX_RAM_SIZE ||
    ramSize % LARGE_PAGE_SIZE !== 0
  ) {
    throw new BootPlanError(
      `RAM size ${ramSize} bytes (${ramSize / MiB} MiB) is not supported: choose ${MIN_RAM_SIZE / MiB} to ${MAX_RAM_SIZE / MiB} MiB, a multiple of 2 MiB`,
    );
  }
}

function checkU64(value: bigint, name: string): void {
  if (value < 0n || value > U64_MAX) throw new BootPlanError(`${name} ${value} does not fit in a u64`);
}

/**
 * The kernel runs where it was linked: each PT_LOAD at KERNEL_BASE + p_paddr
 * with p_paddr inside the kernel image region. The entry point then lies
 * there too, since parseElf put it inside a PT_LOAD.
 */
function checkKernel(image: ElfImage): void {
  if (image.type !== ET_EXEC) {
    throw new BootPlanError(
      'kernel must be ET_EXEC, linked at a fixed address (this one is ET_DYN, position-independent): link it with guest/kernel/link.ld and -C relocation-model=static',
    );
  }
  const start = BigInt(KERNEL_IMAGE_ADDR);
  const end = BigInt(KERNEL_IMAGE_END);
  for (const s of image.loadSegments) {
    const where = `kernel segment at vaddr 0x${s.vaddr.toString(16)}, paddr 0x${s.paddr.toString(16)}, 0x${s.memsz.toString(16)} bytes`;
    if (s.paddr < start || s.paddr + s.memsz > end) {
      throw new BootPlanError(
        `${where} lies outside the kernel image region [0x${start.toString(16)}, 0x${end.toString(16)}): link the kernel at physical 0x${start.toString(16)} and keep it under ${(KERNEL_IMAGE_END - KERNEL_IMAGE_ADDR) / MiB} MiB`,
      );
    }
    if (s.vaddr !== KERNEL_BASE + s.paddr) {
      throw new BootPlanError(
        `${where}: vaddr must be KERNEL_BASE (0x${KERNEL_BASE.toString(16)}) + paddr: link with AT(ADDR(section) - KERNEL_BASE) as guest/kernel/link.ld does`,
      );
    }
  }
}

function encodeCommandLine(cmdline: string): Uint8Array {
  try {
    return encodeCmdline(cmdline);
  } catch (e) {
    if (e instanceof ProtocolError) throw new BootPlanError(`kernel command line ${e.reason}: shorten or fix it`);
    throw e;
  }
}

function framebufferGeometry(fb: { width: number; height: number }): { width: number; height: number; stride: number } {
  const { width, height } = fb;
  const stride = width * 4;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || stride * height > FRAMEBUFFER_MAX) {
    throw new BootPlanError(
      `framebuffer ${width}x${height} does not fit: it takes width*height*4 bytes, at most ${FRAMEBUFFER_MAX} (${FRAMEBUFFER_MAX / MiB} MiB); choose a smaller size`,
    );
  }
  return { width, height, stride };
}

function perms(flags: number): string {
  return `${flags & PF_R ? 'r' : '-'}${flags & PF_W ? 'w' : '-'}${flags & PF_X ? 'x' : '-'}`;
}

function clampU16(v: number | undefined): number {
  return v !== undefined && Number.isInteger(v) && v > 0 && v <= 0xffff ? v : 0;
}
