/**
 * End to end, headless: the real `kvmos fbtest` on /dev/kvm records
 * frames, replays an input script, stops after --frames, and repeats bit
 * for bit with --fixed-time. Bad options end in one line and an exit code.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagePath } from '../src/images.js';
import { PALETTE, findSquare, frameCounter, readPng } from './helpers/png.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-display-'));

function kvmos(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  if (lines.length !== 1 || /\n\s+at /.test(stderr)) throw new Error(`expected one line, got:\n${stderr}`);
  return lines[0]!;
}

const SCRIPT = `# fbtest: where the square goes and when C is pressed
1 EV_ABS ABS_X 100
1 EV_ABS ABS_Y 50
3 EV_KEY KEY_C 1
4 EV_KEY KEY_C 0
5 EV_ABS ABS_X 300
5 EV_ABS ABS_Y 200
7 EV_KEY KEY_C 1      # a second press
7 EV_ABS ABS_X 1000   # clamped: the square stays whole on screen
8 EV_KEY KEY_C 0
`;
const script = join(tmp, 'script.txt');
writeFileSync(script, SCRIPT);

/** Where the script puts the square's top-left pixel, and its palette index, in frame n. */
function expected(n: number): { x: number; y: number; colour: number } {
  const [x, y] = n >= 7 ? [624, 200] : n >= 5 ? [300, 200] : n >= 1 ? [100, 50] : [312, 232];
  return { x, y, colour: n >= 7 ? 2 : n >= 3 ? 1 : 0 };
}

function record(dir: string, ...more: string[]) {
  return kvmos('fbtest', '--headless', '--fixed-time', '--frames', '10', '--record', dir, '--input', script, ...more);
}

test('records 10 frames: the square is where the script put the pointer, C changes its colour, the counter counts', (t) => {
  const dir = join(tmp, 'rec');
  const r = record(dir);
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '', 'no progress line when stderr is not a terminal');
  const files = readdirSync(dir).sort();
  t.deepEqual(files, Array.from({ length: 10 }, (_, n) => `frame-${String(n).padStart(5, '0')}.png`));
  files.forEach((f, n) => {
    const img = readPng(join(dir, f));
    t.is(img.width, 640);
    t.is(img.height, 480);
    t.is(frameCounter(img), n, `${f}: frame counter`);
    const want = expected(n);
    t.deepEqual(findSquare(img), { x: want.x, y: want.y, width: 16, height: 16, colour: PALETTE[want.colour]!, pixels: 256 }, f);
  });
});

test('--fixed-time runs are bit-identical', (t) => {
  const a = join(tmp, 'same-a'), b = join(tmp, 'same-b');
  t.is(record(a).status, 0);
  t.is(record(b).status, 0);
  for (const f of readdirSync(a)) t.true(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f);
  t.is(readdirSync(b).length, 10);
});

test('--screenshot writes the last frame', (t) => {
  const dir = join(tmp, 'shot-rec');
  const shot = join(tmp, 'shot.png');
  const r = record(dir, '--screenshot', shot);
  t.is(r.status, 0, r.stderr);
  t.true(readFileSync(shot).equals(readFileSync(join(dir, 'frame-00009.png'))));
  const r2 = kvmos('fbtest', '--headless', '--frames', '3', '--screenshot', join(tmp, 'alone.png'));
  t.is(r2.status, 0, r2.stderr);
  t.is(frameCounter(readPng(join(tmp, 'alone.png'))), 2);
});

test('a guest that ignores quit is stopped at the next frame with exit 0', (t) => {
  const dir = join(tmp, 'ignore');
  const r = kvmos('fbtest', '--headless', '--frames', '5', '--record', dir, '--cmdline', 'ignore_quit', '-v');
  t.is(r.status, 0, r.stderr);
  t.is(readdirSync(dir).length, 5, 'the extra frame is not recorded');
  t.regex(r.stderr, /drew another frame after it was told to quit/);
  t.regex(r.stderr, /after 5 frames, 6 VM exits/);
});

test('without --fixed-time the guest runs on the real clock', (t) => {
  const r = kvmos('fbtest', '--headless', '--frames', '30');
  t.is(r.status, 0, r.stderr);
});

test('a bad input script: one line naming file and line, exit 65, nothing booted', (t) => {
  const bad = join(tmp, 'bad.txt');
  writeFileSync(bad, '# ok\n1 EV_ABS ABS_X 5\n2 EV_ABS KEY_C 1\n');
  const r = kvmos('fbtest', '--headless', '--frames', '3', '--input', bad);
  t.is(r.status, 65);
  t.is(oneLine(r.stderr), `kvmos: ${bad}:3: KEY_C is an EV_KEY code, not EV_ABS`);
});

test('a missing input script: exit 66', (t) => {
  const r = kvmos('fbtest', '--headless', '--input', join(tmp, 'nope.txt'));
  t.is(r.status, 66);
  t.regex(oneLine(r.stderr), /nope\.txt: no such file/);
});

test('an unwritable --record directory: one line, exit 73', (t) => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, '');
  const r = kvmos('fbtest', '--headless', '--frames', '3', '--record', join(file, 'dir'));
  t.is(r.status, 73);
  t.regex(oneLine(r.stderr), /a-file\/dir: cannot record here \(ENOTDIR\) - give --record a writable directory/);
});

test('bad display options are usage errors (64)', (t) => {
  for (const args of [['--frames', '0'], ['--window', '--headless'], ['--frames', 'many']]) {
    const r = kvmos('fbtest', ...args);
    t.is(r.status, 64, args.join(' '));
    oneLine(r.stderr);
  }
});

test('fbtest without a display says so and exits 2; hello runs unchanged with one', (t) => {
  const r = kvmos('--kernel', imagePath('fbtest'));
  t.is(r.status, 2);
  t.regex(r.stderr, /fbtest: no display/);
  const h = kvmos('hello', '--headless', '--exit-code', '4');
  t.is(h.status, 4, h.stderr);
  t.regex(h.stdout, /sqrt/);
});

test('--help documents the display options and fbtest', (t) => {
  const r = kvmos('--help');
  for (const opt of ['--window', '--headless', '--frames N', '--record DIR', '--screenshot FILE', '--input FILE', '--fixed-time', 'fbtest']) {
    t.true(r.stdout.includes(opt), opt);
  }
});
