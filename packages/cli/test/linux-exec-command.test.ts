import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENV, parseExecCommand, type ExecCommand } from '../src/linux-exec/command.js';
import { buildRootFs, checkProgram, resolveProgram } from '../src/linux-exec/root-fs.js';
import { InputFileError, NotExecutableError, ProgramNotFoundError, UsageError } from '../src/errors.js';
import { checkBinds as prepareBinds, prepareExec } from '../src/linux-exec/run.js';
import { bindWord } from '@kvmos/protocol';

function exec(argv: string[], env: NodeJS.ProcessEnv = {}): ExecCommand {
  const c = parseExecCommand(argv, env);
  if (c.kind !== 'exec') throw new Error('expected a command');
  return c;
}

test('options stop at PROGRAM: the rest is the program\'s, dashes included', (t) => {
  const c = exec(['--trace', 'busybox', 'ls', '-l', '--trace', '--', 'x']);
  t.is(c.program, 'busybox');
  t.deepEqual(c.args, ['ls', '-l', '--trace', '--', 'x']);
  t.true(c.trace);
});

test('-- ends the options, so a program may start with a dash', (t) => {
  t.like(exec(['--', '-weird', 'a']), { program: '-weird', args: ['a'] });
});

test('--env sets, replaces and passes host values; the default env comes first', (t) => {
  const c = exec(['--env', 'A=1', '--env=PATH=/x', '--env', 'HOSTVAR', 'p'], { HOSTVAR: 'h v' });
  t.deepEqual(c.env, [DEFAULT_ENV[1], 'A=1', 'PATH=/x', 'HOSTVAR=h v']);
  t.throws(() => exec(['--env', 'MISSING', 'p'], {}), { instanceOf: UsageError, message: /MISSING/ });
});

test('--file and --dir take HOST[:GUEST]', (t) => {
  const c = exec(['--file', 'a/b.txt', '--file', 'x:/etc/x', '--dir', 'site:/www', '--dir', 'd', 'p']);
  t.deepEqual(c.files, [{ host: 'a/b.txt', guest: '/b.txt' }, { host: 'x', guest: '/etc/x' }]);
  t.deepEqual(c.dirs, [{ host: 'site', guest: '/www' }, { host: 'd', guest: '/d' }]);
  t.throws(() => exec(['--file', 'x:rel', 'p']), { instanceOf: UsageError });
});

