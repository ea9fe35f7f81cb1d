import { checkFrame, type Display, type Frame, type InputEvent } from './display.js';

/** A display with no screen: keeps a copy of the last frame and counts frames. */
export class HeadlessDisplay implements Display {
  frames = 0;
  last: Frame | undefined;
  closed = false;
  private pending: InputEvent[] = [];

  show(frame: Frame): void {
    if (this.closed) throw new Error('HeadlessDisplay: show() after close()');
    checkFrame(frame);
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
