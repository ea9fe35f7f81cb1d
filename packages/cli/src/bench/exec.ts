/**
 * linux-exec benchmark (`pnpm bench`): the static hello natively, under
 * qemu-x86_64 (user-mode emulation), under gVisor's runsc, and under kvmos,
 * side by side in one run as medians; kvmos's in-process time from creating
 * the VM to the program's exit; one getpid round trip and one console write
 * (a system call plus one hypercall) measured by loops in the guest. kvmos
 * runs on the accelerator auto picks (KVMOS_ACCEL); every row names what
 * ran it (KVMOS_BENCH_WRITES: writes in the hypercall loop, default 5000).
 * Writes bench/results/linux-exec.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExecCommand } from '../linux-exec/command.js';
import { prepareExec, runExec } from '../linux-exec/run.js';
import { Machine } from '../machine.js';
import { accelLine, detectAccel, markdownTable, median, row, type Row } from './stats.js';

const RUNS = Number(process.env.KVMOS_BENCH_RUNS ?? 30);
const GETPID_CALLS = 20_000;
/** One-byte console writes in the hypercall loop (programs/writes.c). */
const WRITE_CALLS = Number(process.env.KVMOS_BENCH_WRITES ?? 5_000);
/** Runs of each loop program (the median run is reported). */
const LOOP_RUNS = Math.max(1, Math.min(RUNS, 5));
/** Process round trips (spawn.c): batches of rounds, the median batch's time per round. */
const SPAWN_BATCHES = Number(process.env.KVMOS_BENCH_SPAWN_BATCHES ?? 9);
const SPAWN_ROUNDS = 4;
const SPAWN_MODES = [
  ['fork', 'fork + _exit + waitpid'],
  ['forkexec', 'fork + execve (a small musl program) + waitpid'],
  ['vforkexec', 'vfork + execve + waitpid'],
  ['sh', "fork + execve `busybox sh -c 'ls | wc -l'` + waitpid"],
] as const;
const busyboxFixtures = fileURLToPath(new URL('../../../test/busybox/', import.meta.url));
const programs = fileURLToPath(new URL('../../../src/bench/programs/', import.meta.url));
const resultsDir = fileURLToPath(new URL('../../../../../bench/results/', import.meta.url));
// The command as installed (package.json bin): the bundle.
const cliMain = fileURLToPath(new URL('../../bundle/kvmos.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kvmos-bench-'));

