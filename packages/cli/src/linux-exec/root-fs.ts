/**
 * The guest's root file system for linux-exec: the program, the files and
 * directories asked for, and a minimal /etc, as a cpio initramfs.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync, accessSync, constants } from 'node:fs';
import { basename, delimiter, join, resolve } from 'node:path';
import { buildCpio, parseElf, ElfError, ET_EXEC, ET_DYN, type CpioEntry } from '@kvmos/loader';
import { InputFileError, NotExecutableError, ProgramNotFoundError, UsageError } from '../errors.js';
import type { ExecCommand } from './command.js';
import { insideBinds, type HostView, type ViewBind } from './default-view.js';

/**
 * Finds PROGRAM the way a shell does: a path if it has a slash, else the
 * first executable on a PATH: the guest's (`guestPath`, the PATH the program
 * gets) before the host's, so `kvmos exec python3` is the system's
 * /usr/bin/python3 that the guest can run, not a wrapper script of the
 * host user's (pyenv's shims, say).
 */
export function resolveProgram(program: string, hostEnv: NodeJS.ProcessEnv, guestPath = ''): string {
  if (program.includes('/')) {
    const full = resolve(program);
    if (!isFile(full)) throw new ProgramNotFoundError(program, `${full} does not exist or is not a file`);
    return full;
  }
  for (const dir of [...guestPath.split(':').filter((d) => d.startsWith('/')), ...(hostEnv.PATH ?? '').split(delimiter)]) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isFile(candidate) && isExecutable(candidate)) return candidate;
  }
  throw new ProgramNotFoundError(program, 'not found on PATH; give its path, e.g. ./a.out');
}

/**
 * Refuses what the kernel cannot run, before booting: not ELF (or a `#!`
 * script), not x86-64, not an executable. A dynamically linked program is fine: the guest loads
 * its PT_INTERP loader from the guest's file system (and says which one is
 * missing if it is not there).
 */
export function checkProgram(bytes: Uint8Array, path: string): { dynamic: boolean } {
  // A script (`#!interpreter`): the guest runs its interpreter as Linux
  // does, and that interpreter is the host's, so it gets the host's view.
  if (bytes[0] === 0x23 && bytes[1] === 0x21) return { dynamic: true };
  let image;
  try {
    image = parseElf(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new NotExecutableError(path, `not a Linux x86-64 program: ${e.message}`);
    throw e;
  }
  if (image.type !== ET_EXEC && image.type !== ET_DYN) throw new NotExecutableError(path, 'not an executable ELF file');
  return { dynamic: image.interpreter !== undefined };
}

/** Where a dynamic program from outside the view's trees goes in the guest. */
export const OUTSIDE_PROGRAM_DIR = '/kvmos/bin';

export interface RootFs {
  initramfs: Uint8Array;
  /** Where the program is inside the guest. */
  programPath: string;
}

const ETC_PASSWD = 'root:x:0:0:root:/root:/bin/sh\n';
const ETC_GROUP = 'root:x:0:\n';

/**
 * The initramfs: the program, --file and --dir, mount points, a small /etc;
 * with `view` (a dynamic program) the default view's links and generated
 * /etc too, where the user's own --file, --dir and binds do not cover them,
 * and the program at its host path when the view's trees hold it.
 */
export function buildRootFs(cmd: ExecCommand, programHostPath: string, program: Uint8Array, view?: HostView): RootFs {
  const entries = new Map<string, CpioEntry>();
  const addDirs = (path: string) => {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!entries.has(dir)) entries.set(dir, { kind: 'dir', path: dir });
    }
  };
  const add = (e: CpioEntry) => {
    const key = e.path.split('/').filter(Boolean).join('/');
    addDirs(key);
    entries.set(key, { ...e, path: key });
  };
  for (const d of ['bin', 'etc', 'tmp', 'root']) add({ kind: 'dir', path: d });
  add({ kind: 'file', path: 'etc/passwd', data: Buffer.from(ETC_PASSWD) });
  add({ kind: 'file', path: 'etc/group', data: Buffer.from(ETC_GROUP) });

  let programPath = `/bin/${basename(programHostPath)}`;
  if (view === undefined) {
    add({ kind: 'file', path: programPath, data: program, mode: 0o755, mtime: mtimeOf(programHostPath) });
  } else {
    const user = [...cmd.files.map((f) => f.guest), ...cmd.dirs.map((d) => d.guest), ...cmd.binds.map((b) => b.guest)].map(key);
    // A user path at or under a view entry (--file /lib64/ld-linux...: the
    // lib64 link) or a user bind over it wins.
    const covered = (path: string) => user.some((u) => u === path || u.startsWith(`${path}/`) || path.startsWith(`${u}/`));
    for (const e of view.entries) if (!covered(key(e.path))) add(e);
    for (const b of viewBinds(cmd, view)) add({ kind: 'dir', path: key(b.guest) });
    const real = realpathSync(programHostPath);
    if (insideBinds(real, viewBinds(cmd, view))) {
      programPath = real;
    } else {
      programPath = `${OUTSIDE_PROGRAM_DIR}/${basename(programHostPath)}`;
      add({ kind: 'file', path: programPath, data: program, mode: 0o755, mtime: mtimeOf(programHostPath) });
    }
  }
  for (const f of cmd.files) {
    const st = statOrThrow(f.host, '--file');
    if (!st.isFile()) throw new InputFileError(f.host, 'not a regular file', 'use --dir for directories');
    add({ kind: 'file', path: f.guest, data: readOrThrow(f.host), mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) });
  }
  for (const d of cmd.dirs) {
    const st = statOrThrow(d.host, '--dir');
    if (!st.isDirectory()) throw new InputFileError(d.host, 'not a directory', 'use --file for a single file');
    addTree(d.host, d.guest, add);
  }
  // The mount points of --bind/--ro-bind: directories the guest mounts the host's over.
  for (const b of cmd.binds) {
    const key = b.guest.split('/').filter(Boolean).join('/');
    if (key === '') continue;
    const existing = entries.get(key);
    if (existing && existing.kind !== 'dir') {
      throw new UsageError(`${b.writable ? '--bind' : '--ro-bind'} ${b.host} ${b.guest}: ${b.guest} is a ${existing.kind} in the root file system (from --file or --dir), not a directory`);
    }
    if (!existing) add({ kind: 'dir', path: key });
  }
  // Mount points of --tmpfs: directories (the kernel mounts on them).
  for (const t of cmd.tmpfs) {
    const key = t.split('/').filter(Boolean).join('/');
    const there = entries.get(key);
    if (there === undefined) add({ kind: 'dir', path: key });
    else if (there.kind !== 'dir') throw new UsageError(`--tmpfs ${t}: the guest already has a file there (a tmpfs goes on a directory)`);
  }
  // What the host made up now (mount points, links, /etc) is dated now,
  // as a tmpfs bubblewrap builds would be.
  const now = Math.floor(Date.now() / 1000);
  for (const [k, e] of entries) if (e.mtime === undefined) entries.set(k, { ...e, mtime: now });
  // Parents before children: GNU cpio and the kernel both read in order.
  const sorted = [...entries.values()].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
  return { initramfs: buildCpio(sorted), programPath };
}

