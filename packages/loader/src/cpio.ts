/**
 * The initramfs: a cpio archive in the "newc" format (the one Linux's
 * initramfs uses: `cpio -H newc`), built by the host from files it is given.
 * Pure: entries in, bytes out; reading a directory is the caller's job.
 */

export type CpioEntry =
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number; mtime?: number }
  | { kind: 'dir'; path: string; mode?: number; mtime?: number }
  | { kind: 'symlink'; path: string; target: string; mtime?: number }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number; mtime?: number };

export class CpioError extends Error {
  override name = 'CpioError';
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';
/** Each header field is 8 hex digits: sizes and numbers above this do not fit. */
const U32_MAX = 0xffff_ffff;

/** Builds a newc archive. Paths are relative (`bin/sh`), parents before children is the caller's order. */
export function buildCpio(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    size += b.length;
  };
  const pad4 = () => {
    if (size % 4) push(new Uint8Array(4 - (size % 4)));
  };
  const seen = new Set<string>();
  let ino = 1;
  for (const e of entries) {
    const path = normalizePath(e.path);
    // A reader stops at the first entry of this name: everything after it would silently vanish.
    if (path === TRAILER) throw new CpioError(`${TRAILER} cannot be a path in the initramfs: it is the name that ends a cpio archive`);
    if (seen.has(path)) throw new CpioError(`duplicate path in initramfs: ${path}`);
    seen.add(path);
    const { mode, data, rdevmajor, rdevminor } = describe(e);
    writeEntry(push, pad4, path, { ino: ino++, mode, nlink: e.kind === 'dir' ? 2 : 1, mtime: e.mtime ?? 0, rdevmajor, rdevminor }, data);
  }
  writeEntry(push, pad4, TRAILER, { ino: 0, mode: 0, nlink: 1, mtime: 0, rdevmajor: 0, rdevminor: 0 }, new Uint8Array(0));
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function describe(e: CpioEntry): { mode: number; data: Uint8Array; rdevmajor: number; rdevminor: number } {
  switch (e.kind) {
    case 'file':
      return { mode: S_IFREG | ((e.mode ?? 0o644) & 0o7777), data: e.data, rdevmajor: 0, rdevminor: 0 };
    case 'dir':
      return { mode: S_IFDIR | ((e.mode ?? 0o755) & 0o7777), data: new Uint8Array(0), rdevmajor: 0, rdevminor: 0 };
    case 'symlink':
      if (e.target.length === 0) throw new CpioError(`symlink ${e.path} has an empty target`);
      return { mode: S_IFLNK | 0o777, data: new TextEncoder().encode(e.target), rdevmajor: 0, rdevminor: 0 };
    case 'chardev':
      return { mode: S_IFCHR | ((e.mode ?? 0o666) & 0o7777), data: new Uint8Array(0), rdevmajor: e.major, rdevminor: e.minor };
  }
}

function normalizePath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.length === 0) throw new CpioError(`empty path in initramfs: '${p}'`);
  if (parts.includes('..')) throw new CpioError(`'..' in initramfs path: ${p}`);
  const path = parts.join('/');
  if (path.includes('\0')) throw new CpioError(`NUL in initramfs path: ${JSON.stringify(p)}`);
  return path;
}

function writeEntry(
  push: (b: Uint8Array) => void,
  pad4: () => void,
  name: string,
  h: { ino: number; mode: number; nlink: number; mtime: number; rdevmajor: number; rdevminor: number },
  data: Uint8Array,
): void {
  const nameBytes = new TextEncoder().encode(name + '\0');
  if (data.length > U32_MAX) throw new CpioError(`${name} is ${data.length} bytes: too big for cpio newc`);
  const fields = [h.ino, h.mode, 0, 0, h.nlink, h.mtime, data.length, 0, 0, h.rdevmajor, h.rdevminor, nameBytes.length, 0];
  const header = '070701' + fields.map((v) => (v >>> 0).toString(16).padStart(8, '0')).join('');
  push(new TextEncoder().encode(header));
  push(nameBytes);
  pad4();
  push(data);
  pad4();
}
