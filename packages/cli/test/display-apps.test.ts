/**
 * End to end, headless, on the real /dev/kvm: the ring-3 display programs.
 *
 * - `kvmos torus` and `kvmos paint` run the static Linux programs of
 *   guest/apps in ring 3 (drawing through /dev/fb0, reading
 *   /dev/input/event0). With --fixed-time a torus frame is exactly what the
 *   same rasterizer renders natively (torus-bench), and scripted input
 *   orbits, zooms and stops it; paint's strokes, colours, crosshair and
 *   clear are checked pixel for pixel against draw.rs's rules.
 * - C programs (guest/kernel/tests/display/*.c, musl-gcc -static) probe the
 *   display devices the way Linux programs use them: fbprobe (geometry,
 *   errors, events, the frame clock), fbpan (offsets outside the screen),
 *   fbflood (presenting frames in a tight loop), ring3-out (a program that
 *   rings the doorbell port itself). They run with `kvmos exec` and the
 *   display options, which give any Linux program the same screen.
 * - The host refuses what does not fit guest RAM before booting.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planBoot } from '@kvmos/loader';
import {
  FRAMEBUFFER_ADDR,
  FRAMEBUFFER_HEIGHT,
  FRAMEBUFFER_MAX,
  FRAMEBUFFER_WIDTH,
  FRAME_PERIOD_NS,
  INITRAMFS_ADDR,
  KERNEL_IMAGE_END,
  MAILBOX_ADDR,
  MIN_RAM_SIZE,
  PAGE_SIZE,
  PORT,
  RANDOM_SEED_SIZE,
} from '@kvmos/protocol';
import { imagePath } from '../src/images.js';
import { readPng, type Rgb } from './helpers/png.js';

const W = FRAMEBUFFER_WIDTH;
const H = FRAMEBUFFER_HEIGHT;
const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
// Compiled to packages/cli/dist/test/: the repository root is four levels up.
const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const torusBench = join(repo, 'guest/apps/target/release/torus-bench');
const probes = join(repo, 'guest/kernel/tests/display');
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-display-apps-'));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function kvmos(args: string[], guestDir?: string): Run {
  const env = guestDir === undefined ? process.env : { ...process.env, KVMOS_GUEST_DIR: guestDir };
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length !== 1 || /\n\s+at /.test(stderr)) throw new Error(`expected one line, got:\n${stderr}`);
  return lines[0]!;
}

let files = 0;
/** A fresh path in the temporary directory. */
function fresh(name: string): string {
  return join(tmp, `${files++}-${name}`);
}

function inputScript(lines: string[]): string {
  const path = fresh('input.txt');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** A drawing guest by name (torus, paint), or a host program for `kvmos exec` with a screen. */
type Target = string | { program: string };

/** Runs a drawing guest headless with --fixed-time for `frames` frames; the recorded frames come back in order. */
function draw(target: Target, frames: number, opts: { input?: string[]; guestDir?: string; more?: string[] } = {}): Run & { frames: Rgb[] } {
  const dir = fresh('rec');
  const options = ['--headless', '--fixed-time', '--frames', String(frames), '--record', dir, ...(opts.more ?? [])];
  if (opts.input) options.push('--input', inputScript(opts.input));
  const args = typeof target === 'string' ? [target, ...options] : ['exec', ...options, target.program];
  const r = kvmos(args, opts.guestDir);
  const names = readdirSync(dir).sort();
  names.forEach((f, n) => {
    if (f !== `frame-${String(n).padStart(5, '0')}.png`) throw new Error(`unexpected recording ${f} in ${dir}`);
  });
  return { ...r, frames: names.map((f) => readPng(join(dir, f))) };
}

/** The last frame of a torus run, through --screenshot. */
function torusShot(frames: number, input?: string[]): Rgb {
  const shot = fresh('torus.png');
  const args = ['torus', '--headless', '--fixed-time', '--frames', String(frames), '--screenshot', shot];
  if (input) args.push('--input', inputScript(input));
  const r = kvmos(args);
  if (r.status !== 0) throw new Error(`kvmos ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return readPng(shot);
}

const benchFrames = new Map<number, Rgb>();
/**
 * Frame n of a --fixed-time torus run as torus-bench renders it natively
 * with the same gfx code: `TorusApp::new()`, advanced n * FRAME_PERIOD_NS,
 * the default camera. The guest program advances by the mailbox clock,
 * which is 0 at its start and n * FRAME_PERIOD_NS while it draws frame n,
 * so the numbering is the same.
 */
function bench(n: number): Rgb {
  let img = benchFrames.get(n);
  if (img === undefined) {
    if (!existsSync(torusBench)) throw new Error(`${torusBench} is missing: build the apps (bash guest/apps/build.sh, or pnpm build)`);
    const dir = fresh(`bench-${n}`);
    mkdirSync(dir);
    const r = spawnSync(torusBench, ['--snapshot', dir, '--snapshot-frame', String(n), '--frames', '1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`torus-bench failed: ${r.stderr}`);
    img = readPng(join(dir, 'torus.png'));
    benchFrames.set(n, img);
  }
  return img;
}

function same(a: Rgb, b: Rgb): boolean {
  return a.width === b.width && a.height === b.height && a.rgb.equals(b.rgb);
}

/** For failure messages: how many pixels differ. */
function differing(a: Rgb, b: Rgb): number {
  let n = 0;
  for (let i = 0; i < a.width * a.height; i++) {
    if (a.rgb[3 * i] !== b.rgb[3 * i] || a.rgb[3 * i + 1] !== b.rgb[3 * i + 1] || a.rgb[3 * i + 2] !== b.rgb[3 * i + 2]) n++;
  }
  return n;
}

/** The pixels as 0xRRGGBB. */
function xrgb(img: Rgb): Uint32Array {
  const out = new Uint32Array(img.width * img.height);
  for (let i = 0; i < out.length; i++) out[i] = (img.rgb[3 * i]! << 16) | (img.rgb[3 * i + 1]! << 8) | img.rgb[3 * i + 2]!;
  return out;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Non-black pixels: how many, their bounding box (inclusive), their centroid, their distinct colours. */
function litStats(img: Rgb): { lit: number; box: Box; cx: number; cy: number; colours: Set<number> } {
  const px = xrgb(img);
  const box = { x0: Infinity, y0: Infinity, x1: -1, y1: -1 };
  const colours = new Set<number>();
  let lit = 0, sx = 0, sy = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const p = px[y * img.width + x]!;
      if (p === 0) continue;
      lit++;
      sx += x;
      sy += y;
      colours.add(p);
      box.x0 = Math.min(box.x0, x);
      box.y0 = Math.min(box.y0, y);
      box.x1 = Math.max(box.x1, x);
      box.y1 = Math.max(box.y1, y);
    }
  }
  return { lit, box, cx: sx / lit, cy: sy / lit, colours };
}

/** `inner` lies inside `outer` and is smaller on every side. */
function strictlyInside(inner: Box, outer: Box): boolean {
  return inner.x0 > outer.x0 && inner.y0 > outer.y0 && inner.x1 < outer.x1 && inner.y1 < outer.y1;
}

/**
 * Every non-black pixel is the torus's colour: gfx scene.rs lights each
 * face as BASE_COLOR (255, 146, 54) times AMBIENT + (1 - AMBIENT) * lambert
 * with AMBIENT = 0.13, so (r, g, b) = (255, 146, 54) * k, k in [0.13, 1],
 * each channel rounded: g and b are within a unit of r's share, and r is
 * at least round(255 * 0.13) = 33 (the ambient light: no face is black).
 */
function torusColoured(img: Rgb): string | undefined {
  const px = xrgb(img);
  for (let i = 0; i < px.length; i++) {
    const p = px[i]!;
    if (p === 0) continue;
    const r = p >> 16, g = (p >> 8) & 0xff, b = p & 0xff;
    if (Math.abs(255 * g - 146 * r) > 255 || Math.abs(255 * b - 54 * r) > 255 || r < 33) {
      return `pixel ${i % img.width},${Math.floor(i / img.width)} is #${p.toString(16).padStart(6, '0')}, not the torus's orange`;
    }
  }
  return undefined;
}

