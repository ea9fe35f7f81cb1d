/**
 * A kvmos guest on QEMU's software CPU. The host stays the hypervisor: it
 * owns guest RAM (a memfd QEMU maps too), writes the boot plan and the
 * ROM's plan into it, and serves every hypercall itself. QEMU provides the
 * CPU. A hypercall is a request in the HypercallSlot plus a one-byte
 * doorbell (docs/protocol.md, "Hypercall transports"), turned here into the
 * same `io` exit KVM gives, so the run loop cannot tell the two apart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GuestMemory, O_CLOEXEC, POLLERR, POLLHUP, POLLIN, memfdCreate, MFD_CLOEXEC, pipe2, poll, sysClose } from '@kvmos/kvm';
import {
  ACCEL_BOOT_ADDR,
  HYPERCALL_SLOT,
  HYPERCALL_SLOT_ADDR,
  type Accelerator,
  type BootState,
  type BootStateFor,
  type CpuLocation,
  type Exit,
} from '@kvmos/protocol';
import { buildAccelBoot, PLAN_VERSION } from './boot-area.js';
import { QemuError, TcgError } from './errors.js';
import { haltedForGood, parseInfoRegisters, QmpPipe } from './qmp.js';
import { QEMU_BINARY, findOnPath, qemuArgs } from './qemu.js';

export const QEMU_HINT = "install QEMU's x86 system emulator (Debian/Ubuntu: apt-get install qemu-system-x86)";
/** How long a guest may go without a hypercall before the host looks whether it halted for good. */
const SILENCE_CHECK_MS = 1000;
const POLL_SLICE_MS = 50;
/** How long QEMU may take to start and answer its monitor. */
const START_TIMEOUT_MS = 30_000;

export interface TcgOptions {
  /** The ROM; default: this package's dist/rom.bin. */
  romPath?: string;
  /** QEMU's binary; default: qemu-system-x86_64 on PATH. */
  qemuPath?: string;
}

/** The built ROM beside this module (dist/src/machine.js -> dist/rom.bin). */
export function defaultRomPath(): string {
  return fileURLToPath(new URL('../rom.bin', import.meta.url));
}

export class TcgMachine implements Accelerator {
  readonly name = 'tcg' as const;
  /** QEMU's x86 CPU always has a local APIC, whose timer the kernel may use. */
  readonly timer = true;
  #child: ChildProcess | undefined;
  #qmp: QmpPipe;
  #doorbellFd: number;
  #stderrFd: number;
  /** The seq of the request being served: its `done` is written when the guest resumes. */
  #serving: number | undefined;
  #lastSeq = 0;
  #exits = 0n;
  #doorbells = 0n;
  #stopped = false;
  #closed = false;
  readonly #slot: Buffer;

  private constructor(
    readonly memory: GuestMemory,
    child: ChildProcess,
    qmp: QmpPipe,
    doorbellFd: number,
    stderrFd: number,
  ) {
    this.#child = child;
    this.#qmp = qmp;
    this.#doorbellFd = doorbellFd;
    this.#stderrFd = stderrFd;
    this.#slot = memory.view(HYPERCALL_SLOT_ADDR, HYPERCALL_SLOT.size);
  }

  /**
   * Writes the guest into fresh RAM, starts QEMU on it and lets the CPU
   * go. A function for the state is given what this back end has (a timer).
   */
  static boot(plan: BootState | BootStateFor, opts: TcgOptions = {}): TcgMachine {
    const state = typeof plan === 'function' ? plan({ name: 'tcg', timer: true }) : plan;
    const qemu = opts.qemuPath ?? findOnPath(QEMU_BINARY);
    if (!qemu) throw new QemuError(`${QEMU_BINARY} was not found on PATH`, '', QEMU_HINT);
    const romPath = opts.romPath ?? defaultRomPath();
    checkRom(romPath);
    const accel = buildAccelBoot(state);

    const fds: number[] = [];
    const memory = GuestMemory.shared(state.ramSize);
    try {
      for (const w of state.writes) memory.write(w.addr, w.data);
      memory.write(accel.addr, accel.bytes);
      const qmpIn = openPipe(fds);
      const qmpOut = openPipe(fds);
      const doorbell = openPipe(fds);
      const stderr = memfdCreate('kvmos-qemu-stderr', MFD_CLOEXEC);
      if (stderr.value < 0) throw new TcgError('memfd_create', `errno ${stderr.errno}`);
      fds.push(stderr.value);

      const args = qemuArgs({ ramSize: state.ramSize, romPath });
      // setpriv --pdeathsig: QEMU is killed when the host goes, however it goes.
      const setpriv = findOnPath('setpriv');
      const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args]] : [qemu, args];
      const stdio = [qmpIn[0], qmpOut[1], stderr.value, memory.fd, doorbell[1]];
      // detached: its own session, so the terminal's Ctrl-C reaches the host
      // alone (which then ends QEMU), as it reaches only the host under KVM.
      const child = spawn(file, argv, { stdio, detached: true });
      child.on('error', () => { /* reported through the closed pipes */ });
      // The child holds its ends now; ours would keep the pipes from ever reporting its exit.
      for (const fd of [qmpIn[0], qmpOut[1], doorbell[1]]) closeFd(fds, fd);
      if (child.pid === undefined) throw new QemuError(`could not start ${file}`, '', QEMU_HINT);

