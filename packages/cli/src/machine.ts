/**
 * One kvmos virtual machine: builds the boot plan (loader), starts it on a
 * CPU back end (KVM or TCG, accel.ts), and runs it, performing what
 * handleExit decides. Nothing here knows which back end runs.
 */
import { readSync, writeSync } from 'node:fs';
import { waitReadable } from '@kvmos/kvm';
import { randomBytes, randomFillSync } from 'node:crypto';
import { planBoot, type BootPlan } from '@kvmos/loader';
import {
  type Accelerator,
  type AcceleratorFeatures,
  type AcceleratorName,
  BOOT_FLAG_FIXED_TIME,
  BOOT_FLAG_TIMER,
  FRAMEBUFFER_HEIGHT,
  FRAMEBUFFER_WIDTH,
  MAILBOX_ADDR,
  PAGE_SIZE,
  TTY_OP,
  encodeClock,
  exceptionName,
  type FaultReport,
} from '@kvmos/protocol';
import { handleExit, type GuestStop } from './exit-handler.js';
import type { Hypercall } from './hypercalls.js';
import { GuestStoppedError, GuestTimeoutError, hex, type GuestLocation } from './errors.js';
import { readGuestString } from './page-walk.js';
import { formatTrace } from './linux-exec/trace.js';
import { SYSCALL_NAMES } from './linux-exec/syscall-names.js';
import { Screen, type FrameSink } from './display/screen.js';
import { HostTerminal } from './host-terminal.js';
import { escapeGuestText, UnknownSyscallReport } from './guest-text.js';
import { accelBootFlags, accelChoice, startAccelerator, type AccelChoice } from './accel.js';
import { HostFs, type HostMount } from './host-fs.js';

export interface BootOptions {
  kernel: Uint8Array;
  ramSize?: number;
  cmdline?: string;
  initramfs?: Uint8Array;
  /** Host fds that the guest's fd 1 and 2 write to, and fd 0 reads from. */
  stdoutFd?: number;
  stderrFd?: number;
  stdinFd?: number;
  kvmPath?: string;
  /** The CPU back end; default: KVMOS_ACCEL, else auto (KVM when /dev/kvm opens, else TCG). */
  accel?: AccelChoice;
  /** linux-exec's args block (protocol's encodeArgsBlock). */
  args?: Uint8Array;
  /** BootInfo.flags (BOOT_FLAG_TRACE, ...). */
  flags?: bigint;
  /** false: no timer tick even where the machine has one (`--no-tick`). */
  tick?: boolean;
  /** Where the host's own lines go (trace, unknown syscalls, guest notices); default: stderr. */
  diagnostics?: (line: string) => void;
  /** Show the guest's diagnostic log lines too. */
  verbose?: boolean;
  /** A screen (docs/protocol.md, "The screen"): without one the doorbell stops the guest. */
  display?: DisplayOptions;
  /**
   * Make the guest's console a terminal when the stdin fd is one
   * (docs/protocol.md, "The terminal"): linux-exec. Default false.
   */
  terminal?: boolean;
  /** Host directories the guest may use through the `fs` port (told by `bind=` words of `cmdline`). */
  mounts?: readonly HostMount[];
}

export interface DisplayOptions {
  /** Gets each frame at the doorbell and answers with input and quit. */
  sink: FrameSink;
  /** Mailbox time exactly frame * FRAME_PERIOD_NS, BootInfo flag BOOT_FLAG_FIXED_TIME: reproducible runs. */
  fixedTime?: boolean;
  /** The sink waits for its window or page at every frame (the host blocks in the doorbell). */
  paced?: boolean;
  /** Host time spent on each doorbell, from the VM exit to the mailbox written, in ns (benchmarks). */
  onHostTime?: (ns: number) => void;
}

export interface RunResult {
  exitCode: number;
  /** How many VM exits the run took. */
  exits: number;
  /** Frames shown (0 without a display). */
  frames: number;
}

export class Machine {
  private closed = false;

  private constructor(
    private readonly accel: Accelerator,
    readonly plan: BootPlan,
    readonly io: {
      fds: { 0: number; 1: number; 2: number };
      terminal: HostTerminal | undefined;
      diagnostics: (line: string) => void;
      verbose: boolean;
      hostFs: HostFs;
    },
  ) {
    this.bootHr = process.hrtime.bigint();
    this.memory = accel.memory;
  }