/** gfx's frame hash (gfx/src/image.rs): FNV-1a 64 over each pixel's bytes B, G, R, X (X = 0). */
function gfxHash(img: Rgb): bigint {
  let h = 0xcbf29ce484222325n;
  const step = (byte: number) => {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  };
  for (let i = 0; i < img.width * img.height; i++) {
    step(img.rgb[3 * i + 2]!);
    step(img.rgb[3 * i + 1]!);
    step(img.rgb[3 * i]!);
    step(0);
  }
  return h;
}

// ---------------------------------------------------------------- torus

/**
 * The golden frame: sha256 of the RGB pixels (rows top to bottom, 3 bytes
 * a pixel) of frame 90 of `kvmos torus --fixed-time`.
 *
 * Tolerance: none, the hash is exact. The renderer is IEEE f32 arithmetic
 * compiled without FMA contraction, with its own sin/cos (no libm) and
 * integer edge functions (guest/apps/README.md), so every x86-64 machine,
 * natively or in the kvmos guest's ring 3, produces the same bits. A change
 * here means the picture changed: if that was meant (a change to gfx),
 * update this hash together with gfx's GOLDEN_HASH_F90 (gfx/src/scene.rs),
 * which pins the same frame and which this test reads too.
 */
const GOLDEN_F90_SHA256 = '86ed640b4a76879fea46d16de144eca5f6eff5cab7673af6c17e797227e4c4ea';

function gfxGoldenHash(): bigint {
  const scene = readFileSync(join(repo, 'guest/apps/gfx/src/scene.rs'), 'utf8');
  const m = /GOLDEN_HASH_F90: u64 = (0x[0-9a-f_]+);/.exec(scene);
  if (!m) throw new Error('GOLDEN_HASH_F90 not found in gfx/src/scene.rs');
  return BigInt(m[1]!.replaceAll('_', ''));
}

let frame90: Rgb | undefined;
/** Frame 90 of `kvmos torus --fixed-time`: --frames 91 shows frames 0..90, the screenshot is the last. */
function torusFrame90(): Rgb {
  return (frame90 ??= torusShot(91));
}

test('torus, fixed time: frame 90 is pixel for pixel what torus-bench renders natively, and the golden frame', (t) => {
  const guest = torusFrame90();
  t.is(guest.width, W);
  t.is(guest.height, H);
  const native = bench(90);
  t.true(same(guest, native), `${differing(guest, native)} pixels differ from torus-bench --snapshot-frame 90`);
  t.is(createHash('sha256').update(guest.rgb).digest('hex'), GOLDEN_F90_SHA256);
  t.is(gfxHash(guest), gfxGoldenHash(), "gfx's golden_frame_hash pins the same frame");
});

test('torus, fixed time: every frame from the first is the native frame of the same number', (t) => {
  const r = draw('torus', 21);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  t.is(r.frames.length, 21);
  r.frames.forEach((img, n) => t.true(same(img, bench(n)), `frame ${n}: ${differing(img, bench(n))} pixels differ from torus-bench's frame ${n}`));
  // It spins: no two consecutive frames are the same.
  for (let n = 1; n < r.frames.length; n++) t.false(same(r.frames[n]!, r.frames[n - 1]!), `frame ${n} = frame ${n - 1}`);
});

