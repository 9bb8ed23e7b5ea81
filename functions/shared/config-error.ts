/**
 * A configuration problem found at cold start. The message always names the variable (or prop) at fault and
 * what would be accepted, so an operator can fix it from the log line alone.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}
