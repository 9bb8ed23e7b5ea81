/**
 * A chaos run's verdict: named checks, each passed or failed with the figures that decided it. A check also
 * proves its fault really happened where it can, or the run proves nothing.
 */
export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export function printChecks(title: string, checks: readonly Check[]): void {
  process.stdout.write(`\n${title}\n`);
  for (const check of checks)
    process.stdout.write(`${check.passed ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
}