test('kvmos exec with a screen runs any drawing program: the torus program gives the same frames; without one it has no /dev/fb0', (t) => {
  const program = join(repo, 'guest/target/kvmos/apps/torus');
  const r = draw({ program }, 6);
  t.is(r.status, 0, r.stderr);
  t.is(r.frames.length, 6);
  r.frames.forEach((img, n) => t.true(same(img, bench(n)), `frame ${n}: ${differing(img, bench(n))} pixels differ from torus-bench's frame ${n}`));
  const plain = kvmos(['exec', program]);
  t.is(plain.status, 1);
  t.is(plain.stderr, 'torus: cannot open /dev/fb0: No such file or directory\n');
});

test('torus frame 90: a lit, shaded, orange torus in the middle of a black screen', (t) => {
  const img = torusFrame90();
  t.is(torusColoured(img), undefined);
  const s = litStats(img);
  // Many lit pixels, not the whole screen (the torus covers about a quarter).
  t.true(s.lit > (W * H) / 10 && s.lit < (W * H) / 2, `${s.lit} lit pixels`);
  // Flat per-face lighting: many distinct shades, not one fill colour.
  t.true(s.colours.size >= 60, `${s.colours.size} shades`);
  // In the middle: the centroid near the centre, the lit pixels well inside the screen.
  t.true(Math.abs(s.cx - W / 2) < W * 0.1 && Math.abs(s.cy - H / 2) < H * 0.1, `centroid ${s.cx.toFixed(1)},${s.cy.toFixed(1)}`);
  const border = 16;
  t.true(s.box.x0 >= border && s.box.y0 >= border && s.box.x1 < W - border && s.box.y1 < H - border, `lit box ${JSON.stringify(s.box)}`);
  // So the corners and a 16-pixel band along the borders are pure black.
  const px = xrgb(img);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (x >= border && x < W - border && y >= border && y < H - border) continue;
      if (px[y * W + x] !== 0) return t.fail(`border pixel ${x},${y} is not black`);
    }
  }
});

test('torus: a left-drag orbits the camera from the frame the pointer moves; hovering and moving after release do not', (t) => {
  const hover = draw('torus', 11, { input: ['1 EV_ABS ABS_X 320', '1 EV_ABS ABS_Y 240', '3 EV_ABS ABS_X 420', '3 EV_ABS ABS_Y 300'] });
  t.is(hover.status, 0, hover.stderr);
  hover.frames.forEach((img, n) => t.true(same(img, bench(n)), `hover, frame ${n}: moving without the button changed the picture`));

  const dragLines = ['1 EV_ABS ABS_X 320', '1 EV_ABS ABS_Y 240', '2 EV_KEY BTN_LEFT 1', '3 EV_ABS ABS_X 420', '3 EV_ABS ABS_Y 300', '4 EV_KEY BTN_LEFT 0'];
  const drag = draw('torus', 11, { input: dragLines });
  t.is(drag.status, 0, drag.stderr);
  t.is(drag.frames.length, 11);
  // Pressing the button alone turns nothing; the move in frame 3 does.
  for (let n = 0; n <= 2; n++) t.true(same(drag.frames[n]!, bench(n)), `drag, frame ${n}`);
  for (let n = 3; n <= 10; n++) {
    const img = drag.frames[n]!;
    t.false(same(img, bench(n)), `drag, frame ${n}: the camera did not move`);
    // Still the torus, seen from elsewhere.
    t.is(torusColoured(img), undefined, `drag, frame ${n}`);
    t.true(litStats(img).lit > (W * H) / 20, `drag, frame ${n}: little left of the torus`);
  }
  // After the release, moving the pointer again changes nothing.
  const after = draw('torus', 11, { input: [...dragLines, '6 EV_ABS ABS_X 100', '6 EV_ABS ABS_Y 60', '8 EV_ABS ABS_X 600'] });
  t.is(after.status, 0, after.stderr);
  after.frames.forEach((img, n) => t.true(same(img, drag.frames[n]!), `moved after release, frame ${n}: the camera moved`));
});

test('torus: the wheel zooms in and out, clamped at the nearest and farthest distance', (t) => {
  // Frame 10 after wheel steps in frame 1 (positive: away from the user, zoom in).
  const wheel = (steps: number) => torusShot(11, [`1 EV_REL REL_WHEEL ${steps}`]);
  const base = bench(10);
  const still = litStats(base);
  const zoomIn = litStats(wheel(3));
  const zoomOut = litStats(wheel(-3));
  t.true(strictlyInside(still.box, zoomIn.box), `zoom in: ${JSON.stringify(still.box)} does not grow to ${JSON.stringify(zoomIn.box)}`);
  t.true(zoomIn.lit > still.lit);
  t.true(strictlyInside(zoomOut.box, still.box), `zoom out: ${JSON.stringify(still.box)} does not shrink to ${JSON.stringify(zoomOut.box)}`);
  t.true(zoomOut.lit < still.lit);

  // gfx app.rs: each step multiplies the distance (DEFAULT_DISTANCE 3.6) by
  // ZOOM_STEP 0.9, clamped to [MIN_DISTANCE 2.2, MAX_DISTANCE 12]. 3.6 *
  // 0.9^4 = 2.36 is above the minimum, 3.6 * 0.9^5 = 2.13 below it: from
  // 5 steps on the picture is the same however far the wheel turns.
  const in4 = wheel(4), in5 = wheel(5), in1000 = wheel(1000);
  t.false(same(in4, in5), '4 steps in are not clamped yet');
  t.true(same(in5, in1000), `1000 steps in: ${differing(in5, in1000)} pixels differ from 5 (not clamped)`);
  // At the nearest distance the whole torus is beyond the near plane
  // (MIN_DISTANCE - BOUNDING_RADIUS > NEAR): it grows past the screen's
  // edges, but is not blown up (no triangle crossing the eye plane smears
  // over the screen) nor cut open: still only lit faces, black below it.
  t.is(torusColoured(in1000), undefined);
  const near = litStats(in1000);
  t.true(near.lit > zoomIn.lit && near.lit < W * H * 0.8, `${near.lit} lit pixels at the nearest distance`);
  t.true(near.box.y1 < H - 1, 'the bottom rows stay black');
  // 3.6 / 0.9^11 = 11.5 is below the maximum, 3.6 / 0.9^12 = 12.7 above it.
  const out11 = wheel(-11), out12 = wheel(-12), out1000 = wheel(-1000);
  t.false(same(out11, out12), '11 steps out are not clamped yet');
  t.true(same(out12, out1000), `1000 steps out: ${differing(out12, out1000)} pixels differ from 12 (not clamped)`);
  const far = litStats(out1000);
  t.true(far.lit > 1000 && strictlyInside(far.box, zoomOut.box), `${far.lit} lit pixels at the farthest distance`);
  t.is(torusColoured(out1000), undefined);
});

