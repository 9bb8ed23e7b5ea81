/**
 * Captures what Powertools' Logger and Metrics write to stdout/stderr, parsed as the JSON lines they are.
 */
export interface CapturedLines {
  lines(): Record<string, unknown>[];
  text(): string;
  restore(): void;
}

export function captureJsonLines(): CapturedLines {
  const chunks: string[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    (rest.find((item) => typeof item === 'function') as (() => void) | undefined)?.();
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    },
  };
}

/** Values of one metric across the EMF documents written. */
export function metricValues(lines: Record<string, unknown>[], name: string): number[] {
  return lines.filter((line) => '_aws' in line && name in line).map((line) => line[name] as number);
}