function addTree(host: string, guest: string, add: (e: CpioEntry) => void): void {
  const st = lstatSync(host);
  const mtime = Math.floor(st.mtimeMs / 1000);
  if (st.isSymbolicLink()) add({ kind: 'symlink', path: guest, target: readlinkSync(host), mtime });
  else if (st.isFile()) add({ kind: 'file', path: guest, data: readOrThrow(host), mode: st.mode & 0o7777, mtime });
  else if (st.isDirectory()) {
    if (guest !== '/') add({ kind: 'dir', path: guest, mode: st.mode & 0o7777, mtime });
    for (const name of readdirSync(host).sort()) addTree(join(host, name), `${guest === '/' ? '' : guest}/${name}`, add);
  }
  // Sockets, fifos and devices have no meaning in a read-only initramfs: left out.
}

/** The view's binds the user's own do not replace (a --ro-bind/--bind or --dir at the same guest path). */
export function viewBinds(cmd: ExecCommand, view: HostView): ViewBind[] {
  const user = new Set([...cmd.binds.map((b) => key(b.guest)), ...cmd.dirs.map((d) => key(d.guest))]);
  return view.binds.filter((b) => !user.has(key(b.guest)));
}

function key(path: string): string {
  return path.split('/').filter(Boolean).join('/');
}

function depth(p: string): number {
  return p.split('/').length;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function mtimeOf(p: string): number {
  return Math.floor(statSync(p).mtimeMs / 1000);
}

function statOrThrow(p: string, option: string) {
  try {
    return statSync(p);
  } catch (e) {
    throw new InputFileError(p, `cannot read (${(e as { code?: string }).code ?? String(e)})`, `check the ${option} path`);
  }
}

function readOrThrow(p: string): Buffer {
  try {
    return readFileSync(p);
  } catch (e) {
    throw new InputFileError(p, `cannot read (${(e as { code?: string }).code ?? String(e)})`, 'check its permissions');
  }
}
