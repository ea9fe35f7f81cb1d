/**
 * `kvmos linux-exec [options] [--] PROGRAM [ARGS...]` (short: `kvmos exec`).
 * Options stop at PROGRAM: everything after it belongs to the program, the
 * way `env` and `sudo` read their command lines. Pure, for tests.
 */
import { ACCEL_USAGE, parseAccel, type AccelChoice } from '../accel.js';
import { DEFAULT_RAM_SIZE } from '@kvmos/protocol';
import { DISPLAY_OPTIONS_USAGE, displayCommand, parseRamMiB, type DisplayCommand, type DisplayValues } from '../args.js';
import { UsageError } from '../errors.js';

export interface HostToGuest {
  host: string;
  guest: string;
}

/** --bind / --ro-bind: a host directory served lazily through the fs port (host-fs.ts). */
export interface BindMount {
  host: string;
  /** Absolute, normalized (no empty, `.` or `..` names), no whitespace: it travels on the kernel command line. */
  guest: string;
  writable: boolean;
}

export interface ExecCommand {
  kind: 'exec';
  /** PROGRAM as typed: a path, or a name looked up on the host's PATH. */
  program: string;
  /** The program's arguments (argv[1..]). */
  args: string[];
  /** KEY=VALUE words for the program's environment, in order. */
  env: string[];
  files: HostToGuest[];
  dirs: HostToGuest[];
  /** --bind and --ro-bind, in order: the mount id is the position. */
  binds: BindMount[];
  /** Guest directories to mount an empty, writable tmpfs on (/tmp always is one). */
  tmpfs: string[];
  cwd: string;
  trace: boolean;
  verbose: boolean;
  ramSize: number;
  /** --accel, when given (else KVMOS_ACCEL, else auto). */
  accel: AccelChoice | undefined;
  /** A screen (/dev/fb0, /dev/input/event0), when a display option asks for one. */
  display: DisplayCommand | undefined;
  /** --timeout: seconds the guest may run before it is stopped (exit 124). */
  timeout: number | undefined;
  /** --no-tick: the kernel without its timer tick (cooperative), for comparison. */
  noTick: boolean;
}

export type ParsedExec = ExecCommand | { kind: 'help' };

/** The environment a program gets unless --env adds to it. */
export const DEFAULT_ENV = ['PATH=/bin:/usr/bin:/sbin:/usr/sbin', 'HOME=/'];

