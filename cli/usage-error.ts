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

/**
 * The target did not answer (exit code 3): the command line may be right and the runtime, emulator or service not
 * running, or on another port. Apart from usage errors so that scripts can wait and retry on this one alone. The
 * message names the variable or flag that says where the target is.
 */
export class TargetUnreachable extends Error {
  constructor(
    readonly input: string,
    problem: string,
  ) {
    super(`${input}: ${problem}`);
    this.name = 'TargetUnreachable';
  }
}

/** Connection-level failures (refused, no such host, timed out): the target is not there, whatever was asked of it. */
export function isConnectionFailure(error: unknown): boolean {
  const codes = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'];
  const code = (error as { code?: unknown })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  return (
    (typeof code === 'string' && codes.includes(code)) ||
    (error as Error)?.name === 'TimeoutError' ||
    /\bECONNREFUSED\b/.test(String((error as Error)?.message))
  );
}
