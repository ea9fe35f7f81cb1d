/**
 * The host's terminal, when the guest's console is one (its stdin is a
 * terminal: docs/protocol.md, "The terminal"). The guest's termios modes
 * are applied to the real terminal, which is the line discipline: a
 * program that turns canonical mode and echo off gets raw keys. The
 * terminal is put back as it was found when the program does so, when
 * kvmos ends (exit, an uncaught error: the 'exit' handler), and when it
 * is killed (a signal, SIGKILL included): a small detached watchdog
 * process holds the original modes and restores them with `stty` when
 * kvmos's end closes its pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isatty } from 'node:tty';
import { TCSETS, TCSETSF, TCSETSW, ttyGetAttr, ttySetAttr, ttyWindowSize, waitReadable } from '@kvmos/kvm';
import {
  BOOT_FLAG_STDERR_TTY,
  BOOT_FLAG_STDIN_TTY,
  BOOT_FLAG_STDOUT_TTY,
  TTY_ACTION,
  decodeTermios,
  encodeTermios,
  type Termios,
} from '@kvmos/protocol';

/**
 * poll(2)'s timeout for a guest's wait: the guest asks in 64 bits, poll takes
 * a C int, so a longer wait is cut to the longest poll can do (~24.8 days)
 * instead of wrapping to a negative (for ever) or a short one.
 */
export function pollTimeout(ms: bigint): number {
  return ms < 0n ? -1 : Number(ms > 0x7fff_ffffn ? 0x7fff_ffffn : ms);
}

/**
 * Waits up to `timeoutMs` (poll's: -1 for ever, 0 a look) for input
 * through `wait` (one poll, which a signal ends early as "no input"),
 * polling again for the time left after such an early end: a signal
 * (KvmMachine's periodic alarm with an irqchip) must not pass for a
 * timeout the guest would see.
 */
export function waitFor(timeoutMs: number, wait: (ms: number) => boolean, now: () => number = () => performance.now()): boolean {
  if (timeoutMs === 0) return wait(0);
  const end = timeoutMs < 0 ? Infinity : now() + timeoutMs;
  for (;;) {
    const left = end - now();
    if (wait(timeoutMs < 0 ? -1 : Math.max(0, Math.ceil(left)))) return true;
    if (now() >= end) return false;
  }
}

/** glibc's NCCS: `stty -g` prints this many control characters. */
const GLIBC_NCCS = 32;

/** `stty -g`'s form of a kernel termios (the 19 slots, then zeros as glibc pads them). */
export function sttyString(t: Termios): string {
  const cc = Array.from({ length: GLIBC_NCCS }, (_, i) => (t.cc[i] ?? 0).toString(16));
  return [t.iflag, t.oflag, t.cflag, t.lflag].map((v) => (v >>> 0).toString(16)).concat(cc).join(':');
}

/**
 * What the host terminal is set to for the guest's `wanted` modes: the
 * guest's input, output and local modes and control characters; the line
 * settings (c_cflag: speed, character size) and line discipline stay the
 * host's.
 */
export function hostModes(original: Termios, wanted: Termios): Termios {
  return { ...wanted, cflag: original.cflag, line: original.line };
}

export class HostTerminal {
  private current: Uint8Array;
  private watchdog: ChildProcess | undefined;
  /** `original` decoded once: each setModes keeps its line settings. */
  private readonly originalModes: Termios;
  private readonly onExit = (): void => this.restore();

  private constructor(
    /** The host fd that is the terminal (the guest's stdin). */
    readonly fd: number,
    private readonly original: Uint8Array,
    /** BootInfo flags: which of stdin, stdout, stderr are terminals. */
    readonly bootFlags: bigint,
  ) {
    this.current = original;
    this.originalModes = decodeTermios(original);
    process.on('exit', this.onExit);
  }

  /** The terminal on `fds[0]`, or undefined when that is not a terminal. */
  static open(fds: { 0: number; 1: number; 2: number }): HostTerminal | undefined {
    if (!isatty(fds[0])) return undefined;
    const attr = ttyGetAttr(fds[0]);
    if (!(attr instanceof Uint8Array)) return undefined;
    const flags = BOOT_FLAG_STDIN_TTY | (isatty(fds[1]) ? BOOT_FLAG_STDOUT_TTY : 0n) | (isatty(fds[2]) ? BOOT_FLAG_STDERR_TTY : 0n);
    return new HostTerminal(fds[0], attr, flags);
  }

  /** The window size now (0 x 0 if the terminal has none). */
  size(): { rows: number; cols: number } {
    return ttyWindowSize(this.fd) ?? { rows: 0, cols: 0 };
  }

  /** The guest's TCSETS* (`action`: TTY_ACTION); 0 or -errno. */
  setModes(action: number, wanted: Termios): number {
    const modes = encodeTermios(hostModes(this.originalModes, wanted));
    const request = action === TTY_ACTION.flush ? TCSETSF : action === TTY_ACTION.drain ? TCSETSW : TCSETS;
    if (!sameBytes(modes, this.original)) this.startWatchdog();
    const errno = ttySetAttr(this.fd, request, modes);
    if (errno !== 0) return -errno;
    this.current = modes;
    return 0;
  }

  /** Waits up to `timeoutMs` (-1: for ever) for input; true if there is some. */
  waitInput(timeoutMs: bigint): boolean {
    return waitFor(pollTimeout(timeoutMs), (ms) => waitReadable(this.fd, ms));
  }

  /** Puts the terminal back as it was found; idempotent. */
  restore(): void {
    if (!sameBytes(this.current, this.original)) {
      ttySetAttr(this.fd, TCSETS, this.original);
      this.current = this.original;
    }
  }

  /** restore(), and the watchdog is no longer needed. */
  close(): void {
    this.restore();
    process.removeListener('exit', this.onExit);
    if (this.watchdog?.pid !== undefined) {
      try {
        // Synchronous, before kvmos exits: a watchdog that outlived us
        // would restore the modes under whatever runs next on the terminal.
        process.kill(this.watchdog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.watchdog = undefined;
  }

  /**
   * A detached `sh` (its own session: the terminal's signals do not reach
   * it) that waits for its stdin pipe to close, which happens when kvmos
   * ends however it ends, then restores the terminal (its fd 3) with
   * `stty`. close() kills it first on a normal end.
   */
  private startWatchdog(): void {
    if (this.watchdog) return;
    try {
      const child = spawn('/bin/sh', ['-c', 'read -r _; exec stty "$1" <&3 2>/dev/null', 'kvmos-tty-restore', sttyString(this.originalModes)], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore', this.fd],
      });
      child.on('error', () => {});
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      this.watchdog = child;
    } catch {
      // No watchdog: the 'exit' handler still restores on every ordinary end.
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
