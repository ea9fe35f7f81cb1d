/**
 * The acceptance suite of linux-exec: Debian's unmodified busybox-static
 * (a static glibc build) runs each command in a kvmos guest and natively,
 * with the same files, input and environment; the outputs must be equal.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
/** Fixtures are read from the source tree (tests run from dist/test/). */
const fixtures = fileURLToPath(new URL('../../test/busybox/', import.meta.url));
const BUSYBOX = '/bin/busybox';
const ENV = { PATH: '/bin:/usr/bin:/sbin:/usr/sbin', HOME: '/' };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Why the guest could not be run or waited for (e.g. the timeout), if so. */
  error?: string;
}

/** The guest's stderr (and spawn error), for failure messages: a diff alone does not say why. */
function guestStderr(got: Run): string {
  return `${got.error ? `spawn error: ${got.error}\n` : ''}guest stderr (status ${got.status}):\n${got.stderr}`;
}

function native(args: string[], input: string): Run {
  const r = spawnSync(BUSYBOX, args, { cwd: fixtures, env: ENV, input, encoding: 'utf8' });
  if (r.error) throw new Error(`${BUSYBOX} is needed (scripts/setup.sh installs busybox-static): ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function guest(args: string[], input: string, options: string[] = []): Run {
  const r = spawnSync(process.execPath, [cli, 'linux-exec', '--dir', `${fixtures}:/data`, '--cwd', '/data', ...options, BUSYBOX, ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error?.message };
}

/** [applet and arguments, stdin]: each must print exactly what it prints natively. */
const SAME: [string[], string][] = [
  [['echo', 'hello', 'from', 'ring', '3'], ''],
  [['echo', '-n', 'no newline'], ''],
  [['true'], ''],
  [['false'], ''],
  [['cat', 'fruit.txt', 'prose.txt'], ''],
  [['cat'], 'piped\nthrough stdin\n'],
  [['cat', 'missing.txt'], ''],
  [['ls', '-l'], ''],
  [['ls', '-l', 'fruit.txt', 'bytes.bin'], ''],
  [['wc', 'fruit.txt', 'prose.txt', 'stock.csv'], ''],
  [['wc', '-c'], 'count these bytes\n'],
  [['head', '-n', '3', 'fruit.txt'], ''],
  [['tail', '-n', '2', 'prose.txt'], ''],
  [['sort', 'fruit.txt'], ''],
  [['sort', '-r', '-t', ',', '-k', '2', '-n', 'stock.csv'], ''],
  [['uniq', '-c'], 'a\na\nb\nc\nc\nc\n'],
  [['grep', '-n', 'an', 'fruit.txt'], ''],
  [['grep', '-c', 'zzz', 'fruit.txt'], ''],
  [['sed', '-e', 's/quick/slow/', '-e', '/^$/d', 'prose.txt'], ''],
  [['awk', '-F', ',', 'NR > 1 { total += $2 * $3 } END { printf "%.2f\\n", total }', 'stock.csv'], ''],
  [['tr', 'a-z', 'A-Z'], 'shout this\n'],
  [['cut', '-d', ',', '-f', '1,3', 'stock.csv'], ''],
  [['md5sum', 'fruit.txt', 'bytes.bin'], ''],
  [['sha256sum', 'prose.txt'], ''],
  [['od', '-A', 'x', '-t', 'x1z', 'bytes.bin'], ''],
  [['env'], ''],
  [['sh', '-c', 'x=4; y=$((x * 10 + 2)); echo "answer $y"; for f in a b c; do printf "%s-" $f; done; echo; test -f fruit.txt && echo yes'], ''],
  [['sh', '-c', 'read line; echo "got: $line"; exit 3'], 'typed input\n'],
  // Processes: pipelines, command substitution, exit statuses of
  // external commands (each a fork and an exec of /proc/self/exe: sh
  // prefers its applets, natively too).
  [['sh', '-c', 'ls -l | wc -l'], ''],
  [['sh', '-c', 'echo a b c | tr " " "\n" | sort -r'], ''],
  [['sh', '-c', 'x=$(echo sub); echo $x; y=$(wc -l < fruit.txt); echo "lines: $y"'], ''],
  [['sh', '-c', 'false; echo $?; grep -q zzz fruit.txt; echo $?; ls missing.txt; echo $?; sh -c "exit 7"; echo $?'], ''],
  [['sh', '-c', 'cat big.txt | head -3; cat big.txt | wc -c; cat big.txt | tail -1'], ''],
  [['sh', '-c', 'sort -r fruit.txt | head -2 | tr a-z A-Z | cat -n'], ''],
  [['sh', '-c', '(echo sub; exit 5); echo "subshell: $?"; echo piped | (read x; echo "got $x")'], ''],
  [
    ['sh'],
    'echo start\nls | sort -r\nx=$(wc -l < fruit.txt)\necho "lines $x"\nfor f in *.txt; do wc -c $f; done | sort -n\ncat missing.txt 2>&1 | wc -l\necho end\nexit 4\n',
  ],
];

/**
 * Commands that need the guest's timer tick (preemption): TCG always has
 * one (a local APIC); KVM has one when it makes an in-kernel irqchip. They
 * run on TCG, and on KVM where /dev/kvm exists and its machine has a tick.
 */
const NEEDS_TIMER: [string[], string][] = [
  // Two CPU-bound sides of a pipeline, the left spinning until the right,
  // which counts meanwhile, writes a file: without preemption the left
  // spins for ever.
  [
    ['sh', '-c', 'f=/tmp/kvmos-pipeline-$$; rm -f $f; (while [ ! -s $f ]; do :; done; echo left saw the flag) | (i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo $i > $f; cat; cat $f); rm -f $f'],
    '',
  ],
  // busybox timeout sleeps in a grandchild while the command spins, then
  // kills the command with SIGTERM (busybox's timeout: 143, not GNU's 124).
  [['sh', '-c', 'timeout 1 sh -c "while :; do :; done"; echo "status $?"'], ''],
];

const CASES = [
  ...SAME.map(([args, input]) => ({ args, input, options: [] as string[] })),
  ...NEEDS_TIMER.map(([args, input]) => ({ args, input, options: ['--accel', 'tcg'] })),
];

/** Why the tick tests cannot run on KVM here (no /dev/kvm, or no irqchip), or undefined. */
const noKvmTick = ((): string | undefined => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (e) {
    return (e as Error).message;
  }
  const r = spawnSync(process.execPath, [cli, 'hello', '--accel', 'kvm', '--verbose'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return `hello on KVM failed: ${r.stderr}`;
  const without = /without a timer tick.*/.exec(r.stderr);
  return without ? `KVM here gives the guest no tick: ${without[0]}` : undefined;
})();

for (const [args, input] of NEEDS_TIMER) {
  (noKvmTick === undefined ? test : test.skip)(`busybox on KVM's tick: ${args.join(' ')}`.slice(0, 100) + (noKvmTick ? ` (skipped: ${noKvmTick})` : ''), (t) => {
    const want = native(args, input);
    const got = guest(args, input, ['--accel', 'kvm']);
    t.is(got.stdout, want.stdout, `stdout: the guest differs from Linux; ${guestStderr(got)}`);
    t.is(got.stderr, want.stderr, `stderr: the guest differs from Linux; ${guestStderr(got)}`);
    t.is(got.status, want.status, `status: the guest differs from Linux; ${guestStderr(got)}`);
  });
}

