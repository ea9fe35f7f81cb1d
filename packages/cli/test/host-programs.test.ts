/**
 * Debian's own dynamically linked programs, run unmodified in the guest
 * with host directories bound into it, compared byte for byte with the
 * same command run natively in the same view: bubblewrap (`bwrap`) builds
 * that view on the host from the same --ro-bind/--bind options, the same
 * program trees, the same generated /etc, a tmpfs on /tmp and the guest's
 * environment and host name.
 *
 * Each test works in a fresh temporary directory (removed when it passed):
 * `data` is a copy of test/busybox (bound read-only at /data), `out` a
 * writable directory (bound at /out), one per side.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENV } from '../src/linux-exec/command.js';
import { defaultView } from '../src/linux-exec/default-view.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const fixtures = fileURLToPath(new URL('../../test/busybox/', import.meta.url));
const TIMEOUT_MS = 120_000;

const bwrapMissing = spawnSync('bwrap', ['--version']).error !== undefined;
const it = bwrapMissing ? test.skip : test.serial;
if (bwrapMissing) test.skip('host programs: bwrap (bubblewrap) is needed as the native oracle; scripts/setup.sh installs it', () => {});

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

interface View {
  roBinds?: [string, string][];
  binds?: [string, string][];
  cwd?: string;
  stdin?: string;
}

/** The generated /etc of the default view, written out for bwrap. */
function etcDir(root: string): string {
  const dir = join(root, 'etc-view');
  mkdirSync(dir, { recursive: true });
  for (const e of defaultView().entries) {
    if (!e.path.startsWith('etc/')) continue;
    const p = join(dir, e.path.slice(4));
    if (e.kind === 'dir') mkdirSync(p, { recursive: true });
    else if (e.kind === 'file') writeFileSync(p, e.data);
    else if (e.kind === 'symlink') symlinkSync(e.target, p);
  }
  return dir;
}

