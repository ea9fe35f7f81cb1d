/** The --input script format: names and numbers, comments, order, errors as `file:line: what`. */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ABS_X, ABS_Y, BTN_LEFT, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY, REL_WHEEL, SYN_REPORT } from '@kvmos/display';
import { parseInputScript, readInputScript } from '../src/display/input-script.js';
import { InputFileError, InputScriptError, describeError } from '../src/errors.js';

const syn = { type: EV_SYN, code: SYN_REPORT, value: 0 };

test('events by frame, each frame one report ended by SYN_REPORT', (t) => {
  const s = parseInputScript(
    [
      '# a pointer move, then C',
      '',
      '1 EV_ABS ABS_X 100',
      '1 EV_ABS ABS_Y 50   # trailing comment',
      '  4\tEV_KEY   KEY_C 1',
      '4 EV_SYN SYN_REPORT 0',
      '5 EV_KEY KEY_C 0',
      '5 EV_KEY BTN_LEFT 1',
      '9 EV_REL REL_WHEEL -1',
    ].join('\n'),
    'moves.txt',
  );
  t.deepEqual(s.frames, [1, 4, 5, 9]);
  t.deepEqual(s.eventsAt(1), [{ type: EV_ABS, code: ABS_X, value: 100 }, { type: EV_ABS, code: ABS_Y, value: 50 }, syn]);
  t.deepEqual(s.eventsAt(4), [{ type: EV_KEY, code: KEY.C, value: 1 }, syn], 'an explicit SYN_REPORT is not doubled');
  t.deepEqual(s.eventsAt(5), [{ type: EV_KEY, code: KEY.C, value: 0 }, { type: EV_KEY, code: BTN_LEFT, value: 1 }, syn]);
  t.deepEqual(s.eventsAt(9), [{ type: EV_REL, code: REL_WHEEL, value: -1 }, syn]);
  t.deepEqual(s.eventsAt(2), []);
  t.deepEqual(s.eventsAt(0), []);
});

test('numbers instead of names: decimal and 0x-hex', (t) => {
  const s = parseInputScript('3 3 0x1 -7\n3 0x1 46 0x2\n', 'n.txt');
  t.deepEqual(s.eventsAt(3), [{ type: EV_ABS, code: ABS_Y, value: -7 }, { type: EV_KEY, code: KEY.C, value: 2 }, syn]);
});

test('an empty script and one of comments only have no events', (t) => {
  t.deepEqual(parseInputScript('', 'e').frames, []);
  t.deepEqual(parseInputScript('# nothing\n\n   \n', 'e').frames, []);
});

for (const [text, line, what] of [
  ['1 EV_ABS ABS_X', 1, /expected "<frame> <type> <code> <value>", got 3 fields/],
  ['\n\n1 EV_ABS ABS_X 1 2', 3, /got 5 fields/],
  ['x EV_ABS ABS_X 1', 1, /frame 'x' is not a whole number/],
  ['-1 EV_ABS ABS_X 1', 1, /frame '-1' is not a whole number/],
  ['0 EV_ABS ABS_X 1', 1, /frame 0 is drawn before any input/],
  ['5 EV_ABS ABS_X 1\n3 EV_ABS ABS_X 1', 2, /frame 3 comes after frame 5/],
  ['1 EV_FOO ABS_X 1', 1, /unknown event type 'EV_FOO' \(EV_SYN, EV_KEY, EV_REL, EV_ABS/],
  ['1 EV_ABS KEY_C 1', 1, /KEY_C is an EV_KEY code, not EV_ABS/],
  ['1 EV_ABS ABS_Z 1', 1, /unknown EV_ABS code 'ABS_Z' \(ABS_X, ABS_Y; or a number/],
  ['1 EV_KEY KEY_NOPE 1', 1, /unknown EV_KEY code 'KEY_NOPE' \(a Linux KEY_ name/],
  ['1 EV_KEY toString 1', 1, /unknown EV_KEY code 'toString'/],
  ['1 EV_KEY KEY_C 1.5', 1, /value '1.5' is not a 32-bit integer/],
  ['1 EV_KEY KEY_C 2147483648', 1, /value '2147483648' is not a 32-bit integer/],
  ['1 EV_KEY 65536 1', 1, /unknown EV_KEY code '65536'/],
] as const) {
  test(`rejects ${JSON.stringify(text)} at line ${line}`, (t) => {
    const e = t.throws(() => parseInputScript(text, 'bad.txt'), { instanceOf: InputScriptError });
    t.is(e.line, line);
    t.true(e.message.startsWith(`bad.txt:${line}: `), e.message);
    t.regex(e.message, what);
    t.deepEqual(describeError(e), { line: e.message, exitCode: 65 });
  });
}

test('the file: missing is an InputFileError (66), read otherwise', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-script-'));
  const e = t.throws(() => readInputScript(join(dir, 'missing.txt')), { instanceOf: InputFileError });
  t.regex(e.message, /missing\.txt: no such file/);
  t.is(describeError(e).exitCode, 66);
  t.throws(() => readInputScript(dir), { instanceOf: InputFileError, message: /is a directory/ });
  writeFileSync(join(dir, 'ok.txt'), '2 EV_ABS ABS_X 1\n');
  t.deepEqual(readInputScript(join(dir, 'ok.txt')).eventsAt(2), [{ type: EV_ABS, code: ABS_X, value: 1 }, syn]);
});
