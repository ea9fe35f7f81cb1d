/**
 * Guest-controlled text and counts on their way to the host's terminal:
 * escaped (no escape sequences, no forged lines) and bounded (issue 10).
 */
import test from 'ava';
import { escapeGuestText, UnknownSyscallReport } from '../src/guest-text.js';
import { faultError, unknownSyscallLine } from '../src/machine.js';
import { formatTrace } from '../src/linux-exec/trace.js';

const HOSTILE = 'ok\x1b[2J\x1b]0;title\x07\r\nkvmos: forged line\x7f\x9b31m\u202eevil\u2028';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('escapeGuestText shows every control character as \\x.. and keeps the rest', (t) => {
  t.is(escapeGuestText('a\x1bb\nc\x7f\x9b\u202e d é ☃'), 'a\\x1bb\\x0ac\\x7f\\x9b\\u202e d é ☃');
  t.is(escapeGuestText('plain text: 100%'), 'plain text: 100%');
  for (let c = 0; c < 0x3000; c++) {
    t.notRegex(escapeGuestText(String.fromCharCode(c)), CONTROL, `U+${c.toString(16)}`);
  }
});

test('a kernel panic message cannot reach the terminal raw', (t) => {
  const report = { vector: 256n, errorCode: 0n, rip: 0n, cs: 8n, rflags: 0n, rsp: 0n, ss: 0n, cr2: 0n, cr3: 0n, messageAddr: 0n, messageLen: 0n };
  const e = faultError(report, HOSTILE);
  t.notRegex(e.message, CONTROL);
  t.false(e.message.includes('\n'));
  t.regex(e.message, /\\x1b\[2J/);
});

test('a --trace string argument cannot reach the terminal raw', (t) => {
  const line = formatTrace({ nr: 2n, args: [0x1000n, 0n, 0n, 0n, 0n, 0n], result: -2n }, () => HOSTILE);
  t.notRegex(line, CONTROL);
  t.regex(line, /^open\("ok/);
});

test('unknown system calls: each number once, at most `cap` lines, then one "and N more" line', (t) => {
  const report = new UnknownSyscallReport(64);
  const lines: string[] = [];
  // The flood a hostile program can send: every number from 512 up, some twice.
  for (let nr = 512; nr < 512 + 200_000; nr++) {
    for (const n of [nr, nr]) {
      const line = report.note(n, unknownSyscallLine);
      if (line !== undefined) lines.push(line);
    }
  }
  t.is(lines.length, 64);
  t.is(new Set(lines).size, 64);
  t.regex(lines[0] ?? '', /number 512\b/);
  t.regex(report.summary() ?? '', /and \d+ more/);
  t.true(report.unreported > 0);
});

test('unknown system calls: under the cap there is no summary line', (t) => {
  const report = new UnknownSyscallReport(64);
  let lines = 0;
  for (let i = 0; i < 10; i++) for (const nr of [335, 336, 1000, 0xffff_ffff]) if (report.note(nr, unknownSyscallLine) !== undefined) lines++;
  t.is(lines, 4);
  t.is(report.summary(), undefined);
});