function progress(what: string, i: number, of = RUNS): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${what}: ${i}/${of}`);
  if (i === of) process.stderr.write(process.stderr.isTTY ? '\n' : `${what}: ${of} runs\n`);
}

function compile(name: string): string {
  const out = join(work, name);
  const r = spawnSync('musl-gcc', ['-static', '-O2', '-o', out, join(programs, `${name}.c`)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`musl-gcc ${name}.c failed (scripts/setup.sh installs musl-tools): ${r.error?.message ?? r.stderr}`);
  return out;
}

/** Median whole-process time, or why the peer cannot run here. */
function wholeProcess(what: string, accel: string, cmd: string, args: string[]): Row | string {
  const probe = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (probe.error) return `${what}: not available (${probe.error.message})`;
  if (probe.status !== 0 || probe.stdout !== 'hello, world\n') {
    return `${what}: did not run here (status ${probe.status}: ${probe.stderr.trim().split('\n')[0] ?? ''})`;
  }
  const samples: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(cmd, args, { stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    progress(what, i);
  }
  return row(what, accel, samples);
}

function inProcess(hello: string, accel: string): Row {
  const cmd = parseExecCommand([hello], {});
  if (cmd.kind !== 'exec') throw new Error('unreachable');
  const devnull = openSync('/dev/null', 'r+');
  const samples: number[] = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const status = runExec(cmd, {}, undefined, { stdinFd: devnull, stdoutFd: devnull, stderrFd: devnull });
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (status !== 0) throw new Error(`hello exited ${status} in the guest`);
      progress('kvmos in-process', i);
    }
  } finally {
    closeSync(devnull);
  }
  return row('kvmos in-process: create VM .. program exit', accel, samples);
}

function getpidNs(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = /"nsPerCall":([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`getpid loop failed: ${r.stderr}`);
  return Number(m[1]);
}

/** writes.c's ns per one-byte write(1), its stdout to /dev/null (the result is on stderr); median of LOOP_RUNS runs. */
function writeNs(cmd: string, args: string[]): number {
  const xs: number[] = [];
  for (let i = 0; i < LOOP_RUNS; i++) {
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    const m = /"nsPerCall":([\d.]+)/.exec(r.stderr);
    if (!m || r.status !== 0) throw new Error(`write loop failed (status ${r.status}): ${r.stderr}`);
    xs.push(Number(m[1]));
  }
  return median(xs);
}

/**
 * Exits the host handled for `writes N` in this process, and wall time:
 * (N writes) minus (0 writes) shows one exit per write, and the host-side
 * time per write (each exit served, the byte written to /dev/null).
 */
function writeExits(writes: string, n: number): { exits: number; ms: number; counters: Record<string, number> } {
  const cmd = parseExecCommand([writes, String(n)], {});
  if (cmd.kind !== 'exec') throw new Error('unreachable');
  const devnull = openSync('/dev/null', 'r+');
  const t0 = process.hrtime.bigint();
  const m = Machine.boot({ ...prepareExec(cmd, {}), stdinFd: devnull, stdoutFd: devnull, stderrFd: devnull });
  try {
    const r = m.run();
    if (r.exitCode !== 0) throw new Error(`writes ${n} exited ${r.exitCode} in the guest`);
    const counters = Object.fromEntries([...m.vcpuStats()].map(([k, v]) => [k, Number(v)]));
    return { exits: r.exits, ms: Number(process.hrtime.bigint() - t0) / 1e6, counters };
  } finally {
    m.close();
    closeSync(devnull);
  }
}

interface SpawnRow {
  mode: string;
  what: string;
  guestMs: number;
  nativeMs: number;
  /** The accelerator's counters per round trip in the guest (one round vs 1 + 10 rounds); emulated instructions are KVM's only (undefined on TCG). */
  emulatedPerRound: number | undefined;
  exitsPerRound: number;
}

function spawnArgs(spawn: string, mode: string, batches: number, rounds: number): string[] {
  return ['--file', '/bin/busybox:/bin/busybox', '--dir', `${busyboxFixtures}:/data`, '--cwd', '/data', spawn, mode, String(batches), String(rounds)];
}

function spawnMedianMs(cmd: string, args: string[], cwd: string): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  const m = /"medianNs":(\d+)/.exec(r.stdout);
  if (!m) throw new Error(`spawn ${args.join(' ')} failed: ${r.stderr}`);
  return Number(m[1]) / 1e6;
}

/** Emulated instructions and exits of one guest run of `spawn MODE 1 rounds`. */
function spawnCounters(spawn: string, mode: string, rounds: number): { insns: number | undefined; exits: number } {
  const cmd = parseExecCommand(spawnArgs(spawn, mode, 1, rounds), {});
  if (cmd.kind !== 'exec') throw new Error('unreachable');
  const devnull = openSync('/dev/null', 'r+');
  const m = Machine.boot({ ...prepareExec(cmd, {}), stdinFd: devnull, stdoutFd: devnull, stderrFd: devnull });
  try {
    const status = m.run().exitCode;
    if (status !== 0) throw new Error(`spawn ${mode} exited ${status} in the guest`);
    const s = m.vcpuStats();
    const insns = s.get('insn_emulation');
    return { insns: insns === undefined ? undefined : Number(insns), exits: Number(s.get('exits') ?? 0n) };
  } finally {
    m.close();
    closeSync(devnull);
  }
}

function spawnRows(spawn: string): SpawnRow[] {
  if (spawnSync('/bin/busybox', ['true']).status !== 0) throw new Error('/bin/busybox is needed (scripts/setup.sh installs busybox-static)');
  return SPAWN_MODES.map(([mode, what]) => {
    process.stderr.write(`spawn ${mode}\n`);
    const one = spawnCounters(spawn, mode, 1);
    const eleven = spawnCounters(spawn, mode, 11);
    return {
      mode,
      what,
      guestMs: spawnMedianMs(process.execPath, [cliMain, 'exec', ...spawnArgs(spawn, mode, SPAWN_BATCHES, SPAWN_ROUNDS)], busyboxFixtures),
      nativeMs: spawnMedianMs(spawn, [mode, String(SPAWN_BATCHES), String(SPAWN_ROUNDS)], busyboxFixtures),
      emulatedPerRound: eleven.insns !== undefined && one.insns !== undefined ? Math.round((eleven.insns - one.insns) / 10) : undefined,
      exitsPerRound: Math.round((eleven.exits - one.exits) / 10),
    };
  });
}

const hello = compile('hello');
const spawn = compile('spawn');
const getpid = compile('getpid');
const writes = compile('writes');
const accel = detectAccel();
const a = accel.accel;
const results = [
  wholeProcess('native', 'native', hello, []),
  wholeProcess('qemu-x86_64 (user-mode emulation)', 'qemu-user TCG', 'qemu-x86_64-static', [hello]),
  wholeProcess('gVisor runsc (rootless `do`)', 'gVisor', 'runsc', ['--rootless', '--network=none', 'do', hello]),
  wholeProcess(`kvmos (\`kvmos exec\`, whole process, ${a})`, a, process.execPath, [cliMain, 'exec', hello]),
];
const rows = results.filter((r): r is Row => typeof r !== 'string');
const skipped = results.filter((r): r is string => typeof r === 'string');
rows.push(inProcess(hello, a));

