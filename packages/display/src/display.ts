/**
 * How the host shows the guest's framebuffer. Backends: headless (here),
 * and an SDL window and a web page (next: issue "A screen and a mouse").
 */

/** One frame as the guest drew it: XRGB8888, `stride` bytes per row. */
export interface Frame {
  width: number;
  height: number;
  stride: number;
  pixels: Uint8Array;
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
  /** True once the user asked to close (window closed). */
  readonly closed: boolean;
  close(): void;
}
