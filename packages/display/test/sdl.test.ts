/**
 * SdlDisplay in a real X server (a private Xvfb): real pixels read back from
 * the window with xwd, real input sent with xdotool (XTEST), a real
 * WM_DELETE_WINDOW. Fails, never skips, when no X server can be started.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ABS_X, ABS_Y, BTN_LEFT, EV_ABS, EV_KEY, EV_REL, KEY, REL_WHEEL, SdlDisplay, encodePng,
  type Frame, type InputEvent, type SdlDisplayOptions,
} from '../src/index.js';
import { captureWindow, findWindow, requestClose, startXvfb, waitFor, x11, type Xvfb } from '@kvmos/test-support';

/** Where the window's screenshot is left for people to look at. */
const SCREENSHOT = process.env.KVMOS_SDL_SCREENSHOT ?? join(tmpdir(), 'kvmos-sdl-screenshot.png');

type Rgb = readonly [number, number, number];
const BLUE: Rgb = [0, 0, 255], GREEN: Rgb = [0, 255, 0], RED: Rgb = [255, 0, 0], WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/** 640x480 in four coloured quadrants: blue, green over red, white. */
function quadrants(): Frame {
  const width = 640, height = 480, stride = width * 4;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = y < height / 2 ? (x < width / 2 ? BLUE : GREEN) : x < width / 2 ? RED : WHITE;
      pixels.set([b, g, r, 0], y * stride + x * 4);
    }
  }
  return { width, height, stride, pixels };
}

function rgbAt(f: Frame, x: number, y: number): Rgb {
  const o = y * f.stride + x * 4;
  return [f.pixels[o + 2]!, f.pixels[o + 1]!, f.pixels[o]!];
}

let xvfb: Xvfb | undefined;
let display = '';

test.before(async () => {
  xvfb = await startXvfb();
  display = xvfb.display;
  process.env.DISPLAY = display;
  delete process.env.SDL_VIDEODRIVER; // a real X11 window, not a dummy one
  delete process.env.WAYLAND_DISPLAY;
});

// SDL has loaded by now and registered its exit handler; the server must outlive it.
test.after.always(() => xvfb?.stopAtExit());

/** Opens a display whose window is closed when the test ends, pass or fail. */
async function openWindow(t: ExecutionContext, opts?: SdlDisplayOptions): Promise<{ d: SdlDisplay; id: number }> {
  const d = new SdlDisplay(opts);
  t.teardown(() => d.close());
  const id = await waitFor('the kvmos window to be mapped', () => findWindow(display, 'kvmos'));
  return { d, id };
}

/** Screenshot of the window once `check` holds for it (rendering and mapping are asynchronous in X). */
async function captureWhen(id: number, check: (f: Frame) => boolean): Promise<Frame> {
  let last: Frame | undefined;
  try {
    return await waitFor('the frame to appear in the window', async () => {
      last = await captureWindow(display, id);
      return check(last) ? last : undefined;
    });
  } catch (e) {
    if (last) writeFileSync(SCREENSHOT, encodePng(last));
    throw e;
  }
}

test.serial('shows a frame in a real X window titled kvmos', async (t) => {
  const { d, id } = await openWindow(t);
  d.show(quadrants());
  const shot = await captureWhen(id, (f) => f.width === 640 && f.height === 480 && rgbAt(f, 160, 120)[2] === 255);
  writeFileSync(SCREENSHOT, encodePng(shot));
  t.log(`screenshot of the window: ${SCREENSHOT}`);
  t.deepEqual(rgbAt(shot, 160, 120), BLUE);
  t.deepEqual(rgbAt(shot, 480, 120), GREEN);
  t.deepEqual(rgbAt(shot, 160, 360), RED);
  t.deepEqual(rgbAt(shot, 480, 360), WHITE);
  // Scaling is 1:1 here: the quadrant edges are where the frame has them.
  t.deepEqual(rgbAt(shot, 319, 239), BLUE);
  t.deepEqual(rgbAt(shot, 320, 240), WHITE);
});

test.serial('scales the frame to a wider window keeping its aspect ratio, and maps the pointer back', async (t) => {
  const { d, id } = await openWindow(t, { width: 800, height: 400 });
  d.show(quadrants());
  // 640x480 fits 800x400 as 533x400 at x = 133: black bars left and right.
  const shot = await captureWhen(id, (f) => f.width === 800 && rgbAt(f, 200, 100)[2] === 255);
  t.deepEqual(rgbAt(shot, 60, 200), BLACK);
  t.deepEqual(rgbAt(shot, 740, 200), BLACK);
  t.deepEqual(rgbAt(shot, 140, 5), BLUE);
  t.deepEqual(rgbAt(shot, 660, 5), GREEN);
  t.deepEqual(rgbAt(shot, 140, 395), RED);
  t.deepEqual(rgbAt(shot, 660, 395), WHITE);

  // The window's right edge is the frame's last column; its centre is the frame's centre.
  await x11(display, 'xdotool', ['mousemove', '--window', String(id), '799', '0']);
  t.deepEqual(await pointerSettles(d, [639, 0]), [639, 0]);
  await x11(display, 'xdotool', ['mousemove', '--window', String(id), '400', '200']);
  t.deepEqual(await pointerSettles(d, [320, 240]), [320, 240]);
});