  /** Guest RAM (the back end's; the host owns it either way). */
  readonly memory: Accelerator['memory'];
  /** Why `auto` did not pick KVM, if it did not. */
  fallback: string | undefined;

  /** Which CPU back end runs this guest. */
  get accelerator(): AcceleratorName {
    return this.accel.name;
  }

  private readonly bootHr: bigint;
  /** run()'s timeout: when (performance.now()) and as typed. */
  private deadline: number | undefined;
  private timeoutSeconds = 0;

  /** Waits until `fd` has input; GuestTimeoutError if the deadline comes first. */
  /**
   * Waits for the terminal's input (true) or a signal its keys raised
   * (false), at most until the deadline.
   */
  private waitTerminalInput(terminal: HostTerminal): boolean {
    for (;;) {
      if (terminal.signalPending()) return false;
      const left = this.deadline === undefined ? 1000 : this.deadline - performance.now();
      if (left <= 0) throw new GuestTimeoutError(this.timeoutSeconds);
      if (terminal.waitInput(BigInt(Math.ceil(Math.min(left, 1000))))) return true;
    }
  }

  private waitForInputBeforeDeadline(fd: number): void {
    if (this.deadline === undefined) return;
    for (;;) {
      const left = this.deadline - performance.now();
      if (left <= 0) throw new GuestTimeoutError(this.timeoutSeconds);
      if (waitReadable(fd, Math.ceil(Math.min(left, 1000)))) return;
    }
  }
  private readonly unknownSyscalls = new UnknownSyscallReport();
  private screen: Screen | undefined;
  /** The sink waits for a window or page at each frame. */
  private pacedScreen = false;
  private onHostTime: ((ns: number) => void) | undefined;

  /** Plans the boot (pure, may throw loader errors), then creates and loads the VM. */
  static boot(opts: BootOptions): Machine {
    const fds = { 0: opts.stdinFd ?? 0, 1: opts.stdoutFd ?? 1, 2: opts.stderrFd ?? 2 };
    // The mounts open first: a missing directory is the user's error, before any guest starts.
    const hostFs = HostFs.open(opts.mounts ?? []);
    let terminal: HostTerminal | undefined;
    try {
      terminal = opts.terminal ? HostTerminal.open(fds) : undefined;
      return Machine.bootWith(opts, fds, terminal, hostFs);
    } catch (e) {
      terminal?.close();
      hostFs.close();
      throw e;
    }
  }

  private static bootWith(opts: BootOptions, fds: { 0: number; 1: number; 2: number }, terminal: HostTerminal | undefined, hostFs: HostFs): Machine {
    const planFor = (features: AcceleratorFeatures): BootPlan => planBoot({
      kernel: opts.kernel,
      ...(opts.ramSize !== undefined && { ramSize: opts.ramSize }),
      ...(opts.cmdline !== undefined && { cmdline: opts.cmdline }),
      ...(opts.initramfs !== undefined && { initramfs: opts.initramfs }),
      ...(opts.args !== undefined && { args: opts.args }),
      flags: accelBootFlags(opts.tick === false ? { ...features, timer: false } : features) | (opts.flags ?? 0n) | (opts.display?.fixedTime ? BOOT_FLAG_FIXED_TIME : 0n) | (terminal?.bootFlags ?? 0n),
      ...(terminal && { ttySize: terminal.size() }),
      ...(opts.display && { framebuffer: { width: FRAMEBUFFER_WIDTH, height: FRAMEBUFFER_HEIGHT } }),
      bootTimeNs: BigInt(Date.now()) * 1_000_000n,
      randomSeed: randomBytes(32),
    });
    const started = startAccelerator(accelChoice(opts.accel), planFor, opts.kvmPath !== undefined ? { kvmPath: opts.kvmPath } : {});
    const plan = started.state;
    // A guest with the tick asks for the terminal's signals every 100 ms
    // at most; one without (KVM without an in-kernel irqchip, --no-tick)
    // may compute or sleep for long without asking: there Ctrl-C still
    // ends kvmos.
    if (terminal && (plan.bootInfo.flags & BOOT_FLAG_TIMER) !== 0n) terminal.forwardSignals();
    try {
      const machine = new Machine(started.accel, plan, {
        fds,
        terminal,
        diagnostics: opts.diagnostics ?? ((line) => writeDiagnostic(2, line)),
        verbose: opts.verbose ?? false,
        hostFs,
      });
      // The failed call and its errno, without the long hint: why auto did not pick KVM.
      machine.fallback = started.fallback?.split(' - ')[0];
      if (machine.io.verbose) {
        machine.io.diagnostics(
          machine.fallback
            ? `kvmos: running on TCG, QEMU's software CPU: KVM is not available (${machine.fallback})`
            : `kvmos: running on ${started.accel.name === 'kvm' ? 'KVM' : "TCG, QEMU's software CPU"}` +
              (started.accel.timer ? '' : ` without a timer tick, so the kernel is cooperative (${started.accel.noTimerReason ?? 'none'})`),
        );
      }
      if (opts.display) machine.attachScreen(opts.display);
      return machine;
    } catch (e) {
      started.accel.close();
      throw e;
    }
  }

