/**
 * Frames and input between the vCPU worker and the main thread, through one
 * SharedArrayBuffer: the worker copies the framebuffer in once per frame
 * and blocks (Atomics.wait) until the main thread has shown it and written
 * the reply; the main thread waits with Atomics.waitAsync, so its event
 * loop (the window's close, resize and input events) never blocks.
 *
 * Layout: 8 Int32 control words, then CHANNEL_MAX_EVENTS events of two
 * Int32 each (type << 16 | code, value), then the pixels.
 */
import { FRAMEBUFFER_HEIGHT, FRAMEBUFFER_WIDTH } from '@kvmos/protocol';
import type { Frame, InputEvent } from '@kvmos/display';
import type { FrameReply, FrameSink } from './screen.js';
import { takeReports } from './screen.js';

/** Bumped by the worker when a frame is in the pixels. */
const REQUEST = 0;
/** Bumped by the main thread when the reply is written. */
const REPLY = 1;
/** The number of the frame in the pixels. */
const FRAME_N = 2;
const EVENT_COUNT = 3;
const QUIT = 4;
/** Main -> worker after boot: START_RUN or START_ABORT. */
const START = 5;
const CONTROL_BYTES = 8 * 4;
const START_RUN = 1;
const START_ABORT = 2;

/** Events per reply; more wait for the next frame (a user cannot make this many in 1/60 s). */
export const CHANNEL_MAX_EVENTS = 4096;

export interface FrameGeometry {
  width: number;
  height: number;
  stride: number;
}

/** The screen the command gives a guest: FRAMEBUFFER_WIDTH x FRAMEBUFFER_HEIGHT XRGB8888, rows unpadded (as planBoot lays it out). */
export const SCREEN_GEOMETRY: FrameGeometry = { width: FRAMEBUFFER_WIDTH, height: FRAMEBUFFER_HEIGHT, stride: FRAMEBUFFER_WIDTH * 4 };

export function createChannelBuffer(geometry: FrameGeometry): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + CHANNEL_MAX_EVENTS * 8 + geometry.stride * geometry.height);
}

function views(buffer: SharedArrayBuffer, geometry: FrameGeometry) {
  return {
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    events: new Int32Array(buffer, CONTROL_BYTES, CHANNEL_MAX_EVENTS * 2),
    pixels: new Uint8Array(buffer, CONTROL_BYTES + CHANNEL_MAX_EVENTS * 8, geometry.stride * geometry.height),
  };
}

/** The worker's end: a FrameSink for Machine. */
export class WorkerEnd implements FrameSink {
  private readonly control: Int32Array;
  private readonly events: Int32Array;
  private readonly pixels: Uint8Array;

  constructor(buffer: SharedArrayBuffer, private readonly geometry: FrameGeometry) {
    ({ control: this.control, events: this.events, pixels: this.pixels } = views(buffer, geometry));
  }

  /** Blocks until the main thread says run (true) or abort (false). */
  waitStart(): boolean {
    Atomics.wait(this.control, START, 0);
    return Atomics.load(this.control, START) === START_RUN;
  }

  frame(frame: Frame, n: number): FrameReply {
    const { width, height, stride } = this.geometry;
    if (frame.width !== width || frame.height !== height || frame.stride !== stride) {
      throw new Error(`frame ${frame.width}x${frame.height} (stride ${frame.stride}) does not match the channel's ${width}x${height} (stride ${stride})`);
    }
    // The one copy per frame: the guest draws on in its framebuffer once resumed.
    this.pixels.set(frame.pixels.subarray(0, this.pixels.length));
    const replied = Atomics.load(this.control, REPLY);
    Atomics.store(this.control, FRAME_N, n);
    Atomics.add(this.control, REQUEST, 1);
    Atomics.notify(this.control, REQUEST);
    // Returns at once if the reply is already there ('not-equal').
    Atomics.wait(this.control, REPLY, replied);
    const count = Atomics.load(this.control, EVENT_COUNT);
    const events: InputEvent[] = [];
    for (let i = 0; i < count; i++) {
      const head = this.events[2 * i]!;
      events.push({ type: head >>> 16, code: head & 0xffff, value: this.events[2 * i + 1]! });
    }
    return { events, quit: Atomics.load(this.control, QUIT) !== 0 };
  }
}

type WaitAsync = (typed: Int32Array, index: number, value: number, timeoutMs?: number) =>
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
// ES2024; Node has had it since 16 (V8 8.7), the ES2022 typings do not.
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** The main thread's end. */
export class MainEnd {
  private readonly control: Int32Array;
  private readonly events: Int32Array;
  readonly frame: Frame;
  private seen = 0;
  private backlog: InputEvent[] = [];

  constructor(buffer: SharedArrayBuffer, geometry: FrameGeometry) {
    const v = views(buffer, geometry);
    this.control = v.control;
    this.events = v.events;
    this.frame = { ...geometry, pixels: v.pixels };
  }

  start(): void {
    Atomics.store(this.control, START, START_RUN);
    Atomics.notify(this.control, START);
  }

  abort(): void {
    Atomics.store(this.control, START, START_ABORT);
    Atomics.notify(this.control, START);
  }

  /** Resolves with the frame's number once the worker has put a new frame in `frame`. */
  async nextFrame(): Promise<number> {
    for (;;) {
      const now = Atomics.load(this.control, REQUEST);
      if (now !== this.seen) {
        this.seen = now;
        return Atomics.load(this.control, FRAME_N);
      }
      // A time-out, so no waiter outlives a worker that ended.
      const w = waitAsync(this.control, REQUEST, now, 1000);
      if (w.async) await w.value;
    }
  }

  /** Writes the reply to the frame just received and lets the worker go on. */
  reply(reply: FrameReply): void {
    for (const e of reply.events) this.backlog.push(e);
    const events = takeReports(this.backlog, CHANNEL_MAX_EVENTS);
    events.forEach((e, i) => {
      this.events[2 * i] = ((e.type & 0xffff) << 16) | (e.code & 0xffff);
      this.events[2 * i + 1] = e.value | 0;
    });
    Atomics.store(this.control, EVENT_COUNT, events.length);
    Atomics.store(this.control, QUIT, reply.quit ? 1 : 0);
    Atomics.add(this.control, REPLY, 1);
    Atomics.notify(this.control, REPLY);
  }
}
