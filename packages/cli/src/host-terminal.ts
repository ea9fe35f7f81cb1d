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
 *
 * With the guest's ISIG, the real terminal turns the program's VINTR,
 * VQUIT and VSUSP keys into SIGINT, SIGQUIT and SIGTSTP (flushing input
 * and echoing `^C` as the modes say) for its foreground process group,
 * which is kvmos's: for a guest with the timer tick (TCG: it asks for them
 * at least every 100 ms, `forwardSignals`) kvmos keeps them from ending or
 * stopping it, and a
 * small helper in the same group (`SignalHelper`) writes each one's number
 * on a pipe, which the guest asks for (`takeSignals`) and sends to its own
 * foreground process group. Without ISIG the keys are bytes the program
 * reads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readSync } from 'node:fs';
import { isatty } from 'node:tty';
import { O_CLOEXEC, TCSETS, TCSETSF, TCSETSW, pipe2, poll, sysClose, ttyGetAttr, ttySetAttr, ttyWindowSize, waitReadable } from '@kvmos/kvm';
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

/** The signals a terminal's keys raise: what the helper reports. */
export const TERMINAL_SIGNALS = ['SIGINT', 'SIGQUIT', 'SIGTSTP'] as const;
/** Their numbers (x86-64 Linux, host and guest alike). */
const SIGNAL_NUMBERS: Record<(typeof TERMINAL_SIGNALS)[number], number> = { SIGINT: 2, SIGQUIT: 3, SIGTSTP: 20 };
const O_NONBLOCK = 0x800;
/** What the helper writes once its handlers are in place. */
const HELPER_READY = 0xff;

/**
 * The helper: a Node process in kvmos's process group (so the terminal's
 * signals reach it too) that writes each signal's number on its stdout
 * (the pipe) and ends when its stdin (kvmos's end of a pipe) closes.
 */
const HELPER_SCRIPT = `
const { writeSync } = require('node:fs');
const numbers = ${JSON.stringify(SIGNAL_NUMBERS)};
for (const [name, n] of Object.entries(numbers)) process.on(name, () => writeSync(1, Buffer.from([n])));
process.stdin.on('data', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
writeSync(1, Buffer.from([${HELPER_READY}]));
`;

/** How long open() waits for the helper's handlers (ms): a key pressed before then would end it. */
const HELPER_START_MS = 10_000;

/** The terminal signals that reach kvmos, as a pipe the run loop can poll. */
export class SignalHelper {
  private pending = 0n;

  private constructor(
    /** The read end (non-blocking). */
    readonly fd: number,
    private readonly child: ChildProcess,
  ) {}

  /** Starts the helper and waits for it to be ready; undefined if it cannot start. */
  static start(): SignalHelper | undefined {
    const p = pipe2(O_CLOEXEC | O_NONBLOCK);
    if (!Array.isArray(p)) return undefined;
    const [readEnd, writeEnd] = p;
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['-e', HELPER_SCRIPT], { stdio: ['pipe', writeEnd, 'ignore'] });
    } catch {
      sysClose(readEnd);
      sysClose(writeEnd);
      return undefined;
    }
    sysClose(writeEnd);
    child.on('error', () => {});
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    const helper = new SignalHelper(readEnd, child);
    const end = performance.now() + HELPER_START_MS;
    while (!helper.drain() && performance.now() < end) poll([readEnd], 100);
    return helper;
  }

  /** Reads what the helper wrote; true once it said it is ready. */
  private drain(): boolean {
    let ready = false;
    const buf = Buffer.alloc(64);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch {
        break; // EAGAIN: nothing more
      }
      if (n === 0) break;
      for (const b of buf.subarray(0, n)) {
        if (b === HELPER_READY) ready = true;
        else this.pending |= 1n << BigInt(b - 1);
      }
    }
    return ready;
  }

  /** The helper's pid (tests). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether a signal came that was not taken yet. */
  hasPending(): boolean {
    if (this.pending !== 0n) return true;
    const [revents] = poll([this.fd], 0);
    return (revents ?? 0) !== 0;
  }

  /** The signals that came since last asked (bit `sig - 1`). */
  take(): bigint {
    this.drain();
    const bits = this.pending;
    this.pending = 0n;
    return bits;
  }

  close(): void {
    try {
      if (this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    sysClose(this.fd);
  }
}

export class HostTerminal {
  private current: Uint8Array;
  private watchdog: ChildProcess | undefined;
  private signals: SignalHelper | undefined;
  /** kvmos itself neither ends nor stops on a terminal key: the guest gets it. */
  private readonly ignoreSignal = (): void => {};
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

  /**
   * From now on the terminal's signals are the guest's (`takeSignals`):
   * kvmos no longer ends or stops on them. Only for a guest that asks for
   * them often enough (its timer tick): else Ctrl-C ends kvmos, as before.
   */
  forwardSignals(): void {
    if (this.signals) return;
    this.signals = SignalHelper.start();
    if (this.signals) for (const s of TERMINAL_SIGNALS) process.on(s, this.ignoreSignal);
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

  /**
   * Waits up to `timeoutMs` (-1: for ever) for input; true if there is
   * some. A terminal signal ends the wait early (false).
   */
  waitInput(timeoutMs: bigint): boolean {
    if (!this.signals) return waitFor(pollTimeout(timeoutMs), (ms) => waitReadable(this.fd, ms));
    const signals = this.signals;
    let input = false;
    // A poll cut short by the KVM back end's alarm is polled again; a
    // terminal signal ends the wait.
    waitFor(pollTimeout(timeoutMs), (ms) => {
      const [i, raised] = poll([this.fd, signals.fd], ms);
      input = (i ?? 0) !== 0;
      return input || (raised ?? 0) !== 0;
    });
    return input;
  }

  /** Whether a terminal signal is waiting to be taken (it does not take it). */
  signalPending(): boolean {
    return this.signals?.hasPending() ?? false;
  }

  /** The terminal signals (bit `sig - 1`) raised since last asked. */
  takeSignals(): bigint {
    return this.signals?.take() ?? 0n;
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
    if (this.signals) {
      for (const s of TERMINAL_SIGNALS) process.removeListener(s, this.ignoreSignal);
      this.signals.close();
    }
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
