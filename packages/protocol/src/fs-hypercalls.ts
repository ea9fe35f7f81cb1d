/**
 * Host directories in the guest (docs/protocol.md, "Host directories"):
 * the `fs` port takes the guest-physical address of an FsRequest. A
 * request names a mount (`bind=` words of the command line) and a path
 * relative to that mount's root; the host answers with `result` (>= 0, or
 * `-errno` with Linux's numbers) and, for the ops that return data, the
 * bytes it wrote into the request's buffer.
 *
 * Decoders look only at bytes (the host checks addresses with
 * `checkRange`); they refuse what no correct kernel sends, so a refused
 * request is a kernel bug that stops the guest, never an errno.
 */
import { ProtocolError } from './errors.js';
import { hex, requireSize, setI64, setU32, setU64, view, I64_MAX } from './binary.js';

/** FsRequest: 80 bytes, 8-byte aligned. */
export const FS_REQUEST_SIZE = 80;
/** Where the host stores the i64 result, from the start of an FsRequest. */
export const FS_REQUEST_RESULT_OFFSET = 8;
/** Longest path (either of the two), in bytes, as Linux's PATH_MAX without the NUL. */
export const FS_PATH_MAX = 4096;
/** Longest single name of a path, as Linux's NAME_MAX. */
export const FS_NAME_MAX = 255;
/** Most bytes one read, write, readdir or readlink moves: bounds what the host allocates and copies. */
export const FS_DATA_MAX = 0x10_0000;
/** The most mounts a guest can be told about (mount ids 0..FS_MOUNTS_MAX-1). */
export const FS_MOUNTS_MAX = 64;

/** FsRequest.op */
export const FS_OP = {
  lstat: 0,
  readdir: 1,
  readlink: 2,
  read: 3,
  write: 4,
  create: 5,
  mkdir: 6,
  unlink: 7,
  rmdir: 8,
  rename: 9,
  link: 10,
  symlink: 11,
  truncate: 12,
  utimens: 13,
  chmod: 14,
  statfs: 15,
  fsync: 16,
} as const;
export type FsOp = (typeof FS_OP)[keyof typeof FS_OP];
export type FsOpName = keyof typeof FS_OP;

/** FsRequest.flags of write: append at the end of the file (`offset` must be 0). */
export const FS_WRITE_APPEND = 1;
/** FsRequest.flags of create: fail with EEXIST if the name exists (O_EXCL). */
export const FS_CREATE_EXCL = 1;
/** FsRequest.flags of create: truncate an existing regular file to 0 bytes (O_TRUNC). */
export const FS_CREATE_TRUNC = 2;
/** FsRequest.flags of fsync: data only (fdatasync). */
export const FS_FSYNC_DATA = 1;

/** HostStat: what lstat writes into the buffer (bufLen must be exactly this). */
export const FS_STAT_SIZE = 112;
/** HostStatfs: what statfs writes into the buffer (bufLen must be exactly this). */
export const FS_STATFS_SIZE = 88;
/** utimens reads `struct timespec[2]` (atime, mtime) from the buffer: 32 bytes. */
export const FS_TIMES_SIZE = 32;
/** Timespec nsec values of utimens, as Linux's utimensat. */
export const UTIME_NOW = 0x3fff_ffff;
export const UTIME_OMIT = 0x3fff_fffe;
/** A readdir record: `linux_dirent64`'s layout (u64 ino, u64 next, u16 reclen, u8 type, name, NUL, padding to 8). */
export const FS_DIRENT_HEADER = 19;
/** HostStatfs.flags bit of a read-only mount (ST_RDONLY). */
export const FS_STATFS_RDONLY = 1n;

/** Which fields each op uses: path2, buffer direction, flags it accepts, mode, offset. */
interface OpShape {
  /** path2 is a second relative path (rename, link) or a symlink's target. */
  path2: 'none' | 'relative' | 'target';
  /** The buffer: none; exactly `size` bytes; or 1..FS_DATA_MAX bytes. Host-written unless `in`. */
  buf: 'none' | { exact: number; in: boolean } | { upTo: number; in: boolean };
  flags: number;
  mode: boolean;
  offset: boolean;
  /** The op changes the mount: refused with EROFS on a read-only one. */
  modifies: boolean;
}

