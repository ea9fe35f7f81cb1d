/**
 * The `kvmos` command as installed (package.json "bin"): the esbuild bundle
 * in dist/bundle/, one file for the command and one for the window's vCPU
 * thread. It must behave as the modules it is made of: these run real
 * guests through it, including the worker thread of a real window.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startXvfb } from '@kvmos/test-support';

const bundle = fileURLToPath(new URL('../bundle/kvmos.js', import.meta.url));
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { bin: Record<string, string>; version: string };

function kvmos(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [bundle, ...args], { encoding: 'utf8', timeout: 60_000, env });
}

test('package.json installs the bundle as kvmos', (t) => {
  t.is(pkg.bin.kvmos, './dist/bundle/kvmos.js');
  t.regex(readFileSync(bundle, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

test('the bundle boots hello: greeting, sqrt from ring 3, the exit code', (t) => {
  const r = kvmos(['hello', '--exit-code', '9']);
  t.is(r.status, 9, r.stderr);
  t.is(r.stdout, 'Hello from the kvmos kernel in ring 0!\nsqrt(3*3 + 4*4) = 5\n');
  t.is(kvmos(['--version']).stdout, `kvmos ${pkg.version}\n`);
});

test('the bundle runs a Linux program: busybox echo', (t) => {
  const r = kvmos(['exec', '/bin/busybox', 'echo', 'from', 'the', 'bundle']);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'from the bundle\n');
});

test('the bundle opens a window: the vCPU runs in the bundled worker, 30 frames, exit 0', async (t) => {
  const xvfb = await startXvfb();
  try {
    const r = kvmos(['torus', '--window', '--frames', '30', '-v'], { ...process.env, DISPLAY: xvfb.display });
    t.is(r.status, 0, r.stderr);
    t.regex(r.stderr, /exit code 0 after 30 frames/);
  } finally {
    xvfb.stop();
  }
});

test('the bundle serves a web screen: ws loads from the command\'s package, frames reach a page, stop ends the run', async (t) => {
  const child = spawn(process.execPath, [bundle, 'torus', '--web', '0', '--frames', '600', '-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const m = /^kvmos: open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+) to see the screen$/m.exec(stderr);
      if (m) resolve(m[1]!);
      else if (child.exitCode !== null) reject(new Error(stderr));
      else return;
      clearInterval(poll);
    }, 10);
  });
  t.regex(await (await fetch(url)).text(), /<canvas/);
  const page = new URL(url);
  const ws = new WebSocket(`ws://${page.host}/ws${page.search}`, { origin: page.origin });
  const frame = await new Promise<Buffer>((resolve, reject) => {
    ws.on('message', (data, isBinary) => isBinary && resolve(data as Buffer));
    ws.on('error', reject);
  });
  t.deepEqual([frame.readUInt32LE(4), frame.readUInt32LE(8)], [640, 480]);
  ws.send(JSON.stringify({ type: 'stop' }));
  t.is(await exit, 0, stderr);
  t.regex(stderr, /exit code 0 after \d+ frames/);
});
