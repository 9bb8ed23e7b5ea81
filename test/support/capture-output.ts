/**
 * Captures everything written to stdout and stderr while a handler runs (Powertools' JSON logs: INFO to stdout,
 * WARN/ERROR to stderr; EMF metrics to stdout), so a test can assert what the logs and metrics do and do not
 * contain. Call restore() in afterEach.
 */
export interface CapturedOutput {
  text(): string;
  /** The JSON lines among what was written, parsed. */
  lines(): Record<string, unknown>[];
  restore(): void;
}

export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  const capture = (chunk: unknown, ...rest: unknown[]): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    // A writer waiting for its write callback would otherwise wait for ever.
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
