/**
 * How the host shows the guest's framebuffer. Backends: headless (no screen),
 * an SDL window, and web pages (a browser).
 */

/** One frame as the guest drew it: XRGB8888, `stride` bytes per row. */
export interface Frame {
  width: number;
  height: number;
  stride: number;
  pixels: Uint8Array;
}

/** Throws a RangeError unless `frame.pixels` holds `height` rows of `stride` bytes, each with `width` XRGB8888 pixels. */
export function checkFrame(frame: Frame): void {
  const rowBytes = frame.width * 4;
  if (
    !Number.isInteger(frame.width) || !Number.isInteger(frame.height) || frame.width <= 0 || frame.height <= 0 ||
    !Number.isInteger(frame.stride) || frame.stride < rowBytes ||
    frame.pixels.length < frame.stride * (frame.height - 1) + rowBytes
  ) {
    throw new RangeError(`frame ${frame.width}x${frame.height} stride ${frame.stride} does not fit ${frame.pixels.length} bytes`);
  }
}

/** An input event in Linux evdev shape (type, code, value). */
export interface InputEvent {
  type: number;
  code: number;
  value: number;
}

export interface Display {
  /** Shows a frame; the backend copies what it keeps, the guest may draw on. */
  show(frame: Frame): void;
  /** Input gathered since the last call, oldest first. */
  takeInput(): InputEvent[];
  /** True once the user asked to close (window closed, stop on the web page). */
  readonly closed: boolean;
  close(): void;
}