  /**
   * Runs until the guest exits (its code) or stops abnormally
   * (GuestStoppedError); with `timeoutSeconds`, a guest still running then
   * (computing, or waiting for input) is stopped: GuestTimeoutError.
   */
  run(timeoutSeconds?: number): RunResult {
    let exits = 0;
    if (timeoutSeconds !== undefined) {
      this.timeoutSeconds = timeoutSeconds;
      this.deadline = performance.now() + timeoutSeconds * 1000;
    }
    try {
      for (;;) {
        const exit = this.accel.run(this.deadline);
        if (exit.reason === 'deadline') throw new GuestTimeoutError(this.timeoutSeconds);
        const exitHr = this.onHostTime ? process.hrtime.bigint() : 0n;
        exits++;
        const action = handleExit(exit, this.memory);
        if (action.kind === 'stop') throw this.stopError(action.error);
        const code = this.perform(action.call);
        if (code !== undefined) return { exitCode: code, exits, frames: this.screen?.frames ?? 0 };
        if (this.onHostTime && action.call.kind === 'doorbell') this.onHostTime(Number(process.hrtime.bigint() - exitHr));
        // A guest that makes hypercalls all the time (a sleep asks the clock) stops too.
        if (this.deadline !== undefined && performance.now() >= this.deadline) throw new GuestTimeoutError(this.timeoutSeconds);
      }
    } finally {
      const summary = this.unknownSyscalls.summary();
      if (summary !== undefined) this.io.diagnostics(summary);
    }
  }

  /**
   * The framebuffer and mailbox are views of guest RAM (zero-copy): the
   * host chose their addresses in the boot plan, inside RAM by construction.
   */
  private attachScreen(display: DisplayOptions): void {
    const info = this.plan.bootInfo;
    const framebuffer = {
      width: info.framebufferWidth,
      height: info.framebufferHeight,
      stride: info.framebufferStride,
      pixels: this.memory.view(Number(info.framebufferAddr), info.framebufferStride * info.framebufferHeight),
    };
    const mailbox = this.memory.view(MAILBOX_ADDR, PAGE_SIZE);
    const clock = display.fixedTime
      ? { fixed: true as const }
      : { fixed: false as const, sinceBootNs: () => process.hrtime.bigint() - this.bootHr };
    this.screen = new Screen(framebuffer, mailbox, display.sink, clock);
    this.pacedScreen = display.paced ?? false;
    this.screen.reset();
    this.onHostTime = display.onHostTime;
  }

  /** The back end's counters (KVM: the vCPU's exits, emulated instructions, page faults...): benchmarks. */
  vcpuStats(): Map<string, bigint> {
    return this.accel.stats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.io.terminal?.close();
    this.io.hostFs.close();
    this.accel.close();
  }

