/**
 * Whether the guest kernel has threads yet, asked of the guest itself: a
 * tiny program (test/linux/threads/probe.c, musl static) calls
 * pthread_create in `kvmos linux-exec`. Only a refused clone (the probe's
 * "no threads: ..." line) counts as missing: the thread tests then show as
 * skipped with the reason. Anything else, even a crash or a hang, lets them
 * run, so a broken implementation fails rather than hides.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const probeSource = fileURLToPath(new URL('../../../test/linux/threads/probe.c', import.meta.url));

let answer: string | undefined | null = null;

/** undefined when the guest has threads (or when the probe could not tell), else why the thread tests skip. */
export function missingThreads(): string | undefined {
  if (answer !== null) return answer;
  const dir = mkdtempSync(join(tmpdir(), 'kvmos-threads-probe-'));
  try {
    const probe = join(dir, 'probe');
    const cc = spawnSync('musl-gcc', ['-static', '-O1', '-o', probe, probeSource], { encoding: 'utf8' });
    if (cc.error !== undefined || cc.status !== 0) {
      answer = undefined; // the tests themselves report the missing compiler
      return answer;
    }
    const r = spawnSync(process.execPath, [cli, 'linux-exec', probe], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = /^no threads: .*$/m.exec(r.stdout ?? '');
    answer = line === null ? undefined : `the guest kernel has no threads yet (probe in the guest: "${line[0]}")`;
    return answer;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
