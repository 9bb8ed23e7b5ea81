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
 * service. A token endpoint that answers but refuses the credentials (400/401/403) means Limio is up: that is
 * a configuration problem for an operator, not an outage, and keeping the breaker open would hide it.
 */
export function createLimioProbe({ requestToken, syncProbeSubscription }: LimioProbeOptions): LimioProbe {
  return async (): Promise<ProbeOutcome> => {
    const started = Date.now();
    try {
      await requestToken();
    } catch (error) {
      const status = httpStatusOf(error);
      const message = error instanceof Error ? error.message : String(error);
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        return { result: 'healthy', detail: `token endpoint answered ${status} (credentials refused; Limio is up)` };
      }
      return { result: 'unhealthy', detail: `token request failed: ${message}` };
    }
    const tokenMs = Date.now() - started;
    if (!syncProbeSubscription) return { result: 'healthy', detail: `token in ${tokenMs} ms` };
    const outcome = await syncProbeSubscription();
    return outcome === 'limio-failure'
      ? { result: 'unhealthy', detail: `token in ${tokenMs} ms, but the probe subscription's sync failed on Limio's side` }
      : { result: 'healthy', detail: `token in ${tokenMs} ms, probe subscription ${outcome}` };
  };
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { httpStatus?: unknown } | undefined)?.httpStatus;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}
