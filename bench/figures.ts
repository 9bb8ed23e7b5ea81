/**
 * Small statistics and the one table format `npm run bench` and `npm run chaos` print: every figure sits next
 * to the baseline or limit it was measured against in the same run, with the ratio between them.
 */
export interface Figure {
  /** What was measured, e.g. "callout hot path". */
  readonly measure: string;
  /** The figure with its unit, ready to print. */
  readonly value: string;
  /** The baseline or limit it is compared with, with its unit. */
  readonly baseline: string;
  /** value ÷ baseline, printed as e.g. "0.41×"; undefined when the comparison is not a ratio. */
  readonly ratio?: number;
  readonly note?: string;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile: a value that was actually observed. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function formatNumber(value: number, fractionDigits = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  });
}

export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return '—';
  if (ratio === 0) return '0×';
  return ratio >= 10
    ? `${formatNumber(ratio, 1)}×`
    : ratio >= 0.01
      ? `${ratio.toFixed(2)}×`
      : `${ratio.toPrecision(2)}×`;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** 12.3 s */
export function formatSeconds(seconds: number): string {
  return `${seconds.toFixed(1)} s`;
}

/** 1,234 ms */
export function formatMilliseconds(milliseconds: number): string {
  return `${formatNumber(milliseconds)} ms`;
}

/** A Markdown table, so the output can go straight into docs/performance.md. */
export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => [
    figure.measure,
    figure.value,
    figure.baseline,
    formatRatio(figure.ratio),
    figure.note ?? '',
  ]);
  const header = ['measure', 'figure', 'baseline / limit (same run)', 'ratio', 'note'];
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` over `items` with at most `limit` at a time, in order of the items. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
