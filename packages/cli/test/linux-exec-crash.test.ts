/**
 * Programs that crash, misbehave or are not runnable: each ends with the
 * shell's line and status, and the kernel and host stay in one piece.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kvmos-crash-'));

function build(name: string, source: string): string {
  writeFileSync(join(tmp, `${name}.c`), source);
  const out = join(tmp, name);
  const r = spawnSync('musl-gcc', ['-static', '-O0', '-o', out, join(tmp, `${name}.c`)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`musl-gcc is needed (scripts/setup.sh installs musl-tools): ${r.error?.message ?? r.stderr}`);
  return out;
}

function exec(args: string[], input = '') {
  return spawnSync(process.execPath, [cli, 'exec', ...args], { input, encoding: 'utf8', timeout: 60_000 });
}

for (const [name, body, status, line] of [
  ['null-deref', 'volatile int *p = 0; return *p;', 139, /^Segmentation fault \(RIP 0x[0-9a-f]+, address 0x0\)$/m],
  ['kernel-read', 'volatile long *p = (long *)0xffffffff80100000UL; return (int)*p;', 139, /^Segmentation fault .*address 0xffffffff80100000/m],
  ['illegal', '__asm__ volatile("ud2"); return 0;', 132, /^Illegal instruction/m],
  ['divide', 'volatile int z = 0; return 7 / z;', 136, /^Floating point exception/m],
] as const) {
  test(`a program that crashes (${name}) gets the shell's line and 128+signal`, (t) => {
    const prog = build(name, `#include <stdio.h>\nint main(void) { puts("before"); fflush(stdout); ${body} }\n`);
    const native = spawnSync(prog, [], { encoding: 'utf8' });
    const r = exec([prog]);
    t.is(r.stdout, 'before\n');
    t.is(r.status, status, r.stderr);
    t.is(native.signal !== null ? 128 + ({ SIGSEGV: 11, SIGILL: 4, SIGFPE: 8 } as Record<string, number>)[native.signal]! : native.status, status);
    t.regex(r.stderr, line);
    t.notRegex(r.stderr, /\n\s+at /);
  });
}

test('bad pointers to the kernel are EFAULT, and the program carries on', (t) => {
  const prog = build('efault', `#include <errno.h>\n#include <stdio.h>\n#include <unistd.h>\n#include <string.h>
int main(void) {
  long r = write(1, (void *)0xffffffff80100000UL, 16);
  printf("write from a kernel address: %ld %s\\n", r, strerror(errno));
  r = read(0, (void *)1, 16);
  printf("read into address 1: %ld %s\\n", r, strerror(errno));
  return 0;
}
`);
  const r = exec([prog], 'input');
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'write from a kernel address: -1 Bad address\nread into address 1: -1 Bad address\n');
});

test('busybox sh reads its commands from stdin (a pipe)', (t) => {
  const r = exec(['busybox', 'sh'], 'echo one\nx=2; echo "two $x"\nexit 5\necho never\n');
  t.is(r.stdout, 'one\ntwo 2\n');
  t.is(r.status, 5);
});

test('a dynamically linked program whose loader is not in the guest: 127, naming the loader and what to do', (t) => {
  writeFileSync(join(tmp, 'dyn.c'), 'int main(void) { return 0; }\n');
  const prog = join(tmp, 'dyn');
  // A loader no system has: the default view (the host's /usr, /lib64 ...) cannot supply it either.
  const b = spawnSync('gcc', ['-O1', '-Wl,--dynamic-linker=/lib64/ld-kvmos-nowhere.so.2', '-o', prog, join(tmp, 'dyn.c')], { encoding: 'utf8' });
  t.is(b.status, 0, b.stderr);
  const r = exec([prog]);
  t.is(r.status, 127);
  t.regex(r.stderr, /dyn: its dynamic loader \/lib64\/ld-kvmos-nowhere\.so\.2 is not in the guest's file system \(add it with --file /);
});

test('a program that is not there: 127, like a shell', (t) => {
  const r = exec(['no-such-program-here']);
  t.is(r.status, 127);
  t.regex(r.stderr, /no-such-program-here: not found on PATH/);
});

test('a shell script runs with its #! interpreter, as on Linux; a file that is neither ELF nor a script is 126 with the reason', (t) => {
  const f = join(tmp, 'script.sh');
  writeFileSync(f, '#!/bin/sh -e\necho "hi $1"\nexit 3\n', { mode: 0o755 });
  const r = exec([f, 'there']);
  t.is(r.stdout, 'hi there\n', r.stderr);
  t.is(r.status, 3);
  const junk = join(tmp, 'junk');
  writeFileSync(junk, 'not a program\n', { mode: 0o755 });
  const j = exec([junk]);
  t.is(j.status, 126);
  t.regex(j.stderr, /not a Linux x86-64 program/);
});
