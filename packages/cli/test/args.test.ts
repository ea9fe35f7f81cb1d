import test from 'ava';
import { parseCommand, usage, UsageError } from '../src/index.js';

test('a named guest with defaults', (t) => {
  const c = parseCommand(['hello']);
  t.like(c, { kind: 'run', guest: 'hello', kernelPath: undefined, cmdline: '', ramSize: 256 * 1024 * 1024 });
});

test('--exit-code becomes a kernel command-line word', (t) => {
  t.like(parseCommand(['hello', '--exit-code', '7', '--cmdline', 'a=b']), { cmdline: 'exit_code=7 a=b' });
});

test('--kernel instead of a name', (t) => {
  t.like(parseCommand(['--kernel', '/tmp/k', '--ram', '128']), { guest: undefined, kernelPath: '/tmp/k', ramSize: 128 << 20 });
});

for (const [argv, why] of [
  [[], /which guest/],
  [['nope'], /unknown guest 'nope'/],
  [['hello', 'extra'], /unexpected argument/],
  [['hello', '--kernel', 'x'], /not both/],
  [['hello', '--exit-code', '256'], /between 0 and 255/],
  [['hello', '--exit-code', '-1'], /.+/],
  [['hello', '--ram', '3'], /between 64 and 4096/],
  [['hello', '--ram', '65'], /multiple of 2/],
  [['hello', '--bogus'], /bogus/],
] as const) {
  test(`rejects ${JSON.stringify(argv)}`, (t) => {
    const e = t.throws(() => parseCommand([...argv]), { instanceOf: UsageError });
    t.regex(e.message, why);
  });
}

test('help and version', (t) => {
  t.deepEqual(parseCommand(['--help']), { kind: 'help' });
  t.deepEqual(parseCommand(['-h', 'whatever']), { kind: 'help' });
  t.deepEqual(parseCommand(['--version']), { kind: 'version' });
  t.regex(usage(), /hello/);
  t.regex(usage(), /Exit status/);
});
