/**
 * The host's terminal through libc (ioctl and poll on a tty fd), for a
 * guest whose console is that terminal: the kernel's `struct termios`
 * (TCGETS/TCSETS*, 36 bytes), the window size, and waiting for input.
 */
import { DataType, load } from 'ffi-rs';
import { MAP_ANONYMOUS, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, ioctl, mmap, libcName, type Mapping } from './libc.js';

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCGWINSZ = 0x5413;
const EINTR = 4;
const KERNEL_TERMIOS_SIZE = 36;

let scratch: Mapping | undefined;

function page(): Mapping {
  if (!scratch) {
    const m = mmap(PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    if ('errno' in m) throw new Error(`mmap for terminal ioctls failed (errno ${m.errno})`);
    scratch = m;
  }
  return scratch;
}

function ioctlPage(fd: number, request: number): number {
  for (;;) {
    const r = ioctl(fd, request, page().ptr);
    if (r.value >= 0) return 0;
    if (r.errno !== EINTR) return r.errno;
  }
}

/** TCGETS: the kernel's struct termios of `fd`, or the errno (ENOTTY: not a terminal). */
export function ttyGetAttr(fd: number): Uint8Array | { errno: number } {
  const errno = ioctlPage(fd, TCGETS);
  if (errno !== 0) return { errno };
  return Uint8Array.from(page().buffer.subarray(0, KERNEL_TERMIOS_SIZE));
}

/** TCSETS, TCSETSW or TCSETSF with a kernel struct termios; 0 or the errno. */
export function ttySetAttr(fd: number, request: number, termios: Uint8Array): number {
  if (termios.length !== KERNEL_TERMIOS_SIZE) throw new RangeError(`a struct termios is ${KERNEL_TERMIOS_SIZE} bytes`);
  page().buffer.set(termios, 0);
  return ioctlPage(fd, request);
}

/** TIOCGWINSZ: rows and columns, undefined if `fd` has none. */
export function ttyWindowSize(fd: number): { rows: number; cols: number } | undefined {
  if (ioctlPage(fd, TIOCGWINSZ) !== 0) return undefined;
  const b = page().buffer;
  return { rows: b.readUInt16LE(0), cols: b.readUInt16LE(2) };
}

/**
 * Waits up to `timeoutMs` (-1: for ever) for `fd` to be readable (or hung
 * up: a read then says so). EINTR ends the wait early, as no input.
 */
export function waitReadable(fd: number, timeoutMs: number): boolean {
  const pfd = page().buffer;
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(1 /* POLLIN */, 4);
  pfd.writeInt16LE(0, 6);
  const r = load<DataType.I32, true>({
    library: libcName(),
    funcName: 'poll',
    retType: DataType.I32,
    paramsType: [DataType.External, DataType.U64, DataType.I32],
    paramsValue: [page().ptr, 1, timeoutMs],
    errno: true,
  });
  return r.value > 0;
}
