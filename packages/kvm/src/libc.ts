/**
 * The few libc calls the host needs, through ffi-rs. Every call reports errno
 * so callers can build errors that say what went wrong.
 */
import { createExternalBuffer, DataType, load, open, type JsExternal } from 'ffi-rs';

const LIBRARY = 'libc';
let opened = false;

function libc(): string {
  if (!opened) {
    open({ library: LIBRARY, path: 'libc.so.6' });
    opened = true;
  }
  return LIBRARY;
}

/** The name ffi-rs knows libc by (opened on first use). */
export function libcName(): string {
  return libc();
}

export const O_RDWR = 0x2;
export const O_CLOEXEC = 0x80000;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const PAGE_SIZE = 4096;

/** A libc result: the return value and errno (meaningful only when the call failed). */
export interface SysResult {
  value: number;
  errno: number;
}

/** An int-returning libc call with errno: the shape most of these wrappers share. */
function sysCall(funcName: string, paramsType: DataType[], paramsValue: unknown[]): SysResult {
  const r = load<DataType.I32, true>({
    library: libc(),
    funcName,
    retType: DataType.I32,
    paramsType,
    paramsValue,
    errno: true,
  });
  return { value: r.value, errno: r.errnoCode };
}

export function sysOpen(path: string, flags: number): SysResult {
  return sysCall('open', [DataType.String, DataType.I32], [path, flags]);
}

export function sysClose(fd: number): SysResult {
  return sysCall('close', [DataType.I32], [fd]);
}

/** ioctl with an integer argument (number) or a pointer (an External from mmap). */
export function ioctl(fd: number, request: number, arg: number | JsExternal): SysResult {
  const r = load<DataType.I32, true>({
    library: libc(),
    funcName: 'ioctl',
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.U64, typeof arg === 'number' ? DataType.U64 : DataType.External],
    paramsValue: [fd, request, arg],
    errno: true,
  });
  return { value: r.value, errno: r.errnoCode };
}

/**
 * The numeric address behind an External. memset(p, 0, 0) returns p without
 * touching memory, so it is a safe identity even for MAP_FAILED.
 */
function addressOf(ptr: JsExternal): bigint {
  const r = load({
    library: libc(),
    funcName: 'memset',
    retType: DataType.BigInt,
    paramsType: [DataType.External, DataType.I32, DataType.U64],
    paramsValue: [ptr, 0, 0],
  });
  return BigInt.asUintN(64, r.valueOf());
}

/** A successful mapping: the pointer, its address and a zero-copy Buffer over it. */
export interface Mapping {
  ptr: JsExternal;
  addr: bigint;
  length: number;
  buffer: Buffer;
}

const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

/** mmap(NULL, length, prot, flags, fd, 0); returns a Mapping or the errno. */
export function mmap(length: number, prot: number, flags: number, fd: number): Mapping | { errno: number } {
  const r = load<DataType.External, true>({
    library: libc(),
    funcName: 'mmap',
    retType: DataType.External,
    // addr is passed as the integer 0: ffi-rs has no null External.
    paramsType: [DataType.U64, DataType.U64, DataType.I32, DataType.I32, DataType.I32, DataType.I64],
    paramsValue: [0, length, prot, flags, fd, 0],
    errno: true,
  });
  const addr = addressOf(r.value);
  if (addr === MAP_FAILED) return { errno: r.errnoCode };
  return { ptr: r.value, addr, length, buffer: createExternalBuffer(r.value, length) };
}

export function munmap(m: Mapping): SysResult {
  const r = load<DataType.I32, true>({
    library: libc(),
    funcName: 'munmap',
    retType: DataType.I32,
    paramsType: [DataType.External, DataType.U64],
    paramsValue: [m.ptr, m.length],
    errno: true,
  });
  return { value: r.value, errno: r.errnoCode };
}

export const MFD_CLOEXEC = 0x1;
export const POLLIN = 0x1;
export const POLLHUP = 0x10;
export const POLLERR = 0x8;

/** memfd_create(name, flags): an anonymous file, e.g. guest RAM that another process maps too. */
export function memfdCreate(name: string, flags: number): SysResult {
  return sysCall('memfd_create', [DataType.String, DataType.I32], [name, flags]);
}

export function ftruncate(fd: number, length: number): SysResult {
  return sysCall('ftruncate', [DataType.I32, DataType.I64], [fd, length]);
}

