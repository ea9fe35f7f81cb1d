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
