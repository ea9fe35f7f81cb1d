/**
 * BootInfo: what the host tells the kernel at entry (docs/protocol.md).
 * Types: u32 fields are `number`, u64 fields are `bigint` (addresses and
 * sizes included, so every u64 round-trips), byte arrays are `Uint8Array`.
 */
import { ProtocolError } from './errors.js';
import { hex, requireSize, setBytes, setU16, setU32, setU64, view } from './binary.js';

export const BOOT_INFO_SIZE = 160;
/** "kvmo" read as a little-endian u32. */
export const BOOT_INFO_MAGIC = 0x6f6d_766b;
export const BOOT_INFO_VERSION = 1;
export const RANDOM_SEED_SIZE = 32;
/** framebufferFormat: bytes B, G, R, X. */
export const FRAMEBUFFER_FORMAT_XRGB8888 = 1;
/** flags bit 0: the guest must use a fixed time (reproducible display frames). */
export const BOOT_FLAG_FIXED_TIME = 1n;
/** flags bit 1: the kernel reports every system call with the trace hypercall. */
export const BOOT_FLAG_TRACE = 2n;
/** flags bit 2: the host's stdin is a terminal: the guest's console is one (termios, window size). */
export const BOOT_FLAG_STDIN_TTY = 4n;
/** flags bit 3: the host's stdout is a terminal. */
export const BOOT_FLAG_STDOUT_TTY = 8n;
/** flags bit 4: the host's stderr is a terminal. */
export const BOOT_FLAG_STDERR_TTY = 16n;
/**
 * flags bit 5: hypercalls go through the HypercallSlot and the one-byte
 * doorbell port (TCG) instead of `out dx, eax` (KVM).
 */
export const BOOT_FLAG_HYPERCALL_SLOT = 32n;
/**
 * flags bit 6: the CPU has a local APIC whose timer the kernel may use to
 * preempt user programs: always on QEMU TCG; on KVM when the host made an
 * in-kernel irqchip (KvmMachine does unless KVM refuses). Without it the
 * kernel switches processes only when one blocks.
 */
export const BOOT_FLAG_TIMER = 64n;

export interface BootInfo {
  ramSize: bigint;
  freeMemoryStart: bigint;
  initramfsAddr: bigint;
  initramfsSize: bigint;
  cmdlineAddr: bigint;
  cmdlineSize: bigint;
  framebufferAddr: bigint;
  framebufferWidth: number;
  framebufferHeight: number;
  framebufferStride: number;
  framebufferFormat: number;
  mailboxAddr: bigint;
  bootTimeNs: bigint;
  /** RANDOM_SEED_SIZE bytes. */
  randomSeed: Uint8Array;
  flags: bigint;
  /** The linux-exec args block (args-block.ts), 0/0 if none. */
  argsAddr: bigint;
  argsSize: bigint;
  /** The terminal's window size in characters (0 if unknown or no terminal). */
  ttyRows: number;
  ttyCols: number;
}

/** Offsets of docs/protocol.md's table; magic, version and reserved are implied. */
const OFFSET = {
  magic: 0,
  version: 4,
  ramSize: 8,
  freeMemoryStart: 16,
  initramfsAddr: 24,
  initramfsSize: 32,
  cmdlineAddr: 40,
  cmdlineSize: 48,
  framebufferAddr: 56,
  framebufferWidth: 64,
  framebufferHeight: 68,
  framebufferStride: 72,
  framebufferFormat: 76,
  mailboxAddr: 80,
  bootTimeNs: 88,
  randomSeed: 96,
  flags: 128,
  argsAddr: 136,
  argsSize: 144,
  ttyRows: 152,
  ttyCols: 154,
  reserved: 156,
} as const;

const U64_FIELDS = [
  'ramSize',
  'freeMemoryStart',
  'initramfsAddr',
  'initramfsSize',
  'cmdlineAddr',
  'cmdlineSize',
  'framebufferAddr',
  'mailboxAddr',
  'bootTimeNs',
  'flags',
  'argsAddr',
  'argsSize',
] as const;
const U32_FIELDS = ['framebufferWidth', 'framebufferHeight', 'framebufferStride', 'framebufferFormat'] as const;
const U16_FIELDS = ['ttyRows', 'ttyCols'] as const;

/** The 160 bytes the host writes at BOOT_INFO_ADDR; reserved bytes are zero. */
export function encodeBootInfo(info: BootInfo): Uint8Array {
  const out = new Uint8Array(BOOT_INFO_SIZE);
  const dv = view(out);
  dv.setUint32(OFFSET.magic, BOOT_INFO_MAGIC, true);
  dv.setUint32(OFFSET.version, BOOT_INFO_VERSION, true);
  for (const f of U64_FIELDS) setU64(dv, OFFSET[f], info[f], f);
  for (const f of U32_FIELDS) setU32(dv, OFFSET[f], info[f], f);
  for (const f of U16_FIELDS) setU16(dv, OFFSET[f], info[f], f);
  setBytes(out, OFFSET.randomSeed, info.randomSeed, RANDOM_SEED_SIZE, 'randomSeed');
  return out;
}

/**
 * Reads a BootInfo from the first BOOT_INFO_SIZE bytes. Checks the size,
 * magic and version only; reserved bytes are ignored so that a later
 * version may use them.
 */
export function decodeBootInfo(bytes: Uint8Array): BootInfo {
  requireSize(bytes, BOOT_INFO_SIZE, 'BootInfo');
  const dv = view(bytes);
  const magic = dv.getUint32(OFFSET.magic, true);
  if (magic !== BOOT_INFO_MAGIC) {
    throw new ProtocolError('magic', `${hex(magic)} is not ${hex(BOOT_INFO_MAGIC)} ("kvmo")`);
  }
  const version = dv.getUint32(OFFSET.version, true);
  if (version !== BOOT_INFO_VERSION) {
    throw new ProtocolError('version', `${version} is not the supported version ${BOOT_INFO_VERSION}`);
  }
  const u64 = (f: (typeof U64_FIELDS)[number]): bigint => dv.getBigUint64(OFFSET[f], true);
  const u32 = (f: (typeof U32_FIELDS)[number]): number => dv.getUint32(OFFSET[f], true);
  return {
    ramSize: u64('ramSize'),
    freeMemoryStart: u64('freeMemoryStart'),
    initramfsAddr: u64('initramfsAddr'),
    initramfsSize: u64('initramfsSize'),
    cmdlineAddr: u64('cmdlineAddr'),
    cmdlineSize: u64('cmdlineSize'),
    framebufferAddr: u64('framebufferAddr'),
    framebufferWidth: u32('framebufferWidth'),
    framebufferHeight: u32('framebufferHeight'),
    framebufferStride: u32('framebufferStride'),
    framebufferFormat: u32('framebufferFormat'),
    mailboxAddr: u64('mailboxAddr'),
    bootTimeNs: u64('bootTimeNs'),
    randomSeed: bytes.slice(OFFSET.randomSeed, OFFSET.randomSeed + RANDOM_SEED_SIZE),
    flags: u64('flags'),
    argsAddr: u64('argsAddr'),
    argsSize: u64('argsSize'),
    ttyRows: dv.getUint16(OFFSET.ttyRows, true),
    ttyCols: dv.getUint16(OFFSET.ttyCols, true),
  };
}
