/**
 * Errors of the kvmos command. Library errors (KvmError, ElfError, ...) are
 * classes in their packages; only `describeError` (used by main.ts) turns
 * any of them into one line and an exit code.
 */
import { KvmError, KvmOpenError, GuestMemoryError, errnoName } from '@kvmos/kvm';
import { ElfError, BootPlanError } from '@kvmos/loader';
import { TcgError } from '@kvmos/tcg';
import { ProtocolError } from '@kvmos/protocol';

/** Exit codes, from sysexits.h where one fits. */
export const EXIT = {
  usage: 64,
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  software: 70,
  cantCreate: 73,
  /** --timeout ended the guest (GNU timeout's status). */
  timedOut: 124,
  notExecutable: 126,
  notFound: 127,
} as const;

export class UsageError extends Error {
  override name = 'UsageError';
  /** The command whose --help explains the usage: `kvmos` or `kvmos exec`. */
  constructor(
    message: string,
    readonly helpCommand = 'kvmos',
  ) {
    super(message);
  }
}

/** The kernel image or another input file cannot be read. */
export class InputFileError extends Error {
  override name = 'InputFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly hint: string,
  ) {
    super(`${path}: ${reason} - ${hint}`);
  }
}

/** A line of an input script (--input) that cannot be understood: `file:line: what`. */
export class InputScriptError extends Error {
  override name = 'InputScriptError';
  constructor(
    readonly path: string,
    readonly line: number,
    readonly what: string,
  ) {
    super(`${path}:${line}: ${what}`);
  }
}

/** An output file or directory (--record, --screenshot) that cannot be written. */
export class OutputFileError extends Error {
  override name = 'OutputFileError';
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly hint: string,
  ) {
    super(`${path}: ${reason} - ${hint}`);
  }
}

/** A host directory for the guest (--bind, --ro-bind) that cannot be served: the call, its errno, what to do. */
export class HostFsError extends Error {
  override name = 'HostFsError';
  constructor(
    /** The call and its argument, e.g. `open /srv/data`. */
    readonly call: string,
    readonly errno: number,
    readonly hint: string,
  ) {
    super(`${call}: ${errnoName(errno)} (errno ${errno})${hint ? ` - ${hint}` : ''}`);
  }
}

/** No window can be opened (no display server, SDL missing). */
export class DisplayUnavailableError extends Error {
  override name = 'DisplayUnavailableError';
}

/** An error already turned into its line and exit code elsewhere (in the vCPU worker thread). */
export class DescribedError extends Error {
  override name = 'DescribedError';
  constructor(
    readonly line: string,
    readonly exitCode: number,
  ) {
    super(line);
  }
}

/** linux-exec's PROGRAM is not there (the shell's 127). */
export class ProgramNotFoundError extends Error {
  override name = 'ProgramNotFoundError';
  constructor(
    readonly program: string,
    readonly reason: string,
  ) {
    super(`${program}: ${reason}`);
  }
}

/** linux-exec's PROGRAM cannot run in kvmos (the shell's 126). */
export class NotExecutableError extends Error {
  override name = 'NotExecutableError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** The guest ran past its --timeout and was stopped. */
export class GuestTimeoutError extends Error {
  override name = 'GuestTimeoutError';
  constructor(readonly seconds: number) {
    super(`the guest ran longer than --timeout ${seconds} s: stopped it`);
  }
}

/** A guest request (port write) that the host refuses. */
export class GuestRequestError extends Error {
  override name = 'GuestRequestError';
}

/** Where the guest was when it stopped, for the one-line report. */
export interface GuestLocation {
  rip: bigint;
  rsp: bigint;
  cs: number;
  cr2?: bigint;
  cr3?: bigint;
}

/** The guest stopped in a way that is not a clean exit. */
export class GuestStoppedError extends Error {
  override name = 'GuestStoppedError';
  constructor(
    readonly what: string,
    readonly where: GuestLocation | undefined,
    readonly hint: string,
  ) {
    super(`${what}${where ? ` ${formatLocation(where)}` : ''}${hint ? ` - ${hint}` : ''}`);
  }
}

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

export function formatLocation(where: GuestLocation): string {
  const ring = where.cs & 3;
  let s = `in ring ${ring} at RIP ${hex(where.rip)} (RSP ${hex(where.rsp)}`;
  if (where.cr2 !== undefined && where.cr2 !== 0n) s += `, CR2 ${hex(where.cr2)}`;
  return s + ')';
}

/** One line and an exit code for any error; `verbose` adds the stack for the unexpected. */
export function describeError(e: unknown, verbose = false): { line: string; exitCode: number } {
  if (e instanceof DescribedError) return { line: e.line, exitCode: e.exitCode };
  if (e instanceof UsageError) return { line: `${e.message} (see ${e.helpCommand} --help)`, exitCode: EXIT.usage };
  if (e instanceof InputFileError) return { line: e.message, exitCode: EXIT.noInput };
  if (e instanceof HostFsError) return { line: e.message, exitCode: EXIT.noInput };
  if (e instanceof InputScriptError) return { line: e.message, exitCode: EXIT.dataErr };
  if (e instanceof OutputFileError) return { line: e.message, exitCode: EXIT.cantCreate };
  if (e instanceof DisplayUnavailableError) return { line: e.message, exitCode: EXIT.unavailable };
  if (e instanceof ProgramNotFoundError) return { line: e.message, exitCode: EXIT.notFound };
  if (e instanceof NotExecutableError) return { line: e.message, exitCode: EXIT.notExecutable };
  if (e instanceof KvmOpenError) return { line: e.message, exitCode: EXIT.unavailable };
  if (e instanceof KvmError) return { line: e.message, exitCode: EXIT.unavailable };
  if (e instanceof TcgError) return { line: e.message, exitCode: EXIT.unavailable };
  if (e instanceof ElfError) return { line: `kernel image: ${e.message}`, exitCode: EXIT.dataErr };
  if (e instanceof BootPlanError) return { line: `cannot boot: ${e.message}`, exitCode: EXIT.dataErr };
  if (e instanceof GuestTimeoutError) return { line: e.message, exitCode: EXIT.timedOut };
  if (e instanceof GuestStoppedError) return { line: e.message, exitCode: EXIT.software };
  if (e instanceof GuestRequestError || e instanceof ProtocolError || e instanceof GuestMemoryError) {
    return { line: `bad guest request: ${e.message}`, exitCode: EXIT.software };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    line: verbose && err.stack ? `internal error: ${err.stack}` : `internal error: ${err.message} (rerun with --verbose for details)`,
    exitCode: EXIT.software,
  };
}
