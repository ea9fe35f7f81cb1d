/**
 * linux-exec benchmark (`pnpm bench`): the static hello natively, under
 * qemu-x86_64 (user-mode emulation), under gVisor's runsc, and under kvmos,
 * side by side in one run as medians; kvmos's in-process time from creating
 * the VM to the program's exit; one getpid round trip measured by a loop in
 * the guest. Writes bench/results/linux-exec.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseExecCommand } from '../linux-exec/command.js';
import { prepareExec, runExec } from '../linux-exec/run.js';
import { Machine } from '../machine.js';
import { markdownTable, row, type Row } from './stats.js';

const RUNS = Number(process.env.KVMOS_BENCH_RUNS ?? 30);
const GETPID_CALLS = 20_000;
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
function wholeProcess(what: string, cmd: string, args: string[]): Row | string {
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
  return row(what, samples);
}

function inProcess(hello: string): Row {
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
  return row('kvmos in-process: create VM .. program exit', samples);
}

function getpidNs(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = /"nsPerCall":([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`getpid loop failed: ${r.stderr}`);
  return Number(m[1]);
}

interface SpawnRow {
  mode: string;
  what: string;
  guestMs: number;
  nativeMs: number;
  /** KVM's counters per round trip in the guest (one round vs 1 + 10 rounds). */
  emulatedPerRound: number;
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
function spawnCounters(spawn: string, mode: string, rounds: number): { insns: number; exits: number } {
  const cmd = parseExecCommand(spawnArgs(spawn, mode, 1, rounds), {});
  if (cmd.kind !== 'exec') throw new Error('unreachable');
  const devnull = openSync('/dev/null', 'r+');
  const m = Machine.boot({ ...prepareExec(cmd, {}), stdinFd: devnull, stdoutFd: devnull, stderrFd: devnull });
  try {
    const status = m.run().exitCode;
    if (status !== 0) throw new Error(`spawn ${mode} exited ${status} in the guest`);
    const s = m.vcpuStats();
    return { insns: Number(s.get('insn_emulation') ?? 0n), exits: Number(s.get('exits') ?? 0n) };
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
      emulatedPerRound: Math.round((eleven.insns - one.insns) / 10),
      exitsPerRound: Math.round((eleven.exits - one.exits) / 10),
    };
  });
}

const hello = compile('hello');
const spawn = compile('spawn');
const getpid = compile('getpid');
const results = [
  wholeProcess('native', hello, []),
  wholeProcess('qemu-x86_64 (user-mode emulation)', 'qemu-x86_64-static', [hello]),
  wholeProcess('gVisor runsc (rootless `do`)', 'runsc', ['--rootless', '--network=none', 'do', hello]),
  wholeProcess('kvmos (`kvmos exec`, whole process)', process.execPath, [cliMain, 'exec', hello]),
];
const rows = results.filter((r): r is Row => typeof r !== 'string');
const skipped = results.filter((r): r is string => typeof r === 'string');
rows.push(inProcess(hello));

const getpidGuest = getpidNs(process.execPath, [cliMain, 'exec', getpid, String(GETPID_CALLS)]);
const getpidNative = getpidNs(getpid, [String(GETPID_CALLS)]);
const spawns = spawnRows(spawn);

const byName = (prefix: string) => rows.find((r) => r.name.startsWith(prefix))?.medianMs;
const kvmos = byName('kvmos (');
const qemu = byName('qemu');
const runsc = byName('gVisor');
const ratios = [
  kvmos !== undefined && qemu !== undefined ? `kvmos / qemu-x86_64 whole process: ${(kvmos / qemu).toFixed(2)}x (goal: at most 2x)` : undefined,
  kvmos !== undefined && runsc !== undefined ? `kvmos / runsc whole process: ${(kvmos / runsc).toFixed(2)}x (goal: below 1x, faster than every peer that boots a machine)` : undefined,
].filter(Boolean);

const meta = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', runs: RUNS };
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, 'linux-exec.json'),
  JSON.stringify({ ...meta, rows, skipped, getpid: { calls: GETPID_CALLS, guestNsPerCall: getpidGuest, nativeNsPerCall: getpidNative }, spawn: { batches: SPAWN_BATCHES, rounds: SPAWN_ROUNDS, rows: spawns } }, null, 2) + '\n',
);
const md = `# linux-exec benchmark

${meta.date}, Node ${meta.node}, ${meta.cpu}; medians of ${RUNS} runs of a static musl hello (prints one line).

${markdownTable(rows)}
${skipped.length ? `\nNot measured: ${skipped.join('; ')}\n` : ''}
${ratios.map((r) => `- ${r}`).join('\n')}

One getpid round trip (a loop of ${GETPID_CALLS} calls inside the program): ${(getpidGuest / 1000).toFixed(1)} us in the kvmos guest, ${(getpidNative / 1000).toFixed(2)} us natively.
On this machine ring 0 is emulated (PVM), so a guest system call costs tens of microseconds; on hardware KVM it is a plain syscall.

## Process round trips

A loop inside one program (\`programs/spawn.c\`): the median over ${SPAWN_BATCHES} batches of ${SPAWN_ROUNDS} round trips, in the guest and natively (busybox is Debian's static one, in the guest at /bin/busybox; \`ls\` lists test/busybox). Emulated instructions and VM exits per round trip are KVM's counters for the guest's vCPU (a run of 11 round trips minus a run of 1, over 10).

| round trip | guest median ms | native median ms | guest / native | emulated insns per round | exits per round |
| --- | ---: | ---: | ---: | ---: | ---: |
${spawns.map((r) => `| ${r.what.replaceAll('|', '\\|')} | ${r.guestMs.toFixed(2)} | ${r.nativeMs.toFixed(3)} | ${(r.guestMs / r.nativeMs).toFixed(0)}x | ${r.emulatedPerRound} | ${r.exitsPerRound} |`).join('\n')}
`;
writeFileSync(join(resultsDir, 'linux-exec.md'), md);
process.stdout.write(md + `\nwritten to ${resultsDir}linux-exec.{json,md}\n`);
