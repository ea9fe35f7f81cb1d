/**
 * Wall time of the whole test suite (not part of `pnpm bench`: it runs
 * every test, minutes): `node packages/cli/dist/src/bench/suite.js` times
 * test.sh's command, `pnpm exec turbo run build lint typecheck test`, once,
 * with `--force` so turbo replays nothing from its cache (pnpm's store and
 * cargo's target directory stay warm), on the accelerator auto picks (or
 * KVMOS_ACCEL). Writes bench/results/suite.{json,md}. CI (.ci/run ->
 * test.sh) must finish within 90 minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { accelLine, detectAccel } from './stats.js';

const CI_LIMIT_MIN = 90;
const root = fileURLToPath(new URL('../../../../../', import.meta.url));
const resultsDir = `${root}bench/results/`;
const args = ['exec', 'turbo', 'run', 'build', 'lint', 'typecheck', 'test', '--force', '--output-logs=errors-only', '--continue=never'];

const accel = detectAccel();
process.stderr.write(`suite: pnpm ${args.join(' ')} (kvmos guests on ${accel.accel})\n`);
const t0 = process.hrtime.bigint();
const r = spawnSync('pnpm', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
const minutes = Number(process.hrtime.bigint() - t0) / 1e9 / 60;
if (r.error || r.status !== 0) throw new Error(`the suite failed (status ${r.status}): ${r.error?.message ?? 'see above'}`);

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
  accel: accel.accel,
  accelFallback: accel.fallback,
};
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}suite.json`, JSON.stringify({ ...meta, command: `pnpm ${args.join(' ')}`, minutes, ciLimitMinutes: CI_LIMIT_MIN }, null, 2) + '\n');
const md = `# test suite wall time

${meta.date}, Node ${meta.node}, ${meta.cpu} (${meta.cpus} CPUs, load average ${meta.loadavg} at the end).
${accelLine(accel)}

| what | accel | wall time | CI limit | |
| --- | --- | ---: | ---: | --- |
| whole suite: \`pnpm ${args.join(' ')}\` (test.sh without scripts/setup.sh), one run | ${accel.accel} | ${minutes.toFixed(1)} min | ${CI_LIMIT_MIN} min | ${minutes <= CI_LIMIT_MIN ? 'within' : '**over**'} |

Measured by \`node packages/cli/dist/src/bench/suite.js\` (packages/cli/src/bench/suite.ts): one timed run;
\`--force\` makes turbo run every task instead of replaying cached ones; pnpm's store and cargo's
target directory are warm. CI (.ci/run -> test.sh) must finish within ${CI_LIMIT_MIN} minutes.
`;
writeFileSync(`${resultsDir}suite.md`, md);
process.stdout.write(md + `\nwritten to ${resultsDir}suite.{json,md}\n`);
