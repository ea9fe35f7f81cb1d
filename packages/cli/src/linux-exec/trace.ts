/**
 * `--trace`: one strace-like line per system call, from the kernel's trace
 * hypercall. Paths are read from the program's memory through its page
 * tables; everything else prints as numbers.
 */
import { ERRNO_NAMES } from './errno-names.js';
import type { Trace } from '@kvmos/protocol';
import { SYSCALL_NAMES } from './syscall-names.js';
import { escapeGuestText } from '../guest-text.js';

/** How to show each argument: d decimal, x hex, s a C string, f an fd. */
const SIGNATURES: Readonly<Record<string, string>> = {
  read: 'fxd', write: 'fxd', open: 'sxx', close: 'f', stat: 'sx', fstat: 'fx', lstat: 'sx', poll: 'xdd',
  lseek: 'fdd', mmap: 'xxxxfx', mprotect: 'xxx', munmap: 'xx', brk: 'x', rt_sigaction: 'dxxd',
  rt_sigprocmask: 'dxxd', ioctl: 'fxx', pread64: 'fxdd', readv: 'fxd', writev: 'fxd', access: 'sx',
  pipe: 'x', dup: 'f', dup2: 'ff', nanosleep: 'xx', getpid: '', exit: 'd', uname: 'x', fcntl: 'fdx',
  getcwd: 'xd', chdir: 's', readlink: 'sxd', gettimeofday: 'xx', sysinfo: 'x', getuid: '', getgid: '',
  geteuid: '', getegid: '', getppid: '', arch_prctl: 'xx', gettid: '', time: 'x', getdents64: 'fxd',
  set_tid_address: 'x', clock_gettime: 'dx', exit_group: 'd', openat: 'fsxx', newfstatat: 'fsxx',
  readlinkat: 'fsxd', faccessat: 'fsx', faccessat2: 'fsxx', set_robust_list: 'xd', dup3: 'ffx',
  pipe2: 'xx', prlimit64: 'ddxx', getrandom: 'xdx', rseq: 'xdxx', statx: 'fsxxx', ppoll: 'xdxxd',
  sched_getaffinity: 'ddx', clock_nanosleep: 'ddxx', umask: 'x', wait4: 'dxxx', kill: 'dd', tgkill: 'ddd',
  // What dynamic loaders and glibc programs add.
  clone3: 'xd', mincore: 'xxx', getxattr: 'ssxd', lgetxattr: 'ssxd', fgetxattr: 'fsxd', listxattr: 'sxd',
  llistxattr: 'sxd', flistxattr: 'fxd',
};

/** Reads a string at a user address for display; undefined if unmapped. */
export type StringReader = (vaddr: bigint) => string | undefined;

export function formatTrace(t: Trace, readString: StringReader): string {
  const nr = Number(t.nr);
  const name = SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
  const sig = SIGNATURES[name] ?? 'xxxxxx';
  const args = [...sig].map((kind, i) => formatArg(kind, t.args[i] ?? 0n, readString));
  return `${name}(${args.join(', ')}) = ${formatResult(t.result)}`;
}

function formatArg(kind: string, v: bigint, readString: StringReader): string {
  const signed = BigInt.asIntN(64, v);
  switch (kind) {
    case 'd':
      return signed.toString();
    case 'f':
      return BigInt.asIntN(32, v) === -100n ? 'AT_FDCWD' : BigInt.asIntN(32, v).toString();
    case 's': {
      if (v === 0n) return 'NULL';
      const s = readString(v);
      // JSON quotes C0 controls; escapeGuestText the rest (DEL, C1: CSI is 0x9b).
      return s === undefined ? `0x${v.toString(16)}` : escapeGuestText(JSON.stringify(s));
    }
    default:
      return `0x${v.toString(16)}`;
  }
}

export function formatResult(r: bigint): string {
  if (r < 0n && r >= -4095n) {
    const errno = Number(-r);
    return `-1 ${ERRNO_NAMES[errno] ?? 'E?'} (errno ${errno})`;
  }
  return r >= 0n && r < 0x1_0000n ? r.toString() : `0x${BigInt.asUintN(64, r).toString(16)}`;
}
