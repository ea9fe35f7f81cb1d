/**
 * `--web`: the screen in a web page. End to end, the real `kvmos torus` on
 * /dev/kvm serves its page; a WebSocket client (the `ws` package's, as a
 * page would talk) watches the frames, stops the spin with space, orbits
 * the camera with a left drag and back, and presses stop.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { WEB_FRAME_HEADER_BYTES } from '@kvmos/display';
import { parseCommand, UsageError } from '../src/index.js';
import { parseExecCommand } from '../src/linux-exec/command.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));

// ---------------------------------------------------------------- options

test('--web [HOST:]PORT: the host defaults to 127.0.0.1, 0 picks a port, IPv6 in brackets', (t) => {
  const web = (arg: string) => {
    const c = parseCommand(['torus', '--web', arg]);
    return c.kind === 'run' ? c.display?.web : undefined;
  };
  t.deepEqual(web('8080'), { host: '127.0.0.1', port: 8080 });
  t.deepEqual(web('0'), { host: '127.0.0.1', port: 0 });
  t.deepEqual(web('localhost:65535'), { host: 'localhost', port: 65535 });
  t.deepEqual(web('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  t.deepEqual(web('[::1]:9000'), { host: '::1', port: 9000 });
  t.like(parseCommand(['--kernel', 'k', '--web', '0']), { display: { headless: false, web: { port: 0 } } });
  const plain = parseCommand(['torus']);
  t.false(plain.kind === 'run' && plain.display !== undefined && 'web' in plain.display, 'no web key without --web');
  for (const bad of ['', 'x', '65536', 'host:', ':80', '1.2.3.4:80:90', '::1:80', 'a b:80', 'host:port', '8080/']) {
    t.throws(() => parseCommand(['torus', '--web', bad]), { instanceOf: UsageError, message: /--web takes \[HOST:\]PORT/ }, bad);
  }
  t.throws(() => parseCommand(['torus', '--web=-1']), { instanceOf: UsageError, message: /--web takes \[HOST:\]PORT/ });
  t.throws(() => parseCommand(['torus', '--web', '0', '--window']), { instanceOf: UsageError, message: /^give --window or --headless or --web, not --window and --web$/ });
  t.throws(() => parseCommand(['torus', '--web', '0', '--headless']), { instanceOf: UsageError });
});

test('kvmos exec takes --web too', (t) => {
  const e = parseExecCommand(['--web', '127.0.0.1:0', '--frames', '5', 'prog', '--web', 'x'], {});
  t.like(e, { kind: 'exec', program: 'prog', args: ['--web', 'x'], display: { web: { host: '127.0.0.1', port: 0 }, frames: 5 } });
  t.like(parseExecCommand(['--web=8080', 'prog'], {}), { display: { web: { host: '127.0.0.1', port: 8080 } } });
});

test('errors are one line: a port in use is 69, a bad address 64', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const inUse = spawnSync(process.execPath, [cli, 'torus', '--web', String(port)], { encoding: 'utf8', timeout: 30_000 });
  t.is(inUse.status, 69);
  t.is(inUse.stderr, `kvmos: cannot serve the screen on 127.0.0.1:${port}: the address is in use - pick another port, or 0 for a free one\n`);
  const bad = spawnSync(process.execPath, [cli, 'torus', '--web', 'nowhere:'], { encoding: 'utf8', timeout: 30_000 });
  t.is(bad.status, 64);
  t.regex(bad.stderr, /^kvmos: --web takes \[HOST:\]PORT .* not 'nowhere:' \(see kvmos --help\)\n$/);
  const foreign = spawnSync(process.execPath, [cli, 'torus', '--web', '192.0.2.1:0'], { encoding: 'utf8', timeout: 30_000 });
  t.is(foreign.status, 69);
  t.regex(foreign.stderr, /^kvmos: cannot serve the screen on 192\.0\.2\.1:0: no such address on this machine - give an address of this machine.*\n$/);
});

test('--help tells of --web and its token', (t) => {
  const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  t.regex(r.stdout, /--web \[HOST:\]PORT/);
  t.regex(r.stdout, /http:\/\/HOST:PORT\/\?token=\.\.\./);
  t.regex(r.stdout, /token\s+is random for each run and required/);
  t.regex(r.stdout, /not encrypted/);
});

// ---------------------------------------------------------------- end to end

interface Shot {
  n: number;
  width: number;
  height: number;
  pixels: Buffer;
}

/** A page's view of a run: every frame it got (acknowledged at once, as the page does after drawing). */
class Watcher {
  readonly shots: Shot[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      const b = data as Buffer;
      this.shots.push({ n: b.readUInt32LE(0), width: b.readUInt32LE(4), height: b.readUInt32LE(8), pixels: b.subarray(WEB_FRAME_HEADER_BYTES) });
      ws.send('{"type":"ack"}');
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  send(m: object): void {
    this.ws.send(JSON.stringify(m));
  }

  /** The first frame from now on for which `check(frame, previous)` holds. */
  async until(what: string, check: (s: Shot, previous: Shot | undefined) => boolean, ms = 15_000): Promise<Shot> {
    const end = Date.now() + ms;
    let i = this.shots.length;
    for (;;) {
      while (i < this.shots.length) {
        const s = this.shots[i]!;
        if (check(s, this.shots[i - 1])) return s;
        i++;
      }
      if (Date.now() > end) throw new Error(`no frame ${what} in ${ms} ms (last frame ${this.shots.at(-1)?.n})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }
}

/** Pixels that are not black in the middle 200x200 of a frame. */
function litInMiddle(s: Shot): number {
  let lit = 0;
  for (let y = s.height / 2 - 100; y < s.height / 2 + 100; y++) {
    for (let x = s.width / 2 - 100; x < s.width / 2 + 100; x++) {
      const o = (y * s.width + x) * 4;
      if (s.pixels[o]! + s.pixels[o + 1]! + s.pixels[o + 2]! > 0) lit++;
    }
  }
  return lit;
}

function differing(a: Shot, b: Shot): number {
  const x = new Uint32Array(a.pixels.buffer, a.pixels.byteOffset, a.pixels.length / 4);
  const y = new Uint32Array(b.pixels.buffer, b.pixels.byteOffset, b.pixels.length / 4);
  let d = 0;
  for (let i = 0; i < x.length; i++) if ((x[i]! & 0xffffff) !== (y[i]! & 0xffffff)) d++;
  return d;
}

/**
 * Two frames received one after the other that are the same picture: the
 * scene at rest (while the torus spins, no two frames are the same).
 */
const still = (s: Shot, p: Shot | undefined) => p !== undefined && p.n < s.n && differing(s, p) === 0;

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exit };
}

/** The page's address, token and all, from the run's line on stderr. */
async function urlOf(run: Run): Promise<string> {
  const end = Date.now() + 20_000;
  for (;;) {
    const m = /^kvmos: open (http:\/\/127\.0\.0\.1:(\d+)\/\?token=[\w-]{43}) to see the screen$/m.exec(run.stderr());
    if (m) return m[1]!;
    if (run.child.exitCode !== null || Date.now() > end) throw new Error(`no address on stderr: ${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The WebSocket the page at `url` opens: /ws with the page's token, its origin. */
function socketOf(url: string): { ws: string; origin: string } {
  const u = new URL(url);
  return { ws: `ws://${u.host}/ws${u.search}`, origin: u.origin };
}

async function watch(url: string): Promise<Watcher> {
  const { ws: address, origin } = socketOf(url);
  const ws = new WebSocket(address, { origin });
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  return new Watcher(ws);
}

test.serial('kvmos torus --web: the page shows the lit torus; space stops the spin, a left drag orbits and back, stop ends the run with 0', async (t) => {
  const run = start([cli, 'torus', '--web', '127.0.0.1:0', '--frames', '120', '-v']);
  t.teardown(() => run.child.kill('SIGKILL'));
  const url = await urlOf(run);
  const page = await fetch(url);
  t.is(page.status, 200);
  t.regex(await page.text(), /<canvas/);
  // Without the run's token: the 403 page, and no WebSocket.
  const bare = url.replace(/\?token=.*$/, '');
  const refused = await fetch(bare);
  t.is(refused.status, 403);
  t.regex(await refused.text(), /needs its token/);
  const { ws: address, origin } = socketOf(url);
  for (const wrong of [address.replace(/\?token=.*$/, ''), address.replace(/token=./, 'token=x')]) {
    const ws = new WebSocket(wrong, { origin });
    t.regex(await new Promise<string>((resolve) => ws.once('error', (e) => resolve(e.message)).once('open', () => resolve('open'))), /403/, wrong);
  }

  const w = await watch(url);
  const lit = await w.until('with the torus lit in the middle', (s) => litInMiddle(s) > 5000);
  t.deepEqual([lit.width, lit.height], [640, 480]);

  // Space stops the spin: the picture comes to rest.
  w.send({ type: 'key', code: 'Space', down: true });
  w.send({ type: 'key', code: 'Space', down: false });
  const rest = await w.until('at rest after space', still);

  // A left drag 100 pixels to the right (in a 640x480 canvas) orbits the camera...
  const at = (x: number) => ({ x, y: 240, w: 640, h: 480 });
  w.send({ type: 'move', ...at(320) });
  w.send({ type: 'button', button: 0, down: true, ...at(320) });
  for (const x of [345, 370, 395, 420]) w.send({ type: 'move', ...at(x) });
  w.send({ type: 'button', button: 0, down: false, ...at(420) });
  await w.until('changed by the drag', (s) => differing(s, rest) > 1000);
  const orbited = await w.until('at rest after the drag', still);
  const moved = differing(orbited, rest);
  t.true(moved > 1000, `${moved} pixels changed`);
  t.true(litInMiddle(orbited) > 5000, 'still the torus');

  // ... and the same drag back to the left returns to the first view.
  w.send({ type: 'button', button: 0, down: true, ...at(420) });
  for (const x of [395, 370, 345, 320]) w.send({ type: 'move', ...at(x) });
  w.send({ type: 'button', button: 0, down: false, ...at(320) });
  await w.until('changed by the drag back', (s) => differing(s, orbited) > 1000);
  const back = await w.until('at rest after the drag back', still);
  const left = differing(back, rest);
  t.log(`the drag changed ${moved} pixels; after the drag back ${left} differ from the view before (frame ${back.n})`);
  t.true(left < moved / 50, `${left} pixels differ from the view before the drags`);
  t.true(back.n < 110, `done by frame ${back.n}`);

  // Stop: the guest is asked to quit, the run ends with 0 before --frames.
  w.send({ type: 'stop' });
  t.is(await run.exit, 0, run.stderr());
  const m = /exit code 0 after (\d+) frames/.exec(run.stderr());
  t.truthy(m, run.stderr());
  t.true(Number(m![1]) < 120, `stopped after ${m![1]} frames, not by --frames`);
  t.deepEqual(await w.closed, { code: 1001, reason: 'the guest has stopped' });
  t.is(run.stderr().split('\n').filter((l) => l !== '' && !/^kvmos: (open |running on |.*exit code 0 after)/.test(l)).join('\n'), '', 'nothing else on stderr');
});

test.serial('kvmos torus --web 0.0.0.0:0 warns that the link is unencrypted, and still wants the token', async (t) => {
  const run = start([cli, 'torus', '--web', '0.0.0.0:0', '--frames', '90']);
  t.teardown(() => run.child.kill('SIGKILL'));
  const url = await urlOf(run);
  t.regex(run.stderr(), /^kvmos: warning: 0\.0\.0\.0:\d+ can be reached from other machines, and the link is not encrypted \(http, ws\): .*ssh -L$/m);
  t.is((await fetch(url.replace(/\?token=.*$/, ''))).status, 403);
  const w = await watch(url);
  await w.until('a first frame', () => true, 60_000);
  t.is(await run.exit, 0, run.stderr());
  // On loopback, no warning.
  const local = spawnSync(process.execPath, [cli, 'hello', '--web', '0', '--frames', '1'], { encoding: 'utf8', timeout: 60_000 });
  t.notRegex(local.stderr, /warning/);
});

test.serial('kvmos torus --web: a tab closing changes nothing, --frames still ends the run', async (t) => {
  const run = start([cli, 'torus', '--web', '0', '--frames', '180', '-v']);
  t.teardown(() => run.child.kill('SIGKILL'));
  const url = await urlOf(run);
  const a = await watch(url);
  const first = await a.until('a first frame', () => true);
  a.ws.close();
  await a.closed;
  const b = await watch(url);
  await b.until('after the other tab left', (s) => s.n >= first.n + 5);
  t.is(await run.exit, 0, run.stderr());
  t.regex(run.stderr(), /exit code 0 after 180 frames/);
  t.deepEqual(await b.closed, { code: 1001, reason: 'the guest has stopped' });
});