let scratchPage: Mapping | undefined;

/** A private page for out-parameters (pipe2's fds, poll's pollfds). */
function scratch(): Mapping {
  if (!scratchPage) {
    const m = mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    if ('errno' in m) throw new Error(`mmap of a scratch page failed (errno ${m.errno})`);
    scratchPage = m;
  }
  return scratchPage;
}

/** pipe2(flags): [read end, write end], or the errno. */
export function pipe2(flags: number): [number, number] | { errno: number } {
  const page = scratch();
  const r = load<DataType.I32, true>({
    library: libc(),
    funcName: 'pipe2',
    retType: DataType.I32,
    paramsType: [DataType.External, DataType.I32],
    paramsValue: [page.ptr, flags],
    errno: true,
  });
  if (r.value !== 0) return { errno: r.errnoCode };
  return [page.buffer.readInt32LE(0), page.buffer.readInt32LE(4)];
}

/**
 * poll(fds, timeoutMs): each fd's revents (POLLIN, POLLHUP...), all 0 on a
 * timeout; EINTR is reported as a timeout so callers simply poll again.
 */
export function poll(fds: readonly number[], timeoutMs: number): number[] {
  const page = scratch();
  if (fds.length * 8 > PAGE_SIZE) throw new RangeError(`poll on ${fds.length} fds`);
  fds.forEach((fd, i) => {
    page.buffer.writeInt32LE(fd, i * 8);
    page.buffer.writeInt16LE(POLLIN, i * 8 + 4);
    page.buffer.writeInt16LE(0, i * 8 + 6);
  });
  const r = load<DataType.I32, true>({
    library: libc(),
    funcName: 'poll',
    retType: DataType.I32,
    paramsType: [DataType.External, DataType.U64, DataType.I32],
    paramsValue: [page.ptr, fds.length, timeoutMs],
    errno: true,
  });
  if (r.value <= 0) return fds.map(() => 0);
  return fds.map((_, i) => page.buffer.readInt16LE(i * 8 + 6));
}

// ------------------------------------------------------------ file system
// The *at calls the host's directory server (cli's host-fs.ts) needs, with
// paths as raw bytes (Linux names are bytes, not UTF-8), each returning
// the value and errno like sysCall. Outputs land in one private mapping
// (fsScratch) that the caller reads right after the call.

export const O_RDONLY = 0x0;
export const O_WRONLY = 0x1;
export const O_CREAT = 0x40;
export const O_EXCL = 0x80;
export const O_TRUNC = 0x200;
export const O_APPEND = 0x400;
export const O_NONBLOCK = 0x800;
export const O_DIRECTORY = 0x10000;
export const O_NOFOLLOW = 0x20000;
export const O_PATH = 0x200000;
export const AT_FDCWD = -100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
/** openat2's `resolve` bits (linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
const SYS_OPENAT2 = 437;
const OPEN_HOW_SIZE = 24;
const SEEK_SET = 0;
/** Bytes of the x86-64 `struct stat` and `struct statfs`. */
export const STAT_SIZE = 144;
export const STATFS_SIZE = 120;
/** The largest output fsScratch holds (getdents64, readlinkat). */
export const FS_SCRATCH_SIZE = 0x1_0000;

let fsScratchMap: Mapping | undefined;