const getpidGuest = getpidNs(process.execPath, [cliMain, 'exec', getpid, String(GETPID_CALLS)]);
const getpidNative = getpidNs(getpid, [String(GETPID_CALLS)]);
process.stderr.write(`console write loop: ${WRITE_CALLS} one-byte writes, ${LOOP_RUNS} runs in the guest and natively\n`);
const writeGuest = writeNs(process.execPath, [cliMain, 'exec', writes, String(WRITE_CALLS)]);
const writeNative = writeNs(writes, [String(WRITE_CALLS)]);
const exits0 = writeExits(writes, 0);
const exitsN = writeExits(writes, WRITE_CALLS);
const exitsPerWrite = (exitsN.exits - exits0.exits) / WRITE_CALLS;
const hostUsPerWrite = ((exitsN.ms - exits0.ms) * 1000) / WRITE_CALLS;
const counterDelta = Object.fromEntries(Object.keys(exitsN.counters).map((k) => [k, (exitsN.counters[k]! - (exits0.counters[k] ?? 0)) / WRITE_CALLS]));
const hypercallUs = (writeGuest - getpidGuest) / 1000;
const spawns = spawnRows(spawn);

const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))?.medianMs;
const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const kvmos = byName('kvmos (');
const qemu = byName('qemu');
const runsc = byName('gVisor');
const ratios = [
  kvmos !== undefined && qemu !== undefined ? `kvmos (${a}) / qemu-x86_64 whole process: ${(kvmos / qemu).toFixed(2)}x (goal: at most 2x)` : undefined,
  kvmos !== undefined && runsc !== undefined ? `kvmos (${a}) / runsc whole process: ${(kvmos / runsc).toFixed(2)}x (goal: below 1x, faster than every peer that boots a machine)` : undefined,
].filter(Boolean);