  /** Performs a hypercall; returns an exit code when the guest is done. */
  private perform(call: Hypercall): number | undefined {
    switch (call.kind) {
      case 'exit':
        return call.code & 0xff;
      case 'console': {
        let written = 0n;
        try {
          for (const chunk of call.chunks) written += BigInt(writeAll(this.io.fds[call.fd], chunk));
        } catch (e) {
          // A closed pipe on our side is the guest's EPIPE, not a host crash.
          written = -BigInt(errnoOf(e));
        }
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(written);
        return undefined;
      }
      case 'fault':
        throw faultError(call.report, call.message);
      case 'doorbell':
        if (!this.screen) throw new GuestStoppedError('the guest rang the frame doorbell', this.location(), 'this guest needs a display');
        if (this.pacedScreen) this.accel.willBlock();
        if (this.screen.doorbell() === 'quit-ignored') {
          if (this.io.verbose) this.io.diagnostics('kvmos: the guest drew another frame after it was told to quit; stopped it');
          return 0;
        }
        return undefined;
      case 'consoleRead': {
        const terminal = this.io.terminal;
        if (!waitReadable(this.io.fds[0], 0)) {
          this.accel.willBlock();
          if (terminal) {
            // A terminal key that raised a signal interrupts the read:
            // -EINTR, and the guest asks which (TTY_OP.signals).
            if (!this.waitTerminalInput(terminal)) {
              this.memory.view(call.resultAddr, 8).writeBigInt64LE(-4n);
              return undefined;
            }
          } else this.waitForInputBeforeDeadline(this.io.fds[0]);
        }
        const result = readInto(this.io.fds[0], call.chunks);
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(result);
        return undefined;
      }
      case 'random': {
        let n = 0n;
        for (const chunk of call.chunks) {
          randomFillSync(chunk);
          n += BigInt(chunk.length);
        }
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(n);
        return undefined;
      }
      case 'copy':
        if (call.src === undefined) this.memory.view(call.dst, call.len).fill(0);
        // Buffer#copy is memmove: overlapping ranges are fine.
        else this.memory.view(call.src, call.len).copy(this.memory.view(call.dst, call.len));
        return undefined;
      case 'clock': {
        const sinceBoot = process.hrtime.bigint() - this.bootHr;
        const clock = encodeClock({ realtimeNs: this.plan.bootInfo.bootTimeNs + sinceBoot, monotonicNs: sinceBoot });
        this.memory.view(call.addr, clock.length).set(clock);
        return undefined;
      }
      case 'trace': {
        const cr3 = this.accel.location().cr3;
        this.io.diagnostics(formatTrace(call.trace, (va) => readGuestString(this.memory, cr3, va)?.text));
        return undefined;
      }
      case 'log':
        if (call.logKind === 1) this.io.diagnostics(escapeGuestText(call.message));
        else if (this.io.verbose) this.io.diagnostics(`kvmos: guest: ${escapeGuestText(call.message)}`);
        return undefined;
      case 'tty': {
        const terminal = this.io.terminal;
        // Only a guest told it has a terminal asks; without one, say ENOTTY.
        let result = -25n;
        if (terminal && call.tty.op === TTY_OP.setModes) result = BigInt(terminal.setModes(call.tty.action, call.tty.termios));
        if (terminal && call.tty.op === TTY_OP.signals) result = terminal.takeSignals();
        if (terminal && call.tty.op === TTY_OP.waitInput) {
          if (call.tty.timeoutMs !== 0n && !terminal.waitInput(0n)) this.accel.willBlock();
          let timeoutMs = call.tty.timeoutMs;
          if (this.deadline !== undefined) {
            // At most until the deadline (-1 is for ever).
            const left = BigInt(Math.max(0, Math.ceil(this.deadline - performance.now())));
            if (timeoutMs < 0n || timeoutMs > left) timeoutMs = left;
          }
          result = terminal.waitInput(timeoutMs) ? 1n : 0n;
          if (this.deadline !== undefined && result === 0n && performance.now() >= this.deadline) throw new GuestTimeoutError(this.timeoutSeconds);
        }
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(result);
        return undefined;
      }
      case 'fs':
        this.memory.view(call.resultAddr, 8).writeBigInt64LE(this.io.hostFs.handle(call.request));
        return undefined;
      case 'unknownSyscall': {
        const line = this.unknownSyscalls.note(call.nr, unknownSyscallLine);
        if (line !== undefined) this.io.diagnostics(line);
        return undefined;
      }
    }
  }

  private location(): GuestLocation {
    return this.accel.location();
  }

