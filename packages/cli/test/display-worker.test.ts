/**
 * The window path without a window: the Machine in a worker thread, frames
 * and input through the shared channel, pacing, closing, and stopping a
 * guest that computes forever. A HeadlessDisplay stands in for SDL.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAMEBUFFER_HEIGHT, FRAMEBUFFER_WIDTH } from '@kvmos/protocol';
import { HeadlessDisplay, positionEvents, keyEvents, type Frame } from '@kvmos/display';
import { runInWorker, type WindowRunOptions } from '../src/display/window.js';
import { FrameSession } from '../src/display/session.js';
import { runHeadless } from '../src/display/run.js';
import { parseInputScript } from '../src/display/input-script.js';
import { imagePath, readImage } from '../src/images.js';
import { DescribedError } from '../src/errors.js';
import { PALETTE, findSquare, frameCounter, readPng } from './helpers/png.js';

const kernel = readImage(imagePath('fbtest'), true);
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-worker-'));
const geometry = { width: FRAMEBUFFER_WIDTH, height: FRAMEBUFFER_HEIGHT, stride: FRAMEBUFFER_WIDTH * 4 };

/** A display that closes itself (as a user would) when `closeAfter` frames have been shown. */
class ClosingDisplay extends HeadlessDisplay {
  constructor(
    private readonly onClose: () => void,
    private readonly closeAfter = Infinity,
  ) {
    super();
  }

  override show(frame: Frame): void {
    super.show(frame);
    if (this.frames === this.closeAfter) {
      this.closed = true;
      this.onClose();
    }
  }

  override close(): void {}
}

function options(over: Partial<WindowRunOptions> & { session: FrameSession }): WindowRunOptions {
  return {
    image: { kernel, ramSize: 256 << 20, cmdline: '' },
    verbose: false,
    fixedTime: true,
    geometry,
    openDisplay: (onClose) => new ClosingDisplay(onClose),
    periodMs: 0,
    quitGraceMs: 1000,
    ...over,
  };
}

test('frames through the worker are bit-identical to headless ones', async (t) => {
  const script = parseInputScript('1 EV_ABS ABS_X 40\n1 EV_ABS ABS_Y 30\n2 EV_KEY KEY_C 1\n', 's');
  const viaWorker = join(tmp, 'worker'), inProcess = join(tmp, 'in-process');
  const r = await runInWorker(options({ session: FrameSession.open({ frames: 6, recordDir: viaWorker, script }) }));
  t.like(r, { exitCode: 0, frames: 6, stopped: false });
  const h = runHeadless({ image: { kernel, ramSize: 256 << 20, cmdline: '' }, verbose: false, display: { fixedTime: true } }, FrameSession.open({ frames: 6, recordDir: inProcess, script }));
  t.like(h, { exitCode: 0, frames: 6 });
  t.is(readdirSync(viaWorker).length, 6);
  for (const f of readdirSync(inProcess)) t.true(readFileSync(join(viaWorker, f)).equals(readFileSync(join(inProcess, f))), f);
});

test('live input from the display reaches the guest in the next frame', async (t) => {
  const dir = join(tmp, 'live');
  let display: ClosingDisplay | undefined;
  const session = FrameSession.open({ frames: 4, recordDir: dir });
  const r = await runInWorker(options({
    session,
    openDisplay: (onClose) => {
      display = new ClosingDisplay(onClose);
      // Queued before frame 0 is shown: taken with the reply to it, seen in frame 1.
      display.inject([...positionEvents(500, 400), ...keyEvents(6 /* SDL scancode C */, 'down')]);
      return display;
    },
  }));
  t.is(r.exitCode, 0);
  t.deepEqual(findSquare(readPng(join(dir, 'frame-00000.png')))?.colour, PALETTE[0]);
  const f1 = readPng(join(dir, 'frame-00001.png'));
  t.like(findSquare(f1), { x: 500, y: 400, colour: PALETTE[1] });
  t.is(frameCounter(f1), 1);
  t.is(display?.frames, 4, 'the display showed every frame');
});

test('paced: frames come no faster than the period', async (t) => {
  const t0 = performance.now();
  const r = await runInWorker(options({ session: FrameSession.open({ frames: 10 }), periodMs: 20 }));
  const ms = performance.now() - t0;
  t.is(r.frames, 10);
  t.true(ms >= 9 * 20 - 5, `10 frames at 20 ms took ${ms.toFixed(1)} ms`);
});

test('closing the display asks the guest to quit: exit 0', async (t) => {
  const r = await runInWorker(options({ session: FrameSession.open({}), openDisplay: (onClose) => new ClosingDisplay(onClose, 3) }));
  // Closed while showing frame 2, after the reply to it: quit comes with the reply to frame 3.
  t.like(r, { exitCode: 0, frames: 4, stopped: false });
});

test('a guest that computes forever after quit is stopped out of KVM_RUN after the grace time: exit 0', async (t) => {
  // Timed from the close, not from the start: booting (QEMU's start-up on
  // TCG, on a loaded machine) is not what is under test here, the stop is.
  let closedAt = 0;
  const r = await runInWorker(options({
    image: { kernel, ramSize: 256 << 20, cmdline: 'spin_on_quit' },
    session: FrameSession.open({}),
    openDisplay: (onClose) => new ClosingDisplay(() => ((closedAt = performance.now()), onClose()), 2),
    quitGraceMs: 300,
  }));
  const ms = performance.now() - closedAt;
  t.like(r, { exitCode: 0, stopped: true });
  t.true(closedAt > 0 && ms < 5000, `stopped ${ms.toFixed(0)} ms after the close`);
});

test('errors in the worker come back as the one-line error', async (t) => {
  const bad = join(tmp, 'not-elf');
  writeFileSync(bad, 'not a kernel');
  let opened = false;
  const e = await t.throwsAsync(
    runInWorker(options({ image: { kernel: readFileSync(bad), ramSize: 256 << 20, cmdline: '' }, session: FrameSession.open({}), openDisplay: (c) => ((opened = true), new ClosingDisplay(c)) })),
    { instanceOf: DescribedError },
  );
  t.regex(e.line, /^kernel image: not an ELF file/);
  t.is(e.exitCode, 65);
  t.false(opened, 'no window for a kernel that cannot boot');
});

test('a display that cannot open: its error, and the booted worker is let go', async (t) => {
  await t.throwsAsync(
    runInWorker(options({ session: FrameSession.open({}), openDisplay: () => { throw new Error('no screen'); } })),
    { message: 'no screen' },
  );
});
