/**
 * The guest's screen in a desktop window, through SDL (@kmamal/sdl).
 *
 * SDL is loaded when the first SdlDisplay is made, not when this package is
 * imported: loading it initializes SDL's video, which needs a display
 * (X11/Wayland, or SDL_VIDEODRIVER=dummy/offscreen).
 */
import { createRequire } from 'node:module';
import type { Sdl } from '@kmamal/sdl';
import { checkFrame, type Display, type Frame, type InputEvent } from './display.js';
import { buttonEvents, keyEvents, positionEvents, wheelEvents } from './evdev.js';

type SdlModule = typeof import('@kmamal/sdl');

let sdlModule: SdlModule | undefined;

function loadSdl(): SdlModule {
  if (sdlModule === undefined) {
    const requireCjs = createRequire(import.meta.url);
    try {
      sdlModule = requireCjs('@kmamal/sdl') as SdlModule;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
        throw new Error(
          'SdlDisplay: @kmamal/sdl is not installed (an optional dependency, needed only for a window): npm install @kmamal/sdl',
          { cause: e },
        );
      }
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(
        `SdlDisplay: cannot start SDL (${why}). A window needs a display: set DISPLAY (X11) or ` +
          'WAYLAND_DISPLAY, or SDL_VIDEODRIVER=offscreen; or use the headless display.',
        { cause: e },
      );
    }
  }
  return sdlModule;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The largest rectangle with the frame's aspect ratio centred in the output. */
export function fitRect(frameWidth: number, frameHeight: number, outWidth: number, outHeight: number): Rect {
  const scale = Math.min(outWidth / frameWidth, outHeight / frameHeight);
  const width = Math.max(1, Math.round(frameWidth * scale));
  const height = Math.max(1, Math.round(frameHeight * scale));
  return { x: Math.floor((outWidth - width) / 2), y: Math.floor((outHeight - height) / 2), width, height };
}

export interface SdlDisplayOptions {
  /** Initial window size in screen coordinates; default 640x480. */
  width?: number;
  height?: number;
  /**
   * Called once when the user closes the window (not by close()), so a
   * caller waiting for something else can react at once.
   */
  onClose?: () => void;
  /**
   * Refuse SDL's windowless fallbacks: with no display server SDL quietly
   * picks the offscreen or dummy driver, where a window is never seen.
   * An explicit SDL_VIDEODRIVER is still honoured.
   */
  requireScreen?: boolean;
}

/** SDL video drivers that show nothing. */
const WINDOWLESS_DRIVERS = new Set(['offscreen', 'dummy']);

/** A resizable window titled "kvmos" showing frames scaled to fit, its input as evdev events. */
export class SdlDisplay implements Display {
  private readonly window: Sdl.Video.Window;
  private pending: InputEvent[] = [];
  private isClosed = false;
  /** A copy of the last frame shown, drawn again when the window is resized or exposed. */
  private last: { width: number; height: number; stride: number; pixels: Buffer } | undefined;
  private lastX = -1;
  private lastY = -1;

  constructor(options: SdlDisplayOptions = {}) {
    const sdl = loadSdl();
    const driver = sdl.info.drivers.video.current;
    if (options.requireScreen && WINDOWLESS_DRIVERS.has(driver) && process.env.SDL_VIDEODRIVER !== driver) {
      throw new Error(`SdlDisplay: no display server (SDL fell back to its ${driver} driver): set DISPLAY (X11) or WAYLAND_DISPLAY`);
    }
    this.window = sdl.video.createWindow({
      title: 'kvmos',
      width: options.width ?? 640,
      height: options.height ?? 480,
      resizable: true,
    });
    const w = this.window;
    w.on('close', () => {
      if (this.isClosed) return;
      this.isClosed = true;
      options.onClose?.();
    });
    w.on('resize', () => this.redraw());
    w.on('expose', () => this.redraw());
    w.on('keyDown', (e) => this.queue(keyEvents(e.scancode, e.repeat ? 'repeat' : 'down')));
    w.on('keyUp', (e) => this.queue(keyEvents(e.scancode, 'up')));
    w.on('mouseMove', (e) => this.pointer(e.x, e.y));
    w.on('mouseButtonDown', (e) => {
      this.pointer(e.x, e.y);
      this.queue(buttonEvents(e.button, true));
    });
    w.on('mouseButtonUp', (e) => {
      this.pointer(e.x, e.y);
      this.queue(buttonEvents(e.button, false));
    });
    w.on('mouseWheel', (e) => this.queue(wheelEvents(e.dx, e.dy, Boolean(e.flipped))));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Draws a frame. Once the window is closed frames are dropped (the user may close it at any time). */
  show(frame: Frame): void {
    checkFrame(frame);
    if (this.isClosed) return;
    const size = frame.stride * frame.height;
    const pixels = this.last?.pixels.length === size ? this.last.pixels : Buffer.alloc(size);
    pixels.set(frame.pixels.subarray(0, size));
    this.last = { width: frame.width, height: frame.height, stride: frame.stride, pixels };
    this.redraw();
  }

  takeInput(): InputEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  close(): void {
    // First: destroying the window emits its 'close' event, which is not the user's doing.
    this.isClosed = true;
    if (!this.window.destroyed) this.window.destroy();
  }

  /** Where frames are drawn, in the window's pixels. */
  private target(): Rect {
    const { width, height } = this.last ?? { width: 640, height: 480 };
    return fitRect(width, height, this.window.pixelWidth, this.window.pixelHeight);
  }

  private redraw(): void {
    if (this.last === undefined || this.window.destroyed) return;
    const { width, height, stride, pixels } = this.last;
    // 'rgb888' is SDL_PIXELFORMAT_RGB888, i.e. XRGB8888: bytes B, G, R, X in memory.
    this.window.render(width, height, stride, 'rgb888', pixels, { scaling: 'nearest', dstRect: this.target() });
  }

  private queue(events: InputEvent[]): void {
    this.pending.push(...events);
  }

  /** Queues the pointer position (window coordinates) as framebuffer pixels, when it changed. */
  private pointer(windowX: number, windowY: number): void {
    const rect = this.target();
    const { width, height } = this.last ?? { width: 640, height: 480 };
    const px = (windowX * this.window.pixelWidth) / this.window.width;
    const py = (windowY * this.window.pixelHeight) / this.window.height;
    const x = clamp(Math.floor(((px - rect.x) * width) / rect.width), 0, width - 1);
    const y = clamp(Math.floor(((py - rect.y) * height) / rect.height), 0, height - 1);
    if (x === this.lastX && y === this.lastY) return;
    this.lastX = x;
    this.lastY = y;
    this.queue(positionEvents(x, y));
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