test('torus: space stops the spin (frames stay the same) and starts it again where it stopped; Q quits', (t) => {
  const r = draw('torus', 14, { input: ['5 EV_KEY KEY_SPACE 1', '6 EV_KEY KEY_SPACE 0', '10 EV_KEY KEY_SPACE 1', '11 EV_KEY KEY_SPACE 0'] });
  t.is(r.status, 0, r.stderr);
  t.is(r.frames.length, 14);
  for (let n = 0; n <= 4; n++) t.true(same(r.frames[n]!, bench(n)), `frame ${n}`);
  // Stopped in frame 5, before the clock advanced the spin: frames 5..9 are frame 4.
  for (let n = 5; n <= 9; n++) t.true(same(r.frames[n]!, r.frames[4]!), `frame ${n} moved while the spin was off`);
  // On again in frame 10: the spin goes on from where it stopped, one frame a frame.
  for (let n = 10; n <= 13; n++) t.true(same(r.frames[n]!, bench(n - 5)), `frame ${n} is not the spin's frame ${n - 5}`);
  for (let n = 11; n <= 13; n++) t.false(same(r.frames[n]!, r.frames[n - 1]!), `frame ${n} = frame ${n - 1} with the spin on`);

  // Q (pressed in frame 3) ends the program before it draws frame 3: exit 0.
  const q = draw('torus', 100, { input: ['3 EV_KEY KEY_Q 1'] });
  t.is(q.status, 0, q.stderr);
  t.is(q.frames.length, 3);
});

// ---------------------------------------------------------------- paint

/** gfx app.rs: the brush colours C cycles through, and the brush's radius. */
const PALETTE = [0xff9236, 0x37c8ff, 0xff3f86, 0x9ee35a, 0xffe04a, 0xffffff];
const BRUSH_RADIUS = 4;

type Point = readonly [number, number];

/** draw.rs `capsule`: every pixel within radius + 0.5 of the segment a-b, in integers. */
function capsule(buf: Uint32Array, a: Point, b: Point, r: number, rgb: number): void {
  const [ax, ay] = a, [bx, by] = b;
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const rr = r * r + r;
  for (let y = Math.max(0, Math.min(ay, by) - r); y <= Math.min(H - 1, Math.max(ay, by) + r); y++) {
    for (let x = Math.max(0, Math.min(ax, bx) - r); x <= Math.min(W - 1, Math.max(ax, bx) + r); x++) {
      const px = x - ax, py = y - ay;
      const along = px * dx + py * dy;
      let inside: boolean;
      if (along <= 0) inside = px * px + py * py <= rr;
      else if (along >= len2) inside = (x - bx) ** 2 + (y - by) ** 2 <= rr;
      else inside = BigInt(px * dy - py * dx) ** 2n <= BigInt(rr) * BigInt(len2);
      if (inside) buf[y * W + x] = rgb;
    }
  }
}

/** draw.rs `fill_rect`: [x0, x1) x [y0, y1), clipped. */
function fillRect(buf: Uint32Array, x0: number, y0: number, x1: number, y1: number, rgb: number): void {
  const clampX = (v: number) => Math.min(Math.max(v, 0), W), clampY = (v: number) => Math.min(Math.max(v, 0), H);
  for (let y = clampY(y0); y < clampY(y1); y++) buf.fill(rgb, y * W + clampX(x0), y * W + Math.max(clampX(x0), clampX(x1)));
}

const grey = (v: number) => (v << 16) | (v << 8) | v;

/** draw.rs `crosshair`, given its pulse-dependent arm length and brightness. */
function crosshair(buf: Uint32Array, x: number, y: number, arm: number, bright: number, centre: number): void {
  const gap = 4, dark = grey(32);
  fillRect(buf, x - gap - arm - 1, y - 1, x - gap + 1, y + 2, dark);
  fillRect(buf, x + gap, y - 1, x + gap + arm + 2, y + 2, dark);
  fillRect(buf, x - 1, y - gap - arm - 1, x + 2, y - gap + 1, dark);
  fillRect(buf, x - 1, y + gap, x + 2, y + gap + arm + 2, dark);
  fillRect(buf, x - 2, y - 2, x + 3, y + 3, dark);
  fillRect(buf, x - gap - arm, y, x - gap, y + 1, grey(bright));
  fillRect(buf, x + gap + 1, y, x + gap + arm + 1, y + 1, grey(bright));
  fillRect(buf, x, y - gap - arm, x + 1, y - gap, grey(bright));
  fillRect(buf, x, y + gap + 1, x + 1, y + gap + arm + 1, grey(bright));
  fillRect(buf, x - 1, y - 1, x + 2, y + 2, centre);
}

/**
 * The crosshair's arm length and brightness in frame n (app.rs `compose`,
 * draw.rs): t = n frames of the fixed clock in f32 seconds, phase = t mod
 * 0.8 s (PULSE_HZ 1.25) over 0.8, pulse = 0.5 + 0.5 sin(2 pi phase), arm =
 * 6 + (int)(5 pulse + 0.5), grey level (int)(150 + 105 pulse + 0.5). gfx
 * has its own sin, so where a value lies within rounding of an integer
 * boundary both sides are allowed.
 */
