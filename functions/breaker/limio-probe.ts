import type { LimioProbe, ProbeOutcome } from './probe-handler';
import type { SyncOutcomeForBreaker } from './sync-gate';

export interface LimioProbeOptions {
  /**
   * One token request by the client-credentials flow, never answered from a cache (the sync Lambda's token
   * client, constructed afresh per probe). Resolves when Limio issued a token; rejects otherwise, with the
   * HTTP status as `httpStatus` when the endpoint answered.
   */
  readonly requestToken: () => Promise<unknown>;
  /** Optional second question: sync one known subscription (PROBE_SUBSCRIPTION_ID) and say how it went. */
  readonly syncProbeSubscription?: () => Promise<SyncOutcomeForBreaker>;
}

/**
 * The probe: the token endpoint is the cheapest request that exercises Limio's front door and its identity
 * service. Every failure keeps the breaker open, refused credentials included: with them no sync can succeed,
 * and an open breaker keeps every message safe in the queue (no dead letters) and the alarm firing until an
 * operator fixes the secret; the token client re-reads a rotated secret on refusal, so the next probe sees it.
 */
export function createLimioProbe({ requestToken, syncProbeSubscription }: LimioProbeOptions): LimioProbe {
  return async (): Promise<ProbeOutcome> => {
    const started = Date.now();
    try {
      await requestToken();
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 400 || status === 401 || status === 403) {
        return {
          result: 'unhealthy',
          detail: `token endpoint refused the client credentials (${status}): check the Limio secret`,
        };
      }
      return {
        result: 'unhealthy',
        detail: `token request failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    const tokenMs = Date.now() - started;
    if (!syncProbeSubscription) return { result: 'healthy', detail: `token in ${tokenMs} ms` };
    const outcome = await syncProbeSubscription();
    return outcome === 'limio-failure'
      ? {
          result: 'unhealthy',
          detail: `token in ${tokenMs} ms, but the probe subscription's sync failed on Limio's side`,
        }
      : { result: 'healthy', detail: `token in ${tokenMs} ms, probe subscription ${outcome}` };
  };
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { httpStatus?: unknown } | undefined)?.httpStatus;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}
