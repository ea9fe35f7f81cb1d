/**
 * What the guest kernel can do for threads yet, asked of the guest itself:
 * a tiny program (test/linux/threads/probe.c, musl static) runs in
 * `kvmos linux-exec` and says whether pthread_create works, whether
 * membarrier exists and whether shared futex keys are resolved as Linux
 * does. Tests that need what is missing show as skipped with the reason;
 * once the guest has it they run, with no edit here. Only a refused clone
 * counts as "no threads": anything else, even a crash or a hang, lets the
 * thread tests run, so a broken implementation fails rather than hides.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const probeSource = fileURLToPath(new URL('../../../test/linux/threads/probe.c', import.meta.url));

export interface ThreadGaps {
  /** Why there are no threads (pthread_create refused in the guest). */
  threads?: string;
  /** membarrier is ENOSYS in the guest (musl's dynamic runtime calls it once a program has threads). */
  membarrier?: string;
  /** Futexes are keyed by address alone (shared and private not told apart, shared keys not resolved). */
  futexKeys?: string;
}

let answer: ThreadGaps | undefined;

/** The probe's answers; {} when the probe could not be built (the tests themselves report a missing compiler). */
export function threadGaps(): ThreadGaps {
  if (answer !== undefined) return answer;
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-threads-probe-'));
  try {
    const probe = join(dir, 'probe');
    const cc = spawnSync('musl-gcc', ['-static', '-O1', '-o', probe, probeSource], { encoding: 'utf8' });
    if (cc.error !== undefined || cc.status !== 0) return (answer = {});
    const r = spawnSync(process.execPath, [cli, 'linux-exec', probe], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = r.stdout ?? '';
    const gaps: ThreadGaps = {};
    const noThreads = /^no threads: .*$/m.exec(out);
    if (noThreads !== null) gaps.threads = `the guest kernel has no threads yet (probe in the guest: "${noThreads[0]}")`;
    if (/^membarrier: ENOSYS$/m.test(out)) gaps.membarrier = "the guest kernel has no membarrier (ENOSYS), which musl's dynamic runtime calls (MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) when a program starts its first thread";
    if (/^futex keys: per address$/m.test(out)) {
      gaps.futexKeys =
        'the guest kernel keys futexes by address alone: shared and private futexes are not told apart, and a shared key is not resolved before the value is compared (probe: CMP_REQUEUE to an unmapped page is EAGAIN, not EFAULT)';
    }
    return (answer = gaps);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** undefined when the guest has threads (or when the probe could not tell), else why the thread tests skip. */
export function missingThreads(): string | undefined {
  return threadGaps().threads;
}