function guest(view: View, argv: string[]): Run {
  const opts: string[] = [];
  for (const [h, g] of view.roBinds ?? []) opts.push('--ro-bind', h, g);
  for (const [h, g] of view.binds ?? []) opts.push('--bind', h, g);
  if (view.cwd) opts.push('--cwd', view.cwd);
  const r = spawnSync(process.execPath, [cli, 'exec', ...opts, ...argv], { input: view.stdin ?? '', timeout: TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function native(root: string, view: View, argv: string[]): Run {
  const v = defaultView();
  const opts: string[] = ['--unshare-all', '--hostname', 'kvmos', '--die-with-parent', '--clearenv'];
  for (const w of DEFAULT_ENV) opts.push('--setenv', w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1));
  for (const b of v.binds) opts.push('--ro-bind', b.host, b.guest);
  for (const e of v.entries) if (e.kind === 'symlink' && !e.path.includes('/')) opts.push('--symlink', e.target, `/${e.path}`);
  opts.push('--ro-bind', etcDir(root), '/etc', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev');
  for (const [h, g] of view.roBinds ?? []) opts.push('--ro-bind', h, g);
  for (const [h, g] of view.binds ?? []) opts.push('--bind', h, g);
  // The guest's root is read-only, with an empty /root.
  opts.push('--dir', '/root', '--remount-ro', '/');
  opts.push('--chdir', view.cwd ?? '/');
  const r = spawnSync('bwrap', [...opts, ...argv], { input: view.stdin ?? '', timeout: TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A work directory with `data` (the fixtures) and an empty `out`, for one side. */
function side(root: string, name: string): { data: string; out: string } {
  const data = join(root, name, 'data');
  const out = join(root, name, 'out');
  cpSync(fixtures, data, { recursive: true, preserveTimestamps: true });
  mkdirSync(join(data, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(data, 'sub', 'deeper', 'note.txt'), 'deep\n');
  mkdirSync(out);
  return { data, out };
}

function show(r: Run): string {
  return `status ${r.status}\nstdout:\n${r.stdout.toString('latin1').slice(0, 2000)}\nstderr:\n${r.stderr.toString('latin1').slice(0, 2000)}`;
}

/** Runs argv in the guest and natively with /data bound read-only (the same host copy for both) and /out writable (one each). */
function same(t: ExecutionContext, argv: string[], extra: Omit<View, 'roBinds' | 'binds'> = {}, withOut = false): { g: Run; n: Run; root: string; gOut: string; nOut: string } {
  const root = mkdtempSync(join(tmpdir(), 'kvmos-host-programs-'));
  const g = side(root, 'guest');
  const n = side(root, 'native');
  const view = (s: { data: string; out: string }): View => ({
    ...extra,
    roBinds: [[g.data, '/data']],
    ...(withOut && { binds: [[s.out, '/out']] as [string, string][] }),
  });
  const got = guest(view(g), argv);
  const want = native(root, view(n), argv);
  t.is(got.status, want.status, `exit status\nguest: ${show(got)}\nnative: ${show(want)}`);
  t.is(got.stdout.toString('latin1'), want.stdout.toString('latin1'), `stdout\nguest: ${show(got)}`);
  t.is(got.stderr.toString('latin1'), want.stderr.toString('latin1'), `stderr\nguest: ${show(got)}`);
  return { g: got, n: want, root, gOut: g.out, nOut: n.out };
}

function cleanup(t: ExecutionContext, root: string): void {
  if (t.passed) rmSync(root, { recursive: true, force: true });
}

it('ls -la of a --ro-bind tree', (t) => {
  const r = same(t, ['/bin/ls', '-la', '/data/sub']);
  cleanup(t, r.root);
  const r2 = same(t, ['/bin/ls', '-l', '--time-style=+%s', '/data']);
  cleanup(t, r2.root);
});

it('sort, uniq -c and sha256sum over bound files', (t) => {
  for (const argv of [
    ['/usr/bin/sort', '/data/fruit.txt'],
    ['/usr/bin/sort', '-t,', '-k2', '-n', '/data/stock.csv'],
    ['/usr/bin/uniq', '-c', '/data/fruit.txt'],
    ['/usr/bin/sha256sum', '/data/big.txt', '/data/bytes.bin'],
  ]) {
    cleanup(t, same(t, argv).root);
  }
  cleanup(t, same(t, ['/usr/bin/sort', '-r'], { stdin: 'b\na\nc\n' }).root);
});

it('gzip and gunzip round trip through /tmp', (t) => {
  const r = same(t, ['/bin/bash', '-c', 'gzip -9 -c /data/big.txt > /tmp/big.gz && gunzip -c /tmp/big.gz | sha256sum && gzip -l /tmp/big.gz | tail -1 | tr -s " " | cut -d" " -f2,3']);
  cleanup(t, r.root);
});

it('bash redirects into /tmp and reads it back', (t) => {
  const r = same(t, ['/bin/bash', '-c', 'echo one > /tmp/f; echo two >> /tmp/f; cat /tmp/f; wc -c < /tmp/f; ls /tmp; rm /tmp/f; ls -A /tmp']);
  cleanup(t, r.root);
});

it('find over a --ro-bind tree', (t) => {
  const r = same(t, ['/usr/bin/find', '/data', '-name', '*.txt', '-size', '-100k']);
  cleanup(t, r.root);
  const r2 = same(t, ['/usr/bin/find', '/data', '-type', 'd']);
  cleanup(t, r2.root);
});

it('tar creates an archive into --bind that the host lists and extracts', (t) => {
  const r = same(t, ['/bin/tar', '-C', '/data', '-cf', '/out/data.tar', '.'], {}, true);
  const list = (dir: string) => spawnSync('tar', ['-tvf', join(dir, 'data.tar')], { encoding: 'utf8' });
  const gl = list(r.gOut);
  t.is(gl.status, 0, gl.stderr);
  t.is(gl.stdout, list(r.nOut).stdout);
  const x = join(r.root, 'extracted');
  mkdirSync(x);
  t.is(spawnSync('tar', ['-C', x, '-xf', join(r.gOut, 'data.tar')]).status, 0);
  const files = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).sort();
  t.deepEqual(files(x), files(join(r.root, 'guest', 'data')));
  t.deepEqual(readFileSync(join(x, 'big.txt')), readFileSync(join(fixtures, 'big.txt')));
  // And back: the guest extracts the archive it wrote.
  const back = same(t, ['/bin/bash', '-c', 'mkdir /tmp/x && tar -C /tmp/x -xf /out/data.tar && cd /tmp/x && find . | sort && sha256sum big.txt'], {}, true);
  cleanup(t, back.root);
  cleanup(t, r.root);
});

it('python3 with json, hashlib, re and pathlib over a --ro-bind tree', (t) => {
  const code = [
    'import json, hashlib, re, pathlib',
    'print(json.dumps({"ok": True, "n": [1, 2.5, None]}, sort_keys=True))',
    'print(hashlib.sha256(pathlib.Path("/data/big.txt").read_bytes()).hexdigest())',
    'print(re.findall(r"[a-z]+an[a-z]*", pathlib.Path("/data/fruit.txt").read_text()))',
    'print(sorted(p.name for p in pathlib.Path("/data").iterdir()))',
  ].join('\n');
  cleanup(t, same(t, ['/usr/bin/python3', '-c', code]).root);
});

it('a write into a --ro-bind tree is EROFS', (t) => {
  cleanup(t, same(t, ['/bin/bash', '-c', 'echo x > /data/new; echo $?; touch /data/fruit.txt; echo $?; mkdir /data/d; echo $?']).root);
});

it('without options, ls -l / shows the default view and the host secrets are not there', (t) => {
  const r = spawnSync(process.execPath, [cli, 'exec', '/bin/ls', '-l', '/'], { timeout: TIMEOUT_MS, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^lrwxrwxrwx .* bin -> usr\/bin$/m);
  t.regex(r.stdout, /^dr.* usr$/m);
  t.regex(r.stdout, /^dr.* tmp$/m);
  t.notRegex(r.stdout, / home$/m);
  // /root is the guest's own, empty: nothing of the host user's.
  const root = spawnSync(process.execPath, [cli, 'exec', '/bin/ls', '-A', '/root'], { timeout: TIMEOUT_MS, encoding: 'utf8' });
  t.is(root.stdout, '', root.stderr);
  t.is(root.status, 0);
  const shadow = spawnSync(process.execPath, [cli, 'exec', '/bin/cat', '/etc/shadow'], { timeout: TIMEOUT_MS, encoding: 'utf8' });
  t.is(shadow.status, 1);
  t.is(shadow.stderr, '/bin/cat: /etc/shadow: No such file or directory\n');
  const bound = spawnSync(process.execPath, [cli, 'exec', '--ro-bind', '/etc', '/etc', '/bin/sh', '-c', 'test -r /etc/shadow && echo readable'], {
    timeout: TIMEOUT_MS,
    encoding: 'utf8',
  });
  t.is(bound.stdout, 'readable\n', bound.stderr);
});

it('kvmos exec python3 (found on the guest PATH) prints JSON', (t) => {
  const r = spawnSync(process.execPath, [cli, 'exec', 'python3', '-c', 'import json; print(json.dumps({"ok": True}))'], { timeout: TIMEOUT_MS, encoding: 'utf8' });
  t.is(r.stderr, '');
  t.is(r.stdout, '{"ok": true}\n');
  t.is(r.status, 0);
});

/** A host tree for escape attempts: links that point out of it, and a secret beside it. */
function escapeTree(): { root: string; tree: string; secret: string } {
  const root = mkdtempSync(join(tmpdir(), 'kvmos-escape-'));
  const tree = join(root, 'tree');
  const secret = join(root, 'secret.txt');
  writeFileSync(secret, 'HOST SECRET\n');
  mkdirSync(join(tree, 'd'), { recursive: true });
  writeFileSync(join(tree, 'd', 'f'), 'inside\n');
  symlinkSync(secret, join(tree, 'abs'));
  symlinkSync('../secret.txt', join(tree, 'rel'));
  symlinkSync('../../../../../../..', join(tree, 'up'));
  symlinkSync('/etc/shadow', join(tree, 'shadow'));
  return { root, tree, secret };
}

it('links out of a --ro-bind or --bind tree resolve inside the guest, as in bubblewrap, never to the host', (t) => {
  const script = [
    'for p in abs rel shadow up/etc/hostname up/etc/shadow ../secret.txt d/../../secret.txt; do',
    '  cat "/data/$p" 2>&1 || echo "status $?"',
    'done',
    'ls /data/up/ | sort',
    'cat /out/rel 2>&1 || echo "status $?"',
    'echo pwned > /out/rel 2>&1; echo "write status $?"',
    'ln -s /etc/passwd /out/mine && cat /out/mine | head -1',
    'echo x > /data/new 2>&1; echo "ro status $?"',
  ].join('\n');
  // One tree per side: the script writes into its --bind.
  const gt = escapeTree();
  const nt = escapeTree();
  const view = (tree: string): View => ({ roBinds: [[tree, '/data']], binds: [[tree, '/out']] });
  const g = guest(view(gt.tree), ['/bin/bash', '-c', script]);
  const n = native(nt.root, view(nt.tree), ['/bin/bash', '-c', script]);
  t.is(g.stdout.toString(), n.stdout.toString(), `guest: ${show(g)}`);
  t.is(g.stderr.toString(), n.stderr.toString());
  t.is(g.status, n.status);
  t.notRegex(g.stdout.toString(), /HOST SECRET|pwned/);
  // The write through the link was refused by the guest's read-only root, not made on the host.
  t.is(readFileSync(gt.secret, 'utf8'), 'HOST SECRET\n');
  t.is(readlinkSync(join(gt.tree, 'mine')), '/etc/passwd');
  cleanup(t, gt.root);
  cleanup(t, nt.root);
});

it('a directory swapped for a link to the outside between two calls is not followed', async (t) => {
  const { root, tree } = escapeTree();
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'f'), 'OUTSIDE\n');
  const child = spawn(process.execPath, [cli, 'exec', '--bind', tree, '/data', '/bin/bash', '-c', 'cat /data/d/f; read line; cat /data/d/f; ls /data/d; echo x > /data/d/new; echo "done $?"'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out === 'inside\n') resolve();
    });
  });
  // The guest has looked d up (a directory); now the host's d is a link out.
  rmSync(join(tree, 'd'), { recursive: true });
  symlinkSync(outside, join(tree, 'd'));
  child.stdin.end('go\n');
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.notRegex(out, /OUTSIDE/, err);
  t.false(readdirSync(outside).includes('new'), 'nothing was created outside');
  t.regex(out, /done [1-9]/);
  t.regex(err, /Too many levels of symbolic links/);
  t.is(status, 0);
  cleanup(t, root);
});

it('a crash between writes leaves the host file with the whole writes made before it', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kvmos-crash-writes-'));
  const out = join(root, 'out');
  mkdirSync(out);
  const r = guest({ binds: [[out, '/out']] }, ['/bin/bash', '-c', 'head -c 300000 /dev/zero | tr "\\0" a > /out/f; echo end >> /out/f; kill -SEGV $$; echo never >> /out/f']);
  t.is(r.status, 139, show(r));
  const data = readFileSync(join(out, 'f'));
  t.is(data.length, 300_004);
  t.is(data.subarray(300_000).toString(), 'end\n');
  cleanup(t, root);
});

// Root mounts a small tmpfs on the host to fill it (CI runs as root; elsewhere this is a visible skip).
(bwrapMissing || process.getuid?.() !== 0 ? test.skip : test.serial)('a full --bind disk is ENOSPC for the program, as natively (needs root: mounts a 64 KiB tmpfs)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'kvmos-enospc-'));
  const sides = ['guest', 'native'].map((s) => join(root, s));
  for (const d of sides) {
    mkdirSync(d);
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]);
  }
  try {
    const script = 'head -c 200000 /dev/zero > /out/f; echo "status $?"; wc -c < /out/f; echo ok > /out/small; echo "small $?"';
    const g = guest({ binds: [[sides[0]!, '/out']] }, ['/bin/bash', '-c', script]);
    const n = native(root, { binds: [[sides[1]!, '/out']] }, ['/bin/bash', '-c', script]);
    t.is(g.stdout.toString(), n.stdout.toString(), show(g));
    t.is(g.stderr.toString(), n.stderr.toString());
    t.regex(g.stderr.toString(), /No space left on device/);
  } finally {
    for (const d of sides) spawnSync('umount', [d]);
  }
  cleanup(t, root);
});
