/**
 * A private X server (Xvfb) and the X tools the SDL tests use to look at and poke its windows.
 * Tests (and the torus window benchmark) import it as `@kvmos/test-support`,
 * a private workspace package that is never published.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

/** An XRGB8888 picture, the shape of @kvmos/display's Frame. */
export interface Frame {
  width: number;
  height: number;
  stride: number;
  pixels: Uint8Array;
}

const run = promisify(execFile);

export interface Xvfb {
  /** The DISPLAY value, e.g. ":99". */
  display: string;
  /** Kills the server now. */
  stop(): void;
  /**
   * Kills the server when this process exits, after the exit handlers
   * registered before this call (such as SDL's, which closes its windows).
   */
  stopAtExit(): void;
}

/**
 * Starts Xvfb on a free display number (it reports the number on fd 3 once
 * it accepts clients). Stop it only after every X client of this process is
 * gone: SDL keeps its connection until the process exits, and dies with
 * "XIO: fatal IO error" when the server goes away under it (see stopAtExit).
 */
export function startXvfb(width = 800, height = 600): Promise<Xvfb> {
  const log = join(mkdtempSync(join(tmpdir(), 'kvmos-xvfb-')), 'stderr.log');
  const logFd = openSync(log, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', logFd, 'pipe'],
    });
    closeSync(logFd);
    const stop = () => child.kill();
    let fd3 = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      stop();
      const stderr = existsSync(log) ? readFileSync(log, 'utf8').trim() : '';
      reject(new Error(`cannot start an X server (Xvfb) for the SDL tests: ${why}${stderr ? `; Xvfb said: ${stderr}` : ''}. Install Debian's xvfb (scripts/setup.sh does).`));
    };
    const timer = setTimeout(() => fail('no display number after 15 s'), 15_000);
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code, signal) => fail(`Xvfb exited (${code ?? signal}) before it was ready`));
    const numbers = child.stdio[3] as Readable;
    numbers.on('data', (b: Buffer) => {
      fd3 += b.toString();
      if (!fd3.includes('\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      numbers.destroy();
      child.unref(); // the server must not keep the test process alive
      resolve({ display: `:${fd3.trim()}`, stop, stopAtExit: () => process.once('exit', stop) });
    });
  });
}

/** Runs an X client against `display`, resolving to its stdout. */
export async function x11(display: string, cmd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run(cmd, args, { env: { ...process.env, DISPLAY: display }, encoding: 'buffer', maxBuffer: 64 << 20 });
  return stdout;
}

/** The id of the visible window with exactly this title, or undefined. */
export async function findWindow(display: string, title: string): Promise<number | undefined> {
  try {
    const out = await x11(display, 'xdotool', ['search', '--onlyvisible', '--name', `^${title}$`]);
    const id = Number.parseInt(out.toString().trim().split('\n')[0] ?? '', 10);
    return Number.isNaN(id) ? undefined : id;
  } catch {
    return undefined; // xdotool search exits 1 when nothing matches
  }
}

/** A screenshot of one window (xwd), as an XRGB8888 frame. */
export async function captureWindow(display: string, id: number): Promise<Frame> {
  return parseXwd(await x11(display, 'xwd', ['-silent', '-id', String(id)]));
}

/** Decodes an XWD (X Window Dump) of a 24/32-bit TrueColor ZPixmap, as xwd writes for Xvfb's default visual. */
export function parseXwd(file: Buffer): Frame {
  const field = (i: number) => file.readUInt32BE(i * 4);
  const [headerSize, version, format, , width, height] = [0, 1, 2, 3, 4, 5].map(field) as [number, number, number, number, number, number];
  const byteOrder = field(7);
  const bitsPerPixel = field(11);
  const bytesPerLine = field(12);
  const [redMask, greenMask, blueMask] = [field(14), field(15), field(16)];
  const ncolors = field(19);
  if (version !== 7 || format !== 2 || bitsPerPixel !== 32) {
    throw new Error(`unsupported XWD: version ${version}, format ${format}, ${bitsPerPixel} bits per pixel`);
  }
  const shift = (mask: number) => 31 - Math.clz32(mask & -mask);
  const start = headerSize + ncolors * 12;
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = start + y * bytesPerLine + x * 4;
      const v = byteOrder === 0 ? file.readUInt32LE(at) : file.readUInt32BE(at);
      const o = (y * width + x) * 4;
      pixels[o] = (v & blueMask) >>> shift(blueMask);
      pixels[o + 1] = (v & greenMask) >>> shift(greenMask);
      pixels[o + 2] = (v & redMask) >>> shift(redMask);
    }
  }
  return { width, height, stride: width * 4, pixels };
}

/** Asks a window to close the way a window manager's close button does: a WM_DELETE_WINDOW client message. */
export async function requestClose(display: string, id: number): Promise<void> {
  const script = `
import ctypes, sys
x = ctypes.CDLL('libX11.so.6')
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
x.XFlush.argtypes = [ctypes.c_void_p]
x.XCloseDisplay.argtypes = [ctypes.c_void_p]
class XClientMessageEvent(ctypes.Structure):
    _fields_ = [('type', ctypes.c_int), ('serial', ctypes.c_ulong), ('send_event', ctypes.c_int),
                ('display', ctypes.c_void_p), ('window', ctypes.c_ulong), ('message_type', ctypes.c_ulong),
                ('format', ctypes.c_int), ('data', ctypes.c_long * 5)]
class XEvent(ctypes.Union):
    _fields_ = [('xclient', XClientMessageEvent), ('pad', ctypes.c_long * 24)]
d = x.XOpenDisplay(None)
if not d: sys.exit('cannot open display')
ev = XEvent()
ev.xclient.type = 33  # ClientMessage
ev.xclient.window = int(sys.argv[1])
ev.xclient.message_type = x.XInternAtom(d, b'WM_PROTOCOLS', 0)
ev.xclient.format = 32
ev.xclient.data[0] = x.XInternAtom(d, b'WM_DELETE_WINDOW', 0)
if not x.XSendEvent(d, ev.xclient.window, 0, 0, ctypes.byref(ev)): sys.exit('XSendEvent failed')
x.XFlush(d)
x.XCloseDisplay(d)
`;
  await x11(display, 'python3', ['-c', script, String(id)]);
}

/** Polls `probe` until it returns a value other than undefined, or fails after `ms`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
