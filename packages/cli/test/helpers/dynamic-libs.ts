/**
 * What a dynamically linked test program needs in the guest: its loader and
 * libraries, given to kvmos exec as --file HOST:GUEST at the same path. The
 * one place that lists them, so that host-directory mounts can replace them
 * later (a read-only view of /lib and /lib64 instead of single files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Toolchain {
  /** How the tests name the build. */
  label: string;
  /** The compiler and its flags (before -o). */
  cc: string;
  flags: string[];
  /** Flags after the source (libraries). */
  libs: string[];
  /** Loader and libraries, at the same path on the host and in the guest. */
  files: string[];
  /** Only these programs are built this way (all when absent). */
  only?: string[];
}

/** gcc, dynamically linked against Debian's glibc (x86-64). */
export const GLIBC: Toolchain = {
  label: 'glibc dynamic',
  cc: 'gcc',
  flags: ['-O1'],
  libs: ['-lm'],
  files: ['/lib64/ld-linux-x86-64.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libm.so.6'],
};

/** musl-gcc without -static: musl's loader is its libc too. */
export const MUSL_DYNAMIC: Toolchain = {
  label: 'musl dynamic',
  cc: 'musl-gcc',
  flags: ['-O1'],
  libs: [],
  files: ['/lib/ld-musl-x86_64.so.1'],
};

/**
 * gcc -static-pie with glibc: no loader, an ET_DYN that relocates itself at
 * the PIE base. For the programs about loading and memory (the rest behave
 * as the static musl builds do).
 */
export const GLIBC_STATIC_PIE: Toolchain = {
  label: 'glibc static-pie',
  cc: 'gcc',
  flags: ['-O1', '-static-pie'],
  libs: [],
  files: [],
  only: ['hello', 'auxv', 'mmapfile', 'memory', 'brk'],
};

/** The --file options that put `t`'s files into the guest. */
export function fileOptions(t: Toolchain): string[] {
  return t.files.flatMap((f) => ['--file', `${f}:${f}`]);
}

/** The files of `t` this host lacks (a build for it cannot run here). */
export function missingFiles(t: Toolchain): string[] {
  return t.files.filter((f) => !existsSync(f));
}

/** The loader and libraries a host program loads, as ldd lists them (absolute paths). */
export function lddFiles(program: string): string[] {
  const r = spawnSync('ldd', [program], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`ldd ${program}: ${r.error?.message ?? r.stderr}`);
  return [...new Set([...r.stdout.matchAll(/(\/\S+)/g)].map((m) => m[1]!))];
}
