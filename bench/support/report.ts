/**
 * How every benchmark prints its result: one small table (figure, target, measured, baseline,
 * ratio, PASS/MISS) plus a JSON line that bench/run-all.ts collects. A miss is a finding, not a
 * failure: the exit status stays 0 unless the benchmark itself broke.
 */

export interface Figure {
  figure: string;
  target: string;
  measured: string;
  baseline: string;
  ratio: string;
  pass: boolean;
}

export const RESULT_MARK = 'BENCH-RESULT ';

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // nearest-rank: p95 of 50 samples is the 48th smallest
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');

export function printTable(title: string, figures: Figure[], notes: string[] = []): void {
  const head = ['figure', 'target', 'measured', 'baseline', 'ratio', 'result'];
  const rows = figures.map((f) => [f.figure, f.target, f.measured, f.baseline, f.ratio, f.pass ? 'PASS' : 'MISS']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  const out = [``, `== ${title}`, line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line), ...notes.map((n) => `   ${n}`), ''];
  process.stdout.write(out.join('\n') + '\n');
  process.stdout.write(`${RESULT_MARK}${JSON.stringify({ title, figures, notes })}\n`);
}

/** Runs a benchmark's main; a thrown error (the benchmark broke) is the only non-zero exit. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  const started = Date.now();
  main().then(
    () => {
      process.stderr.write(`${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${name}: the benchmark broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

export function log(message: string): void {
  process.stderr.write(`  · ${message}\n`);
}