const meta = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', runs: RUNS, accel: a, accelFallback: accel.fallback, loadavg: load };
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'linux-exec.json'),
  JSON.stringify({
    ...meta,
    rows,
    skipped,
    getpid: { accel: a, calls: GETPID_CALLS, guestNsPerCall: getpidGuest, nativeNsPerCall: getpidNative },
    consoleWrite: {
      accel: a,
      calls: WRITE_CALLS,
      runs: LOOP_RUNS,
      guestNsPerCall: writeGuest,
      nativeNsPerCall: writeNative,
      hypercallRoundTripUs: hypercallUs,
      exitsPerWrite,
      hostUsPerWrite,
      countersPerWrite: counterDelta,
    },
    spawn: { accel: a, batches: SPAWN_BATCHES, rounds: SPAWN_ROUNDS, rows: spawns },
  }, null, 2) + '\n',
);
const md = `# linux-exec benchmark

${meta.date}, Node ${meta.node}, ${meta.cpu} (${cpus().length} CPUs, load average ${load} at the end); medians of ${RUNS} runs of a static musl hello (prints one line).
${accelLine(accel)} The accel column says what ran each row: native is the program on the host, qemu-user TCG is \`qemu-x86_64-static\` (QEMU's user-mode emulation, its default CPU model), gVisor is runsc.

${markdownTable(rows)}
${skipped.length ? `\nNot measured: ${skipped.join('; ')}\n` : ''}
${ratios.map((r) => `- ${r}`).join('\n')}

## System call and hypercall round trips

Loops timed inside the program with \`clock_gettime\` (the guest's vDSO), in the kvmos guest (\`kvmos exec\`) and natively.

| round trip | accel | guest us | native us |
| --- | --- | ---: | ---: |
| getpid (a system call the guest kernel answers; ${GETPID_CALLS} calls) | ${a} | ${(getpidGuest / 1000).toFixed(2)} | ${(getpidNative / 1000).toFixed(2)} |
| one-byte write(1) (\`programs/writes.c\`; ${WRITE_CALLS} calls, median of ${LOOP_RUNS} runs; in the guest a system call plus one ConsoleWrite hypercall, the host writing the byte to /dev/null) | ${a} | ${(writeGuest / 1000).toFixed(2)} | ${(writeNative / 1000).toFixed(2)} |
| **hypercall round trip** = write - getpid (guest side: from the guest's ${a === 'tcg' ? 'slot write and doorbell (outb 0x410)' : '`out dx, eax`'} to the host's answer seen, plus the host's work for one ConsoleWrite) | ${a} | **${hypercallUs.toFixed(2)}** | |

Host side, in this process (\`Machine.run()\` of \`writes ${WRITE_CALLS}\` minus \`writes 0\`): ${exitsPerWrite.toFixed(3)} exits per write (one hypercall each), ${hostUsPerWrite.toFixed(1)} us of wall time per write, i.e. ${Math.round(1e6 / hostUsPerWrite)} hypercalls per second. The back end's counters per write: ${Object.entries(counterDelta).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ') || 'none'}.

${a === 'tcg'
  ? 'On TCG a system call never leaves QEMU (getpid is translated guest code); a hypercall is the slot handshake: the guest writes the slot and rings the doorbell, QEMU writes the byte to a pipe, the host polls it, serves the call from guest RAM, writes `done`, and the guest, spinning on it, goes on. On a loaded machine (2 CPUs here) both QEMU and the host must be scheduled for each one.'
  : 'On KVM under PVM (docs/platform.md) ring 0 is emulated, so a guest system call costs tens of microseconds; on hardware KVM it is a plain syscall.'}

## Process round trips

A loop inside one program (\`programs/spawn.c\`): the median over ${SPAWN_BATCHES} batches of ${SPAWN_ROUNDS} round trips, in the guest and natively (busybox is Debian's static one, in the guest at /bin/busybox; \`ls\` lists test/busybox). Exits per round trip are the accelerator's counter for the guest (a run of 11 round trips minus a run of 1, over 10; ${a === 'tcg' ? 'on TCG an exit is a hypercall' : 'KVM: every VM exit'}). Emulated instructions are KVM's per-vCPU counter (\`insn_emulation\`)${a === 'kvm' ? '' : ': not measured on TCG, which has no such counter (QEMU translates every instruction; there is no emulated-instruction exit)'}.

| round trip | accel | guest median ms | native median ms | guest / native | emulated insns per round | exits per round |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${spawns.map((r) => `| ${r.what.replaceAll('|', '\\|')} | ${a} | ${r.guestMs.toFixed(2)} | ${r.nativeMs.toFixed(3)} | ${(r.guestMs / r.nativeMs).toFixed(r.guestMs / r.nativeMs < 10 ? 2 : 0)}x | ${r.emulatedPerRound ?? 'n/a (KVM only)'} | ${r.exitsPerRound} |`).join('\n')}
`;
writeFileSync(join(resultsDir, 'linux-exec.md'), md);
process.stdout.write(md + `\nwritten to ${resultsDir}linux-exec.{json,md}\n`);
