/** Our newc archives, read back by GNU cpio itself. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCpio, CpioError } from '../src/index.js';

/** Runs GNU cpio; throws, naming the Debian package, when it is not installed or fails. */
function cpio(args: string[]): string {
  const r = spawnSync('cpio', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`GNU cpio is needed for this test: install the Debian package cpio (scripts/setup.sh does): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`cpio ${args.join(' ')} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return r.stdout;
}

function extract(archive: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-cpio-'));
  const file = join(dir, 'archive.cpio');
  writeFileSync(file, archive);
  cpio(['-idm', '--no-absolute-filenames', '-D', join(dir, 'root'), '-F', file]);
  return join(dir, 'root');
}

test('GNU cpio extracts files, directories and symlinks with their contents and modes', (t) => {
  const odd = new Uint8Array(4099).map((_, i) => (i * 7) & 0xff);
  const root = extract(
    buildCpio([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/prog', data: odd, mode: 0o755 },
      { kind: 'file', path: 'empty', data: new Uint8Array(0) },
      { kind: 'file', path: 'a', data: new TextEncoder().encode('x') },
      { kind: 'symlink', path: 'bin/sh', target: 'prog' },
    ]),
  );
  t.deepEqual(new Uint8Array(readFileSync(join(root, 'bin/prog'))), odd);
  t.is(statSync(join(root, 'bin/prog')).mode & 0o777, 0o755);
  t.is(readFileSync(join(root, 'empty')).length, 0);
  t.is(readFileSync(join(root, 'a'), 'utf8'), 'x');
  t.is(readlinkSync(join(root, 'bin/sh')), 'prog');
  t.true(statSync(join(root, 'bin')).isDirectory());
});

test('the listing GNU cpio prints matches our entries, in order', (t) => {
  const archive = buildCpio([
    { kind: 'dir', path: 'dev' },
    { kind: 'chardev', path: 'dev/null', major: 1, minor: 3 },
    { kind: 'file', path: './etc//passwd', data: new TextEncoder().encode('root:x:0:0::/:/bin/sh\n') },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-cpio-'));
  writeFileSync(join(dir, 'a.cpio'), archive);
  const listing = cpio(['-it', '-F', join(dir, 'a.cpio')]);
  t.deepEqual(listing.trim().split('\n'), ['dev', 'dev/null', 'etc/passwd']);
});

test('every entry starts 4-byte aligned and the archive ends with the trailer', (t) => {
  const a = buildCpio([{ kind: 'file', path: 'abc', data: new Uint8Array(5) }]);
  const text = new TextDecoder('latin1').decode(a);
  t.true(text.startsWith('070701'));
  const trailer = text.indexOf('070701', 6);
  t.is(trailer % 4, 0);
  t.true(text.includes('TRAILER!!!'));
});

test('bad paths are refused with the path named', (t) => {
  t.throws(() => buildCpio([{ kind: 'file', path: '../etc/x', data: new Uint8Array(0) }]), { instanceOf: CpioError, message: /\.\./ });
  t.throws(() => buildCpio([{ kind: 'file', path: '/', data: new Uint8Array(0) }]), { instanceOf: CpioError });
  t.throws(() => buildCpio([{ kind: 'file', path: 'a', data: new Uint8Array(0) }, { kind: 'dir', path: './a' }]), { instanceOf: CpioError, message: /duplicate/ });
});

test('a root-level file named TRAILER!!! is refused: it would end the archive early', (t) => {
  const entries = (path: string) => [
    { kind: 'file' as const, path, data: new Uint8Array([1]) },
    { kind: 'file' as const, path: 'after', data: new Uint8Array([2]) },
  ];
  for (const path of ['TRAILER!!!', '/TRAILER!!!', './TRAILER!!!']) {
    t.throws(() => buildCpio(entries(path)), { instanceOf: CpioError, message: /TRAILER!!!/ }, path);
  }
  // Only the whole path ends an archive: the name below the root is an ordinary file.
  t.notThrows(() => buildCpio(entries('dir/TRAILER!!!')));
});
