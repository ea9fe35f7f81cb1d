/**
 * `pnpm bench`: measures, as medians of many runs, and writes the results
 * to bench/results/ (JSON for tools, Markdown for people) so later changes
 * can be compared. No thresholds: speed goals live here, not in tests.
 */
import { openSync, closeSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { planBoot } from '@kvmos/loader';
import type { AcceleratorName } from '@kvmos/protocol';
import { Machine } from '../machine.js';
import { accelBootFlags, startAccelerator } from '../accel.js';
import { imagePath, readImage } from '../images.js';
import { accelLine, detectAccel, row, markdownTable, type Row } from './stats.js';
import { benchDisplay } from './display.js';

const RUNS = Number(process.env.KVMOS_BENCH_RUNS ?? 30);
const resultsDir = fileURLToPath(new URL('../../../../../bench/results/', import.meta.url));
// The command as installed (package.json bin): the bundle.
const cliMain = fileURLToPath(new URL('../../bundle/kvmos.js', import.meta.url));

function progress(what: string, i: number): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${what}: ${i}/${RUNS}`);
  if (i === RUNS) process.stderr.write(process.stderr.isTTY ? '\n' : `${what}: ${RUNS} runs\n`);
}

function inProcessHello(): number[] {
  const kernel = readImage(imagePath('hello'), true);
  const devnull = openSync('/dev/null', 'w');
  const samples: number[] = [];
  try {
    for (let i = 1; i <= RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const m = Machine.boot({ kernel, stdoutFd: devnull, stderrFd: devnull });
      try {
        const r = m.run();
        if (r.exitCode !== 0) throw new Error(`hello exited with ${r.exitCode}`);
      } finally {
        m.close();
      }
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      progress('hello in-process (create VM .. guest exited)', i);
    }
  } finally {
    closeSync(devnull);
  }
  return samples;
}

/**
 * VM start to first hypercall, on the back end a Machine would get: the
 * accelerator's boot (KVM: VM, memory, vCPU, registers; TCG: QEMU spawned,
 * RAM shared, QMP up, the CPU still waiting) and then its first run() until
 * the first exit hello's kernel makes (a hypercall). Nothing is answered:
 * the machine is closed at that exit.
 */
function firstHypercall(accel: AcceleratorName): { boot: number[]; first: number[]; exit: string } {
  const kernel = readImage(imagePath('hello'), true);
  const boot: number[] = [];
  const first: number[] = [];
  let exit = '';
  for (let i = 1; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const started = startAccelerator(accel, (a) => planBoot({ kernel, flags: accelBootFlags(a), bootTimeNs: BigInt(Date.now()) * 1_000_000n, randomSeed: randomBytes(32) }));
    try {
      const t1 = process.hrtime.bigint();
      const e = started.accel.run();
      const t2 = process.hrtime.bigint();
      if (e.reason !== 'io') throw new Error(`hello's first exit is ${e.reason}, not a hypercall`);
      exit = `io port 0x${e.port.toString(16)}`;
      boot.push(Number(t1 - t0) / 1e6);
      first.push(Number(t2 - t0) / 1e6);
    } finally {
      started.accel.close();
    }
    progress('VM start to first hypercall', i);
  }
  return { boot, first, exit };
}

function wholeProcess(what: string, cmd: string, args: string[]): number[] {
  const samples: number[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}): ${r.stderr.toString()}`);
    samples.push(ms);
    progress(what, i);
  }
  return samples;
}

const accel = detectAccel();
const first = firstHypercall(accel.accel);
const rows: Row[] = [
  row('hello: accelerator boot (VM created, RAM loaded; TCG: QEMU started, QMP up), before any guest instruction', accel.accel, first.boot),
  row(`hello: VM start to first hypercall (accelerator boot .. first exit returned, ${first.exit})`, accel.accel, first.first),
  row('hello: in-process, create VM to guest exit', accel.accel, inProcessHello()),
  row('hello: whole process, `kvmos hello` (node packages/cli/dist/bundle/kvmos.js)', accel.accel, wholeProcess('hello whole process', process.execPath, [cliMain, 'hello'])),
  row('baseline: whole process, `node -e 0`', 'native', wholeProcess('node startup', process.execPath, ['-e', '0'])),
];

const meta = { date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', runs: RUNS, accel: accel.accel, accelFallback: accel.fallback, loadavg: loadavg().map((x) => x.toFixed(2)).join(' ') };
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}/hello.json`, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
const md = `# hello benchmark\n\n${meta.date}, Node ${meta.node}, ${meta.cpu} (${cpus().length} CPUs, load average ${meta.loadavg} at the end), median of ${RUNS} runs.\n${accelLine(accel)}\n\n${markdownTable(rows)}\n`;
writeFileSync(`${resultsDir}/hello.md`, md);
process.stdout.write(md + `\nwritten to ${resultsDir}hello.{json,md}\n`);

process.stdout.write('\n' + (await benchDisplay(resultsDir, accel)) + `\nwritten to ${resultsDir}display.{json,md}\n`);