const DATA_OUT = { upTo: FS_DATA_MAX, in: false } as const;

export const FS_OP_SHAPE: Readonly<Record<FsOpName, OpShape>> = {
  lstat: { path2: 'none', buf: { exact: FS_STAT_SIZE, in: false }, flags: 0, mode: false, offset: false, modifies: false },
  readdir: { path2: 'none', buf: DATA_OUT, flags: 0, mode: false, offset: true, modifies: false },
  readlink: { path2: 'none', buf: DATA_OUT, flags: 0, mode: false, offset: false, modifies: false },
  read: { path2: 'none', buf: DATA_OUT, flags: 0, mode: false, offset: true, modifies: false },
  write: { path2: 'none', buf: { upTo: FS_DATA_MAX, in: true }, flags: FS_WRITE_APPEND, mode: false, offset: true, modifies: true },
  create: { path2: 'none', buf: 'none', flags: FS_CREATE_EXCL | FS_CREATE_TRUNC, mode: true, offset: false, modifies: true },
  mkdir: { path2: 'none', buf: 'none', flags: 0, mode: true, offset: false, modifies: true },
  unlink: { path2: 'none', buf: 'none', flags: 0, mode: false, offset: false, modifies: true },
  rmdir: { path2: 'none', buf: 'none', flags: 0, mode: false, offset: false, modifies: true },
  rename: { path2: 'relative', buf: 'none', flags: 0, mode: false, offset: false, modifies: true },
  link: { path2: 'relative', buf: 'none', flags: 0, mode: false, offset: false, modifies: true },
  symlink: { path2: 'target', buf: 'none', flags: 0, mode: false, offset: false, modifies: true },
  truncate: { path2: 'none', buf: 'none', flags: 0, mode: false, offset: true, modifies: true },
  utimens: { path2: 'none', buf: { exact: FS_TIMES_SIZE, in: true }, flags: 0, mode: false, offset: false, modifies: true },
  chmod: { path2: 'none', buf: 'none', flags: 0, mode: true, offset: false, modifies: true },
  statfs: { path2: 'none', buf: { exact: FS_STATFS_SIZE, in: false }, flags: 0, mode: false, offset: false, modifies: false },
  fsync: { path2: 'none', buf: 'none', flags: FS_FSYNC_DATA, mode: false, offset: false, modifies: false },
};

const OP_NAMES = Object.keys(FS_OP) as FsOpName[];

export function fsOpName(op: FsOp): FsOpName {
  return OP_NAMES[op]!;
}

/** The FsRequest struct (docs/protocol.md, "Host directories"). */
export interface FsRequest {
  op: FsOp;
  /** Mount id: the position of its `bind=` word, 0 first. */
  mount: number;
  /** Written by the host: >= 0, or -errno. */
  result: bigint;
  pathAddr: bigint;
  pathLen: number;
  path2Len: number;
  path2Addr: bigint;
  bufAddr: bigint;
  bufLen: bigint;
  /** read/write: file offset; readdir: cookie (0 = start); truncate: new size. */
  offset: bigint;
  flags: number;
  /** create, mkdir, chmod: permission bits (at most 0o7777). */
  mode: number;
}

