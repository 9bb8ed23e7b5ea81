/**
 * The faults the Limio sandbox injects: latency, 502s, 429s with Retry-After and calls it never answers (sync
 * calls only, drawn at random), 404 for chosen subscriptions, and "down". npm start sets them from LIMIO_SANDBOX_*
 * (local/config.ts); the runtime's control endpoint changes them while it runs (local/limio-control.ts).
 */
export interface LimioFaults {
  /** Added to every sync call (default 0). */
  latencyMs?: number;
  /** 0..1 share of sync calls answered 502 {"message": ...}. */
  rate502?: number;
  /** 0..1 share answered 429 with Retry-After: retryAfterSeconds. */
  rate429?: number;
  /** Default 1. */
  retryAfterSeconds?: number;
  /** 0..1 share that never answer (until the client gives up or the sandbox stops). */
  hangRate?: number;
  /** expires_in of issued tokens (default 3600). */
  tokenTtlSeconds?: number;
  /**
   * Limio down: every request, token endpoint included, is answered 503 at once, as the load balancer in front of
   * a SaaS answers while the service behind it is out. The port stays open, so "fixing Limio" is instant and the
   * port cannot be taken by anything else meanwhile (default false).
   */
  down?: boolean;
  /** Subscriptions whose sync is answered 404 {"message": ...}: the bridge's terminal failure, a dead letter at once. */
  notFoundIds?: readonly string[];
}

/** 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floating point: shares adding up to 1 within this are accepted. */
export const SHARE_ROUNDING = 1e-9;

export function withFaultDefaults(faults: LimioFaults): Required<LimioFaults> {
  const share = (name: string, value: number | undefined) => {
    const share = value ?? 0;
    if (!(share >= 0 && share <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${share}`);
    return share;
  };
  const result = {
    latencyMs: Math.max(0, faults.latencyMs ?? 0),
    rate502: share('rate502', faults.rate502),
    rate429: share('rate429', faults.rate429),
    retryAfterSeconds: faults.retryAfterSeconds ?? 1,
    hangRate: share('hangRate', faults.hangRate),
    tokenTtlSeconds: faults.tokenTtlSeconds ?? 3600,
    down: faults.down ?? false,
    notFoundIds: [...new Set(faults.notFoundIds ?? [])],
  };
  if (result.rate502 + result.rate429 + result.hangRate > 1 + SHARE_ROUNDING) {
    throw new RangeError('rate502 + rate429 + hangRate must not exceed 1');
  }
  return result;
}
