/**
 * Dynamically linked programs in the guest: Debian's own (glibc) with their
 * loader and libraries added by --file (as ldd lists them), compared with the
 * same command run natively; dynamic programs started by execve inside the
 * guest (from a static shell and from a dynamic one); PIE and non-PIE
 * builds; and a missing loader, which fails the way Linux fails (ENOENT) with
 * a notice naming the loader.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC, MUSL_DYNAMIC, fileOptions, lddFiles } from './helpers/dynamic-libs.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-dynamic-'));

function exec(args: string[], input = '') {
  return spawnSync(process.execPath, [cli, 'exec', ...args], { input, timeout: 120_000 });
}

function build(name: string, cc: string, flags: string[], source: string): string {
  writeFileSync(join(tmp, `${name}.c`), source);
  const out = join(tmp, name);
  const r = spawnSync(cc, [...flags, '-o', out, join(tmp, `${name}.c`)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cc} ${name}.c: ${r.error?.message ?? r.stderr}`);
  return out;
}

/** The guest's default environment, for the native runs too (sort's order depends on the locale). */
const ENV = { PATH: '/bin:/usr/bin', HOME: '/' };

const HELLO = '#include <stdio.h>\nint main(int argc, char **argv) { printf("hello %d %s\\n", argc, argv[argc - 1]); return 3; }\n';

for (const [cmd, args, input] of [
  ['/bin/true', [], ''],
  ['/bin/false', [], ''],
  ['/usr/bin/sort', [], 'pear\napple\nfig\napple\n'],
  ['/usr/bin/uniq', ['-c'], 'a\na\nb\na\n'],
  ['/usr/bin/sha256sum', [], 'kvmos\n'],
  ['/usr/bin/gzip', ['-c', '-n', '-9'], 'squeeze me '.repeat(100)],
] as const) {
  test.serial(`${cmd} ${args.join(' ')} gives what it gives natively`, (t) => {
    const native = spawnSync(cmd, args, { input, env: ENV });
    const guest = exec([...fileOptions({ ...GLIBC, files: lddFiles(cmd) }), cmd, ...args], input);
    t.is(guest.stderr.toString(), native.stderr.toString());
    t.true(guest.stdout.equals(native.stdout), `stdout: ${guest.stdout.toString('latin1')} vs ${native.stdout.toString('latin1')}`);
    t.is(guest.status, native.status);
  });
}

test.serial('a static shell execs dynamic programs: glibc PIE, glibc non-PIE, musl', (t) => {
  const pie = build('hello-pie', 'gcc', ['-O1'], HELLO);
  const nopie = build('hello-nopie', 'gcc', ['-O1', '-no-pie'], HELLO);
  const musl = build('hello-musl', 'musl-gcc', ['-O1'], HELLO);
  const files = [...fileOptions(GLIBC), ...fileOptions(MUSL_DYNAMIC)];
  for (const [p, at] of [[pie, '/bin/pie'], [nopie, '/bin/nopie'], [musl, '/bin/musl']]) files.push('--file', `${p}:${at}`);
  const r = exec([...files, 'busybox', 'sh', '-c', 'pie a; echo "status $?"; /bin/nopie b c; echo "status $?"; musl d; echo "status $?"']);
  t.is(r.stderr.toString(), '');
  t.is(r.stdout.toString(), 'hello 2 a\nstatus 3\nhello 3 c\nstatus 3\nhello 2 d\nstatus 3\n');
  t.is(r.status, 0);
});

test.serial('a dynamic shell (dash) runs a dynamic pipeline: fork and exec of dynamic programs', (t) => {
  const files = [...fileOptions({ ...GLIBC, files: [...lddFiles('/bin/dash'), ...lddFiles('/usr/bin/sort')] }), '--file', '/usr/bin/sort:/bin/sort'];
  const script = 'printf "b\\na\\nc\\n" | sort -r; sort /nonexistent; echo "status $?"';
  const native = spawnSync('/bin/dash', ['-c', script.replace('| sort', '| /usr/bin/sort').replace('; sort', '; /usr/bin/sort')], { env: ENV });
  const r = exec([...files, '/bin/dash', '-c', script]);
  t.is(r.stdout.toString(), native.stdout.toString());
  t.is(r.stdout.toString(), 'c\nb\na\nstatus 2\n');
  t.is(r.stderr.toString(), native.stderr.toString().replace('/usr/bin/sort', 'sort'));
  t.is(r.status, 0);
});

test.serial('execve of a dynamic program whose loader is missing: ENOENT, and a notice naming the loader', (t) => {
  const pie = build('hello-pie2', 'gcc', ['-O1'], HELLO);
  const r = exec(['--file', `${pie}:/bin/pie`, 'busybox', 'sh', '-c', '/bin/pie; echo "status $?"']);
  t.is(r.stdout.toString(), 'status 127\n');
  const err = r.stderr.toString();
  t.regex(err, /^kvmos: \/bin\/pie: its dynamic loader \/lib64\/ld-linux-x86-64\.so\.2 is not in the guest's file system/m);
  t.regex(err, /^sh: \/bin\/pie: not found$/m);
  t.is(r.status, 0);
});

test.serial('a loader that is not executable is EACCES (126), one that is not ELF ELIBBAD (126), each named', (t) => {
  const fake = build('hello-fake-ld', 'gcc', ['-O1', '-Wl,--dynamic-linker=/lib/fake-ld.so'], HELLO);
  const script = join(tmp, 'fake-ld.sh');
  writeFileSync(script, '#!/bin/sh\necho not a loader\n', { mode: 0o755 });
  const text = join(tmp, 'fake-ld.txt');
  writeFileSync(text, 'not a loader\n', { mode: 0o644 });
  let r = exec(['--file', `${text}:/lib/fake-ld.so`, fake]);
  t.is(r.status, 126);
  t.regex(r.stderr.toString(), /hello-fake-ld: cannot use its dynamic loader \/lib\/fake-ld\.so: Permission denied/);
  r = exec(['--file', `${script}:/lib/fake-ld.so`, fake]);
  t.is(r.status, 126);
  t.regex(r.stderr.toString(), /hello-fake-ld: cannot use its dynamic loader \/lib\/fake-ld\.so: Accessing a corrupted shared library/);
});

// Debian's python3 (the pty tests use it too): its standard library from a
// --dir, an extension module opened with dlopen (_hashlib, and libcrypto
// under it) after start-up.
const python = existsSync('/usr/bin/python3') ? realpathSync('/usr/bin/python3') : undefined;
(python === undefined ? test.skip : test.serial)('python3 imports json, re and hashlib (dlopen of an extension module) as natively', (t) => {
  const py = python!;
  const stdlib = `/usr/lib/${basename(py)}`;
  const hashlibSo = spawnSync(py, ['-c', 'import _hashlib; print(_hashlib.__file__)'], { encoding: 'utf8' }).stdout.trim();
  const files = [...new Set([...lddFiles(py), ...lddFiles(hashlibSo)])];
  const code = 'import json, re, hashlib; print(json.dumps({"ok": True}), re.sub("a+", "b", "caaat"), hashlib.sha256(b"kvmos").hexdigest())';
  const native = spawnSync(py, ['-c', code], { env: ENV });
  const r = exec(['--ram', '512', ...fileOptions({ ...GLIBC, files }), '--dir', `${stdlib}:${stdlib}`, py, '-c', code]);
  t.is(r.stderr.toString(), native.stderr.toString());
  t.is(r.stdout.toString(), native.stdout.toString());
  t.regex(r.stdout.toString(), /^\{"ok": true\} cbt [0-9a-f]{64}\n$/);
  t.is(r.status, 0);
});