export function decodeFsRequest(bytes: Uint8Array): FsRequest {
  requireSize(bytes, FS_REQUEST_SIZE, 'FsRequest');
  const dv = view(bytes);
  const opValue = dv.getUint32(0, true);
  if (opValue >= OP_NAMES.length) throw new ProtocolError('op', `${opValue} is not an fs op (0..${OP_NAMES.length - 1})`);
  const op = opValue as FsOp;
  const shape = FS_OP_SHAPE[fsOpName(op)];
  const r: FsRequest = {
    op,
    mount: dv.getUint32(4, true),
    result: dv.getBigInt64(FS_REQUEST_RESULT_OFFSET, true),
    pathAddr: dv.getBigUint64(16, true),
    pathLen: dv.getUint32(24, true),
    path2Len: dv.getUint32(28, true),
    path2Addr: dv.getBigUint64(32, true),
    bufAddr: dv.getBigUint64(40, true),
    bufLen: dv.getBigUint64(48, true),
    offset: dv.getBigUint64(56, true),
    flags: dv.getUint32(64, true),
    mode: dv.getUint32(68, true),
  };
  if (r.mount >= FS_MOUNTS_MAX) throw new ProtocolError('mount', `${r.mount} is not below ${FS_MOUNTS_MAX}`);
  if (r.pathLen > FS_PATH_MAX) throw new ProtocolError('pathLen', `${r.pathLen} exceeds ${FS_PATH_MAX}`);
  if (shape.path2 === 'none') {
    if (r.path2Len !== 0 || r.path2Addr !== 0n) throw new ProtocolError('path2Len', `op ${fsOpName(op)} takes no second path`);
  } else if (r.path2Len > FS_PATH_MAX || (shape.path2 === 'target' && r.path2Len === 0)) {
    throw new ProtocolError('path2Len', `${r.path2Len} is not a valid length for op ${fsOpName(op)}`);
  }
  const buf = shape.buf;
  if (buf === 'none') {
    if (r.bufLen !== 0n || r.bufAddr !== 0n) throw new ProtocolError('bufLen', `op ${fsOpName(op)} takes no buffer`);
  } else if ('exact' in buf ? r.bufLen !== BigInt(buf.exact) : r.bufLen < 1n || r.bufLen > BigInt(buf.upTo)) {
    const want = 'exact' in buf ? `exactly ${buf.exact}` : `1..${buf.upTo}`;
    throw new ProtocolError('bufLen', `${r.bufLen} is not ${want} for op ${fsOpName(op)}`);
  }
  if (!shape.offset && r.offset !== 0n) throw new ProtocolError('offset', `op ${fsOpName(op)} takes no offset`);
  if (r.offset > I64_MAX) throw new ProtocolError('offset', `${hex(r.offset)} exceeds i64`);
  if (op === FS_OP.write && r.flags & FS_WRITE_APPEND && r.offset !== 0n) {
    throw new ProtocolError('offset', 'must be 0 with FS_WRITE_APPEND');
  }
  if (r.flags & ~shape.flags) throw new ProtocolError('flags', `unknown bits ${hex(r.flags & ~shape.flags)} for op ${fsOpName(op)}`);
  if (shape.mode ? r.mode > 0o7777 : r.mode !== 0) throw new ProtocolError('mode', `${hex(r.mode)} is not valid for op ${fsOpName(op)}`);
  const reserved = dv.getBigUint64(72, true);
  if (reserved !== 0n) throw new ProtocolError('reserved', `must be 0, got ${hex(reserved)}`);
  return r;
}

export function encodeFsRequest(r: FsRequest): Uint8Array {
  const out = new Uint8Array(FS_REQUEST_SIZE);
  const dv = view(out);
  setU32(dv, 0, r.op, 'op');
  setU32(dv, 4, r.mount, 'mount');
  setI64(dv, 8, r.result, 'result');
  setU64(dv, 16, r.pathAddr, 'pathAddr');
  setU32(dv, 24, r.pathLen, 'pathLen');
  setU32(dv, 28, r.path2Len, 'path2Len');
  setU64(dv, 32, r.path2Addr, 'path2Addr');
  setU64(dv, 40, r.bufAddr, 'bufAddr');
  setU64(dv, 48, r.bufLen, 'bufLen');
  setU64(dv, 56, r.offset, 'offset');
  setU32(dv, 64, r.flags, 'flags');
  setU32(dv, 68, r.mode, 'mode');
  return out;
}

/**
 * The names of a path relative to a mount's root: empty (the root itself),
 * or names separated by single `/`, none empty, `.` or `..`, longer than
 * FS_NAME_MAX, or holding a NUL; no leading or trailing `/`. The guest
 * resolves `.`, `..` and symlinks itself, so anything else is a kernel bug.
 */
export function splitRelativePath(bytes: Uint8Array, field = 'path'): Buffer[] {
  if (bytes.byteLength > FS_PATH_MAX) throw new ProtocolError(field, `${bytes.byteLength} bytes exceed ${FS_PATH_MAX}`);
  if (bytes.byteLength === 0) return [];
  const names: Buffer[] = [];
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  for (let i = 0; i <= buf.length; i++) {
    if (i < buf.length && buf[i] !== 0x2f) {
      if (buf[i] === 0) throw new ProtocolError(field, `contains a NUL byte at offset ${i}`);
      continue;
    }
    const name = buf.subarray(start, i);
    if (name.length === 0) throw new ProtocolError(field, `has an empty name at offset ${start} (a leading, trailing or double '/')`);
    if (name.length > FS_NAME_MAX) throw new ProtocolError(field, `has a name of ${name.length} bytes, more than ${FS_NAME_MAX}`);
    if (name.equals(DOT) || name.equals(DOTDOT)) throw new ProtocolError(field, `has a '${name.toString()}' name at offset ${start}`);
    names.push(name);
    start = i + 1;
  }
  return names;
}

