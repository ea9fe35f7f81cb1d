/**
 * The host side of "Host directories in the guest" (docs/protocol.md):
 * a table of mounts (id -> a host directory, read-only or writable) and
 * the server of the `fs` port.
 *
 * Safety is the point. The guest resolves `.`, `..` and symlinks itself
 * and only ever names real directories, so the host follows nothing:
 * every path is opened below the mount's root with openat2 and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, which
 * fails (ELOOP, EXDEV) instead of following a symlink anywhere in it, even
 * one swapped in between two requests. Operations on a final name (lstat,
 * readlink, unlink, rename, mkdir, symlink, link, chmod, utimens) act on
 * that one validated name relative to its parent directory opened that
 * way, with the *at calls in their no-follow forms. Every fd opened for a
 * request is closed before the request returns.
 */
import { constants as fsConstants, fchmodSync, fstatSync, readSync, writeSync } from 'node:fs';
import { fsCalls as c } from '@kvmos/kvm';
import {
  FS_CREATE_EXCL,
  FS_CREATE_TRUNC,
  FS_DIRENT_HEADER,
  FS_FSYNC_DATA,
  FS_MOUNTS_MAX,
  FS_OP_SHAPE,
  FS_STATFS_RDONLY,
  FS_WRITE_APPEND,
  encodeDirent,
  encodeHostStat,
  encodeHostStatfs,
  type HostStat,
} from '@kvmos/protocol';
import type { FsCall } from './hypercalls.js';
import { GuestRequestError, HostFsError } from './errors.js';

/** Linux errno values the server produces itself (the rest come from the host's calls). */
export const ERRNO = {
  EPERM: 1, ENOENT: 2, EIO: 5, ENXIO: 6, EBADF: 9, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EFBIG: 27,
  ENOSPC: 28, EROFS: 30, ENOSYS: 38, ELOOP: 40, EBUSY: 16, EACCES: 13,
} as const;

const { S_IFMT, S_IFDIR, S_IFREG } = fsConstants;

/** openat2's resolve flags for every path the guest names. */
const RESOLVE = c.RESOLVE_BENEATH | c.RESOLVE_NO_SYMLINKS | c.RESOLVE_NO_MAGICLINKS;

export interface HostMount {
  /** The host directory (the user's; resolved normally, once, when the table opens). */
  host: string;
  /** Absolute guest path of the mount point. */
  guest: string;
  writable: boolean;
}

/** A guest-caused failure inside a request: becomes `-errno` in the result. */
class Errno extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

interface Root {
  fd: number;
  mount: HostMount;
}

/** The mount table and the `fs` port's server. */
export class HostFs {
  private closed = false;

  private constructor(private readonly roots: Root[]) {}

  /** Opens each mount's directory (O_PATH); mount ids are positions in `mounts`. */
  static open(mounts: readonly HostMount[]): HostFs {
    if (mounts.length > FS_MOUNTS_MAX) throw new HostFsError(`${mounts.length} mounts`, ERRNO.EINVAL, `at most ${FS_MOUNTS_MAX}`);
    const roots: Root[] = [];
    try {
      for (const mount of mounts) {
        const r = c.openat2(c.AT_FDCWD, Buffer.from(mount.host), c.O_PATH | c.O_DIRECTORY, 0, 0);
        if (r.value < 0) {
          const hint = r.errno === ERRNO.ENOSYS
            ? 'host directories need openat2, Linux 5.6 or newer'
            : r.errno === ERRNO.ENOTDIR ? 'give a directory' : 'check the path and its permissions';
          throw new HostFsError(`open ${mount.host}`, r.errno, hint);
        }
        roots.push({ fd: r.value, mount });
      }
    } catch (e) {
      for (const r of roots) c.sysClose(r.fd);
      throw e;
    }
    return new HostFs(roots);
  }

  get mounts(): readonly HostMount[] {
    return this.roots.map((r) => r.mount);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.roots) c.sysClose(r.fd);
  }

  /**
   * Performs one decoded request and returns its result: >= 0, or -errno.
   * A mount id the guest was never told about is a kernel bug (GuestRequestError).
   */
  handle(call: FsCall): bigint {
    const root = this.roots[call.mount];
    if (!root || this.closed) throw new GuestRequestError(`fs ${call.op} on mount ${call.mount}, which does not exist (${this.roots.length} mounts)`);
    if (FS_OP_SHAPE[call.op].modifies && !root.mount.writable) return -BigInt(ERRNO.EROFS);
    try {
      return BigInt(new Request(root).run(call));
    } catch (e) {
      if (e instanceof Errno) return -BigInt(e.errno);
      // Node's fs calls on our fds report the host errno (negative in Node).
      const errno = (e as { errno?: unknown }).errno;
      if (typeof errno === 'number' && errno !== 0) return -BigInt(Math.abs(errno));
      throw e;
    }
  }
}

