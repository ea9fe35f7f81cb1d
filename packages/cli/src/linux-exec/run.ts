/** Runs one linux-exec command: the program's exit status is the result. */
import type { AccelChoice } from '../accel.js';
import { readFileSync, statSync } from 'node:fs';
import { BOOT_FLAG_TRACE, FS_MOUNTS_MAX, ProtocolError, bindWord, encodeArgsBlock } from '@kvmos/protocol';
import type { HostMount } from '../host-fs.js';
import { InputFileError, UsageError } from '../errors.js';
import { imagePath, readImage } from '../images.js';
import { Machine } from '../machine.js';
import type { ExecCommand } from './command.js';
import { buildRootFs, checkProgram, resolveProgram, viewBinds } from './root-fs.js';
import { defaultView } from './default-view.js';

export interface ExecTimings {
  bootMs: number;
  runMs: number;
  exits: number;
}

/** Host fds for the program's stdin, stdout and stderr (default 0, 1, 2). */
export interface ExecIo {
  stdinFd?: number;
  stdoutFd?: number;
  stderrFd?: number;
}

/** What to boot for a linux-exec command, its files checked and its initramfs built. */
export interface ExecBoot {
  kernel: Uint8Array;
  ramSize: number;
  cmdline: string;
  initramfs: Uint8Array;
  args: Uint8Array;
  flags: bigint;
  accel?: AccelChoice;
  /** --bind / --ro-bind: mount id = position, told to the guest by `bind=` words. */
  mounts: HostMount[];
}

export function runExec(cmd: ExecCommand, hostEnv: NodeJS.ProcessEnv, timings?: (t: ExecTimings) => void, io: ExecIo = {}): number {
  const boot = prepareExec(cmd, hostEnv);
  const t0 = process.hrtime.bigint();
  const machine = Machine.boot({ ...boot, verbose: cmd.verbose, terminal: true, ...io });
  const t1 = process.hrtime.bigint();
  try {
    const result = machine.run(cmd.timeout);
    timings?.({ bootMs: Number(t1 - t0) / 1e6, runMs: Number(process.hrtime.bigint() - t1) / 1e6, exits: result.exits });
    return result.exitCode;
  } finally {
    machine.close();
  }
}

export function prepareExec(cmd: ExecCommand, hostEnv: NodeJS.ProcessEnv): ExecBoot {
  const guestPath = cmd.env.filter((w) => w.startsWith('PATH=')).pop()?.slice(5) ?? '';
  const hostPath = resolveProgram(cmd.program, hostEnv, guestPath);
  let program: Buffer;
  try {
    program = readFileSync(hostPath);
  } catch (e) {
    throw new InputFileError(hostPath, `cannot read (${(e as { code?: string }).code ?? String(e)})`, 'check its permissions');
  }
  const { dynamic } = checkProgram(program, hostPath);
  // A dynamic program sees the host's program trees and a generated /etc.
  const view = dynamic ? defaultView() : undefined;
  const mounts = [...checkBinds(cmd), ...(view ? viewBinds(cmd, view).map((b) => ({ host: b.host, guest: b.guest, writable: false })) : [])];
  if (mounts.length > FS_MOUNTS_MAX) throw new UsageError(`${cmd.binds.length} --bind/--ro-bind options and the default view's ${mounts.length - cmd.binds.length}: at most ${FS_MOUNTS_MAX} in all`);
  const { initramfs, programPath } = buildRootFs(cmd, hostPath, program, view);
  if (/\s/.test(programPath) || /\s/.test(cmd.cwd)) {
    throw new UsageError('the program name and --cwd cannot contain spaces (they travel on the kernel command line)');
  }
  let args: Uint8Array;
  try {
    args = encodeArgsBlock({ argv: [cmd.program, ...cmd.args], envp: cmd.env });
  } catch (e) {
    if (e instanceof ProtocolError) throw new UsageError(`the program's arguments: ${e.message}`);
    throw e;
  }
  return {
    kernel: readImage(imagePath('linux-exec'), true),
    ramSize: cmd.ramSize,
    cmdline: [`init=${programPath}`, `cwd=${cmd.cwd}`, ...mounts.map((m, i) => bindWord({ mount: i, writable: m.writable, guestPath: m.guest })), ...cmd.tmpfs.map((t) => `tmpfs=${t}`)].join(' '),
    initramfs,
    args,
    flags: cmd.trace ? BOOT_FLAG_TRACE : 0n,
    ...(cmd.noTick && { tick: false }),
    ...(cmd.accel !== undefined && { accel: cmd.accel }),
    mounts,
  };
}

/** Each --bind/--ro-bind HOST must be a directory now; the machine opens it (O_PATH) at boot. */
export function checkBinds(cmd: ExecCommand): HostMount[] {
  if (cmd.binds.length > FS_MOUNTS_MAX) throw new UsageError(`${cmd.binds.length} --bind/--ro-bind options: at most ${FS_MOUNTS_MAX}`);
  return cmd.binds.map((b) => {
    const option = b.writable ? '--bind' : '--ro-bind';
    let isDir: boolean;
    try {
      isDir = statSync(b.host).isDirectory();
    } catch (e) {
      throw new InputFileError(b.host, `cannot be shown at ${b.guest} (${(e as { code?: string }).code ?? String(e)})`, `${option} HOST GUEST needs an existing host directory; kvmos creates nothing on the host`);
    }
    if (!isDir) throw new InputFileError(b.host, 'is not a directory', `${option} shares directories; use --file for a single file`);
    return { host: b.host, guest: b.guest, writable: b.writable };
  });
}
