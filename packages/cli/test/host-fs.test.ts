/**
 * The `fs` port's server on real directories, driven the way the machine
 * drives it: each request is encoded into a guest-RAM-like buffer,
 * decoded by decodeHypercall (every address, length and path checked),
 * handled by HostFs, and its result written back at the request's result
 * field. Results are compared with what Linux does natively (node:fs).
 */
import test from 'ava';
import fc from 'fast-check';
import {
  chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync,
  statfsSync, symlinkSync, utimesSync, writeFileSync, existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  FS_CREATE_EXCL, FS_CREATE_TRUNC, FS_DATA_MAX, FS_OP, FS_PATH_MAX, FS_REQUEST_SIZE, FS_STAT_SIZE, FS_STATFS_SIZE,
  FS_TIMES_SIZE, FS_WRITE_APPEND, PORT, UTIME_OMIT, decodeDirents, decodeHostStat, decodeHostStatfs, encodeFsRequest,
  type FsOpName,
} from '@kvmos/protocol';
import { decodeHypercall, type GuestMemoryReader } from '../src/hypercalls.js';
import { HostFs } from '../src/host-fs.js';
import { GuestRequestError, HostFsError } from '../src/errors.js';

const RAM_SIZE = 4 << 20;
const REQ = 0x1000;
const PATH = 0x2000;
const PATH2 = 0x4000;
const BUF = 0x10_0000;

const E = { ENXIO: 6, ENOENT: 2, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, EROFS: 30, ENOTEMPTY: 39, ELOOP: 40, EOPNOTSUPP: 95, EACCES: 13 };

/** Guest RAM as the decoder sees it. */
class Ram implements GuestMemoryReader {
  readonly bytes = Buffer.alloc(RAM_SIZE);
  readonly size = RAM_SIZE;
  view(addr: number, len: number): Buffer {
    return this.bytes.subarray(addr, addr + len);
  }
}

interface Req {
  mount?: number;
  path?: string | Buffer;
  path2?: string | Buffer;
  bufLen?: number;
  offset?: bigint;
  flags?: number;
  mode?: number;
  /** Bytes put into the buffer before the call (write, utimens). */
  data?: Buffer;
}

/** One guest with its RAM and a HostFs: `call` does what the machine does for an `fs` hypercall. */
class Guest {
  readonly ram = new Ram();
  constructor(readonly fs: HostFs) {}

  call(op: FsOpName, r: Req = {}): { result: bigint; buf: Buffer } {
    const path = Buffer.from(r.path ?? '');
    const path2 = r.path2 === undefined ? undefined : Buffer.from(r.path2);
    path.copy(this.ram.bytes, PATH);
    path2?.copy(this.ram.bytes, PATH2);
    const bufLen = r.bufLen ?? r.data?.length ?? 0;
    this.ram.bytes.fill(0xee, BUF, BUF + bufLen);
    r.data?.copy(this.ram.bytes, BUF);
    const req = encodeFsRequest({
      op: FS_OP[op], mount: r.mount ?? 0, result: 0n,
      pathAddr: BigInt(PATH), pathLen: path.length,
      path2Addr: path2 ? BigInt(PATH2) : 0n, path2Len: path2?.length ?? 0,
      bufAddr: bufLen ? BigInt(BUF) : 0n, bufLen: BigInt(bufLen),
      offset: r.offset ?? 0n, flags: r.flags ?? 0, mode: r.mode ?? 0,
    });
    this.ram.bytes.set(req, REQ);
    const call = decodeHypercall(PORT.fs, REQ, this.ram);
    if (call.kind !== 'fs') throw new Error(`decoded as ${call.kind}`);
    this.ram.view(call.resultAddr, 8).writeBigInt64LE(this.fs.handle(call.request));
    return { result: this.ram.bytes.readBigInt64LE(REQ + 8), buf: Buffer.from(this.ram.view(BUF, bufLen)) };
  }

  ok(op: FsOpName, r: Req = {}): { result: bigint; buf: Buffer } {
    const out = this.call(op, r);
    if (out.result < 0n) throw new Error(`fs ${op} ${String(r.path)}: -${-out.result}`);
    return out;
  }

  errno(op: FsOpName, r: Req = {}): number {
    const out = this.call(op, r);
    return out.result < 0n ? Number(-out.result) : 0;
  }
}

