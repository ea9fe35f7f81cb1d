import test from 'ava';
import { readFileSync } from 'node:fs';
import { formatTrace, formatResult } from '../src/linux-exec/trace.js';
import { SYSCALL_NAMES } from '../src/linux-exec/syscall-names.js';
import { ERRNO_NAMES } from '../src/linux-exec/errno-names.js';
import { translate, readGuestString } from '../src/page-walk.js';

test('the syscall name table is the kernel header\'s', (t) => {
  const header = readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
  let n = 0;
  for (const m of header.matchAll(/^#define __NR_(\w+) (\d+)$/gm)) {
    t.is(SYSCALL_NAMES[Number(m[2])], m[1]);
    n++;
  }
  t.true(n > 300);
  t.is(ERRNO_NAMES[2], 'ENOENT');
  t.is(ERRNO_NAMES[38], 'ENOSYS');
});

test('a traced call reads like strace: paths as strings, errors by name', (t) => {
  const line = formatTrace(
    { nr: 257n, args: [0xffff_ff9cn, 0x1000n, 0n, 0n, 0n, 0n], result: -2n },
    (va) => (va === 0x1000n ? '/etc/passwd' : undefined),
  );
  t.is(line, 'openat(AT_FDCWD, "/etc/passwd", 0x0, 0x0) = -1 ENOENT (errno 2)');
  t.is(formatTrace({ nr: 1n, args: [1n, 0x4000n, 6n, 0n, 0n, 0n], result: 6n }, () => undefined), 'write(1, 0x4000, 6) = 6');
  t.is(formatTrace({ nr: 99999n, args: [1n, 2n, 3n, 4n, 5n, 6n], result: 0n }, () => undefined), 'syscall_99999(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = 0');
  t.is(formatResult(0x7fff_0000_1000n), '0x7fff00001000');
});

/** A tiny RAM with one 4-level mapping: 0x40_0000 -> phys 0x5000, and a 2 MiB page. */
function ram() {
  const buf = Buffer.alloc(0x10_0000);
  const mem = { size: buf.length, view: (a: number, l: number) => buf.subarray(a, a + l) };
  const w = (at: number, v: bigint) => buf.writeBigUInt64LE(v, at);
  w(0x1000, 0x2000n | 7n); // PML4[0] -> PDPT
  w(0x2000, 0x3000n | 7n); // PDPT[0] -> PD
  w(0x3000 + 2 * 8, 0x4000n | 7n); // PD[2] (0x40_0000) -> PT
  w(0x4000, 0x5000n | 7n); // PT[0] -> 0x5000
  w(0x3000 + 3 * 8, 0x0n | 0x87n); // PD[3] (0x60_0000): a 2 MiB page at phys 0
  buf.write('hello!', 0x5ffa); // its NUL would be at 0x40_1000, an unmapped page
  buf.write('ok\0', 0x5010);
  return mem;
}

test('page walk: 4 KiB and 2 MiB pages; unmapped and out-of-RAM give undefined', (t) => {
  const m = ram();
  t.is(translate(m, 0x1000n, 0x40_0123n), 0x5123);
  t.is(translate(m, 0x1000n, 0x60_0042n), 0x42);
  t.is(translate(m, 0x1000n, 0x40_1000n), undefined);
  t.is(translate(m, 0x1000n, 0xffff_8000_0000_0000n), undefined);
  t.is(translate(m, 0xfff_0000n, 0x40_0000n), undefined);
  t.deepEqual(readGuestString(m, 0x1000n, 0x40_0010n), { text: 'ok', truncated: false });
  t.is(readGuestString(m, 0x1000n, 0x40_0ffan), undefined);
});
