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

// hello's `crash=` words fail on purpose (guest/hello/src/main.rs): each
// must come back as one line naming the exception, the ring and the RIP.
for (const [mode, expect] of [
  ['ring0-ud', /guest exception #UD .* in ring 0 at RIP 0xffffffff8/],
  ['ring0-pf', /guest exception #PF .* in ring 0 at RIP 0xffffffff8.*CR2 0x1234\b/],
  ['ring0-df', /guest exception #DF .* in ring 0 at RIP/],
  ['panic', /kernel panic: hello\/src\/main.rs:\d+:\d+: crash=panic asked for a kernel panic - a kernel bug$/m],
  ['ring3-pf', /guest exception #PF .* in ring 3 at RIP 0x4[0-9a-f]{5}\b.*CR2 0xffffffff80100000/],
  ['ring3-ud', /guest exception #UD .* in ring 3 at RIP 0x4[0-9a-f]{5}\b/],
] as const) {
  test(`a guest ${mode} is reported with where it happened, exit 70`, (t) => {
    const r = kvmos('hello', '--cmdline', `crash=${mode}`);
    t.is(r.status, 70, r.stderr);
    assertOneLineError(t, r.stderr);
    t.regex(r.stderr, expect);
  });
}

test('the syscall stub path that hardware KVM takes (CPL 0) works too', (t) => {
  const r = kvmos('hello', '--cmdline', 'selftest=cpl0-syscall', '--exit-code', '9');
  t.is(r.status, 9, r.stderr);
  t.regex(r.stdout, /^sqrt\(3\*3 \+ 4\*4\) = 5$/m);
});

test('a fault before the kernel has an IDT: the triple fault names the RIP', (t) => {
  const elf = Buffer.from(readFileSync(imagePath('hello')));
  const entry = elf.readBigUInt64LE(24);
  const phoff = Number(elf.readBigUInt64LE(32));
  const phnum = elf.readUInt16LE(56);
  let patched = false;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * 56;
    const vaddr = elf.readBigUInt64LE(ph + 16);
    const filesz = elf.readBigUInt64LE(ph + 32);
    if (elf.readUInt32LE(ph) === 1 && entry >= vaddr && entry + 2n <= vaddr + filesz) {
      const off = Number(elf.readBigUInt64LE(ph + 8) + (entry - vaddr));
      elf[off] = 0x0f; // ud2 as the very first instruction
      elf[off + 1] = 0x0b;
      patched = true;
    }
  }
  t.true(patched);
  const f = join(tmp, 'ud2-at-entry');
  writeFileSync(f, elf);
  const r = kvmos('--kernel', f);
  t.is(r.status, 70);
  assertOneLineError(t, r.stderr);
  t.regex(r.stderr, new RegExp(`triple-faulted in ring 0 at RIP 0x${entry.toString(16)}\\b`));
});

test('the README help commands through pnpm (a leading --), -V, run GUEST, help exec', (t) => {
  const help = kvmos('--', '--help');
  t.is(help.status, 0, help.stderr);
  t.regex(help.stdout, /^Usage: kvmos/);
  const execHelp = kvmos('--', 'exec', '--help');
  t.is(execHelp.status, 0, execHelp.stderr);
  t.regex(execHelp.stdout, /^Usage: kvmos linux-exec/);
  t.is(kvmos('help', 'exec').stdout, execHelp.stdout);
  const version = kvmos('-V');
  t.is(version.status, 0);
  t.regex(version.stdout, /^kvmos \d+\.\d+\.\d+\n$/);
  const run = kvmos('run', 'hello', '--exit-code', '5');
  t.is(run.status, 5, run.stderr);
  t.regex(run.stdout, /ring 0/);
});

test('exec usage errors: one line, exec\'s help named once', (t) => {
  const r = kvmos('exec', '--bogus', 'x');
  t.is(r.status, 64);
  assertOneLineError(t, r.stderr);
  t.is(r.stderr, "kvmos: unknown option '--bogus' (options go before PROGRAM) (see kvmos exec --help)\n");
});
