/**
 * Seeded fuzz targets over every pure host decoder and handler a guest or a
 * user feeds (issue 10). Each target makes an input from a seeded generator
 * (random bytes, or a valid input mutated) and runs it: the only
 * exceptions allowed are the project's own typed errors, and no guest
 * address may leave guest RAM (the fake memory throws a plain Error for
 * that, which counts as a failure). `pnpm fuzz` runs each 100,000 times
 * (fuzz/main.ts); test/fuzz.test.ts runs each a few thousand times.
 */
import { parseElf, buildCpio, CpioError, ElfError, BootPlanError, type CpioEntry } from '@kvmos/loader';
import {
  PORT,
  ProtocolError,
  decodeArgsBlock,
  decodeBootInfo,
  decodeMailbox,
  decodeTty,
  decodeFaultReport,
  decodeTrace,
  decodeLog,
  decodeCopy,
  parseCmdline,
  encodeArgsBlock,
  decodeFsRequest,
  decodeHostStat,
  decodeHostStatfs,
  decodeDirents,
  splitRelativePath,
} from '@kvmos/protocol';
import { parseMessage } from '@kvmos/display';
import { handleExit } from '../exit-handler.js';
import type { GuestMemoryReader } from '../hypercalls.js';
import { readGuestString, translate } from '../page-walk.js';
import { parseCommand } from '../args.js';
import { parseExecCommand } from '../linux-exec/command.js';
import { parseInputScript } from '../display/input-script.js';
import { InputScriptError, UsageError, GuestRequestError } from '../errors.js';
import { escapeGuestText } from '../guest-text.js';
import { formatTrace } from '../linux-exec/trace.js';

/** xorshift64*: small, seeded, the same sequence everywhere. */
export class Rng {
  private s: bigint;
  constructor(seed: number) {
    this.s = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  }
  u64(): bigint {
    let x = this.s;
    x ^= x >> 12n;
    x = BigInt.asUintN(64, x ^ (x << 25n));
    x ^= x >> 27n;
    this.s = x;
    return BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn);
  }
  /** 0 <= n < max (max <= 2^32). */
  below(max: number): number {
    return Number((this.u64() >> 32n) % BigInt(max));
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.below(256);
    return b;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)] as T;
  }
  /** A number from a mix that finds edges: 0, small, powers of two +-1, huge, random. */
  edgy(): bigint {
    switch (this.below(6)) {
      case 0: return 0n;
      case 1: return BigInt(this.below(4096));
      case 2: return BigInt.asUintN(64, (1n << BigInt(this.below(64))) + BigInt(this.below(3)) - 1n);
      case 3: return BigInt.asUintN(64, -BigInt(this.below(4096)));
      default: return this.u64();
    }
  }
  /** `base` with a few bytes changed, cut short or grown. */
  mutate(base: Uint8Array): Buffer {
    const b = Buffer.from(base);
    const n = 1 + this.below(8);
    for (let i = 0; i < n && b.length > 0; i++) {
      const at = this.below(b.length);
      switch (this.below(4)) {
        case 0: b[at] = this.below(256); break;
        case 1: b[at] = (b[at] ?? 0) ^ (1 << this.below(8)); break;
        case 2: if (at + 8 <= b.length) b.writeBigUInt64LE(this.edgy(), at); break;
        default: b[at] = this.pick([0, 0xff, 0x7f, 0x80]);
      }
    }
    switch (this.below(8)) {
      case 0: return b.subarray(0, this.below(b.length + 1));
      case 1: return Buffer.concat([b, this.bytes(this.below(64))]);
      default: return b;
    }
  }
  text(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.below(alphabet.length)];
    return s;
  }
}

export interface Target {
  name: string;
  /** What it covers, for the table. */
  what: string;
  /** Runs one input made from `rng`; throws only for a failure (isExpected decides). */
  run(rng: Rng): void;
  /** Typed errors that are a correct answer to a bad input. */
  expected: (e: unknown) => boolean;
}