      const qmp = new QmpPipe(qmpIn[1], qmpOut[0]);
      const machine = new TcgMachine(memory, child, qmp, doorbell[0], stderr.value);
      fds.length = 0; // the machine owns them now
      machine.#fds.push(qmpIn[1], qmpOut[0], doorbell[0], stderr.value);
      machine.#start();
      return machine;
    } catch (e) {
      for (const fd of fds) sysClose(fd);
      memory.free();
      throw e;
    }
  }

  #fds: number[] = [];

  /** QMP handshake; the CPU stays paused until the first run(), as a KVM vCPU does until KVM_RUN. */
  #start(): void {
    try {
      const greeting = this.#qmp.read(START_TIMEOUT_MS);
      if (!greeting?.QMP) throw this.#gone('exited before it started');
      if (this.#qmp.command('qmp_capabilities')?.return === undefined) throw this.#gone('did not accept QMP');
    } catch (e) {
      this.close();
      throw e;
    }
  }

  #started = false;

  run(deadlineMs?: number): Exit {
    if (this.#closed) throw new TcgError('run', 'the machine is closed');
    if (this.#stopped) return { reason: 'shutdown' };
    if (!this.#started) {
      // The host may still have written RAM after boot (the screen's mailbox): only now does the CPU go.
      this.#started = true;
      if (this.#qmp.command('cont')?.return === undefined) throw this.#gone('did not start the guest');
    }
    if (this.#serving !== undefined) {
      // The answer to the last request is in RAM: completing it resumes the guest.
      this.#slot.writeUInt32LE(this.#serving, HYPERCALL_SLOT.done);
      this.#serving = undefined;
    }
    if (this.#parked) {
      this.#parked = false;
      if (this.#qmp.command('cont')?.return === undefined) throw this.#gone('did not resume the guest');
    }
    const doorbell = Buffer.alloc(256);
    let quietSince = performance.now();
    for (;;) {
      // Checked between poll slices: a guest that never rings still stops.
      if (deadlineMs !== undefined && performance.now() >= deadlineMs) return { reason: 'deadline' };
      const event = this.#qmp.next() ?? this.#qmp.events.shift();
      if (event?.event) {
        const exit = this.#onEvent(event.event);
        if (exit) return exit;
        continue;
      }
      // Short waits: between them JavaScript runs, so a worker thread that
      // is told to terminate (the window's grace period) ends promptly.
      const [bell = 0, monitor = 0] = poll([this.#doorbellFd, this.#qmp.outFd], POLL_SLICE_MS);
      if (bell === 0 && monitor === 0) {
        // A quiet guest is usually computing; one halted with interrupts off
        // never rings again (KVM reports that as a hlt exit; do the same).
        if (performance.now() - quietSince >= SILENCE_CHECK_MS) {
          if (this.#halted()) {
            this.#stopped = true;
            return { reason: 'hlt' };
          }
          quietSince = performance.now();
        }
        continue;
      }
      if (monitor & (POLLIN | POLLHUP | POLLERR)) {
        if (!this.#qmp.pump()) throw this.#gone('stopped unexpectedly');
        continue;
      }
      if (!(bell & (POLLIN | POLLHUP | POLLERR))) continue;
      const n = readSync(this.#doorbellFd, doorbell, 0, doorbell.length, null);
      if (n === 0) throw this.#gone('stopped unexpectedly');
      this.#doorbells += BigInt(n);
      // One request at a time: the guest waits for `done` before it rings
      // again, so extra bytes are rings of a request already seen.
      const seq = this.#slot.readUInt32LE(HYPERCALL_SLOT.seq);
      if (seq === this.#lastSeq) continue;
      this.#lastSeq = seq;
      this.#serving = seq;
      this.#exits++;
      const value = Buffer.alloc(4);
      value.writeUInt32LE(this.#slot.readUInt32LE(HYPERCALL_SLOT.value));
      // Passed on as the guest wrote it: decodeHypercall refuses any port that is not a kvmos port, these too.
      const port = this.#slot.readUInt32LE(HYPERCALL_SLOT.port);
      return { reason: 'io', direction: 'out', port, size: 4, count: 1, data: value };
    }
  }

  #parked = false;

  /**
   * While the host waits, the guest would spin on `done` at full speed:
   * stop the CPU (QMP `stop` returns once it is stopped); run() resumes it
   * after writing `done`. Two monitor round trips, so only for real waits.
   */
  willBlock(): void {
    if (this.#parked || this.#serving === undefined || this.#closed) return;
    if (this.#qmp.command('stop')?.return === undefined) throw this.#gone('did not pause the guest');
    this.#parked = true;
  }

  /**
   * A monitor event: the guest reset or shut down. A triple fault is a
   * reset request, turned into SHUTDOWN (then a pause) by `-action`;
   * STOP alone is also what our own `stop` causes, so it is not one.
   */
  #onEvent(name: string): Exit | undefined {
    if (name === 'SHUTDOWN' || name === 'RESET' || name === 'GUEST_PANICKED') {
      this.#stopped = true;
      this.#exits++;
      return { reason: 'shutdown' };
    }
    return undefined;
  }

  #halted(): boolean {
    const reply = this.#qmp.command('human-monitor-command', { 'command-line': 'info registers' });
    return typeof reply?.return === 'string' && haltedForGood(reply.return);
  }

  location(): CpuLocation {
    const reply = this.#qmp.command('human-monitor-command', { 'command-line': 'info registers' });
    const text = typeof reply?.return === 'string' ? reply.return : '';
    const regs = parseInfoRegisters(text);
    if (!regs) throw this.#gone('did not report the guest registers');
    return regs;
  }

  stats(): Map<string, bigint> {
    return new Map([
      ['exits', this.#exits],
      ['doorbell_bytes', this.#doorbells],
    ]);
  }

  /** QEMU's exit is ours to cause: SIGKILL (guest RAM is ours, nothing of QEMU's needs saving). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const child = this.#child;
    this.#child = undefined;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const fd of this.#fds) sysClose(fd);
    this.#fds = [];
    this.memory.free();
  }

  /** QEMU is gone or broken: say so with the end of its stderr. */
  #gone(what: string): QemuError {
    return new QemuError(`QEMU ${what}`, this.#stderrText(), 'run with KVMOS_ACCEL=kvm where /dev/kvm exists, or report this');
  }

  #stderrText(): string {
    try {
      const size = Math.min(fstatSync(this.#stderrFd).size, 64 * 1024);
      const buf = Buffer.alloc(size);
      const n = readSync(this.#stderrFd, buf, 0, size, 0);
      return buf.toString('utf8', 0, n);
    } catch {
      return '';
    }
  }
}

function openPipe(fds: number[]): [number, number] {
  const p = pipe2(O_CLOEXEC);
  if (!Array.isArray(p)) throw new TcgError('pipe2', `errno ${p.errno}`);
  fds.push(p[0], p[1]);
  return p;
}

function closeFd(fds: number[], fd: number): void {
  sysClose(fd);
  const i = fds.indexOf(fd);
  if (i >= 0) fds.splice(i, 1);
}

/** A ROM this host can use: present, and made for this plan layout and address. */
function checkRom(path: string): void {
  if (!existsSync(path)) throw new TcgError('ROM', `${path} is missing`, 'build the TCG back end: pnpm --filter @kvmos/tcg build');
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 8) !== 'kvmosROM' || header.readUInt32LE(8) !== PLAN_VERSION || header.readUInt32LE(12) !== ACCEL_BOOT_ADDR) {
    throw new TcgError('ROM', `${path} is not a kvmos TCG ROM of plan version ${PLAN_VERSION} at 0x${ACCEL_BOOT_ADDR.toString(16)}`, 'rebuild it: pnpm --filter @kvmos/tcg build');
  }
}