  private stopError(stop: GuestStop): GuestStoppedError {
    const where = this.location();
    switch (stop.type) {
      case 'bad-request':
        return new GuestStoppedError(`bad guest request: ${stop.message}`, where, 'a kernel bug: the host refused it');
      case 'halted':
        return new GuestStoppedError('the guest halted without exiting', where, 'the kernel must end with the exit hypercall');
      case 'shutdown':
        return new GuestStoppedError(
          'the guest triple-faulted',
          where,
          'an exception it could not handle: a fault before the IDT was installed, or a broken stack, GDT or TSS',
        );
      case 'internal-error':
        return new GuestStoppedError(
          `KVM internal error (suberror ${stop.suberror}${stop.suberror === 1 ? ': instruction emulation failed' : ''})`,
          where,
          'on PVM-backed KVM ring-0 code is emulated and cannot use SSE arithmetic: build the kernel soft-float (guest/build.sh)',
        );
      case 'fail-entry':
        return new GuestStoppedError(
          `KVM could not enter the guest (hardware entry failure ${hex(stop.reason)})`,
          where,
          'the initial CPU state is invalid: see packages/loader',
        );
      case 'mmio':
        return new GuestStoppedError(
          `the guest ${stop.isWrite ? 'wrote' : 'read'} ${stop.len} bytes at guest-physical ${hex(stop.physAddr)}, which is not RAM`,
          where,
          'a wild pointer in the kernel',
        );
      case 'unexpected-exit':
        return new GuestStoppedError(`unexpected VM exit: ${stop.what}`, where, 'kvmos does not handle it');
    }
  }
}

export function faultError(report: FaultReport, message: string | undefined): GuestStoppedError {
  const where: GuestLocation = {
    rip: report.rip,
    rsp: report.rsp,
    cs: Number(report.cs & 0xffffn),
    cr3: report.cr3,
    ...(report.vector === 14n && { cr2: report.cr2 }),
  };
  if (report.vector === 256n) {
    // A panic has no faulting instruction; its message carries file:line.
    return new GuestStoppedError(`kernel panic: ${message !== undefined ? escapeGuestText(message) : '(no message)'}`, undefined, 'a kernel bug');
  }
  const user = (report.cs & 3n) === 3n;
  return new GuestStoppedError(
    `guest exception ${exceptionName(Number(report.vector))} (vector ${report.vector}, error code ${hex(report.errorCode)})`,
    where,
    user ? 'the user program faulted' : 'a kernel bug, reported by its exception handler',
  );
}

export function unknownSyscallLine(nr: number): string {
  return `kvmos: the program called ${SYSCALL_NAMES[nr] ?? 'an unknown system call'} (number ${nr}), which kvmos does not implement: it returned ENOSYS`;
}

/**
 * One host diagnostic line on `fd`. A closed or broken stderr (EPIPE, EBADF,
 * ...) loses the line rather than stopping the guest: diagnostics are never
 * worth an "internal error".
 */
export function writeDiagnostic(fd: number, line: string): void {
  try {
    writeAll(fd, Buffer.from(line + '\n'));
  } catch {
    // Nowhere left to say it.
  }
}

function writeAll(fd: number, data: Buffer): number {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      // A non-blocking pipe that is full: wait for it rather than drop bytes.
      if (errnoOf(e) === 11) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw e;
    }
  }
  return off;
}

/** One read of `fd` into the chunks, in order; bytes read (0 at end of file) or -errno. */
function readInto(fd: number, chunks: Buffer[]): bigint {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  if (total === 0) return 0n;
  const buf = Buffer.alloc(total);
  let n: number;
  for (;;) {
    try {
      n = readSync(fd, buf, 0, total, null);
      break;
    } catch (e) {
      const errno = errnoOf(e);
      // A non-blocking stdin with nothing yet: wait for input rather than fail the read.
      if (errno === 11) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (errno === 4) continue;
      return -BigInt(errno);
    }
  }
  let at = 0;
  for (const c of chunks) {
    if (at >= n) break;
    at += buf.copy(c, 0, at, Math.min(n, at + c.length));
  }
  return BigInt(n);
}

function errnoOf(e: unknown): number {
  const code = (e as { errno?: number }).errno;
  return typeof code === 'number' ? Math.abs(code) : 5; // EIO when unknown
}
