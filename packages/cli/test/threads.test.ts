/**
 * Real multi-threaded programs in the guest, each compared byte for byte
 * with the same program run natively:
 *
 * - test/linux/threads/pthreads.c: 8 threads, mutexes, condition variables,
 *   a pthread_barrier and __thread variables computing a deterministic
 *   result; built static with musl-gcc and dynamic with gcc (glibc, the
 *   guest finds its loader and libc in the default view of the host's /lib);
 * - test/linux/threads/threads.rs: std::thread, Mutex, Condvar, RwLock,
 *   mpsc channels, thread::scope, thread_local!, a caught panic; built here
 *   with `rustc -C target-feature=+crt-static` (std only), cached in the
 *   temporary directory by the hash of its source;
 * - python3 -c with threading (Thread, Lock, Event, Condition) and
 *   concurrent.futures.ThreadPoolExecutor, run as `kvmos exec python3 -c`
 *   in the default view and natively as /usr/bin/python3 with the guest's
 *   environment (the program reads no files besides its standard library,
 *   so the view does not change what it prints).
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENV } from '../src/linux-exec/command.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const sources = fileURLToPath(new URL('../../test/linux/threads/', import.meta.url));
const TIMEOUT_MS = 300_000;
const ENV: Record<string, string> = Object.fromEntries(DEFAULT_ENV.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A directory for built binaries, named by what they were built from: kept between runs. */
function cacheDir(what: string, ...inputs: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const i of inputs) h.update(i);
  const dir = join(tmpdir(), `kvmos-threads-${what}-${h.digest('hex').slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function build(cmd: string, args: string[], out: string): string {
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp${process.pid}`;
  const r = spawnSync(cmd, [...args, '-o', tmp], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  spawnSync('mv', [tmp, out]);
  return out;
}

function native(argv: string[]): Run {
  const [cmd, ...args] = argv as [string, ...string[]];
  const r = spawnSync(cmd, args, { env: ENV, encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function guest(argv: string[], opts: string[] = []): Run {
  const r = spawnSync(process.execPath, [cli, 'exec', ...opts, ...argv], { encoding: 'utf8', timeout: TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function show(r: Run): string {
  return `status ${r.status}${r.signal ? ` (killed by ${r.signal}: timed out?)` : ''}\nstdout:\n${r.stdout.slice(0, 3000)}\nstderr:\n${r.stderr.slice(0, 3000)}`;
}

/** Runs argv natively (twice: the program must be deterministic) and in the guest, and compares. */
function same(t: ExecutionContext, argv: string[], guestArgv: string[] = argv, opts: string[] = []): void {
  const n = native(argv);
  const again = native(argv);
  t.is(n.status, 0, `natively: ${show(n)}`);
  t.is(again.stdout, n.stdout, 'the program is not deterministic natively: a bug in the program, not the kernel');
  const g = guest(guestArgv, opts);
  t.is(g.stdout, n.stdout, `stdout differs from native\nguest: ${show(g)}\nnative: ${show(n)}`);
  t.is(g.stderr, n.stderr, `stderr differs from native\nguest: ${show(g)}`);
  t.is(g.status, n.status, `exit status\nguest: ${show(g)}`);
}

const it = test.serial;

const pthreadsSource = join(sources, 'pthreads.c');

it(`8 pthreads with mutexes, condition variables, a barrier and __thread: musl static, as natively`, (t) => {
  const dir = cacheDir('pthreads', readFileSync(pthreadsSource));
  const bin = build('musl-gcc', ['-static', '-O2', pthreadsSource], join(dir, 'pthreads-musl'));
  same(t, [bin]);
});

it(`8 pthreads with mutexes, condition variables, a barrier and __thread: glibc dynamic, as natively`, (t) => {
  const dir = cacheDir('pthreads', readFileSync(pthreadsSource));
  const bin = build('gcc', ['-O2', pthreadsSource], join(dir, 'pthreads-glibc'));
  same(t, [bin]);
});

const rustSource = join(sources, 'threads.rs');
const rustc = spawnSync('rustc', ['--version'], { encoding: 'utf8' });
(rustc.error === undefined ? test.serial : test.skip)(
  `Rust std::thread, Mutex, Condvar, RwLock, mpsc, thread::scope, thread_local! (static, crt-static), as natively${rustc.error !== undefined ? ' (skipped: no rustc on this host)' : ''}`,
  (t) => {
    const dir = cacheDir('rust', readFileSync(rustSource), rustc.stdout);
    const bin = build('rustc', ['-O', '-C', 'target-feature=+crt-static', '--edition', '2021', rustSource], join(dir, 'threads-rs'));
    same(t, [bin]);
  },
);

const PYTHON = `
import threading, concurrent.futures
lock = threading.Lock()
total = 0
def work(n):
    global total
    s = sum(i * i for i in range(n))
    with lock:
        total += s
ts = [threading.Thread(target=work, args=(1000 + i,), name=f"w{i}") for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("threads:", total, [t.is_alive() for t in ts].count(False))
cond = threading.Condition()
items = []
done = threading.Event()
def producer():
    for i in range(200):
        with cond:
            items.append(i)
            cond.notify()
    done.set()
out = []
def consumer():
    while len(out) < 200:
        with cond:
            while not items:
                cond.wait()
            out.append(items.pop(0))
c = threading.Thread(target=consumer)
p = threading.Thread(target=producer)
c.start(); p.start(); p.join(); c.join()
print("condition:", sum(out), out == list(range(200)), done.wait(5))
local = threading.local()
def tl(i):
    local.v = i
    return local.v * 10
with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
    print("pool:", list(ex.map(lambda x: x * x, range(12))), sorted(ex.map(tl, range(6))))
print("active threads at the end:", threading.active_count())
`;

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;
(python !== undefined ? test.serial : test.skip)(
  `python3 -c with threading (Thread, Lock, Event, Condition, local) and ThreadPoolExecutor.map, as natively${python === undefined ? ' (skipped: no /usr/bin/python3)' : ''}`,
  (t) => {
    same(t, [python!, '-c', PYTHON], ['python3', '-c', PYTHON]);
  },
);