function pulse(n: number): { arms: number[]; brights: number[] } {
  const f = Math.fround;
  const t = f(n * FRAME_PERIOD_NS * 1e-9);
  const period = f(1 / f(1.25));
  const phase = f(f(t % period) / period);
  const p = Math.min(1, Math.max(0, 0.5 + 0.5 * Math.sin(f(f(2 * Math.PI) * phase))));
  const around = (v: number) => [...new Set([Math.trunc(v - 1e-4), Math.trunc(v + 1e-4)])];
  return { arms: around(5 * p + 0.5).map((a) => 6 + a), brights: around(150 + 105 * p + 0.5) };
}

/** Paint's frame: the canvas, the swatch of the brush colour, the crosshair at the pointer. */
function paintFrame(canvas: Uint32Array, pointer: Point, colour: number, arm: number, bright: number): Uint32Array {
  const out = canvas.slice();
  const brush = PALETTE[colour]!;
  fillRect(out, 7, 7, 25, 25, grey(200));
  fillRect(out, 8, 8, 24, 24, 0);
  fillRect(out, 9, 9, 23, 23, brush);
  crosshair(out, pointer[0], pointer[1], arm, bright, brush);
  return out;
}

const PAINT_SCRIPT = [
  '1 EV_ABS ABS_X 100', // hover: nothing painted
  '1 EV_ABS ABS_Y 100',
  '2 EV_KEY BTN_LEFT 1', // a stroke starts: a dot
  '3 EV_ABS ABS_X 300', // a fast move: one solid segment
  '4 EV_ABS ABS_Y 150', // two reports in one frame: two joined segments
  '4 EV_SYN SYN_REPORT 0',
  '4 EV_ABS ABS_X 250',
  '4 EV_ABS ABS_Y 200',
  '5 EV_KEY BTN_LEFT 0', // the stroke ends
  '6 EV_ABS ABS_X 500', // moved with the button up: no line
  '6 EV_ABS ABS_Y 300',
  '7 EV_KEY KEY_C 1', // next colour
  '8 EV_KEY KEY_C 0',
  '9 EV_KEY BTN_LEFT 1', // a second stroke, in the new colour
  '10 EV_ABS ABS_X 560',
  '10 EV_ABS ABS_Y 420',
  '11 EV_KEY BTN_LEFT 0',
  '12 EV_ABS ABS_X 200', // the pointer parked
  '12 EV_ABS ABS_Y 400',
  '20 EV_KEY KEY_SPACE 1', // clear
  '21 EV_KEY KEY_SPACE 0',
];

/** What the script does, by frame, by app.rs's rules: strokes are [from, to] segments in the current colour. */
const PAINT_EFFECTS: Record<number, { strokes?: [Point, Point][]; pointer?: Point; colour?: number; clear?: true }> = {
  1: { pointer: [100, 100] },
  2: { strokes: [[[100, 100], [100, 100]]] },
  3: { strokes: [[[100, 100], [300, 100]]], pointer: [300, 100] },
  4: { strokes: [[[300, 100], [300, 150]], [[300, 150], [250, 200]]], pointer: [250, 200] },
  6: { pointer: [500, 300] },
  7: { colour: 1 },
  9: { strokes: [[[500, 300], [500, 300]]] },
  10: { strokes: [[[500, 300], [560, 420]]], pointer: [560, 420] },
  12: { pointer: [200, 400] },
  20: { clear: true },
};

test('paint: scripted strokes, colour change, separate strokes, pulsing crosshair and clear, pixel for pixel', (t) => {
  const r = draw('paint', 37, { input: PAINT_SCRIPT });
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  t.is(r.frames.length, 37);
  const frames = r.frames.map(xrgb);
  const at = (n: number, x: number, y: number) => frames[n]![y * W + x]!;

  // Spot checks first, for readable failures. Frame 12: both strokes done, pointer parked.
  const [orange, blue] = [PALETTE[0]!, PALETTE[1]!];
  for (const [x, y] of [[100, 100], [200, 100], [300, 125], [275, 175], [250, 200]] as const) t.is(at(12, x, y), orange, `first stroke at ${x},${y}`);
  for (const [x, y] of [[500, 300], [530, 360], [560, 420]] as const) t.is(at(12, x, y), blue, `second stroke at ${x},${y}`);
  // A stroke is 2 * BRUSH_RADIUS + 1 pixels wide.
  for (let y = 100 - BRUSH_RADIUS; y <= 100 + BRUSH_RADIUS; y++) t.is(at(12, 200, y), orange, `stroke width, row ${y}`);
  t.is(at(12, 200, 100 - BRUSH_RADIUS - 1), 0);
  t.is(at(12, 200, 100 + BRUSH_RADIUS + 1), 0);
  // Not joined: the way from the first stroke's end to the second's start is black.
  for (let s = 0.05; s < 0.96; s += 0.01) {
    const x = Math.round(250 + (500 - 250) * s), y = Math.round(200 + (300 - 200) * s);
    if (Math.hypot(x - 250, y - 200) > BRUSH_RADIUS + 1 && Math.hypot(x - 500, y - 300) > BRUSH_RADIUS + 1) t.is(at(12, x, y), 0, `between the strokes at ${x},${y}`);
  }
  // Nothing painted while hovering (frame 1), a dot when the button goes down (frame 2).
  t.is(at(1, 100, 100), PALETTE[0]!, 'frame 1: the crosshair centre is the brush colour');
  t.is(at(1, 100 + 3, 100), 0, 'frame 1: no paint under the pointer');
  t.is(at(2, 100 + 3, 100), orange, 'frame 2: the dot');
  // The crosshair is at the pointer in the brush colour, outlined, arms bright; it pulses.
  t.is(at(12, 200, 400), blue);
  t.is(at(12, 198, 398), grey(32));
  const rightArm = (n: number) => {
    let len = 0;
    while (at(n, 200 + 5 + len, 400) !== 0 && at(n, 200 + 5 + len, 400) !== grey(32)) len++;
    return len;
  };
  t.is(rightArm(12), 11, 'frame 12 (pulse 1): the longest arm');
  t.is(at(12, 205, 400), grey(255));
  t.is(rightArm(36), 6, 'frame 36 (pulse 0): the shortest arm');
  t.is(at(36, 205, 400), grey(150));
  // The swatch shows the brush colour.
  t.is(at(6, 16, 16), orange);
  t.is(at(7, 16, 16), blue);
  // Cleared in frame 20: only the swatch and the crosshair remain.
  for (const n of [20, 36]) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const swatch = x >= 7 && x < 25 && y >= 7 && y < 25;
        // The crosshair's extent at its longest arm (11): gap 4, outline 1.
        const cross = Math.abs(x - 200) <= 16 && Math.abs(y - 400) <= 16;
        if (!swatch && !cross && at(n, x, y) !== 0) return t.fail(`frame ${n}: ${x},${y} is not black after the clear`);
      }
    }
  }

  // Then every frame exactly: the strokes so far, the swatch, the crosshair.
  const canvas = new Uint32Array(W * H);
  let pointer: Point = [W / 2, H / 2];
  let colour = 0;
  frames.forEach((got, n) => {
    const e = PAINT_EFFECTS[n];
    if (e?.colour !== undefined) colour = e.colour;
    for (const [a, b] of e?.strokes ?? []) capsule(canvas, a, b, BRUSH_RADIUS, PALETTE[colour]!);
    if (e?.clear) canvas.fill(0);
    if (e?.pointer) pointer = e.pointer;
    const { arms, brights } = pulse(n);
    const ok = arms.some((arm) => brights.some((bright) => Buffer.from(paintFrame(canvas, pointer, colour, arm, bright).buffer).equals(Buffer.from(got.buffer))));
    if (!ok) {
      const want = paintFrame(canvas, pointer, colour, arms[0]!, brights[0]!);
      const i = want.findIndex((p, k) => p !== got[k]);
      t.fail(`frame ${n}: pixel ${i % W},${Math.floor(i / W)} is #${got[i]!.toString(16)}, expected #${want[i]!.toString(16)}`);
    }
  });
});