/** A fresh tree: outside/ (a "secret" the guest must never reach) and a mount root beside it. */
function tree(): { dir: string; root: string; outside: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-hostfs-'));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'the host secret\n');
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'file.txt'), 'hello from the host\n');
  writeFileSync(join(root, 'top'), 'top');
  symlinkSync('sub/file.txt', join(root, 'rel-link'));
  return { dir, root, outside };
}

function open(mounts: { host: string; writable: boolean }[]): Guest {
  return new Guest(HostFs.open(mounts.map((m, i) => ({ ...m, guest: `/m${i}` }))));
}

function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

test('lstat: every field equals Linux lstat, for a file, a directory, a symlink and the root', (t) => {
  const { dir, root } = tree();
  const g = open([{ host: root, writable: false }]);
  try {
    for (const rel of ['sub/file.txt', 'sub', 'rel-link', '']) {
      const { buf } = g.ok('lstat', { path: rel, bufLen: FS_STAT_SIZE });
      const s = decodeHostStat(buf);
      const n = lstatSync(join(root, rel), { bigint: true });
      t.deepEqual(
        [s.ino, s.dev, s.rdev, s.size, s.blocks, BigInt(s.blksize), BigInt(s.mode), BigInt(s.nlink), BigInt(s.uid), BigInt(s.gid)],
        [n.ino, n.dev, n.rdev, n.size, n.blocks, n.blksize, n.mode, n.nlink, n.uid, n.gid],
        rel,
      );
      t.is(s.mtimeSec * 1_000_000_000n + s.mtimeNsec, n.mtimeNs, rel);
      t.is(s.atimeSec * 1_000_000_000n + s.atimeNsec, n.atimeNs, rel);
      t.is(s.ctimeSec * 1_000_000_000n + s.ctimeNsec, n.ctimeNs, rel);
    }
    t.is(g.errno('lstat', { path: 'missing', bufLen: FS_STAT_SIZE }), E.ENOENT);
    t.is(g.errno('lstat', { path: 'top/x', bufLen: FS_STAT_SIZE }), E.ENOTDIR);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('readdir: every entry with its type and inode, paged by the cookie through a small buffer', (t) => {
  const { dir, root } = tree();
  for (let i = 0; i < 300; i++) writeFileSync(join(root, 'sub', `f${i.toString().padStart(3, '0')}-${'x'.repeat(i % 50)}`), '');
  const g = open([{ host: root, writable: false }]);
  try {
    const all = new Map<string, { ino: bigint; type: number }>();
    let cookie = 0n;
    let calls = 0;
    for (;;) {
      const { result, buf } = g.ok('readdir', { path: 'sub', bufLen: 512, offset: cookie });
      if (result === 0n) break;
      calls++;
      const records = decodeDirents(buf.subarray(0, Number(result)));
      t.true(records.length > 0);
      for (const r of records) {
        t.false(all.has(r.name.toString()), `${r.name.toString()} twice`);
        all.set(r.name.toString(), { ino: r.ino, type: r.type });
      }
      cookie = records[records.length - 1]!.next;
    }
    t.true(calls > 10, `paged in ${calls} calls`);
    const native = readdirSync(join(root, 'sub'), { withFileTypes: true });
    t.deepEqual([...all.keys()].sort(), native.map((d) => d.name).sort());
    for (const d of native) {
      const r = all.get(d.name)!;
      t.is(r.ino, lstatSync(join(root, 'sub', d.name), { bigint: true }).ino);
      t.is(r.type, d.isDirectory() ? 4 : d.isSymbolicLink() ? 10 : 8);
    }
    // The root lists without . and ..; a buffer too small for one record is EINVAL, as getdents64.
    const rootNames = decodeDirents(g.ok('readdir', { bufLen: 4096 }).buf.subarray(0, Number(g.ok('readdir', { bufLen: 4096 }).result))).map((r) => r.name.toString());
    t.deepEqual(rootNames.sort(), ['rel-link', 'sub', 'top']);
    t.is(g.errno('readdir', { path: 'sub', bufLen: 16 }), E.EINVAL);
    t.is(g.errno('readdir', { path: 'top', bufLen: 4096 }), E.ENOTDIR);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('read and readlink return what Linux returns', (t) => {
  const { dir, root } = tree();
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 13)) & 0xff;
  writeFileSync(join(root, 'big'), big);
  const g = open([{ host: root, writable: false }]);
  try {
    const r = g.ok('read', { path: 'sub/file.txt', bufLen: 100 });
    t.is(r.buf.subarray(0, Number(r.result)).toString(), 'hello from the host\n');
    t.is(g.ok('read', { path: 'sub/file.txt', bufLen: 5, offset: 6n }).buf.toString(), 'from ');
    t.is(g.ok('read', { path: 'sub/file.txt', bufLen: 10, offset: 1000n }).result, 0n);
    // Whole file in FS_DATA_MAX pieces.
    const parts: Buffer[] = [];
    for (let off = 0; ; off += FS_DATA_MAX) {
      const p = g.ok('read', { path: 'big', bufLen: FS_DATA_MAX, offset: BigInt(off) });
      if (p.result === 0n) break;
      parts.push(p.buf.subarray(0, Number(p.result)));
    }
    t.true(Buffer.concat(parts).equals(big));
    t.is(g.errno('read', { path: 'sub', bufLen: 10 }), E.EISDIR);
    const l = g.ok('readlink', { path: 'rel-link', bufLen: 100 });
    t.is(l.buf.subarray(0, Number(l.result)).toString(), readlinkSync(join(root, 'rel-link')));
    t.is(g.ok('readlink', { path: 'rel-link', bufLen: 3 }).buf.toString(), 'sub', 'cut to the buffer, as readlink(2)');
    t.is(g.errno('readlink', { path: 'top', bufLen: 100 }), E.EINVAL);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('escapes: .., absolute and relative symlinks pointing out, and a symlink swapped in between two requests all fail', (t) => {
  const { dir, root, outside } = tree();
  symlinkSync('/etc', join(root, 'abs-out'));
  symlinkSync(outside, join(root, 'abs-outside'));
  symlinkSync('../outside', join(root, 'rel-out'));
  symlinkSync('../../outside/secret', join(root, 'sub', 'rel-secret'));
  const g = open([{ host: root, writable: true }]);
  try {
    // `..`, `.`, absolute, empty names and NUL never reach the host: the decoder refuses them (a kernel bug).
    for (const bad of ['..', '../outside/secret', 'sub/../../outside/secret', '/etc/passwd', 'sub//file.txt', 'sub/', './top', 'a\0b', `${'x'.repeat(256)}`]) {
      t.throws(() => g.call('read', { path: bad, bufLen: 16 }), { instanceOf: GuestRequestError }, JSON.stringify(bad));
    }
    t.throws(() => g.call('rename', { path: 'top', path2: '../outside/top', bufLen: 0 }), { instanceOf: GuestRequestError });
    // Symlinks are never followed, anywhere in a path.
    t.is(g.errno('read', { path: 'abs-out/passwd', bufLen: 16 }), E.ELOOP);
    t.is(g.errno('read', { path: 'abs-outside/secret', bufLen: 16 }), E.ELOOP);
    t.is(g.errno('read', { path: 'rel-out/secret', bufLen: 16 }), E.ELOOP);
    t.is(g.errno('read', { path: 'sub/rel-secret', bufLen: 16 }), E.ELOOP);
    t.is(g.errno('lstat', { path: 'rel-out/secret', bufLen: FS_STAT_SIZE }), E.ELOOP);
    t.is(g.errno('readdir', { path: 'abs-outside', bufLen: 4096 }), E.ELOOP);
    t.is(g.errno('write', { path: 'rel-out/secret', data: Buffer.from('pwned') }), E.ELOOP);
    t.is(g.errno('create', { path: 'rel-out/new', mode: 0o644 }), E.ELOOP);
    t.is(g.errno('create', { path: 'abs-outside', mode: 0o644, flags: FS_CREATE_TRUNC }), E.ELOOP);
    t.is(g.errno('truncate', { path: 'sub/rel-secret' }), E.ELOOP);
    t.is(g.errno('mkdir', { path: 'rel-out/d', mode: 0o755 }), E.ELOOP);
    t.is(g.errno('symlink', { path: 'rel-out/l', path2: 'x' }), E.ELOOP);
    t.is(g.errno('unlink', { path: 'rel-out/secret' }), E.ELOOP);
    t.is(g.errno('rename', { path: 'top', path2: 'rel-out/top' }), E.ELOOP);
    t.is(g.errno('link', { path: 'rel-out/secret', path2: 'stolen' }), E.ELOOP);
    t.is(g.errno('chmod', { path: 'rel-out/secret', mode: 0o777 }), E.ELOOP);
    t.is(g.errno('chmod', { path: 'sub/rel-secret', mode: 0o777 }), E.EOPNOTSUPP, 'chmod of a symlink itself: lchmod');
    const times = Buffer.alloc(FS_TIMES_SIZE);
    t.is(g.errno('utimens', { path: 'rel-out/secret', data: times }), E.ELOOP);
    t.is(g.errno('statfs', { path: 'abs-out', bufLen: FS_STATFS_SIZE }), E.ELOOP);
    t.is(g.errno('fsync', { path: 'rel-out/secret' }), E.ELOOP);
    // A directory the guest has seen is swapped for a symlink pointing out before its next request.
    t.is(g.ok('read', { path: 'sub/file.txt', bufLen: 5 }).buf.toString(), 'hello');
    renameSync(join(root, 'sub'), join(root, 'sub-moved'));
    symlinkSync(outside, join(root, 'sub'));
    writeFileSync(join(outside, 'file.txt'), 'outside');
    t.is(g.errno('read', { path: 'sub/file.txt', bufLen: 5 }), E.ELOOP);
    t.is(g.errno('lstat', { path: 'sub/file.txt', bufLen: FS_STAT_SIZE }), E.ELOOP);
    t.is(g.errno('unlink', { path: 'sub/file.txt' }), E.ELOOP);
    t.is(g.errno('write', { path: 'sub/file.txt', data: Buffer.from('x') }), E.ELOOP);
    // Nothing outside changed.
    t.is(readFileSync(join(outside, 'secret'), 'utf8'), 'the host secret\n');
    t.is(readFileSync(join(outside, 'file.txt'), 'utf8'), 'outside');
    t.deepEqual(readdirSync(outside).sort(), ['file.txt', 'secret']);
    t.is(lstatSync(join(outside, 'secret')).mode & 0o777, 0o644 & ~process.umask() & 0o777);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('a read-only mount refuses every modification with EROFS and changes nothing', (t) => {
  const { dir, root } = tree();
  const before = JSON.stringify(readdirSync(root, { recursive: true }).sort());
  const g = open([{ host: root, writable: false }]);
  try {
    const times = Buffer.alloc(FS_TIMES_SIZE);
    const cases: [FsOpName, Req][] = [
      ['write', { path: 'top', data: Buffer.from('x') }],
      ['write', { path: 'top', data: Buffer.from('x'), flags: FS_WRITE_APPEND }],
      ['create', { path: 'new', mode: 0o644 }],
      ['create', { path: 'top', mode: 0o644, flags: FS_CREATE_TRUNC }],
      ['mkdir', { path: 'd', mode: 0o755 }],
      ['unlink', { path: 'top' }],
      ['rmdir', { path: 'sub' }],
      ['rename', { path: 'top', path2: 'top2' }],
      ['link', { path: 'top', path2: 'top2' }],
      ['symlink', { path: 'l', path2: 'top' }],
      ['truncate', { path: 'top' }],
      ['utimens', { path: 'top', data: times }],
      ['chmod', { path: 'top', mode: 0o600 }],
    ];
    for (const [op, r] of cases) t.is(g.errno(op, r), E.EROFS, op);
    t.is(readFileSync(join(root, 'top'), 'utf8'), 'top');
    t.is(JSON.stringify(readdirSync(root, { recursive: true }).sort()), before);
    const st = decodeHostStatfs(g.ok('statfs', { bufLen: FS_STATFS_SIZE }).buf);
    t.is(st.flags & 1n, 1n, 'statfs says ST_RDONLY');
    t.is(g.ok('fsync', { path: 'top' }).result, 0n, 'fsync changes nothing: allowed');
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('a writable mount: write, append, create, mkdir, rename, link, symlink, truncate, utimens, chmod, unlink, rmdir as on Linux', (t) => {
  const { dir, root } = tree();
  const g = open([{ host: root, writable: false }, { host: root, writable: true }]);
  const w = (op: FsOpName, r: Req = {}) => g.ok(op, { ...r, mount: 1 });
  const we = (op: FsOpName, r: Req = {}) => g.errno(op, { ...r, mount: 1 });
  try {
    t.is(w('create', { path: 'a.txt', mode: 0o640, flags: FS_CREATE_EXCL }).result, 0n);
    t.is(lstatSync(join(root, 'a.txt')).mode & 0o7777, 0o640, 'the guest mode exactly, past the host umask');
    t.is(we('create', { path: 'a.txt', mode: 0o640, flags: FS_CREATE_EXCL }), E.EEXIST);
    t.is(we('create', { path: 'sub', mode: 0o640 }), E.EISDIR);
    t.is(w('write', { path: 'a.txt', data: Buffer.from('hello world') }).result, 11n);
    t.is(w('write', { path: 'a.txt', data: Buffer.from('W'), offset: 6n }).result, 1n);
    t.is(w('write', { path: 'a.txt', data: Buffer.from('!'), flags: FS_WRITE_APPEND }).result, 1n);
    t.is(w('write', { path: 'a.txt', data: Buffer.from('z'), offset: 20n }).result, 1n, 'a hole');
    t.is(we('write', { path: 'a.txt', data: Buffer.from('z'), offset: 1n << 60n }), 27, 'EFBIG, as the host file system would say');
    t.deepEqual(readFileSync(join(root, 'a.txt')), Buffer.concat([Buffer.from('hello World!'), Buffer.alloc(8), Buffer.from('z')]));
    t.is(w('create', { path: 'a.txt', mode: 0o600, flags: FS_CREATE_TRUNC }).result, 0n);
    t.is(readFileSync(join(root, 'a.txt')).length, 0, 'O_TRUNC');
    t.is(lstatSync(join(root, 'a.txt')).mode & 0o7777, 0o640, 'an existing file keeps its mode');
    t.is(w('mkdir', { path: 'd', mode: 0o700 }).result, 0n);
    t.is(lstatSync(join(root, 'd')).mode & 0o7777, 0o700);
    t.is(we('mkdir', { path: 'd', mode: 0o700 }), E.EEXIST);
    t.is(w('rename', { path: 'a.txt', path2: 'd/b.txt' }).result, 0n);
    t.false(existsSync(join(root, 'a.txt')));
    t.is(w('link', { path: 'd/b.txt', path2: 'hard' }).result, 0n);
    t.is(lstatSync(join(root, 'hard')).ino, lstatSync(join(root, 'd', 'b.txt')).ino);
    t.is(w('symlink', { path: 'd/sym', path2: '../hard' }).result, 0n);
    t.is(readlinkSync(join(root, 'd', 'sym')), '../hard');
    t.is(w('symlink', { path: 'to-etc', path2: '/etc/passwd' }).result, 0n, 'a target is data: stored as given, never followed by the host');
    t.is(we('read', { path: 'to-etc', bufLen: 10 }), E.ELOOP);
    writeFileSync(join(root, 'hard'), '0123456789');
    t.is(w('truncate', { path: 'hard', offset: 4n }).result, 0n);
    t.is(readFileSync(join(root, 'hard'), 'utf8'), '0123');
    t.is(w('truncate', { path: 'hard', offset: 4096n }).result, 0n);
    t.is(lstatSync(join(root, 'hard')).size, 4096);
    const times = Buffer.alloc(FS_TIMES_SIZE);
    times.writeBigInt64LE(1_000_000n, 0);
    times.writeBigInt64LE(123n, 8);
    times.writeBigInt64LE(2_000_000n, 16);
    times.writeBigInt64LE(BigInt(UTIME_OMIT), 24);
    const mtimeBefore = lstatSync(join(root, 'hard'), { bigint: true }).mtimeNs;
    t.is(w('utimens', { path: 'hard', data: times }).result, 0n);
    const st = lstatSync(join(root, 'hard'), { bigint: true });
    t.is(st.atimeNs, 1_000_000n * 1_000_000_000n + 123n);
    t.is(st.mtimeNs, mtimeBefore, 'UTIME_OMIT');
    t.is(w('chmod', { path: 'hard', mode: 0o604 }).result, 0n);
    t.is(lstatSync(join(root, 'hard')).mode & 0o7777, 0o604);
    t.is(we('rmdir', { path: 'd' }), E.ENOTEMPTY);
    t.is(we('unlink', { path: 'd' }), E.EISDIR);
    t.is(w('unlink', { path: 'd/b.txt' }).result, 0n);
    t.is(w('unlink', { path: 'd/sym' }).result, 0n);
    t.is(w('rmdir', { path: 'd' }).result, 0n);
    t.false(existsSync(join(root, 'd')));
    t.is(we('unlink', { path: 'missing' }), E.ENOENT);
    t.is(we('rename', { path: 'sub', path2: 'top' }), E.ENOTDIR);
    // fsync and statfs on the writable mount.
    t.is(w('fsync', { path: 'hard', flags: 1 }).result, 0n);
    const sf = decodeHostStatfs(w('statfs', { path: 'sub', bufLen: FS_STATFS_SIZE }).buf);
    const native = statfsSync(root, { bigint: true });
    t.deepEqual([sf.type, sf.bsize, sf.blocks, sf.files], [native.type, native.bsize, native.blocks, native.files]);
    t.is(sf.flags & 1n, 0n);
    // The read-only view of the same directory sees the writes, and still refuses its own.
    t.is(g.ok('read', { path: 'hard', bufLen: 4 }).buf.toString(), '0123');
    t.is(g.errno('unlink', { path: 'hard' }), E.EROFS);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('devices and FIFOs are never opened for data: ENXIO, at once (the host does not block on a FIFO)', (t) => {
  const { dir, root } = tree();
  execFileSync('mkfifo', [join(root, 'fifo')]);
  const dev = open([{ host: '/dev', writable: true }]);
  const g = open([{ host: root, writable: true }]);
  try {
    t.is(dev.errno('read', { path: 'zero', bufLen: 8 }), E.ENXIO);
    t.is(dev.errno('write', { path: 'full', data: Buffer.from('data') }), E.ENXIO);
    t.is(dev.errno('truncate', { path: 'null' }), E.ENXIO);
    t.is(dev.errno('create', { path: 'null', mode: 0o644, flags: FS_CREATE_TRUNC }), E.ENXIO);
    t.is(dev.errno('fsync', { path: 'null' }), E.ENXIO);
    t.is(dev.ok('fsync', { path: '' }).result, 0n, 'fsync of a directory is fine');
    t.is(g.errno('read', { path: 'fifo', bufLen: 8 }), E.ENXIO);
    t.is(g.errno('write', { path: 'fifo', data: Buffer.from('x') }), E.ENXIO);
    t.is(g.ok('create', { path: 'fifo', mode: 0o644 }).result, 0n, 'O_CREAT of an existing name succeeds without opening it');
    t.is(decodeHostStat(g.ok('lstat', { path: 'fifo', bufLen: FS_STAT_SIZE }).buf).mode & 0o170000, 0o010000, 'lstat still sees the FIFO');
  } finally {
    dev.fs.close();
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

// Mounting a small tmpfs needs root; without it the test shows as skipped (the EACCES test below runs instead).
(process.getuid?.() === 0 ? test : test.skip)('a full disk is ENOSPC for the guest; what was written is whole requests and a short last one', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-hostfs-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  try {
    const g = open([{ host: dir, writable: true }]);
    try {
      g.ok('create', { path: 'f', mode: 0o644 });
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      let total = 0;
      let last = 0n;
      for (let i = 0; i < 16; i++) {
        last = g.call('write', { path: 'f', data: chunk, flags: FS_WRITE_APPEND }).result;
        if (last < BigInt(chunk.length)) break;
        total += chunk.length;
      }
      // Either a short write (bytes) or ENOSPC, then ENOSPC for good.
      if (last > 0n) total += Number(last);
      else t.is(last, -28n);
      t.is(g.errno('write', { path: 'f', data: chunk, flags: FS_WRITE_APPEND }), 28);
      t.is(lstatSync(join(dir, 'f')).size, total, 'the file holds exactly what the results said');
      t.true(total >= 16 * 1024 && total <= 64 * 1024);
    } finally {
      g.fs.close();
    }
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  }
});

// Root reads any file: there is no EACCES to provoke, so the test shows as skipped rather than passing.
const asRoot = process.getuid?.() === 0;
(asRoot ? test.skip : test)(`host errors come back as the guest errno: EACCES on a file the host cannot read${asRoot ? ' (skipped: root reads every file, so there is no EACCES to provoke)' : ''}`, (t) => {
  const { dir, root } = tree();
  chmodSync(join(root, 'top'), 0o000);
  const g = open([{ host: root, writable: true }]);
  try {
    t.is(g.errno('read', { path: 'top', bufLen: 4 }), E.EACCES);
  } finally {
    g.fs.close();
    chmodSync(join(root, 'top'), 0o644);
    rmSync(dir, { recursive: true });
  }
});

test('no fd leaks: a thousand requests, failing and succeeding, leave the fd count as it was', (t) => {
  const { dir, root } = tree();
  const g = open([{ host: root, writable: true }]);
  try {
    g.ok('lstat', { path: 'sub/file.txt', bufLen: FS_STAT_SIZE }); // loads ffi and the scratch mapping
    const before = fdCount();
    for (let i = 0; i < 100; i++) {
      g.ok('lstat', { path: 'sub/file.txt', bufLen: FS_STAT_SIZE });
      g.ok('read', { path: 'sub/file.txt', bufLen: 64 });
      g.ok('readdir', { path: 'sub', bufLen: 4096 });
      g.ok('create', { path: `sub/n${i}`, mode: 0o644 });
      g.ok('write', { path: `sub/n${i}`, data: Buffer.from('x'), flags: FS_WRITE_APPEND });
      g.ok('rename', { path: `sub/n${i}`, path2: `sub/m${i}` });
      g.ok('unlink', { path: `sub/m${i}` });
      g.errno('read', { path: 'rel-link/x', bufLen: 4 });
      g.errno('read', { path: 'sub/missing/deeper', bufLen: 4 });
      g.errno('create', { path: 'top', mode: 0o644, flags: FS_CREATE_EXCL });
    }
    t.is(fdCount(), before);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('decode: bad addresses, lengths, paths and fields stop the guest (GuestRequestError), never reach the host', (t) => {
  const { dir, root } = tree();
  const g = open([{ host: root, writable: true }]);
  const bad = (fields: Partial<Parameters<typeof encodeFsRequest>[0]>, at = REQ) => {
    const req = encodeFsRequest({
      op: FS_OP.read, mount: 0, result: 0n, pathAddr: BigInt(PATH), pathLen: 3, path2Addr: 0n, path2Len: 0,
      bufAddr: BigInt(BUF), bufLen: 16n, offset: 0n, flags: 0, mode: 0, ...fields,
    });
    return () => {
      Buffer.from('top').copy(g.ram.bytes, PATH);
      if (at + FS_REQUEST_SIZE <= RAM_SIZE) g.ram.bytes.set(req, at);
      const call = decodeHypercall(PORT.fs, at, g.ram);
      if (call.kind === 'fs') g.fs.handle(call.request);
    };
  };
  try {
    const cases: [string, () => void, RegExp][] = [
      ['request outside RAM', bad({}, RAM_SIZE - 8), /range/],
      ['request not aligned', bad({}, REQ + 4), /aligned/],
      ['buffer outside RAM', bad({ bufAddr: BigInt(RAM_SIZE - 8) }), /range/],
      ['buffer length wraps', bad({ bufAddr: 0xffff_ffff_ffff_fff0n, bufLen: 32n }), /range/],
      ['buffer over 1 MiB', bad({ bufLen: BigInt(FS_DATA_MAX + 1) }), /bufLen/],
      ['empty read buffer', bad({ bufLen: 0n, bufAddr: 0n }), /bufLen/],
      ['stat buffer of the wrong size', bad({ op: FS_OP.lstat, bufLen: 100n }), /bufLen/],
      ['path outside RAM', bad({ pathAddr: BigInt(RAM_SIZE - 1) }), /range/],
      ['path too long', bad({ pathLen: FS_PATH_MAX + 1 }), /pathLen/],
      ['unknown op', bad({ op: 17 as never }), /op/],
      ['unknown flags', bad({ flags: 2 }), /flags/],
      ['mode on read', bad({ mode: 0o644 }), /mode/],
      ['mode above 0o7777', bad({ op: FS_OP.mkdir, bufLen: 0n, bufAddr: 0n, mode: 0o10000 }), /mode/],
      ['second path on read', bad({ path2Len: 1, path2Addr: BigInt(PATH2) }), /path2Len/],
      ['offset on unlink', bad({ op: FS_OP.unlink, bufLen: 0n, bufAddr: 0n, offset: 1n }), /offset/],
      ['offset beyond i64', bad({ offset: 1n << 63n }), /offset/],
      ['append with an offset', bad({ op: FS_OP.write, flags: FS_WRITE_APPEND, offset: 4n }), /offset/],
      ['mount id beyond the table', bad({ mount: 3 }), /does not exist/],
      ['mount id beyond any table', bad({ mount: 64 }), /mount/],
    ];
    for (const [what, run, message] of cases) t.throws(run, { instanceOf: GuestRequestError, message }, what);
    // Reserved bytes must be zero.
    const req = encodeFsRequest({
      op: FS_OP.read, mount: 0, result: 0n, pathAddr: BigInt(PATH), pathLen: 3, path2Addr: 0n, path2Len: 0,
      bufAddr: BigInt(BUF), bufLen: 16n, offset: 0n, flags: 0, mode: 0,
    });
    req[72] = 1;
    g.ram.bytes.set(req, REQ);
    t.throws(() => decodeHypercall(PORT.fs, REQ, g.ram), { instanceOf: GuestRequestError, message: /reserved/ });
    // A symlink target may be any bytes but must be 1..4096 and NUL-free.
    t.throws(() => g.call('symlink', { path: 'l', path2: 'a\0b' }), { instanceOf: GuestRequestError, message: /NUL/ });
    t.throws(() => g.call('symlink', { path: 'l', path2: 'x'.repeat(FS_PATH_MAX + 1) }), { instanceOf: GuestRequestError });
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('a mount whose host directory is missing or a file: HostFsError with the call, errno and a hint', (t) => {
  const { dir, root } = tree();
  try {
    const missing = t.throws(() => HostFs.open([{ host: join(dir, 'nope'), guest: '/x', writable: false }]), { instanceOf: HostFsError });
    t.is(missing?.errno, E.ENOENT);
    t.regex(missing?.message ?? '', /^open .*nope: ENOENT \(errno 2\) - check the path/);
    const file = t.throws(() => HostFs.open([{ host: join(root, 'top'), guest: '/x', writable: false }]), { instanceOf: HostFsError });
    t.is(file?.errno, E.ENOTDIR);
    t.regex(file?.hint ?? '', /directory/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('utimens keeps nanoseconds and lstat reports them (against Node utimes, which has microseconds)', (t) => {
  const { dir, root } = tree();
  utimesSync(join(root, 'top'), 1, 1);
  const g = open([{ host: root, writable: true }]);
  try {
    const times = Buffer.alloc(FS_TIMES_SIZE);
    times.writeBigInt64LE(5n, 0);
    times.writeBigInt64LE(999_999_999n, 8);
    times.writeBigInt64LE(7n, 16);
    times.writeBigInt64LE(1n, 24);
    g.ok('utimens', { path: 'top', data: times });
    const s = decodeHostStat(g.ok('lstat', { path: 'top', bufLen: FS_STAT_SIZE }).buf);
    t.deepEqual([s.atimeSec, s.atimeNsec, s.mtimeSec, s.mtimeNsec], [5n, 999_999_999n, 7n, 1n]);
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});

test('property: random requests on a writable mount either stop the guest or answer; the host never throws otherwise and nothing outside changes', (t) => {
  const { dir, root, outside } = tree();
  symlinkSync('/etc', join(root, 'abs-out'));
  symlinkSync('../outside', join(root, 'rel-out'));
  const snapshot = () => JSON.stringify(readdirSync(outside).sort().map((n) => [n, readFileSync(join(outside, n), 'utf8'), lstatSync(join(outside, n)).mode]));
  const before = snapshot();
  const g = open([{ host: root, writable: true }]);
  const names = ['a', 'b', 'sub', 'top', 'rel-link', 'abs-out', 'rel-out', 'secret', 'file.txt'];
  const bad = ['..', '.', ''];
  const pathArb = fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.constantFrom(...names), { maxLength: 4 }).map((p) => p.join('/')) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...names, ...bad), { maxLength: 4 }).map((p) => p.join('/')) },
  );
  const opArb = fc.constantFrom(...(Object.keys(FS_OP) as FsOpName[]));
  let answered = 0;
  let stopped = 0;
  try {
    fc.assert(
      fc.property(opArb, pathArb, pathArb, fc.nat(300), fc.oneof({ weight: 3, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.bigUintN(12) }), fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }), fc.oneof(fc.constant(0), fc.nat(0o7777)), (op, path, path2, bufLen, offset, flags, mode) => {
        const shapeWants = (o: FsOpName) => ({ rename: true, link: true, symlink: true } as Record<string, boolean>)[o] ?? false;
        const fixed: Record<string, number> = { lstat: FS_STAT_SIZE, statfs: FS_STATFS_SIZE, utimens: FS_TIMES_SIZE };
        try {
          g.call(op, {
            path,
            ...(shapeWants(op) && { path2: path2 || 'x' }),
            bufLen: fixed[op] ?? (['read', 'readdir', 'readlink', 'write'].includes(op) ? bufLen + 1 : 0),
            offset,
            flags,
            mode,
          });
          answered++;
        } catch (e) {
          if (!(e instanceof GuestRequestError)) throw e;
          stopped++;
        }
        return true;
      }),
      { numRuns: 3000, seed: 11 },
    );
    t.true(answered > 1000 && stopped > 100, `${answered} answered, ${stopped} stopped: both kinds exercised`);
    t.is(snapshot(), before);
    t.true(existsSync('/etc/passwd'));
  } finally {
    g.fs.close();
    rmSync(dir, { recursive: true });
  }
});