/** One request: tracks the fds it opens and closes them all at the end. */
class Request {
  private readonly fds: number[] = [];

  constructor(private readonly root: Root) {}

  run(call: FsCall): number {
    try {
      return this.perform(call);
    } finally {
      for (const fd of this.fds) c.sysClose(fd);
    }
  }

  private perform(call: FsCall): number {
    const { path } = call;
    switch (call.op) {
      case 'lstat': {
        const st = path.length === 0 ? ok(c.fstatat(this.root.fd, EMPTY, c.AT_EMPTY_PATH)) : this.atParent(path, (d, n) => ok(c.fstatat(d, n, c.AT_SYMLINK_NOFOLLOW)));
        buffer(call).set(encodeHostStat(hostStat(st.stat!)));
        return 0;
      }
      case 'readdir':
        return this.readdir(this.open(path, c.O_RDONLY | c.O_DIRECTORY), call.offset, buffer(call));
      case 'readlink': {
        if (path.length === 0) throw new Errno(ERRNO.EINVAL);
        const target = this.atParent(path, (d, n) => ok(c.readlinkat(d, n))).target!;
        const buf = buffer(call);
        // As readlink(2): the target cut to the buffer, no NUL.
        return target.copy(buf, 0, 0, Math.min(target.length, buf.length));
      }
      case 'read':
        return readWhole(this.openFile(path, c.O_RDONLY), buffer(call), call.offset);
      case 'write': {
        const append = (call.flags & FS_WRITE_APPEND) !== 0;
        // Node takes write positions as doubles; no host file system holds files near 2^53 bytes anyway.
        if (call.offset + BigInt(buffer(call).length) > BigInt(Number.MAX_SAFE_INTEGER)) throw new Errno(ERRNO.EFBIG);
        const fd = this.openFile(path, c.O_WRONLY | (append ? c.O_APPEND : 0));
        return writeWhole(fd, buffer(call), append ? null : call.offset);
      }
      case 'create':
        return this.create(path, call.flags, call.mode);
      case 'mkdir':
        if (path.length === 0) throw new Errno(ERRNO.EEXIST);
        return this.atParent(path, (d, n) => {
          ok(c.mkdirat(d, n, call.mode));
          // The host's umask must not change the guest's mode: set it exactly (no-follow: a directory, just made).
          ok(c.fchmodat(d, n, call.mode, c.AT_SYMLINK_NOFOLLOW));
          return 0;
        });
      case 'unlink':
      case 'rmdir':
        if (path.length === 0) throw new Errno(ERRNO.EBUSY);
        return this.atParent(path, (d, n) => ok(c.unlinkat(d, n, call.op === 'rmdir' ? c.AT_REMOVEDIR : 0)).value);
      case 'rename':
      case 'link': {
        const to = call.path2!;
        if (path.length === 0) throw new Errno(call.op === 'rename' ? ERRNO.EBUSY : ERRNO.EPERM);
        if (to.length === 0) throw new Errno(call.op === 'rename' ? ERRNO.EBUSY : ERRNO.EEXIST);
        return this.atParent(path, (d1, n1) =>
          this.atParent(to, (d2, n2) => ok(call.op === 'rename' ? c.renameat(d1, n1, d2, n2) : c.linkat(d1, n1, d2, n2)).value),
        );
      }
      case 'symlink':
        if (path.length === 0) throw new Errno(ERRNO.EEXIST);
        return this.atParent(path, (d, n) => ok(c.symlinkat(call.target!, d, n)).value);
      case 'truncate': {
        if (call.offset > BigInt(Number.MAX_SAFE_INTEGER)) throw new Errno(ERRNO.EFBIG);
        return ok(c.ftruncate(this.openFile(path, c.O_WRONLY), Number(call.offset))).value;
      }
      case 'utimens':
        if (path.length === 0) return ok(c.utimensat(c.AT_FDCWD, procFd(this.root.fd), buffer(call), 0)).value;
        return this.atParent(path, (d, n) => ok(c.utimensat(d, n, buffer(call), c.AT_SYMLINK_NOFOLLOW)).value);
      case 'chmod':
        // The root fd is O_PATH of a directory: its /proc/self/fd link reaches exactly it.
        if (path.length === 0) return ok(c.fchmodat(c.AT_FDCWD, procFd(this.root.fd), call.mode, 0)).value;
        // No-follow: EOPNOTSUPP on a symlink, as Linux's lchmod.
        return this.atParent(path, (d, n) => ok(c.fchmodat(d, n, call.mode, c.AT_SYMLINK_NOFOLLOW)).value);
      case 'statfs': {
        const st = ok(c.fstatfs(this.open(path, c.O_PATH))).statfs!;
        buffer(call).set(encodeHostStatfs(hostStatfs(st, this.root.mount.writable)));
        return 0;
      }
      case 'fsync':
        return ok(c.fsync(this.openFile(path, c.O_RDONLY, true), (call.flags & FS_FSYNC_DATA) !== 0)).value;
    }
  }

