/**
 * The console as a terminal: `kvmos exec /bin/busybox sh` driven through
 * a real pseudo-terminal (python3's pty module: test/helpers/pty_session.py)
 * is an interactive shell: a prompt, line editing that busybox echoes in
 * raw mode, canonical input with the terminal's own echo for `cat`,
 * Ctrl-D, the exit status; the terminal's modes (`stty -g`) are the same
 * before and after, also when kvmos is killed at the prompt (raw mode).
 * Job control: Ctrl-C, Ctrl-\ and Ctrl-Z reach the shell's foreground job
 * (the terminal's ISIG keys), `jobs` and `fg` work. The same session run
 * natively (`busybox sh` under the same driver, which runs it as a
 * job-control shell runs a foreground job) gives the same transcript.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/main.js', import.meta.url));
const driver = fileURLToPath(new URL('../../test/helpers/pty_session.py', import.meta.url));
const BUSYBOX = '/bin/busybox';
const PROMPT = 'kvm$ ';

type Step = { type: string; until?: string; canonical?: boolean } | { kill: string };

interface Session {
  transcript: string;
  status: number;
  before: string;
  after: string;
}

function session(argv: string[], steps: Step[], settle = 0): Session {
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-pty-'));
  try {
    const spec = join(dir, 'spec.json');
    // PS1 for the native shell; the guest's comes from --env (kvmos exec does not pass the host's environment).
    writeFileSync(spec, JSON.stringify({ argv, env: { PATH: '/bin:/usr/bin', HOME: '/', PS1: PROMPT }, cwd: '/', prompt: PROMPT, steps, settle, timeout: 90, winsize: [33, 101] }));
    const r = spawnSync('python3', [driver, spec], { encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw new Error(`python3 is needed (scripts/setup.sh installs it): ${r.error.message}`);
    if (!r.stdout) throw new Error(`the pty driver said nothing (status ${r.status}, signal ${r.signal}); its stderr: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Session & { error?: string };
    if (out.error) throw new Error(`${out.error}; transcript: ${JSON.stringify(out.transcript)}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const guestShell = [process.execPath, cli, 'exec', '--env', `PS1=${PROMPT}`, BUSYBOX, 'sh'];
const nativeShell = [BUSYBOX, 'sh'];

/** Typing a line and waiting for the next prompt. */
const line = (text: string): Step => ({ type: `${text}\r`, until: PROMPT });

const STEPS: Step[] = [
  line('echo $((1+2))'),
  // Line editing: two characters typed, erased with DEL, then the command.
  line('ec\x7f\x7fecho edited'),
  line('echo one two three | wc -w'),
  line('x=5; while [ $x -gt 3 ]; do echo $x; x=$((x-1)); done'),
  line('[ -t 0 ] && [ -t 1 ] && echo tty'),
  // Canonical mode for cat: the terminal echoes the line, cat prints it, Ctrl-D ends its input.
  { type: 'cat\r', until: 'cat\r\n' },
  { type: 'a typed line\r', until: 'a typed line\r\na typed line\r\n', canonical: true },
  { type: '\x04', until: PROMPT },
  line('false; echo status $?'),
  { type: 'exit 3\r' },
];

test('busybox sh through a pseudo-terminal: an interactive shell, the same as natively', (t) => {
  const guest = session(guestShell, STEPS);
  const native = session(nativeShell, STEPS);
  t.is(guest.status, 3);
  t.is(native.status, 3);
  t.true(guest.transcript.includes(`${PROMPT}`), 'the prompt');
  // busybox echoes each key itself in raw mode, and erases with backspace + ESC[J.
  t.true(guest.transcript.includes('ec\b\x1b[J\b\x1b[Jecho edited\r\nedited\r\n'), JSON.stringify(guest.transcript));
  t.true(guest.transcript.includes('echo $((1+2))\r\n3\r\n'));
  t.true(guest.transcript.includes('| wc -w\r\n3\r\n'));
  t.true(guest.transcript.includes('5\r\n4\r\n'));
  t.true(guest.transcript.includes('&& echo tty\r\ntty\r\n'));
  t.true(guest.transcript.includes('status 1\r\n'));
  t.is(guest.transcript, native.transcript);
  // The terminal is left as it was found (busybox switches it to raw and back for each line).
  t.is(guest.after, guest.before);
  t.is(native.after, native.before);
});

test('Ctrl-D at the prompt ends the shell with the last status', (t) => {
  const steps: Step[] = [line('(exit 7)'), { type: '\x04' }];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.is(native.status, 7);
  t.is(guest.status, 7);
  t.is(guest.transcript, native.transcript);
  t.is(guest.after, guest.before);
});

test('killed at the prompt (terminal in raw mode), kvmos still restores the terminal', (t) => {
  // SIGKILL runs nothing in kvmos: its watchdog restores the modes once it is gone.
  const guest = session(guestShell, [line('echo ready'), { kill: 'SIGKILL' }], 1);
  t.is(guest.status, -9);
  t.true(guest.transcript.includes('ready\r\n'));
  t.is(guest.after, guest.before);
});

