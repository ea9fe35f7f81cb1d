import type { Display, Frame, InputEvent } from './display.js';

/** A display with no screen: keeps a copy of the last frame and counts frames. */
export class HeadlessDisplay implements Display {
  frames = 0;
  last: Frame | undefined;
  closed = false;
  private pending: InputEvent[] = [];

  show(frame: Frame): void {
    if (this.closed) throw new Error('HeadlessDisplay: show() after close()');
    const rowBytes = frame.width * 4;
    if (frame.stride < rowBytes || frame.pixels.length < frame.stride * (frame.height - 1) + rowBytes) {
      throw new RangeError(`frame ${frame.width}x${frame.height} stride ${frame.stride} does not fit ${frame.pixels.length} bytes`);
    }
    this.last = { ...frame, pixels: Uint8Array.from(frame.pixels) };
    this.frames++;
  }

  /** Queues input as if a user had produced it (scripted input, tests). */
  inject(events: InputEvent[]): void {
    this.pending.push(...events);
  }

  takeInput(): InputEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  close(): void {
    this.closed = true;
  }
}
