export interface BackoffSettings {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

/**
 * Seconds until the next delivery after the receive numbered `receiveCount` (1 = first) failed: exponential
 * growth from baseSeconds, capped at maxSeconds, with full jitter (uniform over 1..ceiling) so that a burst
 * of failures at the same moment spreads out instead of coming back as one burst.
 */
export function nextVisibility(receiveCount: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 30);
  const ceiling = Math.min(settings.maxSeconds, settings.baseSeconds * 2 ** exponent);
  // At least one second: zero would make the message visible again before this invocation has even returned.
  return Math.min(ceiling, Math.max(1, Math.ceil(random() * ceiling)));
}
