import test from 'ava';
import { CMDLINE_MAX, ProtocolError, encodeCmdline, parseCmdline } from '../src/index.js';

test('parses key=value and bare words in order, splitting at the first =', (t) => {
  t.deepEqual(parseCmdline(encodeCmdline('  exit_code=3 quiet  init=/bin/sh a=b=c ')), [
    { key: 'exit_code', value: '3' },
    { key: 'quiet', value: undefined },
    { key: 'init', value: '/bin/sh' },
    { key: 'a', value: 'b=c' },
  ]);
  t.deepEqual(parseCmdline(encodeCmdline('')), []);
  t.deepEqual(parseCmdline(encodeCmdline('k=')), [{ key: 'k', value: '' }]);
});

test('encodes UTF-8 up to CMDLINE_MAX bytes', (t) => {
  t.is(encodeCmdline('x'.repeat(CMDLINE_MAX)).length, CMDLINE_MAX);
  t.deepEqual([...encodeCmdline('é')], [0xc3, 0xa9]);
});

test('rejects NUL, over-long lines (in bytes) and invalid UTF-8', (t) => {
  for (const bad of ['a\0b', 'x'.repeat(CMDLINE_MAX + 1), 'é'.repeat(CMDLINE_MAX / 2 + 1)]) {
    t.is(t.throws(() => encodeCmdline(bad), { instanceOf: ProtocolError })?.field, 'cmdline');
  }
  t.throws(() => parseCmdline(new Uint8Array([0x61, 0, 0x62])), { instanceOf: ProtocolError });
  t.throws(() => parseCmdline(new Uint8Array([0xff])), { instanceOf: ProtocolError });
});
