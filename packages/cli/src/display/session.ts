/**
 * What the kvmos command does with a display guest's frames, whatever shows
 * them (in-process headless, or a window fed by the vCPU worker): record
 * PNGs, keep the last frame for --screenshot, replay an --input script,
 * stop after --frames, report progress.
 */
import { accessSync, constants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { encodePng, type Frame, type InputEvent } from '@kvmos/display';
import { OutputFileError } from '../errors.js';
import type { InputScript } from './input-script.js';
import type { FrameReply } from './screen.js';

export interface SessionOptions {
  /** Ask the guest to quit after this many frames. */
  frames?: number;
  /** Write frame-00000.png, frame-00001.png ... here (created if missing). */
  recordDir?: string;
  /** Write the last frame here as a PNG at the end. */
  screenshot?: string;
  script?: InputScript;
  /** Where a `\r`-updated progress line (with terminal escapes) goes while recording; give it only for a TTY. */
  progress?: (text: string) => void;
}

/** Recording file name of frame n. */
export function frameFileName(n: number): string {
  return `frame-${String(n).padStart(5, '0')}.png`;
}

export class FrameSession {
  private shown = 0;
  /** A copy of the last frame, for --screenshot (the guest draws on in the framebuffer). */
  private last: Frame | undefined;
  private progressAt = 0;
  private progressOpen = false;

  private constructor(private readonly opts: SessionOptions) {}

  /** Checks and creates the outputs first, so a long run does not fail at its end. */
  static open(opts: SessionOptions): FrameSession {
    if (opts.recordDir !== undefined) prepareDir(opts.recordDir);
    if (opts.screenshot !== undefined) prepareFile(opts.screenshot);
    return new FrameSession(opts);
  }

  get framesShown(): number {
    return this.shown;
  }

  /** Frame `n` is on screen; `frame.pixels` may be a view the guest draws on later. */
  show(frame: Frame, n: number): void {
    this.shown = n + 1;
    const { recordDir, screenshot, progress } = this.opts;
    if (recordDir !== undefined) {
      const path = join(recordDir, frameFileName(n));
      try {
        writeFileSync(path, encodePng(frame));
      } catch (e) {
        throw new OutputFileError(path, `cannot write (${codeOf(e)})`, 'check free space and permissions of the --record directory');
      }
      if (progress) {
        const now = Date.now();
        // A few updates a second: writing to the terminal each frame would cost more than the frame.
        if (now - this.progressAt >= 100) {
          this.progressAt = now;
          this.progressOpen = true;
          progress(`\r\x1b[Kkvmos: recording frame ${n + 1}${this.opts.frames !== undefined ? `/${this.opts.frames}` : ''}`);
        }
      }
    }
    if (screenshot !== undefined) {
      const size = frame.stride * frame.height;
      const pixels = this.last?.pixels.length === size ? this.last.pixels : new Uint8Array(size);
      pixels.set(frame.pixels.subarray(0, size));
      this.last = { width: frame.width, height: frame.height, stride: frame.stride, pixels };
    }
  }

  /**
   * The reply to frame `n`: what the guest finds in the mailbox for frame
   * `n + 1`: live input (a window's), then the script's events for that
   * frame; quit once the window is closed or --frames are shown.
   */
  reply(n: number, live: readonly InputEvent[], closed: boolean): FrameReply {
    const next = n + 1;
    const scripted = this.opts.script?.eventsAt(next) ?? [];
    const events = live.length === 0 ? scripted : scripted.length === 0 ? live : [...live, ...scripted];
    const quit = closed || (this.opts.frames !== undefined && next >= this.opts.frames);
    return { events, quit };
  }

  /** Ends a progress line, so that what follows (an error) starts on its own line. */
  endProgress(): void {
    if (this.progressOpen) this.opts.progress?.('\n');
    this.progressOpen = false;
  }

  /** After a run that ended well: the last progress line, and the screenshot. */
  finish(): void {
    const { recordDir, screenshot, progress } = this.opts;
    if (recordDir !== undefined && progress) {
      progress(`\r\x1b[Kkvmos: recorded ${this.shown} frame${this.shown === 1 ? '' : 's'} to ${recordDir}\n`);
      this.progressOpen = false;
    }
    if (screenshot !== undefined) {
      if (!this.last) throw new OutputFileError(screenshot, 'no frame to save', 'the guest stopped before it showed a frame');
      try {
        writeFileSync(screenshot, encodePng(this.last));
      } catch (e) {
        throw new OutputFileError(screenshot, `cannot write (${codeOf(e)})`, 'check the --screenshot path');
      }
    }
  }
}

function prepareDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new OutputFileError(resolve(dir), `cannot record here (${codeOf(e)})`, 'give --record a writable directory');
  }
}

function prepareFile(path: string): void {
  const where = dirname(resolve(path));
  try {
    if (!statSync(where).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(where, constants.W_OK);
  } catch (e) {
    throw new OutputFileError(resolve(path), `cannot write there (${codeOf(e)})`, 'give --screenshot a file in a writable directory');
  }
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Not there yet: it will be created.
  }
  if (isDir) throw new OutputFileError(resolve(path), 'is a directory', 'give --screenshot a file name');
}

function codeOf(e: unknown): string {
  return (e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e));
}