test('--tmpfs takes absolute guest directories; its mount points are in the root file system', (t) => {
  const c = exec(['--tmpfs', '/work', '--tmpfs=/var/cache/x', 'p']);
  t.deepEqual(c.tmpfs, ['/work', '/var/cache/x']);
  t.deepEqual(exec(['p']).tmpfs, []);
  for (const bad of ['rel', '/', '/a b', '/a/../b', '/./a']) {
    t.throws(() => exec(['--tmpfs', bad, 'p']), { instanceOf: UsageError, message: /--tmpfs/ }, bad);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-tmpfs-'));
  const prog = Buffer.from('program bytes');
  writeFileSync(join(dir, 'prog'), prog);
  const fs = buildRootFs(c, join(dir, 'prog'), prog);
  writeFileSync(join(dir, 'a.cpio'), fs.initramfs);
  const r = spawnSync('cpio', ['-itv', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  for (const d of ['tmp', 'work', 'var/cache/x']) t.regex(r.stdout, new RegExp(`^d.* ${d}$`, 'm'), d);
  const onFile = exec(['--file', `${join(dir, 'prog')}:/etc/f`, '--tmpfs', '/etc/f', 'p']);
  t.throws(() => buildRootFs(onFile, join(dir, 'prog'), prog), { instanceOf: UsageError, message: /already has a file/ });
});

test('display options give the program a screen; none by default', (t) => {
  const none = exec(['busybox', 'true']);
  t.is(none.display, undefined);
  const shot = exec(['--headless', '--fixed-time', '--frames', '60', '--screenshot=s.png', '--input', 'in.txt', './draw', '--frames', '1']);
  t.deepEqual(shot.display, { headless: true, frames: 60, record: undefined, screenshot: 's.png', input: 'in.txt', fixedTime: true });
  t.deepEqual(shot.args, ['--frames', '1'], "after PROGRAM they are the program's");
  t.deepEqual(exec(['--window', 'paint']).display, { headless: false, frames: undefined, record: undefined, screenshot: undefined, input: undefined, fixedTime: false });
  t.throws(() => exec(['--window', '--headless', 'x']), { instanceOf: UsageError, message: /--window or --headless/ });
  t.throws(() => exec(['--frames', '0', 'x']), { instanceOf: UsageError, message: /--frames must be between 1/ });
  t.throws(() => exec(['--record', '', 'x']), { instanceOf: UsageError, message: /--record needs a path/ });
});

test('bad usage is a UsageError naming the problem', (t) => {
  t.throws(() => exec([]), { instanceOf: UsageError, message: /which program/ });
  t.throws(() => exec(['--bogus', 'p']), { instanceOf: UsageError, message: /--bogus/ });
  t.throws(() => exec(['--cwd', 'rel', 'p']), { instanceOf: UsageError, message: /absolute/ });
  t.throws(() => exec(['--ram', '63', 'p']), { instanceOf: UsageError });
  t.throws(() => exec(['--env']), { instanceOf: UsageError, message: /needs a value/ });
  t.deepEqual(parseExecCommand(['-h'], {}), { kind: 'help' });
});

const tmp = mkdtempSync(join(tmpdir(), 'kvmos-exec-'));

test('PROGRAM is looked up on PATH like a shell does; missing is ProgramNotFoundError', (t) => {
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'tool'), 'x');
  chmodSync(join(bin, 'tool'), 0o755);
  t.is(resolveProgram('tool', { PATH: `/nonexistent:${bin}` }), join(bin, 'tool'));
  t.throws(() => resolveProgram('nope', { PATH: bin }), { instanceOf: ProgramNotFoundError });
  t.throws(() => resolveProgram('./nope', {}), { instanceOf: ProgramNotFoundError });
});

test('checkProgram refuses non-ELF programs with what to do, and takes dynamically linked ones and scripts', (t) => {
  t.throws(() => checkProgram(Buffer.from('not a program\n'), 'junk'), { instanceOf: NotExecutableError, message: /not a Linux x86-64 program/ });
  // A script runs with its interpreter, the host's: it gets the host's view.
  t.deepEqual(checkProgram(Buffer.from('#!/bin/sh\n'), 'script'), { dynamic: true });
  t.deepEqual(checkProgram(readFileSync('/bin/busybox'), '/bin/busybox'), { dynamic: false });
  // The host's own /bin/ls is dynamically linked: the guest loads its loader.
  t.notThrows(() => checkProgram(readFileSync('/bin/ls'), '/bin/ls'));
  t.notThrows(() => checkProgram(readFileSync('/bin/busybox'), '/bin/busybox'));
});

test('the root file system has the program, the files and trees asked for, and /etc', (t) => {
  const site = join(tmp, 'site');
  mkdirSync(join(site, 'sub'), { recursive: true });
  writeFileSync(join(site, 'index.html'), '<h1>hi</h1>');
  writeFileSync(join(site, 'sub', 'a.txt'), 'a');
  symlinkSync('index.html', join(site, 'link'));
  writeFileSync(join(tmp, 'note'), 'note');
  const c = exec(['--dir', `${site}:/www`, '--file', `${join(tmp, 'note')}:/etc/note`, 'prog']);
  const prog = Buffer.from('program bytes');
  writeFileSync(join(tmp, 'prog'), prog);
  const fs = buildRootFs(c, join(tmp, 'prog'), prog);
  t.is(fs.programPath, '/bin/prog');
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-rootfs-'));
  writeFileSync(join(dir, 'a.cpio'), fs.initramfs);
  const r = spawnSync('cpio', ['-it', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const names = r.stdout.trim().split('\n');
  for (const n of ['bin', 'bin/prog', 'etc/passwd', 'etc/group', 'etc/note', 'www', 'www/index.html', 'www/link', 'www/sub', 'www/sub/a.txt']) {
    t.true(names.includes(n), `${n} in ${names.join(' ')}`);
  }
  // Parents come before their children.
  t.true(names.indexOf('www') < names.indexOf('www/sub/a.txt'));
});

test('--bind and --ro-bind take two words, HOST GUEST, repeatable and in order (the mount ids)', (t) => {
  const c = exec(['--ro-bind', '/usr', '/usr', '--bind', 'a:b', '/out//x/./', '--ro-bind', '.', '/', 'prog', '--bind', 'x', '/y']);
  t.deepEqual(c.binds, [
    { host: '/usr', guest: '/usr', writable: false },
    { host: 'a:b', guest: '/out/x', writable: true },
    { host: '.', guest: '/', writable: false },
  ]);
  t.deepEqual(c.args, ['--bind', 'x', '/y'], 'after PROGRAM they are the program\'s');
  t.throws(() => exec(['--bind', '/usr']), { instanceOf: UsageError, message: /--bind needs two words: --bind HOST GUEST/ });
  t.throws(() => exec(['--ro-bind', '/usr', 'busybox', 'true']), {
    instanceOf: UsageError,
    message: "--ro-bind /usr busybox: GUEST 'busybox' is not an absolute path (--ro-bind takes two words, HOST GUEST, e.g. --ro-bind ./data /data)",
  });
  t.throws(() => exec(['--bind', '/usr', '/a b', 'p']), { instanceOf: UsageError, message: /GUEST cannot contain spaces/ });
  t.throws(() => exec(['--bind', '/usr', '/a/../b', 'p']), { instanceOf: UsageError, message: /GUEST cannot contain '\.\.'/ });
});

test('--bind: the guest is told its mounts on the command line, the mount points exist, a missing host directory is refused with a hint', (t) => {
  const data = join(tmp, 'bind-data');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(tmp, 'bind-prog'), Buffer.from('x'));
  const c = exec(['--ro-bind', data, '/srv/data', '--bind', tmp, '/out', 'prog']);
  const boot = prepareBinds(c);
  t.deepEqual(boot.map((m) => [m.guest, m.writable]), [['/srv/data', false], ['/out', true]]);
  t.is(bindWord({ mount: 1, writable: true, guestPath: '/out' }), 'bind=1,rw,/out');
  const fs = buildRootFs(c, join(tmp, 'bind-prog'), Buffer.from('x'));
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-rootfs-'));
  writeFileSync(join(dir, 'a.cpio'), fs.initramfs);
  const names = spawnSync('cpio', ['-it', '-F', join(dir, 'a.cpio')], { encoding: 'utf8' }).stdout.trim().split('\n');
  for (const n of ['srv', 'srv/data', 'out']) t.true(names.includes(n), `${n} in ${names.join(' ')}`);
  const missing = exec(['--bind', join(tmp, 'no-such-dir'), '/x', 'prog']);
  t.throws(() => prepareBinds(missing), { instanceOf: InputFileError, message: /no-such-dir: cannot be shown at \/x \(ENOENT\) - --bind HOST GUEST needs an existing host directory/ });
  t.throws(() => prepareBinds(exec(['--ro-bind', join(tmp, 'bind-prog'), '/x', 'prog'])), { instanceOf: InputFileError, message: /is not a directory - --ro-bind/ });
  const clash = exec(['--file', `${join(tmp, 'bind-prog')}:/x`, '--bind', data, '/x', 'prog']);
  t.throws(() => buildRootFs(clash, join(tmp, 'bind-prog'), Buffer.from('x')), { instanceOf: UsageError, message: /\/x is a file in the root file system/ });
});

test('prepareExec puts a bind= word for each mount on the kernel command line, in mount-id order', (t) => {
  const data = join(tmp, 'bind-cmdline');
  mkdirSync(data, { recursive: true });
  const c = exec(['--ro-bind', data, '/srv/data', '--bind', data, '/out', '/bin/busybox']);
  const boot = prepareExec(c, { PATH: '/bin' });
  t.is(boot.cmdline, 'init=/bin/busybox cwd=/ bind=0,ro,/srv/data bind=1,rw,/out');
  t.deepEqual(boot.mounts, [{ host: data, guest: '/srv/data', writable: false }, { host: data, guest: '/out', writable: true }]);
});

test('--no-tick: the kernel without its timer tick, off by default', (t) => {
  t.true(exec(['--no-tick', 'p']).noTick);
  t.false(exec(['p']).noTick);
});

test('--timeout takes seconds > 0, not with a screen', (t) => {
  t.is(exec(['--timeout', '2', 'p']).timeout, 2);
  t.is(exec(['--timeout=0.5', 'p']).timeout, 0.5);
  t.is(exec(['p']).timeout, undefined);
  for (const bad of ['0', '-1', 'x', '1e3', '', '.5', '99999999999']) {
    t.throws(() => exec(['--timeout', bad, 'p']), { instanceOf: UsageError, message: /--timeout takes seconds/ }, bad);
  }
  t.throws(() => exec(['--timeout', '1', '--headless', 'p']), { instanceOf: UsageError, message: /--timeout is for programs without a screen/ });
});

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** QEMU processes that inherited KVMOS_TEST_TAG=`tag`. */
function qemusTagged(tag: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'latin1').includes('qemu-system-x86_64') && readFileSync(`/proc/${d}/environ`, 'latin1').includes(`KVMOS_TEST_TAG=${tag}`);
      } catch {
        return false; // gone, or not ours to read
      }
    })
    .map(Number);
}

