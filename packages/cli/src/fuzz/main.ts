/**
 * `pnpm fuzz`: every host fuzz target (fuzz/targets.ts) with
 * KVMOS_FUZZ_N inputs each (default 100,000), then the guest's own fuzz
 * targets (elf.rs, initramfs.rs, the command line: host-compiled cargo
 * tests, guest/kernel/src/fuzz.rs) with as many. Prints a table and writes
 * it to bench/results/fuzz.md; exits 1 if any input failed.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TARGETS, fuzz, type FuzzResult } from './targets.js';

const N = Number(process.env.KVMOS_FUZZ_N ?? 100_000);
const SEED = Number(process.env.KVMOS_FUZZ_SEED ?? 1);
const root = fileURLToPath(new URL('../../../../../', import.meta.url));

const rows: (FuzzResult & { accepted?: number })[] = [];
for (const t of TARGETS) {
  const r = fuzz(t, N, SEED);
  rows.push(r);
  process.stderr.write(`fuzz: host ${r.target}: ${r.inputs} inputs, ${r.failures} failures, ${r.totalMs.toFixed(0)} ms\n`);
}

// The guest's targets print one `fuzz-result <name>|<what>|<inputs>|<failures>|<slowest us>|<slowest input>|<ms>|<accepted>` line each.
const cargo = spawnSync('cargo', ['test', '-q', '-p', 'kernel', '--lib', 'fuzz::', '--', '--ignored', '--nocapture', '--test-threads=1'], {
  cwd: `${root}guest`,
  env: { ...process.env, KVMOS_FUZZ_N: String(N), KVMOS_FUZZ_SEED: String(SEED) },
  encoding: 'utf8',
});
for (const line of cargo.stdout.split('\n')) {
  // Anywhere in the line: cargo's progress dots may come first.
  const m = /fuzz-result (.*)$/.exec(line);
  if (!m?.[1]) continue;
  const [target, what, inputs, failures, slowestUs, slowestInput, totalMs, accepted] = m[1].split('|');
  rows.push({
    target: `guest ${target}`,
    what: what ?? '',
    inputs: Number(inputs),
    failures: Number(failures),
    slowestUs: Number(slowestUs),
    slowestInput: Number(slowestInput),
    totalMs: Number(totalMs),
    accepted: Number(accepted),
  });
}
const guestFailed = cargo.status !== 0;
if (guestFailed) process.stderr.write(`fuzz: the guest's cargo fuzz targets failed:\n${cargo.stdout}\n${cargo.stderr}\n`);

const table = [
  `# Fuzzing (\`pnpm fuzz\`)`,
  '',
  `${N.toLocaleString('en')} seeded inputs per target (KVMOS_FUZZ_N), input i made from seed ${SEED} + i (KVMOS_FUZZ_SEED);`,
  'a failure is any exception other than the target\'s own typed errors (host), or a panic (guest: debug build, overflow checks on).',
  `Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}. "Slowest input" is wall time inside the loop (a GC pause or`,
  'another process on the machine lands there); the host targets run that input again alone, best of 3. "Accepted": guest inputs',
  'that parsed without error, i.e. the generator gets past the first checks.',
  '',
  '| target | covers | inputs | failures | slowest input (us) | slowest seed | it again, alone (us) | total (ms) | accepted (guest) |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.target} | ${r.what} | ${r.inputs} | ${r.failures} | ${r.slowestUs.toFixed(0)} | ${r.slowestInput} | ${r.slowestRerunUs?.toFixed(0) ?? '-'} | ${r.totalMs.toFixed(0)} | ${r.accepted ?? '-'} |`,
  ),
  ...(guestFailed ? ['', '**The guest targets failed** (see the command output).'] : []),
  '',
];
for (const r of rows) if (r.firstFailure) table.push(`- ${r.target}: first failure at seed ${r.firstFailure.input}: ${r.firstFailure.error}`);
process.stdout.write(table.join('\n') + '\n');
if (process.env.KVMOS_FUZZ_WRITE !== '0') writeFileSync(`${root}bench/results/fuzz.md`, table.join('\n') + '\n');
process.exitCode = guestFailed || rows.some((r) => r.failures > 0) ? 1 : 0;
