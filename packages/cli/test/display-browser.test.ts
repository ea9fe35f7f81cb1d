/**
 * `--web` in a real browser: Playwright (`playwright-core`) drives Debian's
 * Chromium (/usr/bin/chromium, installed by scripts/setup.sh; Playwright
 * cannot download its own browser here) headless against real guests. The
 * page's own script runs: it keeps the token, opens the WebSocket, draws
 * the frames on its canvas and sends the mouse and keys.
 *
 * - torus: the canvas shows the lit torus; space stops the spin; a left
 *   drag in the page orbits the camera and the same drag back returns to
 *   the view before (what the guest's own input test expects); the stop
 *   button ends the run with 0.
 * - paint: a drag in the page paints where the mouse went, checked in the
 *   guest's framebuffer on the host side (--screenshot, the last frame).
 * - the page without its token, or with a wrong one, is refused.
 *
 * Screenshots of the pages are kept in a temporary directory (its path is
 * in the test's log).
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pixel, readPng } from './helpers/png.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const W = 640;
const H = 480;

/** Where this run's screenshots stay (not removed: they are the test's artifacts). */
const artifacts = mkdtempSync(join(tmpdir(), 'kvmos-browser-'));

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

/** The page's address, token and all, from the run's line on stderr. */
async function urlOf(run: Run): Promise<string> {
  const end = Date.now() + 30_000;
  for (;;) {
    const m = /^kvmos: open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}) to see the screen$/m.exec(run.stderr());
    if (m) return m[1]!;
    if (run.child.exitCode !== null || Date.now() > end) throw new Error(`no address on stderr: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Debian's Chromium, headless, a fresh profile; fails with what to do when it is not installed. */
async function browser(t: ExecutionContext): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser test needs Debian's chromium - run scripts/setup.sh (or apt-get install --no-install-recommends chromium)`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'kvmos-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 800, height: 560 },
    timeout: 60_000,
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/**
 * Helpers in the page, reading its canvas: `frames` (the page's count of
 * frames drawn), snapshots of the canvas kept by name, the pixels that
 * differ between two, lit pixels in the middle, a pixel's colour, and
 * where a framebuffer pixel is on the screen (the canvas is scaled to fit,
 * the aspect kept).
 */
const PAGE_HELPERS = `window.kv = {
  saved: {},
  ctx() { return document.getElementById('screen').getContext('2d'); },
  keep(name) { const c = document.getElementById('screen'); this.saved[name] = { n: frames, data: this.ctx().getImageData(0, 0, c.width, c.height).data }; return frames; },
  diff(a, b) {
    const x = new Uint32Array(this.saved[a].data.buffer), y = new Uint32Array(this.saved[b].data.buffer);
    let d = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d++;
    return d;
  },
  lit(name) {
    const c = document.getElementById('screen'), s = this.saved[name].data;
    let lit = 0;
    for (let y = c.height / 2 - 100; y < c.height / 2 + 100; y++) for (let x = c.width / 2 - 100; x < c.width / 2 + 100; x++) {
      const o = (y * c.width + x) * 4;
      if (s[o] + s[o + 1] + s[o + 2] > 0) lit++;
    }
    return lit;
  },
  at(x, y) { return Array.from(this.ctx().getImageData(x, y, 1, 1).data.slice(0, 3)); },
  client(x, y) {
    const c = document.getElementById('screen'), r = c.getBoundingClientRect();
    const scale = Math.min(r.width / c.width, r.height / c.height);
    return { x: r.left + (r.width - c.width * scale) / 2 + (x + 0.5) * scale, y: r.top + (r.height - c.height * scale) / 2 + (y + 0.5) * scale };
  },
};`;

class Browsed {
  constructor(readonly page: Page) {}

  async eval<T>(expression: string): Promise<T> {
    return (await this.page.evaluate(expression));
  }

  /** Snapshots the canvas as `name` once the page has drawn a frame after `after` (the page's count); returns its count. */
  async keep(name: string, after = -1, ms = 30_000): Promise<number> {
    const end = Date.now() + ms;
    for (;;) {
      const n = await this.eval<number>('frames');
      if (n > after) return await this.eval<number>(`kv.keep(${JSON.stringify(name)})`);
      if (Date.now() > end) throw new Error(`the page drew no frame after its ${after}th in ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  diff(a: string, b: string): Promise<number> {
    return this.eval(`kv.diff(${JSON.stringify(a)}, ${JSON.stringify(b)})`);
  }

  /** Snapshots frames until one differs from `from` by more than `pixels`: kept as `name`. */
  async changed(name: string, from: string, pixels: number, ms = 30_000): Promise<number> {
    const end = Date.now() + ms;
    let n = -1;
    for (;;) {
      n = await this.keep(name, n);
      const d = await this.diff(name, from);
      if (d > pixels) return d;
      if (Date.now() > end) throw new Error(`the picture did not change from '${from}' (${d} pixels) in ${ms} ms`);
    }
  }

  /** Snapshots until two frames drawn one after the other are the same picture (the scene at rest): kept as `name`. */
  async still(name: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms;
    let n = await this.keep(`${name}.a`);
    for (;;) {
      n = await this.keep(name, n);
      if ((await this.diff(name, `${name}.a`)) === 0) return;
      await this.eval(`kv.saved[${JSON.stringify(`${name}.a`)}] = kv.saved[${JSON.stringify(name)}]`);
      if (Date.now() > end) throw new Error(`the picture did not come to rest in ${ms} ms`);
    }
  }

  /** Where framebuffer pixel (x, y) is in the page. */
  client(x: number, y: number): Promise<{ x: number; y: number }> {
    return this.eval(`kv.client(${x}, ${y})`);
  }

  /**
   * A left-button drag through framebuffer points, one mouse move each
   * (Chromium without a GPU on a busy machine handles a few a second).
   * With `reached`, each point is waited for until reached(point) holds
   * (positions within one frame are one to the guest: the last).
   */
  async drag(points: [number, number][], reached?: (p: [number, number]) => Promise<boolean>): Promise<void> {
    const [first, ...rest] = points;
    const at = await this.client(...first!);
    await this.page.mouse.move(at.x, at.y);
    await this.page.mouse.down();
    for (const p of [first!, ...rest]) {
      const to = await this.client(...p);
      await this.page.mouse.move(to.x, to.y);
      const end = Date.now() + 30_000;
      while (reached !== undefined && !(await reached(p))) {
        if (Date.now() > end) throw new Error(`the drag did not reach (${p.join(', ')}) in 30 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await this.page.mouse.up();
  }
}

/** Opens the page at `url` in a tab and waits for its first frame. */
async function open(context: BrowserContext, url: string): Promise<Browsed> {
  const page = await context.newPage();
  const response = await page.goto(url);
  if (response?.status() !== 200) throw new Error(`the page answered ${response?.status()}`);
  await page.evaluate(PAGE_HELPERS);
  const b = new Browsed(page);
  await b.keep('first');
  return b;
}

test.serial('in Chromium: the page shows the torus, space stops it, a drag orbits the camera and back, stop ends the run; the page without its token is refused', async (t) => {
  const t0 = Date.now();
  const step = (what: string) => t.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  const context = await browser(t);
  step('browser');
  const run = start(['torus', '--web', '0', '-v']);
  t.teardown(() => run.child.kill('SIGKILL'));
  const url = await urlOf(run);

  // Without the token, or with a wrong one: the 403 page, which says why.
  const refused = await context.newPage();
  for (const wrong of [url.replace(/\?token=.*$/, ''), url.replace(/token=./, 'token=x')]) {
    const r = await refused.goto(wrong);
    t.is(r?.status(), 403, wrong);
    t.regex(await refused.textContent('body') ?? '', /needs its token/);
  }
  await refused.screenshot({ path: join(artifacts, 'refused.png') });
  await refused.close();

  step('refused');
  const b = await open(context, url);
  step('open');
  t.regex(await b.page.textContent('#status') ?? '', /connected: this page drives|frame \d+/);
  await b.keep('lit');
  const lit = await b.eval<number>('kv.lit("lit")');
  t.true(lit > 5000, `${lit} lit pixels in the middle: the torus`);
  t.deepEqual(await b.eval('[document.getElementById("screen").width, document.getElementById("screen").height]'), [W, H]);
  // It spins: frames differ.
  await b.changed('spun', 'lit', 1000);
  step('spun');

  // Space stops the spin: the picture comes to rest.
  await b.page.keyboard.press('Space');
  await b.still('rest');
  step('rest');

  // A left drag 100 framebuffer pixels to the right orbits the camera ...
  await b.drag([[320, 240], [345, 240], [370, 240], [395, 240], [420, 240]]);
  await b.changed('dragged', 'rest', 1000);
  await b.still('orbited');
  step('orbited');
  const moved = await b.diff('orbited', 'rest');
  t.true(moved > 1000, `${moved} pixels changed`);
  t.true((await b.eval<number>('kv.lit("orbited")')) > 5000, 'still the torus');
  const shot = join(artifacts, 'torus-page.png');
  await b.page.screenshot({ path: shot });

  // ... and the same drag back returns to the view before.
  await b.drag([[420, 240], [395, 240], [370, 240], [345, 240], [320, 240]]);
  await b.changed('dragging back', 'orbited', 1000);
  await b.still('back');
  step('back');
  const left = await b.diff('back', 'rest');
  t.log(`the drag changed ${moved} pixels; after the drag back ${left} differ from the view before`);
  t.true(left < moved / 50, `${left} pixels differ from the view before the drags`);

  // The stop button: the guest is asked to quit, exit 0; the page says the guest has stopped.
  await b.page.click('#stop');
  t.is(await run.exit, 0, run.stderr());
  step('exit');
  t.regex(run.stderr(), /exit code 0 after \d+ frames/);
  await b.page.waitForFunction('document.body.classList.contains("ended")', undefined, { timeout: 10_000 });
  t.regex(await b.page.textContent('#status') ?? '', /the guest has stopped/);
  t.log(`screenshots: ${shot}, ${join(artifacts, 'refused.png')}`);
});

test.serial('in Chromium: a drag in the page paints where the mouse went, in the guest\'s framebuffer', async (t) => {
  const context = await browser(t);
  const dir = join(artifacts, 'paint');
  mkdirSync(dir);
  const screenshot = join(dir, 'framebuffer.png');
  const run = start(['paint', '--web', '0', '--screenshot', screenshot]);
  t.teardown(() => run.child.kill('SIGKILL'));
  const b = await open(context, await urlOf(run));
  const brush: [number, number, number] = [0xff, 0x92, 0x36];
  await b.keep('blank', 2);

  // An L: right along y = 300 from x = 150 to 450, then up to y = 150; each point painted in the page before the next move.
  const painted = async ([x, y]: [number, number]) => {
    if (x === 150) return true;
    // The brush's colour 20 pixels back along the stroke (the crosshair covers 17 around the pointer).
    const got = await b.eval<number[]>(y === 300 ? `kv.at(${x - 20}, 300)` : `kv.at(450, ${y + 20})`);
    return got.join() === brush.join();
  };
  await b.drag([[150, 300], [250, 300], [350, 300], [450, 300], [450, 250], [450, 200], [450, 150]], painted);
  // The pointer away from the stroke, then stop.
  const away = await b.client(600, 420);
  await b.page.mouse.move(away.x, away.y);
  await b.changed('painted', 'blank', 2000);
  const shot = join(dir, 'paint-page.png');
  await b.page.screenshot({ path: shot });
  await b.page.click('#stop');
  t.is(await run.exit, 0, run.stderr());

  // The guest's last frame, as the host read it from guest RAM: the brush colour (orange, 0xff9236) along the stroke, black off it.
  const fb = readPng(screenshot);
  t.deepEqual([fb.width, fb.height], [W, H]);
  for (let x = 150; x <= 450; x += 10) t.deepEqual(pixel(fb, x, 300), brush, `(${x}, 300)`);
  for (let y = 150; y <= 300; y += 10) t.deepEqual(pixel(fb, 450, y), brush, `(450, ${y})`);
  for (const [x, y] of [[300, 280], [300, 320], [100, 300], [430, 150], [470, 200], [300, 150]] as const) {
    t.deepEqual(pixel(fb, x, y), [0, 0, 0], `(${x}, ${y}) is off the stroke`);
  }
  // And the page showed the same picture.
  t.deepEqual(await b.eval('kv.at(300, 300)'), brush);
  t.log(`screenshots: ${shot}, the guest's framebuffer ${screenshot}`);
});