// ----------------------------------------------- C probes of the devices

let includeDir: string | undefined;
/**
 * musl's headers lack <linux/*.h>: an include directory with links to the
 * system's linux, asm-generic and (x86-64) asm headers (guest/README.md).
 */
function linuxHeaders(): string {
  if (includeDir !== undefined) return includeDir;
  const dir = fresh('include');
  mkdirSync(dir);
  for (const [name, target] of [['linux', '/usr/include/linux'], ['asm-generic', '/usr/include/asm-generic'], ['asm', '/usr/include/x86_64-linux-gnu/asm']] as const) {
    if (!existsSync(target)) throw new Error(`${target} is missing: install linux-libc-dev (the Linux UAPI headers)`);
    symlinkSync(target, join(dir, name));
  }
  return (includeDir = dir);
}

/** Compiles guest/kernel/tests/display/<name>.c with musl-gcc -static. */
function compile(name: string): string {
  const out = fresh(name);
  const r = spawnSync('musl-gcc', ['-static', '-O1', '-Wall', '-Werror', '-I', linuxHeaders(), '-o', out, join(probes, `${name}.c`)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`musl-gcc ${name}.c failed (scripts/setup.sh installs musl-tools): ${r.error?.message ?? r.stderr}`);
  return out;
}

/** Linux's strerror text (musl's) of the errors the probes meet. */
const EINVAL = 'Invalid argument', EAGAIN = 'Resource temporarily unavailable', EFAULT = 'Bad address';

/** Fixed time: the clock while frame n is drawn, as timespec and as an input_event timeval. */
const mono = (n: number) => {
  const ns = n * FRAME_PERIOD_NS;
  return `${Math.floor(ns / 1e9)}.${String(ns % 1e9).padStart(9, '0')}`;
};
const evTime = (n: number) => {
  const ns = n * FRAME_PERIOD_NS;
  return `${Math.floor(ns / 1e9)}.${String(Math.floor((ns % 1e9) / 1000)).padStart(6, '0')}`;
};

/** fbprobe's input: script lines with the Linux numbers (<linux/input-event-codes.h>) each must arrive as. */
const PROBE_INPUT: { frame: number; line: string; type: number; code: number; value: number }[] = [
  { frame: 1, line: 'EV_ABS ABS_X 100', type: 3, code: 0, value: 100 },
  { frame: 1, line: 'EV_ABS ABS_Y 50', type: 3, code: 1, value: 50 },
  { frame: 2, line: 'EV_REL REL_WHEEL -1', type: 2, code: 8, value: -1 },
  { frame: 2, line: 'EV_KEY BTN_LEFT 1', type: 1, code: 0x110, value: 1 },
  // More than fbprobe's 8-record buffer in one frame: several reads.
  ...['A', 'B', 'D', 'E', 'F'].flatMap((k, i) => [
    { frame: 2, line: `EV_KEY KEY_${k} 1`, type: 1, code: [30, 48, 32, 18, 33][i]!, value: 1 },
    { frame: 2, line: `EV_KEY KEY_${k} 0`, type: 1, code: [30, 48, 32, 18, 33][i]!, value: 0 },
  ]),
  { frame: 3, line: 'EV_KEY KEY_C 2', type: 1, code: 46, value: 2 },
  { frame: 3, line: 'EV_ABS ABS_X 636', type: 3, code: 0, value: 636 },
  { frame: 3, line: 'EV_ABS ABS_Y 477', type: 3, code: 1, value: 477 },
  { frame: 4, line: 'EV_KEY BTN_LEFT 0', type: 1, code: 0x110, value: 0 },
];

/**
 * What fbprobe must print, by Linux's fbdev and evdev semantics and the
 * kvmos screen (docs/protocol.md, guest/README.md "torus, paint"), for
 * `frames` frames shown (--frames) of its 5.
 */
function probeOutput(framesShown: number): string[] {
  const smemLen = W * H * 4;
  const lines = [
    // XRGB8888: 32 bits, red at 16, green at 8, blue at 0, no alpha; one page, so virtual = visible.
    `var ${W}x${H} virt ${W}x${H} bpp 32 r16/8 g8/8 b0/8 t0/0`,
    // FB_VISUAL_TRUECOLOR 2, FB_TYPE_PACKED_PIXELS 0; smem_start the framebuffer's physical address.
    `fix id 'kvmos' smem_start 0x${FRAMEBUFFER_ADDR.toString(16)} len ${smemLen} line ${W * 4} visual 2 type 0`,
    // A driver without fb_read: Linux's fb_read is EINVAL (drawing goes through the mapping).
    `read fb0: -1 ${EINVAL}`,
    // fb_mmap: a mapping beyond smem_len (rounded to pages) is EINVAL.
    `mmap too big: ${EINVAL}`,
    // evdev_read: a buffer smaller than one struct input_event is EINVAL.
    `short read: -1 ${EINVAL}`,
  ];
  for (let n = 0; n <= Math.min(framesShown, 4); n++) {
    const events = PROBE_INPUT.filter((e) => e.frame === n);
    // Each frame's events end with EV_SYN SYN_REPORT (added by the host), stamped with the frame's time.
    const records = events.length > 0 ? [...events, { type: 0, code: 0, value: 0 }] : [];
    for (const e of records) lines.push(`  frame ${n} ev t=${evTime(n)} type ${e.type} code ${e.code} value ${e.value}`);
    // After --frames the guest is told to quit: events first, then end of file.
    const eof = n === framesShown;
    // poll(POLLIN): 1 with POLLIN when there is something to read, 0 when a non-blocking read would be EAGAIN.
    const readable = records.length > 0 || eof;
    lines.push(`frame ${n} mono ${mono(n)} poll ${readable ? 1 : 0} revents ${readable ? '0x1' : '0'} events ${records.length} end ${eof ? 'EOF' : EAGAIN}`);
    if (eof) {
      lines.push('quit');
      return lines;
    }
  }
  // All 5 frames shown: a pan to an offset outside the one-page screen is EINVAL.
  lines.push(`pan yoffset 1: -1 ${EINVAL}`);
  return lines;
}

/** fbprobe's frame n: a gradient, and the 8x8 white square at the pointer of the events read before it (clipped). */
function probeFrame(n: number): Uint32Array {
  const px = new Uint32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) px[y * W + x] = (Math.floor((x * 255) / W) << 16) | (Math.floor((y * 255) / H) << 8) | ((n * 40) & 255);
  }
  const seen = PROBE_INPUT.filter((e) => e.frame < n && e.type === 3);
  const mx = seen.filter((e) => e.code === 0).pop()?.value, my = seen.filter((e) => e.code === 1).pop()?.value;
  if (mx !== undefined && my !== undefined) fillRect(px, mx, my, mx + 8, my + 8, 0xffffff);
  return px;
}

