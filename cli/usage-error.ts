/**
 * A mistake in how the command was called (exit code 2). The message always names the flag or input at
 * fault, so the operator can fix the command line from the message alone.
 */
export class UsageError extends Error {
  constructor(
    readonly input: string,
    problem: string,
  ) {
    super(`${input}: ${problem}`);
    this.name = 'UsageError';
  }
}