/** Guest RAM for the decoders: views outside it throw a plain Error (a failure, not a typed refusal). */
function fakeMemory(bytes: Buffer): GuestMemoryReader {
  return {
    size: bytes.length,
    view(addr: number, len: number): Buffer {
      if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || addr < 0 || len < 0 || addr + len > bytes.length) {
        throw new Error(`view outside guest RAM: ${addr} + ${len}`);
      }
      return bytes.subarray(addr, addr + len);
    },
  };
}

const RAM = 1 << 20;

/** RAM full of plausible structs: small addresses and lengths, so decoders get past their first check. */
function plausibleRam(rng: Rng): Buffer {
  const ram = Buffer.alloc(RAM);
  for (let at = 0; at < 4096 * 4; at += 8) ram.writeBigUInt64LE(rng.below(4) === 0 ? rng.edgy() : BigInt(rng.below(RAM)) & ~7n, at);
  return ram;
}

const PORTS = Object.values(PORT);
const MEMORY_HOLDER: { ram?: Buffer } = {};
function ramFor(rng: Rng): Buffer {
  // One RAM for many inputs (its first pages rewritten each time): 1 MiB per input would measure memset.
  const ram = (MEMORY_HOLDER.ram ??= plausibleRam(rng));
  for (let at = 0; at < 4096; at += 8) ram.writeBigUInt64LE(rng.below(3) === 0 ? rng.edgy() : BigInt(rng.below(RAM)) & ~7n, at);
  return ram;
}

const protocolOnly = (e: unknown) => e instanceof ProtocolError;

function elfSeed(): Buffer {
  // A small valid ET_EXEC: one PT_LOAD R+X at 0x400000 holding the headers.
  const f = Buffer.alloc(4096);
  f.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  f.writeUInt16LE(2, 16);
  f.writeUInt16LE(62, 18);
  f.writeUInt32LE(1, 20);
  f.writeBigUInt64LE(0x400100n, 24);
  f.writeBigUInt64LE(64n, 32);
  f.writeUInt16LE(64, 52);
  f.writeUInt16LE(56, 54);
  f.writeUInt16LE(1, 56);
  f.writeUInt32LE(1, 64);
  f.writeUInt32LE(5, 68);
  f.writeBigUInt64LE(0n, 72);
  f.writeBigUInt64LE(0x400000n, 80);
  f.writeBigUInt64LE(0x400000n, 88);
  f.writeBigUInt64LE(4096n, 96);
  f.writeBigUInt64LE(4096n, 104);
  f.writeBigUInt64LE(4096n, 112);
  return f;
}
const ELF_SEED = elfSeed();
const ARGS_SEED = encodeArgsBlock({ argv: ['busybox', 'sh', '-c', 'echo hi'], envp: ['PATH=/bin', 'HOME=/'] });
const WORDS = ['hello', 'torus', 'paint', 'exec', '--verbose', '-v', '--exit-code', '7', '--accel', 'tcg', 'kvm', '--ram', '64M', '--cmdline', 'a=b',
  '--headless', '--frames', '60', '--record', '/tmp/x', '--web', '8080', '0.0.0.0:80', '[::1]:9', '--fixed-time', '--input', '--screenshot', '--',
  '--dir', './a:/b', '--bind', '--ro-bind', '/usr', '/a b', '/x/../y', '--cwd', '/', '--env', 'A=1', '--trace', '-', '', '=', '--help', '--version', '99999999999999999999', '-1', '\0', 'é'];

