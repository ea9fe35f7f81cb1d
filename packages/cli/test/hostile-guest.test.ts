/**
 * A hostile Linux program in the guest (issue 10): test/linux/hostile/hostile.c,
 * a static musl program, run by `kvmos exec`. It floods the host with
 * unknown system call numbers (the host's report stays bounded), and makes
 * thousands of seeded random system calls with random arguments in child
 * processes (about 38,000 made of 50,000 asked for: ~5 s on TCG), after which the kernel must still be there and work: a pipe
 * round trip, a fork and wait, a file read.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagePath } from '../src/images.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const source = fileURLToPath(new URL('../../test/linux/hostile/hostile.c', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kvmos-hostile-'));
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** The seed and the number of random calls (KVMOS_HOSTILE_SEED, KVMOS_HOSTILE_CALLS to try others). */
const SEED = process.env.KVMOS_HOSTILE_SEED ?? '1';
const CALLS = process.env.KVMOS_HOSTILE_CALLS ?? '50000';
const FLOOD = 20_000;

let binary: string | undefined;
function compile(): string {
  if (binary) return binary;
  const out = join(work, 'hostile');
  const r = spawnSync('musl-gcc', ['-static', '-O1', '-Wall', '-o', out, source], { encoding: 'utf8' });
  if (r.error) throw new Error('musl-gcc not found: install musl-tools (scripts/setup.sh does: apt-get install musl-tools)');
  if (r.status !== 0) throw new Error(`musl-gcc hostile.c failed:\n${r.stderr}`);
  binary = out;
  return out;
}

function kvmosExec(args: string[], timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'exec', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

test.serial('a flood of unknown system call numbers: a bounded report, then one "and N more" line', async (t) => {
  if (!existsSync(imagePath('linux-exec'))) return t.fail('no guest image: build it with (cd guest && bash build.sh)');
  const r = await kvmosExec([compile(), 'flood', String(FLOOD)], 90_000);
  t.is(r.status, 0, r.stderr.slice(0, 2000));
  t.is(r.stdout, 'flood done\n');
  const lines = r.stderr.split('\n').filter(Boolean);
  t.true(lines.length <= 65, `${lines.length} lines on stderr`);
  t.is(lines.filter((l) => /number \d+\), which kvmos does not implement/.test(l)).length, 64);
  t.regex(lines.at(-1) ?? '', /^kvmos: \.\.\. and \d+ more calls/);
});

test.serial('thousands of seeded random system calls: the kernel survives and the machine still works', async (t) => {
  if (!existsSync(imagePath('linux-exec'))) return t.fail('no guest image: build it with (cd guest && bash build.sh)');
  const r = await kvmosExec([compile(), 'fuzz', SEED, CALLS], 110_000);
  const context = `seed ${SEED}, ${CALLS} calls; status ${r.status}\nstdout:\n${r.stdout}\nstderr (start):\n${r.stderr.slice(0, 3000)}`;
  t.is(r.status, 0, context);
  // The children count the calls they made (the garbage ends many of them early: the next goes on).
  const made = Number(/^survived (\d+) random calls/m.exec(r.stdout)?.[1] ?? 0);
  t.true(made >= Number(CALLS) / 2, context);
  t.regex(r.stdout, /^usable: pipe, fork and wait, files$/m, context);
  t.notRegex(r.stderr, /kernel panic|bad guest request|internal error|guest exception .* a kernel bug/, context);
  t.log(r.stdout.trim().split('\n')[0]);
});

test.serial('host diagnostics to a closed stderr are lost, not an internal error', async (t) => {
  if (!existsSync(imagePath('hello'))) return t.fail('no guest image: build it with (cd guest && bash build.sh)');
  // --verbose makes the host write its own lines ("running on ..."); the reader of stderr is gone: EPIPE.
  const status = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'hello', '--verbose'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.destroy();
    child.on('error', reject);
    child.on('close', resolve);
  });
  t.is(status, 0);
});
