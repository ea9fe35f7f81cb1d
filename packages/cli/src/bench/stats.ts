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
  runs: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

export function row(name: string, samplesMs: number[]): Row {
  return {
    name,
    runs: samplesMs.length,
    medianMs: median(samplesMs),
    p10Ms: quantile(samplesMs, 0.1),
    p90Ms: quantile(samplesMs, 0.9),
  };
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| what | runs | median ms | p10 ms | p90 ms |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.runs} | ${r.medianMs.toFixed(2)} | ${r.p10Ms.toFixed(2)} | ${r.p90Ms.toFixed(2)} |`);
  }
  return lines.join('\n');
}