export const TARGETS: readonly Target[] = [
  {
    name: 'exit handler',
    what: 'handleExit + decodeHypercall: a 32-bit out to any port, over RAM of plausible requests',
    expected: () => false, // it returns a stop action for bad requests; it never throws
    run(rng) {
      const ram = ramFor(rng);
      const value = rng.below(4) === 0 ? Number(rng.u64() & 0xffffffffn) : rng.below(4096 * 4) & ~(rng.below(2) ? 7 : 0);
      const data = Buffer.alloc(4);
      data.writeUInt32LE(value >>> 0);
      const port = rng.below(8) === 0 ? rng.below(0x10000) : rng.pick(PORTS);
      const direction = rng.below(16) === 0 ? 'in' : 'out';
      const size = rng.below(16) === 0 ? rng.pick([1, 2] as const) : 4;
      const action = handleExit({ reason: 'io', direction, port, size, count: rng.below(16) === 0 ? 2 : 1, data }, fakeMemory(ram));
      if (action.kind === 'hypercall' && action.call.kind === 'trace') formatTrace(action.call.trace, () => escapeGuestText(rng.text(8, 'a\x1b\n')));
    },
  },
  {
    name: 'page walk',
    what: 'translate + readGuestString: random CR3 and address over random page tables',
    expected: () => false,
    run(rng) {
      const ram = ramFor(rng);
      // Page-table-looking entries: present, user, pointing inside or outside RAM.
      for (let i = 0; i < 128; i++) ram.writeBigUInt64LE((BigInt(rng.below(RAM * 2)) & ~0xfffn) | BigInt(rng.below(8) ? 7 : rng.below(4096)), rng.below(2048) * 8);
      const memory = fakeMemory(ram);
      const cr3 = rng.below(4) === 0 ? rng.edgy() : BigInt(rng.below(4) * 4096);
      const va = rng.edgy();
      const pa = translate(memory, cr3, va);
      if (pa !== undefined && (pa < 0 || pa >= ram.length)) throw new Error(`translated outside RAM: ${pa}`);
      readGuestString(memory, cr3, va);
    },
  },
  {
    name: 'ELF parser',
    what: 'parseElf (loader): a valid ELF mutated, or random bytes',
    expected: (e) => e instanceof ElfError || e instanceof BootPlanError,
    run(rng) {
      parseElf(rng.below(8) === 0 ? rng.bytes(rng.below(256)) : rng.mutate(ELF_SEED));
    },
  },
  {
    name: 'cpio writer',
    what: 'buildCpio (loader): random paths (.., NUL, TRAILER!!!, duplicates), kinds and modes',
    expected: (e) => e instanceof CpioError,
    run(rng) {
      const entries: CpioEntry[] = [];
      const n = rng.below(6);
      for (let i = 0; i < n; i++) {
        const path = rng.below(4) === 0 ? rng.pick(['TRAILER!!!', '..', '/', '', 'a/../b', 'a\0b', './x', 'dir/TRAILER!!!']) : rng.text(1 + rng.below(12), 'ab/.!\0TRAILER');
        switch (rng.below(4)) {
          case 0: entries.push({ kind: 'file', path, data: rng.bytes(rng.below(32)), mode: rng.below(0x20000) }); break;
          case 1: entries.push({ kind: 'dir', path, mode: rng.below(0x20000) }); break;
          case 2: entries.push({ kind: 'symlink', path, target: rng.text(rng.below(8), 'ab/.') }); break;
          default: entries.push({ kind: 'chardev', path, major: rng.below(300), minor: rng.below(300) });
        }
      }
      const out = buildCpio(entries);
      if (out.length % 4 !== 0) throw new Error('archive not 4-byte aligned');
    },
  },
  {
    name: 'protocol decoders',
    what: 'BootInfo, mailbox, args block, command line, tty, fault report, trace, log, copy, fs request, stat, statfs, dirents, relative paths: valid or mutated bytes',
    expected: protocolOnly,
    run(rng) {
      const decoders: ((b: Buffer) => unknown)[] = [
        decodeBootInfo, decodeMailbox, decodeArgsBlock, parseCmdline, decodeTty, decodeFaultReport, decodeTrace, decodeLog, decodeCopy,
        decodeFsRequest, decodeHostStat, decodeHostStatfs, decodeDirents, (b) => splitRelativePath(b),
      ];
      const decode = rng.pick(decoders);
      const bytes = decode === decodeArgsBlock && rng.below(2) === 0 ? rng.mutate(ARGS_SEED) : rng.bytes(rng.below(rng.below(4) === 0 ? 8192 : 300));
      decode(bytes);
    },
  },
  {
    name: 'input scripts',
    what: 'parseInputScript (--input): random lines of plausible words and numbers',
    expected: (e) => e instanceof InputScriptError,
    run(rng) {
      const lines: string[] = [];
      const n = rng.below(8);
      for (let i = 0; i < n; i++) {
        const words = ['frame', 'key', 'button', 'move', 'wheel', 'down', 'up', 'left', 'right', 'KEY_A', 'space', '#', '0', '1', '-1', '159', '1e9', 'NaN', '0x10', '\t', '', 'q'];
        lines.push(Array.from({ length: rng.below(6) }, () => (rng.below(8) === 0 ? String(rng.edgy()) : rng.pick(words))).join(rng.pick([' ', '  ', '\t'])));
      }
      parseInputScript(lines.join('\n'), 'fuzz.input');
    },
  },
  {
    name: 'web messages',
    what: 'parseMessage (web view): random JSON and text from a viewer',
    expected: () => false,
    run(rng) {
      const value = () => rng.pick<unknown>([0, -1, 1e308, NaN, 'x', '', null, true, [], {}, rng.below(2000), String(rng.edgy())]);
      const obj: Record<string, unknown> = {};
      for (const k of ['type', 'x', 'y', 'dx', 'dy', 'button', 'code', 'key', 'pressed', 'down', rng.text(3, 'xyz')]) if (rng.below(2)) obj[k] = value();
      if (rng.below(2)) obj.type = rng.pick(['pointer', 'move', 'button', 'key', 'wheel', 'quit', 'resize', 'x']);
      const text = rng.below(8) === 0 ? rng.text(rng.below(40), '{}[]":,0123abc\\') : rng.below(16) === 0 ? undefined : JSON.stringify(obj);
      parseMessage(text);
    },
  },
  {
    name: 'argument parsers',
    what: 'parseCommand and parseExecCommand: random argv from the options and junk',
    expected: (e) => e instanceof UsageError,
    run(rng) {
      const argv = Array.from({ length: rng.below(8) }, () => (rng.below(8) === 0 ? rng.text(rng.below(10), '-=:/a0\0') : rng.pick(WORDS)));
      if (rng.below(2)) parseCommand(argv);
      else parseExecCommand(argv, { KVMOS_ACCEL: rng.pick(['kvm', 'tcg', 'auto', 'x', '']) });
    },
  },
];