/**
 * Gathers pointer positions until the latest is `want`; on a time-out the
 * error lists the positions seen. (A window mapped under the pointer may
 * report where the pointer was before the test moved it, and late.)
 */
async function pointerSettles(d: SdlDisplay, want: [number, number]): Promise<[number, number]> {
  const seen: [number, number][] = [];
  try {
    return await waitFor(`the pointer at ${want.join(',')}`, () => {
      const p = lastPosition(d.takeInput());
      if (p) seen.push(p);
      return p?.[0] === want[0] && p[1] === want[1] ? p : undefined;
    }, 5_000);
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)}; positions seen: ${JSON.stringify(seen)}`);
  }
}

function lastPosition(events: InputEvent[]): [number, number] | undefined {
  const xs = events.filter((e) => e.type === EV_ABS && e.code === ABS_X);
  const ys = events.filter((e) => e.type === EV_ABS && e.code === ABS_Y);
  const lx = xs.at(-1), ly = ys.at(-1);
  return lx && ly ? [lx.value, ly.value] : undefined;
}

test.serial('keyboard and mouse input arrive as evdev events', async (t) => {
  const { d, id } = await openWindow(t);
  d.show(quadrants());
  await x11(display, 'xdotool', ['mousemove', '--window', String(id), '100', '50']);
  await waitFor('the pointer to enter the window', () => lastPosition(d.takeInput()));
  // Focus follows the pointer without a window manager; click, scroll up, type "a".
  await x11(display, 'xdotool', ['click', '1', 'click', '4', 'key', 'a']);
  const events: InputEvent[] = [];
  await waitFor('the key release', () => {
    events.push(...d.takeInput());
    return events.some((e) => e.type === EV_KEY && e.code === KEY.A && e.value === 0) ? true : undefined;
  });
  const keys = events.filter((e) => e.type === EV_KEY).map((e) => [e.code, e.value]);
  t.deepEqual(keys, [[BTN_LEFT, 1], [BTN_LEFT, 0], [KEY.A, 1], [KEY.A, 0]]);
  t.deepEqual(events.filter((e) => e.type === EV_REL).map((e) => [e.code, e.value]), [[REL_WHEEL, 1]]);
});

test.serial('close() destroys the window and reports closed', async (t) => {
  const { d } = await openWindow(t);
  t.false(d.closed);
  d.close();
  t.true(d.closed);
  t.is(await waitFor('the window to go', async () => ((await findWindow(display, 'kvmos')) === undefined ? true : undefined)), true);
  t.notThrows(() => d.close(), 'closing twice is harmless');
  t.notThrows(() => d.show(quadrants()), 'a frame after closing is dropped');
});

test.serial('closing the window from outside (WM_DELETE_WINDOW) sets closed and calls onClose once', async (t) => {
  let calls = 0;
  const { d, id } = await openWindow(t, { onClose: () => calls++, requireScreen: true });
  t.false(d.closed);
  await requestClose(display, id);
  t.true(await waitFor('closed to become true', () => (d.closed ? true : undefined)));
  t.is(await waitFor('the window to go', async () => ((await findWindow(display, 'kvmos')) === undefined ? true : undefined)), true);
  d.close();
  t.is(calls, 1, 'close() itself does not call onClose');
});

test.serial('close() by the program does not call onClose', async (t) => {
  let calls = 0;
  const { d } = await openWindow(t, { onClose: () => calls++ });
  d.close();
  t.is(calls, 0);
});

test('requireScreen refuses SDL\'s windowless fallback when there is no display server', async (t) => {
  // A process of its own: SDL picks its video driver once, when it loads.
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.SDL_VIDEODRIVER;
  const index = new URL('../src/index.js', import.meta.url).href;
  const script = `import(${JSON.stringify(index)}).then(({ SdlDisplay }) => {
    try { new SdlDisplay({ requireScreen: true }); console.log('opened'); }
    catch (e) { console.log(e.message); }
    process.exit(0);
  });`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { env });
  t.regex(stdout, /no display server \(SDL fell back to its (offscreen|dummy) driver\)/);
});
