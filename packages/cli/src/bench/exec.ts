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
import { runExec } from '../linux-exec/run.js';
import { markdownTable, row, type Row } from './stats.js';

const RUNS = Number(process.env.KVMOS_BENCH_RUNS ?? 30);
const GETPID_CALLS = 20_000;
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

const hello = compile('hello');
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
  JSON.stringify({ ...meta, rows, skipped, getpid: { calls: GETPID_CALLS, guestNsPerCall: getpidGuest, nativeNsPerCall: getpidNative } }, null, 2) + '\n',
);
const md = `# linux-exec benchmark

${meta.date}, Node ${meta.node}, ${meta.cpu}; medians of ${RUNS} runs of a static musl hello (prints one line).

${markdownTable(rows)}
${skipped.length ? `\nNot measured: ${skipped.join('; ')}\n` : ''}
${ratios.map((r) => `- ${r}`).join('\n')}

One getpid round trip (a loop of ${GETPID_CALLS} calls inside the program): ${(getpidGuest / 1000).toFixed(1)} us in the kvmos guest, ${(getpidNative / 1000).toFixed(2)} us natively.
On this machine ring 0 is emulated (PVM), so a guest system call costs tens of microseconds; on hardware KVM it is a plain syscall.
`;
writeFileSync(join(resultsDir, 'linux-exec.md'), md);
process.stdout.write(md + `\nwritten to ${resultsDir}linux-exec.{json,md}\n`);