/** A symlink's target: any bytes but NUL, 1..FS_PATH_MAX (Linux stores what it is given). */
export function checkSymlinkTarget(bytes: Uint8Array, field = 'path2'): void {
  if (bytes.byteLength === 0 || bytes.byteLength > FS_PATH_MAX) throw new ProtocolError(field, `a target of ${bytes.byteLength} bytes`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new ProtocolError(field, `contains a NUL byte at offset ${nul}`);
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');

/** What lstat returns (HostStat, 112 bytes): Linux `struct stat`'s fields, times with nanoseconds. */
export interface HostStat {
  ino: bigint;
  dev: bigint;
  rdev: bigint;
  size: bigint;
  /** In 512-byte units, as st_blocks. */
  blocks: bigint;
  blksize: number;
  /** File type and permission bits, as st_mode. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
  ctimeSec: bigint;
  ctimeNsec: bigint;
}

export function encodeHostStat(s: HostStat): Uint8Array {
  const out = new Uint8Array(FS_STAT_SIZE);
  const dv = view(out);
  setU64(dv, 0, s.ino, 'ino');
  setU64(dv, 8, s.dev, 'dev');
  setU64(dv, 16, s.rdev, 'rdev');
  setI64(dv, 24, s.size, 'size');
  setI64(dv, 32, s.blocks, 'blocks');
  setU32(dv, 40, s.blksize, 'blksize');
  setU32(dv, 44, s.mode, 'mode');
  setU32(dv, 48, s.nlink, 'nlink');
  setU32(dv, 52, s.uid, 'uid');
  setU32(dv, 56, s.gid, 'gid');
  setI64(dv, 64, s.atimeSec, 'atimeSec');
  setI64(dv, 72, s.atimeNsec, 'atimeNsec');
  setI64(dv, 80, s.mtimeSec, 'mtimeSec');
  setI64(dv, 88, s.mtimeNsec, 'mtimeNsec');
  setI64(dv, 96, s.ctimeSec, 'ctimeSec');
  setI64(dv, 104, s.ctimeNsec, 'ctimeNsec');
  return out;
}

export function decodeHostStat(bytes: Uint8Array): HostStat {
  requireSize(bytes, FS_STAT_SIZE, 'HostStat');
  const dv = view(bytes);
  const u = (at: number) => dv.getBigUint64(at, true);
  const i = (at: number) => dv.getBigInt64(at, true);
  return {
    ino: u(0), dev: u(8), rdev: u(16), size: i(24), blocks: i(32),
    blksize: dv.getUint32(40, true), mode: dv.getUint32(44, true), nlink: dv.getUint32(48, true),
    uid: dv.getUint32(52, true), gid: dv.getUint32(56, true),
    atimeSec: i(64), atimeNsec: i(72), mtimeSec: i(80), mtimeNsec: i(88), ctimeSec: i(96), ctimeNsec: i(104),
  };
}

/** What statfs returns (HostStatfs, 88 bytes): Linux `struct statfs`'s fields. */
export interface HostStatfs {
  type: bigint;
  bsize: bigint;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  fsid: bigint;
  namelen: bigint;
  frsize: bigint;
  /** ST_* mount flags; bit 0 (ST_RDONLY) is set for a read-only mount. */
  flags: bigint;
}

const STATFS_FIELDS = ['type', 'bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree', 'fsid', 'namelen', 'frsize', 'flags'] as const;

export function encodeHostStatfs(s: HostStatfs): Uint8Array {
  const out = new Uint8Array(FS_STATFS_SIZE);
  const dv = view(out);
  STATFS_FIELDS.forEach((f, i) => setU64(dv, i * 8, s[f], f));
  return out;
}

export function decodeHostStatfs(bytes: Uint8Array): HostStatfs {
  requireSize(bytes, FS_STATFS_SIZE, 'HostStatfs');
  const dv = view(bytes);
  const out = {} as Record<(typeof STATFS_FIELDS)[number], bigint>;
  STATFS_FIELDS.forEach((f, i) => (out[f] = dv.getBigUint64(i * 8, true)));
  return out;
}

/** One readdir record. */
export interface FsDirent {
  ino: bigint;
  /** The cookie that resumes readdir after this entry. */
  next: bigint;
  /** DT_* (Linux's d_type): 1 fifo, 2 chr, 4 dir, 6 blk, 8 reg, 10 lnk, 12 sock, 0 unknown. */
  type: number;
  name: Buffer;
}

/** Bytes of the record of a name of `nameLen` bytes (header, name, NUL, padded to 8). */
export function direntSize(nameLen: number): number {
  return (FS_DIRENT_HEADER + nameLen + 1 + 7) & ~7;
}

/** Appends one record at `at` of `out`; returns its size. The caller checked it fits. */
export function encodeDirent(out: Uint8Array, at: number, d: FsDirent): number {
  const size = direntSize(d.name.length);
  const dv = view(out);
  setU64(dv, at, d.ino, 'ino');
  setU64(dv, at + 8, d.next, 'next');
  dv.setUint16(at + 16, size, true);
  out[at + 18] = d.type;
  out.set(d.name, at + FS_DIRENT_HEADER);
  out.fill(0, at + FS_DIRENT_HEADER + d.name.length, at + size);
  return size;
}

/** The records of `bytes` (what a readdir wrote: `result` bytes). */
export function decodeDirents(bytes: Uint8Array): FsDirent[] {
  const dv = view(bytes);
  const out: FsDirent[] = [];
  for (let at = 0; at < bytes.byteLength; ) {
    if (at + FS_DIRENT_HEADER > bytes.byteLength) throw new ProtocolError('dirent', `a record header at ${at} is cut off`);
    const reclen = dv.getUint16(at + 16, true);
    if (reclen < direntSize(0) || reclen % 8 !== 0 || at + reclen > bytes.byteLength) {
      throw new ProtocolError('dirent', `reclen ${reclen} at ${at} is not valid`);
    }
    const nameBytes = Buffer.from(bytes.buffer, bytes.byteOffset + at + FS_DIRENT_HEADER, reclen - FS_DIRENT_HEADER);
    const nul = nameBytes.indexOf(0);
    if (nul <= 0) throw new ProtocolError('dirent', `the name at ${at} is empty or not NUL-terminated`);
    out.push({ ino: dv.getBigUint64(at, true), next: dv.getBigUint64(at + 8, true), type: bytes[at + 18]!, name: Buffer.from(nameBytes.subarray(0, nul)) });
    at += reclen;
  }
  return out;
}

/** One `bind=` word of the kernel command line (docs/protocol.md, "Host directories"). */
export interface BindWord {
  mount: number;
  writable: boolean;
  /** Absolute guest path of the mount point: no spaces (the command line splits on them), no commas needed. */
  guestPath: string;
}

/** `bind=<id>,<ro|rw>,<guest path>`: the word for the command line. */
export function bindWord(b: BindWord): string {
  if (!Number.isInteger(b.mount) || b.mount < 0 || b.mount >= FS_MOUNTS_MAX) throw new ProtocolError('mount', `${b.mount} is not in 0..${FS_MOUNTS_MAX - 1}`);
  if (!b.guestPath.startsWith('/')) throw new ProtocolError('guestPath', `'${b.guestPath}' is not absolute`);
  if (/[\s\0]/.test(b.guestPath)) throw new ProtocolError('guestPath', `'${b.guestPath}' contains a space or NUL (the command line splits on spaces)`);
  return `bind=${b.mount},${b.writable ? 'rw' : 'ro'},${b.guestPath}`;
}

/** The value of a `bind=` word back (the Rust side parses the same). */
export function parseBindValue(value: string): BindWord {
  const m = /^(0|[1-9][0-9]?),(ro|rw),(\/.*)$/.exec(value);
  if (!m || Number(m[1]) >= FS_MOUNTS_MAX) throw new ProtocolError('bind', `'${value}' is not <id>,<ro|rw>,</guest/path>`);
  return { mount: Number(m[1]), writable: m[2] === 'rw', guestPath: m[3]! };
}
