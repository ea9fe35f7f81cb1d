/** Runs one linux-exec command: the program's exit status is the result. */
import type { AccelChoice } from '../accel.js';
import { readFileSync } from 'node:fs';
import { BOOT_FLAG_TRACE, ProtocolError, encodeArgsBlock } from '@kvmos/protocol';
import { InputFileError, UsageError } from '../errors.js';
import { imagePath, readImage } from '../images.js';
import { Machine } from '../machine.js';
import type { ExecCommand } from './command.js';
import { buildRootFs, checkProgram, resolveProgram } from './root-fs.js';

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
}

export function runExec(cmd: ExecCommand, hostEnv: NodeJS.ProcessEnv, timings?: (t: ExecTimings) => void, io: ExecIo = {}): number {
  const boot = prepareExec(cmd, hostEnv);
  const t0 = process.hrtime.bigint();
  const machine = Machine.boot({ ...boot, verbose: cmd.verbose, terminal: true, ...io });
  const t1 = process.hrtime.bigint();
  try {
    const result = machine.run();
    timings?.({ bootMs: Number(t1 - t0) / 1e6, runMs: Number(process.hrtime.bigint() - t1) / 1e6, exits: result.exits });
    return result.exitCode;
  } finally {
    machine.close();
  }
}

export function prepareExec(cmd: ExecCommand, hostEnv: NodeJS.ProcessEnv): ExecBoot {
  const hostPath = resolveProgram(cmd.program, hostEnv);
  let program: Buffer;
  try {
    program = readFileSync(hostPath);
  } catch (e) {
    throw new InputFileError(hostPath, `cannot read (${(e as { code?: string }).code ?? String(e)})`, 'check its permissions');
  }
  checkProgram(program, hostPath);
  const { initramfs, programPath } = buildRootFs(cmd, hostPath, program);
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
    cmdline: [`init=${programPath}`, `cwd=${cmd.cwd}`, ...(cmd.tmpfs).map((t) => `tmpfs=${t}`)].join(' '),
    initramfs,
    args,
    flags: cmd.trace ? BOOT_FLAG_TRACE : 0n,
    ...(cmd.accel !== undefined && { accel: cmd.accel }),
  };
}
