/**
 * The host fuzz targets (src/fuzz/targets.ts) with a few thousand seeded
 * inputs each, so that a regression fails the suite; `pnpm fuzz` runs the
 * same targets with 100,000 (KVMOS_FUZZ_N) and writes bench/results/fuzz.md.
 */
import test from 'ava';
import { TARGETS, fuzz } from '../src/fuzz/targets.js';

const N = Number(process.env.KVMOS_FUZZ_TEST_N ?? 3000);

for (const target of TARGETS) {
  test(`fuzz: ${target.name} (${N} inputs)`, (t) => {
    const r = fuzz(target, N);
    t.is(r.failures, 0, r.firstFailure && `seed ${r.firstFailure.input}: ${r.firstFailure.error}`);
  });
}