  /**
   * openat2 below the root, following nothing: RESOLVE_NO_SYMLINKS makes
   * a symlink anywhere, the last name included, ELOOP. (Not O_NOFOLLOW:
   * with O_PATH it would open the symlink itself.)
   */
  private open(names: Buffer[], flags: number, mode = 0): number {
    const rel = names.length === 0 ? DOT : join(names);
    const fd = ok(c.openat2(this.root.fd, rel, flags, mode, RESOLVE)).value;
    this.fds.push(fd);
    return fd;
  }

  /**
   * A regular file's (or, with `dirs`, a directory's) fd for its data.
   * The host moves data of regular files only: a directory is EISDIR,
   * anything else (a device, a FIFO, a socket) ENXIO. The type is checked
   * on an O_PATH fd before anything is really opened, so a guest never
   * makes the host open a device (opening one can act: a watchdog, a tape)
   * or block on a FIFO; the open then goes through that fd's
   * /proc/self/fd link, which reaches exactly the inode checked.
   */
  private openFile(names: Buffer[], flags: number, dirs = false): number {
    const pathFd = this.open(names, c.O_PATH);
    const type = fstatSync(pathFd).mode & S_IFMT;
    if (type === S_IFDIR && !dirs) throw new Errno(ERRNO.EISDIR);
    if (type !== S_IFREG && type !== S_IFDIR) throw new Errno(ERRNO.ENXIO);
    // No resolve flags: following this one magic link is the point.
    const fd = ok(c.openat2(c.AT_FDCWD, procFd(pathFd), flags | c.O_NONBLOCK, 0, 0)).value;
    this.fds.push(fd);
    return fd;
  }

  /** Calls `f` with the parent directory of `names` (opened as `open` does) and the last name. */
  private atParent<T>(names: Buffer[], f: (dirfd: number, name: Buffer) => T): T {
    const parent = names.slice(0, -1);
    const dirfd = parent.length === 0 ? this.root.fd : this.open(parent, c.O_PATH | c.O_DIRECTORY);
    return f(dirfd, names[names.length - 1]!);
  }

  private create(names: Buffer[], flags: number, mode: number): number {
    if (names.length === 0) throw new Errno(ERRNO.EEXIST);
    const excl = (flags & FS_CREATE_EXCL) !== 0;
    const access = flags & FS_CREATE_TRUNC ? c.O_WRONLY | c.O_TRUNC : c.O_RDONLY;
    // O_EXCL first, so the host knows whether it made the file and must set its mode exactly (past its umask).
    const made = c.openat2(this.root.fd, join(names), access | c.O_CREAT | c.O_EXCL, mode, RESOLVE);
    if (made.value >= 0) {
      this.fds.push(made.value);
      fchmodSync(made.value, mode);
      return 0;
    }
    if (made.errno !== ERRNO.EEXIST || excl) throw new Errno(made.errno);
    // It exists. Look without opening it (O_PATH: no device or FIFO is opened; a symlink is ELOOP).
    const type = fstatSync(this.open(names, c.O_PATH)).mode & S_IFMT;
    if (type === S_IFDIR) throw new Errno(ERRNO.EISDIR);
    if (flags & FS_CREATE_TRUNC) this.openFile(names, c.O_WRONLY | c.O_TRUNC);
    return 0;
  }

