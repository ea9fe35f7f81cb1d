import { closeSync, openSync } from 'node:fs';
import type { AcceleratorName } from '@kvmos/protocol';
import { Machine } from '../machine.js';
import { imagePath, readImage } from '../images.js';

/** Small statistics for benchmarks: medians, not means, so one slow run does not skew a row. */
export function median(xs: number[]): number {
  if (xs.length === 0) throw new RangeError('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))]!;
}

export interface Row {
  name: string;
  /**
   * What ran the code: 'kvm' or 'tcg' for kvmos guests, or the peer's own
   * engine ('native', 'qemu-user TCG', 'gVisor').
   */
  accel: string;
  runs: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

export function row(name: string, accel: string, samplesMs: number[]): Row {
  return {
    name,
    accel,
    runs: samplesMs.length,
    medianMs: median(samplesMs),
    p10Ms: quantile(samplesMs, 0.1),
    p90Ms: quantile(samplesMs, 0.9),
  };
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| what | accel | runs | median ms | p10 ms | p90 ms |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.accel} | ${r.runs} | ${r.medianMs.toFixed(2)} | ${r.p10Ms.toFixed(2)} | ${r.p90Ms.toFixed(2)} |`);
  }
  return lines.join('\n');
}

/**
 * The CPU back end kvmos guests get here (KVMOS_ACCEL, else auto): asked of
 * a real boot of hello, so every row can name it.
 */
export function detectAccel(): { accel: AcceleratorName; fallback: string | undefined } {
  const devnull = openSync('/dev/null', 'w');
  try {
    const m = Machine.boot({ kernel: readImage(imagePath('hello'), true), stdoutFd: devnull, stderrFd: devnull });
    try {
      return { accel: m.accelerator, fallback: m.fallback };
    } finally {
      m.close();
    }
  } finally {
    closeSync(devnull);
  }
}

/** One line for a results file: which accelerator ran kvmos's rows, and why. */
export function accelLine(a: { accel: AcceleratorName; fallback: string | undefined }): string {
  const name = a.accel === 'kvm' ? 'KVM' : "TCG (QEMU's software CPU, `qemu-system-x86_64 -accel tcg`, default CPU model qemu64)";
  const why = a.fallback ? `: KVM is not available here (${a.fallback})` : process.env.KVMOS_ACCEL ? ` (KVMOS_ACCEL=${process.env.KVMOS_ACCEL})` : '';
  return `kvmos guests ran on ${name}${why}.`;
}