/** Runs kvmos exec ARGS with stdin a pipe that is never written nor closed; status and stderr. */
function execWithOpenStdin(args: string[], tag: string): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'exec', ...args], { env: { ...process.env, KVMOS_TEST_TAG: tag }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stderr, stdout }));
  });
}

for (const [what, args] of [
  ['a program that computes for ever', ['busybox', 'sh', '-c', 'echo started; while :; do :; done']],
  ['a program that waits for input that never comes', ['busybox', 'sh', '-c', 'echo started; read x; echo "got $x"']],
  ['a program that sleeps too long', ['busybox', 'sh', '-c', 'echo started; sleep 100']],
] as const) {
  test(`--timeout ends ${what}: exit 124, one line on stderr, no QEMU left`, async (t) => {
    const tag = randomUUID();
    const r = await execWithOpenStdin(['--timeout', '1', ...args], tag);
    t.is(r.status, 124, r.stderr);
    t.is(r.stdout, 'started\n');
    t.is(r.stderr, 'kvmos: the guest ran longer than --timeout 1 s: stopped it\n');
    // QEMU dies with its host (pdeathsig): give the kernel a moment to reap it.
    const end = Date.now() + 5_000;
    while (qemusTagged(tag).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    t.deepEqual(qemusTagged(tag), [], 'QEMU outlived kvmos');
  });
}

test('--timeout does not touch a program that ends in time', async (t) => {
  const r = await execWithOpenStdin(['--timeout', '60', 'busybox', 'sh', '-c', 'echo quick; exit 3'], randomUUID());
  t.is(r.status, 3, r.stderr);
  t.is(r.stdout, 'quick\n');
  t.is(r.stderr, '');
});
