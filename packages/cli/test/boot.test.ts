/**
 * End to end: the real `kvmos` command boots real guests on /dev/kvm.
 * Bad inputs end in one clear line on stderr and a non-zero exit code,
 * never a JavaScript stack trace.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imagePath } from '../src/images.js';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-cli-'));

function kvmos(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(t: { is: (a: unknown, b: unknown, m?: string) => void; notRegex: (s: string, r: RegExp) => void }, stderr: string) {
  const lines = stderr.trimEnd().split('\n');
  t.is(lines.length, 1, `expected one line, got:\n${stderr}`);
  t.notRegex(stderr, /\n\s+at /);
}

test('hello: greeting from ring 0, sqrt from ring 3, exit code 0', (t) => {
  const r = kvmos('hello');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /ring 0/);
  t.regex(r.stdout, /^sqrt\(3\*3 \+ 4\*4\) = 5$/m);
  t.is(r.stderr, '');
});

test('hello: exits with the code it is asked for', (t) => {
  for (const code of [7, 42, 255]) t.is(kvmos('hello', '--exit-code', String(code)).status, code);
});

test('--help explains, exits 0', (t) => {
  const r = kvmos('--help');
  t.is(r.status, 0);
  t.regex(r.stdout, /Usage: kvmos/);
});

test('bad usage: one line, exit 64', (t) => {
  const r = kvmos('nonesuch');
  t.is(r.status, 64);
  assertOneLineError(t, r.stderr);
  t.regex(r.stderr, /unknown guest 'nonesuch'/);
});

test('missing kernel: one line naming the file, exit 66', (t) => {
  const r = kvmos('--kernel', join(tmp, 'missing'));
  t.is(r.status, 66);
  assertOneLineError(t, r.stderr);
  t.regex(r.stderr, /missing: no such file/);
});

test('a file that is not ELF: one line, exit 65', (t) => {
  const f = join(tmp, 'text');
  writeFileSync(f, 'this is not a kernel\n');
  const r = kvmos('--kernel', f);
  t.is(r.status, 65);
  assertOneLineError(t, r.stderr);
  t.regex(r.stderr, /ELF/);
});

test('a truncated kernel: one line, exit 65', (t) => {
  const f = join(tmp, 'truncated');
  writeFileSync(f, readFileSync(imagePath('hello')).subarray(0, 200));
  const r = kvmos('--kernel', f);
  t.is(r.status, 65);
  assertOneLineError(t, r.stderr);
});

test('a kernel segment outside guest RAM: one line, exit 65', (t) => {
  const elf = Buffer.from(readFileSync(imagePath('hello')));
  const phoff = Number(elf.readBigUInt64LE(32));
  // First program header's p_paddr (offset 24 in Elf64_Phdr) far past the 256 MiB of RAM.
  elf.writeBigUInt64LE(0x7000_0000n, phoff + 24);
  const f = join(tmp, 'outside');
  writeFileSync(f, elf);
  const r = kvmos('--kernel', f);
  t.is(r.status, 65);
  assertOneLineError(t, r.stderr);
});