test('stdin the terminal, stdout a pipe on the host: only stdin is a terminal to the program', (t) => {
  const script = `[ -t 0 ] && echo in-tty; [ -t 1 ] || echo out-not-tty; stty size; echo '${PROMPT}'`;
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const probe = (argv: string[]): Session => session(['/bin/sh', '-c', `${[...argv, '-c', script].map(quote).join(' ')} | cat`], []);
  const guest = probe(guestShell);
  const native = probe(nativeShell);
  t.is(guest.status, 0);
  t.true(guest.transcript.startsWith('in-tty\r\nout-not-tty\r\n33 101\r\n'), JSON.stringify(guest.transcript));
  t.is(guest.transcript, native.transcript);
});

/**
 * A foreground job that says it runs (its first word is printed by the job
 * itself, so it is in the terminal's foreground group by then) and then
 * sleeps: the key typed after "go" reaches it, natively and in the guest.
 */
const JOB = "/bin/busybox sh -c 'echo go; exec /bin/busybox sleep 100'";
const startJob: Step = { type: `${JOB}\r`, until: 'go\r\n' };

test("Ctrl-C interrupts the shell's foreground job (sleep 100) and the prompt comes back, as natively", (t) => {
  const steps: Step[] = [startJob, { type: '\x03', until: PROMPT }, line('echo status $?'), { type: 'exit\r' }];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.true(native.transcript.includes(`go\r\n^C\r\n${PROMPT}`), JSON.stringify(native.transcript));
  t.true(native.transcript.includes('status 130\r\n'), JSON.stringify(native.transcript));
  t.is(guest.transcript, native.transcript);
  t.is(guest.status, 0);
  t.is(guest.after, guest.before);
});

test('Ctrl-\\ quits the foreground job (cat, once it has echoed a line) and the prompt comes back, as natively', (t) => {
  // Not a `sh -c` job: ash ignores SIGQUIT until it execs the command.
  const steps: Step[] = [
    { type: 'cat\r', until: 'cat\r\n' },
    { type: 'x\r', until: 'x\r\nx\r\n', canonical: true },
    { type: '\x1c', until: PROMPT },
    line('echo status $?'),
    { type: 'exit\r' },
  ];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.true(native.transcript.includes(`x\r\n^\\Quit\r\n${PROMPT}`), JSON.stringify(native.transcript));
  t.true(native.transcript.includes('status 131\r\n'), JSON.stringify(native.transcript));
  t.is(guest.transcript, native.transcript);
  t.is(guest.status, 0);
  t.is(guest.after, guest.before);
});

/**
 * A job that says when it is continued: `fg` prints the command before it
 * gives the job the terminal, so a key is typed only once the job says so.
 */
const CONT_JOB = `/bin/busybox sh -c 'trap "echo cont" CONT; echo go; while :; do /bin/busybox sleep 1; done'`;

test('Ctrl-Z stops the foreground job; jobs lists it, fg continues it, Ctrl-C then ends it, as natively', (t) => {
  const steps: Step[] = [
    { type: `${CONT_JOB}\r`, until: 'go\r\n' },
    { type: '\x1a', until: PROMPT },
    line('jobs'),
    { type: 'fg\r', until: 'cont\r\n' },
    { type: '\x03', until: PROMPT },
    line('echo status $?'),
    { type: 'exit\r' },
  ];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.true(native.transcript.includes('^Z[1]+  Stopped'), JSON.stringify(native.transcript));
  t.true(native.transcript.includes('status 130\r\n'), JSON.stringify(native.transcript));
  t.is(guest.transcript, native.transcript);
  t.is(guest.status, 0);
  t.is(guest.after, guest.before);
});

test('a stopped job killed with kill %1 stays stopped until fg continues it, then it is Terminated, as natively', (t) => {
  const steps: Step[] = [startJob, { type: '\x1a', until: PROMPT }, line('kill %1'), line('jobs'), line('fg'), line('echo status $?'), { type: 'exit\r' }];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.true(native.transcript.includes('status 143\r\n'), JSON.stringify(native.transcript));
  t.is(guest.transcript, native.transcript);
  t.is(guest.status, 0);
});

test('with ISIG off (stty -isig) Ctrl-C is a byte the program reads, not a signal, as natively', (t) => {
  const steps: Step[] = [
    { type: 'stty -isig; echo ready; /bin/busybox head -c 1 | /bin/busybox od -An -tx1; stty isig\r', until: 'ready\r\n' },
    { type: '\x03\r', until: PROMPT },
    line('echo status $?'),
    { type: 'exit\r' },
  ];
  const guest = session(guestShell, steps);
  const native = session(nativeShell, steps);
  t.true(native.transcript.includes('^C\r\n 03\r\n'), JSON.stringify(native.transcript));
  t.is(guest.transcript, native.transcript);
  t.is(guest.after, guest.before);
});