  /**
   * Records from `cookie` on, `.` and `..` left out (the guest makes its
   * own), as many as fit in `buf`; bytes written, 0 at the end; EINVAL if
   * not even the next one fits (as getdents64).
   */
  private readdir(fd: number, cookie: bigint, buf: Buffer): number {
    if (cookie !== 0n) {
      const r = c.lseekSet(fd, cookie);
      if (r.value < 0n) throw new Errno(r.errno);
    }
    let written = 0;
    let tooSmall = false;
    for (;;) {
      // Host records are the same size as ours: a batch no larger than the room left fits whole.
      const r = c.getdents64(fd, buf.length - written);
      if (r.value < 0) {
        // EINVAL: the next record does not fit in what is left.
        if (r.errno !== ERRNO.EINVAL) throw new Errno(r.errno);
        tooSmall = true;
        break;
      }
      if (r.value === 0) break;
      const records = r.records!;
      for (let at = 0; at < records.length; ) {
        const reclen = records.readUInt16LE(at + 16);
        const name = records.subarray(at + FS_DIRENT_HEADER, records.indexOf(0, at + FS_DIRENT_HEADER));
        if (!name.equals(DOT) && !name.equals(DOTDOT)) {
          written += encodeDirent(buf, written, {
            ino: records.readBigUInt64LE(at),
            next: records.readBigUInt64LE(at + 8),
            type: records[at + 18]!,
            name,
          });
        }
        at += reclen;
      }
    }
    if (written === 0 && tooSmall) throw new Errno(ERRNO.EINVAL);
    return written;
  }
}

const EMPTY = Buffer.alloc(0);
const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
const SLASH = Buffer.from('/');

function join(names: Buffer[]): Buffer {
  return Buffer.concat(names.flatMap((n, i) => (i === 0 ? [n] : [SLASH, n])));
}

function procFd(fd: number): Buffer {
  return Buffer.from(`/proc/self/fd/${fd}`);
}

/** The result of a libc call, or the guest's -errno. */
function ok<T extends { value: number; errno: number }>(r: T): T {
  if (r.value < 0) throw new Errno(r.errno || ERRNO.EIO);
  return r;
}

function buffer(call: FsCall): Buffer {
  // The decoder gives every op that has a buffer one (FS_OP_SHAPE).
  if (!call.buf) throw new GuestRequestError(`fs ${call.op} without a buffer`);
  return call.buf;
}

/** pread until the buffer is full or the end of the file: bytes read. */
function readWhole(fd: number, buf: Buffer, offset: bigint): number {
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, offset + BigInt(n));
    if (got === 0) break;
    n += got;
  }
  return n;
}

/**
 * A request's bytes are written whole before the guest runs again (pwrite,
 * or write with O_APPEND, looped over short writes), so a guest that
 * crashes leaves only whole requests in the file. A failure after some
 * bytes reports those bytes (a short write, as Linux's), else the errno.
 */
function writeWhole(fd: number, buf: Buffer, offset: bigint | null): number {
  let n = 0;
  while (n < buf.length) {
    try {
      n += writeSync(fd, buf, n, buf.length - n, offset === null ? null : Number(offset + BigInt(n)));
    } catch (e) {
      if (n > 0) return n;
      throw e;
    }
  }
  return n;
}

/** The x86-64 `struct stat` (fstatat's) as a HostStat. */
export function hostStat(raw: Buffer): HostStat {
  const nlink = raw.readBigUInt64LE(16);
  return {
    dev: raw.readBigUInt64LE(0),
    ino: raw.readBigUInt64LE(8),
    nlink: nlink > 0xffff_ffffn ? 0xffff_ffff : Number(nlink),
    mode: raw.readUInt32LE(24),
    uid: raw.readUInt32LE(28),
    gid: raw.readUInt32LE(32),
    rdev: raw.readBigUInt64LE(40),
    size: raw.readBigInt64LE(48),
    blksize: Number(raw.readBigInt64LE(56) & 0xffff_ffffn),
    blocks: raw.readBigInt64LE(64),
    atimeSec: raw.readBigInt64LE(72),
    atimeNsec: raw.readBigInt64LE(80),
    mtimeSec: raw.readBigInt64LE(88),
    mtimeNsec: raw.readBigInt64LE(96),
    ctimeSec: raw.readBigInt64LE(104),
    ctimeNsec: raw.readBigInt64LE(112),
  };
}

/** The x86-64 `struct statfs` as a HostStatfs; a read-only mount says so in its flags. */
function hostStatfs(raw: Buffer, writable: boolean) {
  const u = (at: number) => raw.readBigUInt64LE(at);
  return {
    type: u(0), bsize: u(8), blocks: u(16), bfree: u(24), bavail: u(32), files: u(40), ffree: u(48),
    fsid: u(56), namelen: u(64), frsize: u(72), flags: u(80) | (writable ? 0n : FS_STATFS_RDONLY),
  };
}