for (const { args, input, options } of CASES) {
  test(`busybox ${args.join(' ')}`.slice(0, 100), (t) => {
    const want = native(args, input);
    const got = guest(args, input, options);
    t.is(got.stdout, want.stdout, `stdout: the guest differs from Linux; ${guestStderr(got)}`);
    t.is(got.stderr, want.stderr, `stderr: the guest differs from Linux; ${guestStderr(got)}`);
    t.is(got.status, want.status, `status: the guest differs from Linux; ${guestStderr(got)}`);
  });
}

test('busybox date: the guest clock is the host clock', (t) => {
  const before = native(['date', '+%s'], '');
  const got = guest(['date', '+%s %Y-%m-%d'], '');
  const after = native(['date', '+%s'], '');
  t.is(got.status, 0, guestStderr(got));
  const [secs, day] = got.stdout.trim().split(' ');
  t.true(Number(secs) >= Number(before.stdout) && Number(secs) <= Number(after.stdout), `${secs} within [${before.stdout.trim()}, ${after.stdout.trim()}]; ${guestStderr(got)}`);
  t.is(day, native(['date', '-u', '-d', `@${secs}`, '+%Y-%m-%d'], '').stdout.trim(), guestStderr(got));
  const date = guest(['date'], '');
  t.regex(date.stdout, /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\n$/, guestStderr(date));
});

test('busybox uname -a: the guest kernel, Linux on x86_64', (t) => {
  const got = guest(['uname', '-a'], '');
  t.is(got.status, 0, guestStderr(got));
  t.regex(got.stdout, /^Linux \S+ \S+ .* x86_64 .*\n$/, guestStderr(got));
  const sm = guest(['uname', '-s', '-m'], '');
  t.is(sm.stdout, 'Linux x86_64\n', guestStderr(sm));
});