test('fbprobe (C): fb0 geometry and errors, event records, poll, the frame clock, and quit as end of file', (t) => {
  const guest = { program: compile('fbprobe') };
  const input = PROBE_INPUT.map((e) => `${e.frame} ${e.line}`);

  // --frames 4: told to quit after frame 3, it reads frame 4's events, then end of file, and exits 0.
  const quit = draw(guest, 4, { input });
  t.is(quit.stderr, '');
  t.deepEqual(quit.stdout.split('\n'), [...probeOutput(4), '']);
  t.is(quit.status, 0);
  t.is(quit.frames.length, 4);

  // --frames 10: it draws its 5 frames, then tries a pan to yoffset 1 and exits 7.
  const all = draw(guest, 10, { input });
  t.is(all.stderr, '');
  t.deepEqual(all.stdout.split('\n'), [...probeOutput(10), '']);
  t.is(all.status, 7);
  t.is(all.frames.length, 5);
  // What it drew through its shared mapping of /dev/fb0 is on screen, pixel for pixel.
  all.frames.forEach((img, n) => {
    const want = probeFrame(n), got = xrgb(img);
    const i = want.findIndex((p, k) => p !== got[k]);
    t.is(i, -1, `frame ${n}: pixel ${i % W},${Math.floor(i / W)} is #${got[i]?.toString(16)}, expected #${want[i]?.toString(16)}`);
  });
  t.deepEqual(quit.frames.map(xrgb), all.frames.slice(0, 4).map(xrgb));
});

test('ring 3 cannot ring the doorbell: an out to the port is a SIGSEGV with the shell line, and nothing else happens', (t) => {
  t.is(PORT.doorbell, 0x403, 'ring3-out.c writes to 0x403');
  const program = compile('ring3-out');
  const r = draw({ program }, 5);
  const at = /^out to port 0x403 at (0x[0-9a-f]+)$/m.exec(r.stdout)?.[1];
  t.truthy(at, r.stdout);
  // It presented one frame the proper way; the out never reached the host.
  t.is(r.stdout, `presented a frame: 0\nout to port 0x403 at ${at}\n`);
  t.is(r.stderr, `Segmentation fault (RIP ${at})\n`);
  t.is(r.status, 128 + 11);
  t.is(r.frames.length, 1, 'the out did not show a frame');
  // Linux agrees: the same program natively dies of SIGSEGV at the out.
  const native = spawnSync(program, [], { encoding: 'utf8' });
  t.is(native.signal, 'SIGSEGV');
  t.regex(native.stdout, /out to port 0x403 at 0x/);
  t.notRegex(native.stdout, /still running/);
});