function fsScratch(): Mapping {
  if (!fsScratchMap) {
    const m = mmap(FS_SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    if ('errno' in m) throw new Error(`mmap of the file system scratch buffer failed (errno ${m.errno})`);
    fsScratchMap = m;
  }
  return fsScratchMap;
}

/** A NUL-terminated copy of a path's bytes, for a `const char *` argument. */
function cPath(path: Uint8Array): Buffer {
  const b = Buffer.alloc(path.length + 1);
  b.set(path);
  return b;
}

function sysCallI64(funcName: string, paramsType: DataType[], paramsValue: unknown[]): SysResult {
  const r = load<DataType.I64, true>({
    library: libc(),
    funcName,
    retType: DataType.I64,
    paramsType,
    paramsValue,
    errno: true,
  });
  return { value: Number(r.value), errno: r.errnoCode };
}

/**
 * openat2(dirfd, path, {flags, mode, resolve}) (Linux 5.6+, through
 * syscall(2): glibc has no wrapper). The fd is O_CLOEXEC always.
 */
export function openat2(dirfd: number, path: Uint8Array, flags: number, mode: number, resolve: number): SysResult {
  const how = Buffer.alloc(OPEN_HOW_SIZE);
  how.writeBigUInt64LE(BigInt(flags | O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  return sysCallI64(
    'syscall',
    [DataType.I64, DataType.I32, DataType.U8Array, DataType.U8Array, DataType.U64],
    [SYS_OPENAT2, dirfd, cPath(path), how, OPEN_HOW_SIZE],
  );
}

/** fstatat(dirfd, path, &st, flags); on success `stat` holds the raw x86-64 `struct stat`. */
export function fstatat(dirfd: number, path: Uint8Array, flags: number): SysResult & { stat?: Buffer } {
  const m = fsScratch();
  const r = sysCall('fstatat', [DataType.I32, DataType.U8Array, DataType.External, DataType.I32], [dirfd, cPath(path), m.ptr, flags]);
  return r.value === 0 ? { ...r, stat: Buffer.from(m.buffer.subarray(0, STAT_SIZE)) } : r;
}

/** fstatfs(fd, &st); on success `statfs` holds the raw x86-64 `struct statfs`. */
export function fstatfs(fd: number): SysResult & { statfs?: Buffer } {
  const m = fsScratch();
  const r = sysCall('fstatfs', [DataType.I32, DataType.External], [fd, m.ptr]);
  return r.value === 0 ? { ...r, statfs: Buffer.from(m.buffer.subarray(0, STATFS_SIZE)) } : r;
}

/** readlinkat(dirfd, path, buf, FS_SCRATCH_SIZE); on success `target` holds the bytes. */
export function readlinkat(dirfd: number, path: Uint8Array): SysResult & { target?: Buffer } {
  const m = fsScratch();
  const r = sysCallI64('readlinkat', [DataType.I32, DataType.U8Array, DataType.External, DataType.U64], [dirfd, cPath(path), m.ptr, FS_SCRATCH_SIZE]);
  return r.value >= 0 ? { ...r, target: Buffer.from(m.buffer.subarray(0, r.value)) } : r;
}

/** getdents64(fd, buf, count <= FS_SCRATCH_SIZE); on success `records` holds `value` bytes of linux_dirent64. */
export function getdents64(fd: number, count: number): SysResult & { records?: Buffer } {
  const m = fsScratch();
  const r = sysCallI64('getdents64', [DataType.I32, DataType.External, DataType.U64], [fd, m.ptr, Math.min(count, FS_SCRATCH_SIZE)]);
  return r.value >= 0 ? { ...r, records: Buffer.from(m.buffer.subarray(0, r.value)) } : r;
}

/**
 * lseek(fd, offset, SEEK_SET): a directory's readdir cookie (ext4's are
 * 63-bit hashes, hence bigint both ways); the new position or -1.
 */
export function lseekSet(fd: number, offset: bigint): { value: bigint; errno: number } {
  const r = load<DataType.BigInt, true>({
    library: libc(),
    funcName: 'lseek',
    retType: DataType.BigInt,
    paramsType: [DataType.I32, DataType.BigInt, DataType.I32],
    paramsValue: [fd, offset, SEEK_SET],
    errno: true,
  });
  return { value: BigInt(r.value.valueOf()), errno: r.errnoCode };
}

export function unlinkat(dirfd: number, path: Uint8Array, flags: number): SysResult {
  return sysCall('unlinkat', [DataType.I32, DataType.U8Array, DataType.I32], [dirfd, cPath(path), flags]);
}

export function mkdirat(dirfd: number, path: Uint8Array, mode: number): SysResult {
  return sysCall('mkdirat', [DataType.I32, DataType.U8Array, DataType.I32], [dirfd, cPath(path), mode]);
}

export function symlinkat(target: Uint8Array, dirfd: number, path: Uint8Array): SysResult {
  return sysCall('symlinkat', [DataType.U8Array, DataType.I32, DataType.U8Array], [cPath(target), dirfd, cPath(path)]);
}

/** linkat without AT_SYMLINK_FOLLOW: a link to the name itself, as link(2) on Linux. */
export function linkat(olddirfd: number, oldpath: Uint8Array, newdirfd: number, newpath: Uint8Array): SysResult {
  return sysCall('linkat', [DataType.I32, DataType.U8Array, DataType.I32, DataType.U8Array, DataType.I32], [olddirfd, cPath(oldpath), newdirfd, cPath(newpath), 0]);
}

export function renameat(olddirfd: number, oldpath: Uint8Array, newdirfd: number, newpath: Uint8Array): SysResult {
  return sysCall('renameat', [DataType.I32, DataType.U8Array, DataType.I32, DataType.U8Array], [olddirfd, cPath(oldpath), newdirfd, cPath(newpath)]);
}

/** fchmodat; with AT_SYMLINK_NOFOLLOW glibc (2.32+) refuses a symlink with EOPNOTSUPP instead of following it. */
export function fchmodat(dirfd: number, path: Uint8Array, mode: number, flags: number): SysResult {
  return sysCall('fchmodat', [DataType.I32, DataType.U8Array, DataType.I32, DataType.I32], [dirfd, cPath(path), mode, flags]);
}

/** utimensat(dirfd, path, times, flags); `times` is `struct timespec[2]` (32 bytes: atime, mtime). */
export function utimensat(dirfd: number, path: Uint8Array, times: Uint8Array, flags: number): SysResult {
  return sysCall('utimensat', [DataType.I32, DataType.U8Array, DataType.U8Array, DataType.I32], [dirfd, cPath(path), Buffer.from(times), flags]);
}

export function fsync(fd: number, dataOnly: boolean): SysResult {
  return sysCall(dataOnly ? 'fdatasync' : 'fsync', [DataType.I32], [fd]);
}

// ------------------------------------------------------------ run deadline
// A POSIX timer that sends SIGALRM to this thread (SIGEV_THREAD_ID), so
// that a KVM_RUN blocked in it returns EINTR: a process-directed signal
// could go to any of Node's threads instead. Raw system calls: the
// kernel's timer id is an int, glibc's timer_t a pointer.

const SYS_TIMER_CREATE = 222;
const SYS_TIMER_SETTIME = 223;
const SYS_TIMER_DELETE = 226;
const SYS_GETTID = 186;
const CLOCK_MONOTONIC = 1;
const SIGEV_THREAD_ID = 4;
export const SIGALRM = 14;

function rawSyscall(nr: number, a = 0, b = 0, c = 0, d = 0): SysResult {
  return sysCallI64('syscall', [DataType.I64, DataType.I64, DataType.I64, DataType.I64, DataType.I64], [nr, a, b, c, d]);
}


/**
 * A timer that sends SIGALRM to the calling thread `firstMs` from now and
 * every `everyMs` after (until deleted: a signal that arrives just before
 * KVM_RUN starts is not lost for good, the next one interrupts it); the
 * timer's id, or the errno. The caller must handle SIGALRM (its default
 * action ends the process).
 */
export function threadAlarm(firstMs: number, everyMs: number): { id: number } | { errno: number } {
  const tid = rawSyscall(SYS_GETTID).value;
  const page = scratch().buffer;
  // struct sigevent (64 bytes): value, signo, notify, then the thread id.
  page.fill(0, 0, 64);
  page.writeInt32LE(SIGALRM, 8);
  page.writeInt32LE(SIGEV_THREAD_ID, 12);
  page.writeInt32LE(tid, 16);
  const base = Number(scratch().addr);
  const created = rawSyscall(SYS_TIMER_CREATE, CLOCK_MONOTONIC, base, base + 64);
  if (created.value !== 0) return { errno: created.errno };
  const id = page.readInt32LE(64);
  // struct itimerspec: interval, then the first expiry (timespecs).
  const ts = (ms: number, at: number): void => {
    const whole = Math.max(0, ms);
    page.writeBigInt64LE(BigInt(Math.floor(whole / 1000)), at);
    page.writeBigInt64LE(BigInt(Math.round((whole % 1000) * 1e6)), at + 8);
  };
  ts(everyMs, 128);
  // A zero first expiry would disarm the timer: at least 1 ns.
  ts(firstMs, 144);
  if (page.readBigInt64LE(144) === 0n && page.readBigInt64LE(152) === 0n) page.writeBigInt64LE(1n, 152);
  const set = rawSyscall(SYS_TIMER_SETTIME, id, 0, base + 128, 0);
  if (set.value !== 0) {
    rawSyscall(SYS_TIMER_DELETE, id);
    return { errno: set.errno };
  }
  return { id };
}

/** Deletes a `threadAlarm` timer. */
export function deleteAlarm(id: number): void {
  rawSyscall(SYS_TIMER_DELETE, id);
}