export function execUsage(): string {
  return `Usage: kvmos linux-exec [options] [--] PROGRAM [ARGS...]
       kvmos exec ...   (the same)

Runs an unmodified Linux x86-64 program, static or dynamically linked, in
ring 3 of a kvmos guest. PROGRAM is a host file (a path, or a name found on
the guest's PATH, then the host's). A static program becomes /bin/<name> in
the guest's read-only root file system, with any --file and --dir you add.
A dynamically linked one runs at its own path and sees the host's program
trees read-only (/usr, and /bin, /lib... as on the host), where its loader
and libraries are, and a small generated /etc (users, host name, the
loader's cache; never the host's own /etc). /tmp and each --tmpfs are
writable (in memory, seen by every process of the guest, gone when it
ends); --bind directories are writable on the host. Its stdin, stdout and
stderr are this command's, byte for byte, and its exit status is this
command's.

Options (before PROGRAM):
  --env KEY=VALUE   set a variable in the program's environment (repeatable)
  --env KEY         pass the host's value of KEY
                    (default environment: ${DEFAULT_ENV.join(' ')})
  --file HOST[:GUEST]  add a host file (at GUEST, default /<its name>)
  --dir HOST[:GUEST]   add a host directory tree (at GUEST, default /<its name>)
                    (copied into the read-only root at start)
  --ro-bind HOST GUEST  show the host directory HOST at GUEST, read-only, served
                    lazily by the host (bubblewrap's words; repeatable); the
                    guest never reaches outside HOST: symlinks in it are
                    resolved inside the guest, never followed on the host
  --bind HOST GUEST as --ro-bind, writable: the program's writes, creates,
                    renames and deletes change HOST
  --tmpfs GUEST     mount an empty writable file system in memory on GUEST
                    (repeatable; created if missing; /tmp always is one)
  --cwd DIR         the program's working directory (default /)
  --timeout SECONDS stop the guest if it still runs after SECONDS (a decimal
                    number > 0): a message on stderr, exit status 124
  --trace           print each system call on stderr, like strace
  --no-tick         run the kernel without its timer tick: no preemption, a
                    busy program keeps the CPU (to measure what the tick costs)
  --ram MIB         guest RAM in MiB (default ${DEFAULT_RAM_SIZE / 1024 / 1024})
${ACCEL_USAGE}
  -v, --verbose     the host's own messages and timings on stderr
  -h, --help        show this help

A screen for programs that draw (Linux's /dev/fb0 and /dev/input/event0,
as kvmos torus and paint use them), given by any of:
${DISPLAY_OPTIONS_USAGE}

Exit status: the program's; 128+N if signal N killed it (a crash prints the
shell's line, e.g. "Segmentation fault"); 127 PROGRAM (or its dynamic
loader) not found; 126 not an x86-64 ELF program; 124 --timeout ended it; 64-70 as for the other
guests (kvmos --help).

Examples:
  kvmos exec /bin/ls -l /
  kvmos exec python3 -c 'import json; print(json.dumps({"ok": True}))'
  kvmos exec --ro-bind ./src /src --bind ./out /out tar -C /src -cf /out/src.tar .
  kvmos exec busybox echo hello
  echo data | kvmos exec busybox wc -c
  kvmos exec --dir ./site:/www busybox ls -l /www
  kvmos exec --trace ./a.out
  kvmos exec --headless --frames 60 --screenshot shot.png ./draws-on-fb0`;
}

const VALUE_OPTIONS = new Set(['--env', '--file', '--dir', '--tmpfs', '--cwd', '--timeout', '--ram', '--accel', '--web', '--frames', '--record', '--screenshot', '--input']);

export function parseExecCommand(argv: string[], hostEnv: NodeJS.ProcessEnv): ParsedExec {
  try {
    return parseExec(argv, hostEnv);
  } catch (e) {
    // Its errors point to exec's own help, once.
    if (e instanceof UsageError && e.helpCommand === 'kvmos') throw new UsageError(e.message, 'kvmos exec');
    throw e;
  }
}

function parseExec(argv: string[], hostEnv: NodeJS.ProcessEnv): ParsedExec {
  const cmd: ExecCommand = {
    kind: 'exec', program: '', args: [], env: [...DEFAULT_ENV], files: [], dirs: [], binds: [], tmpfs: [], cwd: '/',
    trace: false, verbose: false, ramSize: DEFAULT_RAM_SIZE, accel: undefined, display: undefined, timeout: undefined, noTick: false,
  };
  const display: DisplayValues = {};
  let i = 0;
  for (; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    if (arg === '--bind' || arg === '--ro-bind') {
      // Two separate words, as bubblewrap takes them (a host path may contain ':').
      const host = argv[i + 1];
      const guest = argv[i + 2];
      if (host === undefined || guest === undefined) throw new UsageError(`${arg} needs two words: ${arg} HOST GUEST`);
      cmd.binds.push({ host, guest: bindGuestPath(host, guest, arg), writable: arg === '--bind' });
      i += 2;
      continue;
    }
    let value: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0 && VALUE_OPTIONS.has(arg.slice(0, eq))) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (VALUE_OPTIONS.has(arg)) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
    }
    switch (arg) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--trace':
        cmd.trace = true;
        break;
      case '--no-tick':
        cmd.noTick = true;
        break;
      case '-v':
      case '--verbose':
        cmd.verbose = true;
        break;
      case '--env':
        cmd.env = setEnv(cmd.env, envWord(value!, hostEnv));
        break;
      case '--file':
        cmd.files.push(hostToGuest(value!, '--file'));
        break;
      case '--dir':
        cmd.dirs.push(hostToGuest(value!, '--dir'));
        break;
      case '--tmpfs':
        if (!value!.startsWith('/') || value === '/' || /\s/.test(value!) || value!.split('/').some((c) => c === '..' || c === '.')) {
          throw new UsageError(`--tmpfs takes an absolute guest directory other than / without spaces, '.' or '..', not '${value}'`);
        }
        cmd.tmpfs.push(value!);
        break;
      case '--cwd':
        if (!value!.startsWith('/')) throw new UsageError(`--cwd takes an absolute guest path, not '${value}'`);
        cmd.cwd = value!;
        break;
      case '--timeout':
        cmd.timeout = parseTimeout(value!);
        break;
      case '--accel':
        cmd.accel = parseAccel(value!, '--accel');
        break;
      case '--ram':
        cmd.ramSize = parseRamMiB(value!) * 1024 * 1024;
        break;
      case '--window':
      case '--headless':
      case '--fixed-time':
        display[arg.slice(2) as 'window' | 'headless' | 'fixed-time'] = true;
        break;
      case '--web':
      case '--frames':
      case '--record':
      case '--screenshot':
      case '--input':
        display[arg.slice(2) as 'web' | 'frames' | 'record' | 'screenshot' | 'input'] = value!;
        break;
      default:
        throw new UsageError(`unknown option '${arg}' (options go before PROGRAM)`);
    }
  }
  const program = argv[i];
  if (program === undefined || program === '') throw new UsageError('which program? e.g. kvmos exec busybox echo hi');
  cmd.program = program;
  cmd.display = displayCommand(display, false);
  // The screen's guest runs in a worker thread of its own, which has no deadline.
  if (cmd.display && cmd.timeout !== undefined) throw new UsageError('--timeout is for programs without a screen; it cannot be combined with the display options');
  cmd.args = argv.slice(i + 1);
  return cmd;
}

