/**
 * Host programs and host files benchmark (`pnpm bench`): Debian's dynamic
 * /bin/true and `python3 -c pass` as whole processes, in the guest
 * (`kvmos exec`, the default view) and natively; and the throughput of
 * reading a file from a --ro-bind directory (`cat FILE > /dev/null`) and
 * writing one into a --bind directory (`head -c SIZE /dev/zero > FILE`),
 * in MB/s, guest vs native. Each row names what ran it. The file's size is
 * KVMOS_BENCH_FILE_MB (default 100). Writes bench/results/host-files.{json,md}.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { accelLine, detectAccel, markdownTable, median, row, type Row } from './stats.js';

const RUNS = Number(process.env.KVMOS_BENCH_RUNS ?? 30);
const FILE_MB = Number(process.env.KVMOS_BENCH_FILE_MB ?? 100);
/** Throughput runs (each moves FILE_MB): the median run is reported. */
const FILE_RUNS = Math.max(1, Math.min(RUNS, 5));
const resultsDir = fileURLToPath(new URL('../../../../../bench/results/', import.meta.url));
const cliMain = fileURLToPath(new URL('../../bundle/kvmos.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'kvmos-bench-files-'));

function progress(what: string, i: number, of: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${what}: ${i}/${of}`);
  if (i === of) process.stderr.write(process.stderr.isTTY ? '\n' : `${what}: ${of} runs\n`);
}

/** Median whole-process time of argv (checked once to succeed). */
function wholeProcess(what: string, accel: string, argv: string[]): Row {
  const [cmd, ...args] = argv as [string, ...string[]];
  const probe = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(`${what} failed (status ${probe.status}): ${probe.error?.message ?? probe.stderr}`);
  const samples: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    spawnSync(cmd, args, { stdio: 'ignore' });
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    progress(what, i, RUNS);
  }
  return row(what, accel, samples);
}

interface Throughput {
  what: string;
  accel: string;
  mbPerS: number;
  runs: number;
}

/** MB/s of the median run of argv, timed inside the guest or natively by bash's own clock (EPOCHREALTIME): start-up is not counted. */
function throughput(what: string, accel: string, argv: string[]): Throughput {
  const seconds: number[] = [];
  for (let i = 1; i <= FILE_RUNS; i++) {
    const [cmd, ...args] = argv as [string, ...string[]];
    const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const s = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(s) || s <= 0) throw new Error(`${what} failed (status ${r.status}): ${r.stderr}${r.stdout}`);
    seconds.push(s);
    progress(what, i, FILE_RUNS);
  }
  return { what, accel, mbPerS: FILE_MB / median(seconds), runs: FILE_RUNS };
}

/** A bash line that times COMMAND with EPOCHREALTIME and prints the seconds. */
function timed(command: string): string {
  return `t0=$EPOCHREALTIME; ${command}; t1=$EPOCHREALTIME; echo "$t1 - $t0" | sed 's/,/./g' | awk '{print $1 - $3}'`;
}

const accel = detectAccel();
const a = accel.accel;
const kvmos = (opts: string[], argv: string[]) => [process.execPath, cliMain, 'exec', ...opts, ...argv];

const rows: Row[] = [
  wholeProcess('dynamic /bin/true, native', 'native', ['/bin/true']),
  wholeProcess(`dynamic /bin/true, kvmos exec (${a})`, a, kvmos([], ['/bin/true'])),
  wholeProcess('python3 -c pass, native', 'native', ['/usr/bin/python3', '-c', 'pass']),
  wholeProcess(`python3 -c pass, kvmos exec (${a})`, a, kvmos([], ['/usr/bin/python3', '-c', 'pass'])),
];

const ro = join(work, 'ro');
const rw = join(work, 'rw');
mkdirSync(ro);
mkdirSync(rw);
writeFileSync(join(ro, 'big'), randomBytes(FILE_MB * 1024 * 1024));
const size = FILE_MB * 1024 * 1024;
const flows: Throughput[] = [
  throughput('read a --ro-bind file (cat > /dev/null), native', 'native', ['/bin/bash', '-c', timed(`cat ${ro}/big > /dev/null`)]),
  throughput(`read a --ro-bind file (cat > /dev/null), kvmos (${a})`, a, kvmos(['--ro-bind', ro, '/ro'], ['/bin/bash', '-c', timed('cat /ro/big > /dev/null')])),
  throughput('write a --bind file (head -c > file), native', 'native', ['/bin/bash', '-c', timed(`head -c ${size} /dev/zero > ${rw}/out`)]),
  throughput(`write a --bind file (head -c > file), kvmos (${a})`, a, kvmos(['--bind', rw, '/rw'], ['/bin/bash', '-c', timed(`head -c ${size} /dev/zero > /rw/out`)])),
];
if (statSync(join(rw, 'out')).size !== size) throw new Error(`the guest wrote ${statSync(join(rw, 'out')).size} bytes, not ${size}`);
rmSync(work, { recursive: true, force: true });

const load = loadavg().map((x) => x.toFixed(2)).join(' ');
const meta = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', runs: RUNS, fileMb: FILE_MB, accel: a, accelFallback: accel.fallback, loadavg: load };
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'host-files.json'), `${JSON.stringify({ ...meta, rows, flows }, null, 2)}\n`);
const ratio = (g: number | undefined, n: number | undefined) => (g !== undefined && n !== undefined ? `${(g / n).toFixed(2)}x` : 'n/a');
const md = `# Host programs and host files

${meta.date}, Node ${meta.node}, ${meta.cpu} (${cpus().length} CPUs, load average ${load} at the end); medians of ${RUNS} runs.
${accelLine(accel)} Native rows are the same Debian programs run directly on the host.

## Whole process: dynamic programs from the host's /usr (the default view)

${markdownTable(rows)}

- /bin/true, kvmos / native: ${ratio(rows[1]?.medianMs, rows[0]?.medianMs)}
- python3 -c pass, kvmos / native: ${ratio(rows[3]?.medianMs, rows[2]?.medianMs)}

## Throughput: a ${FILE_MB} MB file through --ro-bind and --bind

Timed inside bash with \`$EPOCHREALTIME\` around the command (the guest's clock in the guest), so start-up is not counted; median of ${FILE_RUNS} runs.

| what | accel | runs | MB/s |
| --- | --- | ---: | ---: |
${flows.map((f) => `| ${f.what} | ${f.accel} | ${f.runs} | ${f.mbPerS.toFixed(1)} |`).join('\n')}
`;
writeFileSync(join(resultsDir, 'host-files.md'), md);
process.stdout.write(md);