export interface FuzzResult {
  target: string;
  what: string;
  inputs: number;
  failures: number;
  /** The first failure: its input number and what was thrown. */
  firstFailure?: { input: number; error: string };
  slowestUs: number;
  slowestInput: number;
  /** The slowest input run again alone (best of 3): a GC pause or a busy machine shows as slowestUs only. */
  slowestRerunUs?: number;
  totalMs: number;
}

/** Runs `inputs` inputs of `target`, input i made from seed `seed + i`. */
export function fuzz(target: Target, inputs: number, seed = 1): FuzzResult {
  let failures = 0;
  let firstFailure: FuzzResult['firstFailure'];
  let slowest = 0n;
  let slowestInput = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < inputs; i++) {
    const rng = new Rng(seed + i);
    const s = process.hrtime.bigint();
    try {
      target.run(rng);
    } catch (e) {
      if (!target.expected(e) && !(e instanceof GuestRequestError && target.expected(e))) {
        failures++;
        firstFailure ??= { input: seed + i, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
    }
    const d = process.hrtime.bigint() - s;
    if (d > slowest) {
      slowest = d;
      slowestInput = seed + i;
    }
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let rerun = Infinity;
  for (let k = 0; k < 3; k++) {
    const s = process.hrtime.bigint();
    try {
      target.run(new Rng(slowestInput));
    } catch {
      // Already counted.
    }
    rerun = Math.min(rerun, Number(process.hrtime.bigint() - s) / 1000);
  }
  return {
    target: target.name,
    what: target.what,
    inputs,
    failures,
    ...(firstFailure && { firstFailure }),
    slowestUs: Number(slowest) / 1000,
    slowestInput,
    slowestRerunUs: rerun,
    totalMs,
  };
}
