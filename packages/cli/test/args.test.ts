import test from 'ava';
import { describeError, normalizeArgv, parseCommand, usage, UsageError } from '../src/index.js';
import { parseExecCommand } from '../src/linux-exec/command.js';

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
  [['hello', '--ram', '3'], /^--ram must be an even number of MiB from 64 to 4096, not 3$/],
  [['hello', '--ram', '65'], /^--ram must be an even number of MiB from 64 to 4096, not 65$/],
  [['hello', '--ram', 'lots'], /^--ram takes a whole number of MiB, not 'lots'$/],
  [['hello', '--ram'], /^--ram needs a value$/],
  [['hello', '--bogus'], /^unknown option '--bogus'$/],
  [['-X'], /^unknown option '-X'$/],
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

test('-V is --version', (t) => {
  t.deepEqual(parseCommand(['-V']), { kind: 'version' });
});

test('one leading -- (as pnpm passes it) is dropped; run GUEST is GUEST; help [exec]', (t) => {
  t.deepEqual(normalizeArgv(['--', '--help']), ['--help']);
  t.deepEqual(normalizeArgv(['--', 'exec', '--help']), ['exec', '--help']);
  t.deepEqual(normalizeArgv(['--', 'hello', '--', 'x']), ['hello', '--', 'x'], 'only the first');
  t.deepEqual(normalizeArgv(['run', 'hello', '--exit-code', '3']), ['hello', '--exit-code', '3']);
  t.deepEqual(normalizeArgv(['--', 'run', 'hello']), ['hello']);
  t.deepEqual(normalizeArgv(['help']), ['--help']);
  t.deepEqual(normalizeArgv(['help', 'exec']), ['exec', '--help']);
  t.deepEqual(normalizeArgv(['exec', 'busybox', '--', 'x']), ['exec', 'busybox', '--', 'x']);
  t.deepEqual(parseCommand(normalizeArgv(['--', '--help'])), { kind: 'help' });
  t.like(parseCommand(normalizeArgv(['run', 'hello'])), { kind: 'run', guest: 'hello' });
});

test('--ram: one wording for guests and exec', (t) => {
  for (const ram of ['3', '65', '5000']) {
    const guest = t.throws(() => parseCommand(['hello', '--ram', ram]), { instanceOf: UsageError });
    const exec = t.throws(() => parseExecCommand(['--ram', ram, 'p'], {}), { instanceOf: UsageError });
    t.is(guest.message, exec.message);
  }
  t.like(parseExecCommand(['--ram', '128', 'p'], {}), { ramSize: 128 << 20 });
});

test('an exec usage error names exec\'s help once', (t) => {
  const e = t.throws(() => parseExecCommand(['--bogus', 'p'], {}), { instanceOf: UsageError });
  const line = describeError(e).line;
  t.is(line, "unknown option '--bogus' (options go before PROGRAM) (see kvmos exec --help)");
  t.is(line.match(/--help/g)?.length, 1);
  t.is(describeError(t.throws(() => parseCommand(['nope']))).line.match(/--help/g)?.length, 1);
});