function envWord(value: string, hostEnv: NodeJS.ProcessEnv): string {
  if (value.includes('=')) {
    if (value.startsWith('=')) throw new UsageError(`--env '${value}' has no name`);
    return value;
  }
  const v = hostEnv[value];
  if (v === undefined) throw new UsageError(`--env ${value}: the host has no ${value} to pass (give --env ${value}=VALUE)`);
  return `${value}=${v}`;
}

/** Later settings of a name replace earlier ones, as in a shell. */
function setEnv(env: string[], word: string): string[] {
  const name = word.slice(0, word.indexOf('='));
  return [...env.filter((e) => e.slice(0, e.indexOf('=')) !== name), word];
}

/** The guest side of --bind/--ro-bind: absolute, normalized, no whitespace. */
function bindGuestPath(host: string, guest: string, option: string): string {
  const given = `${option} ${host} ${guest}`;
  if (!guest.startsWith('/')) throw new UsageError(`${given}: GUEST '${guest}' is not an absolute path (${option} takes two words, HOST GUEST, e.g. ${option} ./data /data)`);
  if (/[\s\0]/.test(guest)) throw new UsageError(`${given}: GUEST cannot contain spaces (it travels on the kernel command line)`);
  const names = guest.split('/').filter((n) => n !== '' && n !== '.');
  if (names.includes('..')) throw new UsageError(`${given}: GUEST cannot contain '..'`);
  return `/${names.join('/')}`;
}

function hostToGuest(value: string, option: string): HostToGuest {
  const colon = value.lastIndexOf(':');
  const host = colon > 0 ? value.slice(0, colon) : value;
  const guest = colon > 0 ? value.slice(colon + 1) : `/${host.split('/').filter(Boolean).pop() ?? ''}`;
  if (host === '') throw new UsageError(`${option} needs a host path`);
  if (!guest.startsWith('/') || guest === '/') {
    if (option === '--dir' && guest === '/') return { host, guest: '/' };
    throw new UsageError(`${option} ${value}: the guest path must be absolute`);
  }
  return { host, guest };
}

/** --timeout's SECONDS: a decimal number > 0 (at most a year: a timer's range). */
export function parseTimeout(value: string): number {
  const s = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(s > 0) || s > 365 * 24 * 3600) throw new UsageError(`--timeout takes seconds, a decimal number > 0 (at most a year), not '${value}'`);
  return s;
}