test('FBIOPAN_DISPLAY outside the screen is EINVAL (a bad pointer EFAULT) and presents nothing', (t) => {
  const r = draw({ program: compile('fbpan') }, 10);
  t.is(r.stderr, '');
  t.is(r.status, 0);
  // The clock counts the frames shown: only the accepted pans show one.
  const c = (n: number) => n * FRAME_PERIOD_NS;
  t.deepEqual(r.stdout.split('\n'), [
    `xoffset 1: -1 ${EINVAL}, clock ${c(0)}`,
    `yoffset 1: -1 ${EINVAL}, clock ${c(0)}`,
    `yoffset yres: -1 ${EINVAL}, clock ${c(0)}`,
    `yoffset 2^32-yres: -1 ${EINVAL}, clock ${c(0)}`,
    `xoffset 2^32-xres: -1 ${EINVAL}, clock ${c(0)}`,
    `yoffset 0xffffffff: -1 ${EINVAL}, clock ${c(0)}`,
    `ywrap yoffset 1: -1 ${EINVAL}, clock ${c(0)}`,
    `NULL argument: -1 ${EFAULT}, clock ${c(0)}`,
    `offset 0: 0 ok, clock ${c(1)}`,
    `offset 0, other fields nonsense: 0 ok, clock ${c(2)}`,
    `yoffset 2: -1 ${EINVAL}, clock ${c(2)}`,
    `offset 0 again: 0 ok, clock ${c(3)}`,
    '',
  ]);
  t.is(r.frames.length, 3);
});

test('a program flooding FBIOPAN_DISPLAY is answered frame by frame and stopped after --frames', (t) => {
  const program = compile('fbflood');
  // Frame k's mailbox carries ABS_X k (and its SYN_REPORT): each pan must return with exactly the next frame's.
  const input = Array.from({ length: 60 }, (_, i) => `${i + 1} EV_ABS ABS_X ${i + 1}`);
  const r = draw({ program }, 40, { input });
  t.is(r.stderr, '');
  t.is(r.status, 0, 'a guest that draws after quit is stopped with exit 0');
  t.deepEqual(
    r.stdout.split('\n'),
    [...Array.from({ length: 5 }, (_, n) => `pan ${n}: clock ${(n + 1) * FRAME_PERIOD_NS}, 2 events, x ${n + 1}`), ''],
  );
  // 40 frames, frame k showing k in pixel (0,0) (blue), nothing else.
  t.is(r.frames.length, 40);
  r.frames.forEach((img, k) => {
    const px = xrgb(img);
    t.is(px[0], k, `frame ${k}: pixel 0`);
    t.is(px.findIndex((p, i) => i > 0 && p !== 0), -1, `frame ${k}: stray pixels`);
  });
  const v = kvmos(['exec', '--headless', '--fixed-time', '--frames', '25', '-v', program]);
  t.is(v.status, 0, v.stderr);
  t.regex(v.stderr, /drew another frame after it was told to quit; stopped it/);
  t.regex(v.stderr, /exit status 0 after 25 frames,/);
});

// ------------------------------------------------------------ host side

test('what does not fit guest RAM is refused before boot: one line, an exit code, no frame', (t) => {
  // Below the smallest RAM (where the framebuffer still fits: see the next test): a usage error.
  const dir = fresh('never-made');
  const small = kvmos(['torus', '--headless', '--frames', '3', '--ram', '32', '--record', dir]);
  t.is(small.status, 64);
  t.is(oneLine(small.stderr), 'kvmos: --ram must be an even number of MiB from 64 to 4096, not 32 (see kvmos --help)');
  t.false(existsSync(dir), 'nothing was done before the refusal');

  // A program (the initramfs) too big for the RAM asked for.
  const guest = fresh('big-guest');
  mkdirSync(join(guest, 'apps'), { recursive: true });
  symlinkSync(imagePath('torus'), join(guest, 'torus'));
  const big = join(guest, 'apps', 'torus');
  writeFileSync(big, '');
  truncateSync(big, 40 * 2 ** 20);
  const rec = fresh('big-rec');
  const r = kvmos(['torus', '--headless', '--frames', '3', '--ram', '64', '--record', rec], guest);
  t.is(r.status, 65);
  t.regex(oneLine(r.stderr), /^kvmos: cannot boot: the initramfs \(\d+ bytes at 0x2000000\) does not fit in 64 MiB of RAM: give the guest at least 74 MiB$/);
  t.deepEqual(readdirSync(rec), [], 'no frame');
});

test('the framebuffer and the mailbox lie in guest RAM, apart from everything else, at the smallest RAM', (t) => {
  // The largest framebuffer the loader takes, in the smallest RAM it boots.
  for (const fb of [{ width: W, height: H }, { width: 2048, height: FRAMEBUFFER_MAX / 4 / 2048 }]) {
    const plan = planBoot({
      kernel: readFileSync(imagePath('torus')),
      ramSize: MIN_RAM_SIZE,
      initramfs: new Uint8Array(1 << 20),
      framebuffer: fb,
      bootTimeNs: 0n,
      randomSeed: new Uint8Array(RANDOM_SEED_SIZE),
    });
    const info = plan.bootInfo;
    const fbStart = Number(info.framebufferAddr), fbEnd = fbStart + info.framebufferStride * info.framebufferHeight;
    t.is(fbStart, FRAMEBUFFER_ADDR);
    t.true(fbStart >= KERNEL_IMAGE_END && fbEnd <= INITRAMFS_ADDR && fbEnd <= plan.ramSize, `${fb.width}x${fb.height}`);
    t.true(Number(info.freeMemoryStart) >= fbEnd, 'the kernel never hands out framebuffer pages');
    t.is(Number(info.mailboxAddr), MAILBOX_ADDR);
    for (const w of plan.writes) {
      for (const [start, end, what] of [[fbStart, fbEnd, 'framebuffer'], [MAILBOX_ADDR, MAILBOX_ADDR + PAGE_SIZE, 'mailbox']] as const) {
        t.true(w.addr + w.data.length <= start || w.addr >= end, `${w.what} overlaps the ${what}`);
      }
    }
  }
});
