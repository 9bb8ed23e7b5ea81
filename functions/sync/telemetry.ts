import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../shared/metrics';

export { METRICS_NAMESPACE };

/** Service dimension of the sync Lambda's metrics (the dashboard reads these), under METRICS_NAMESPACE. */
export const SYNC_SERVICE_NAME = 'sync';

/** Metric names, emitted in CloudWatch's embedded metric format. */
export const SYNC_METRICS = {
  /** Limio syncs that succeeded (one per distinct subscription, however many messages asked). */
  synced: 'synced',
  /** Limio syncs that failed in a retryable way. */
  retryable: 'retryable',
  /** Limio syncs refused for good (4xx). */
  terminal: 'terminal',
  /** Messages this Lambda put on the DLQ: poison, terminal and exhausted. */
  deadLettered: 'deadLettered',
  /** Messages put back untried because the circuit breaker was open (outage mode): no Limio call, no budget spent. */
  held: 'held',
  /**
   * ChangeMessageVisibility calls SQS refused (hold, backoff, postpone): each such message comes back after the
   * queue's visibility timeout instead, one more receive towards SQS's redrive. Should stay at zero.
   */
  visibilityRefused: 'visibilityRefused',
  /** Requests to Limio's token endpoint. */
  tokenFetches: 'tokenFetches',
  /** Milliseconds per Limio sync, token and 401 retry included. */
  syncLatency: 'syncLatency',
  /** Messages done without a Limio call: a successful sync recorded in the sync ledger started after they arrived. */
  coveredByLedger: 'coveredByLedger',
  /**
   * Messages put back by the sync ledger, to share the call after a successful sync's cooldown or to wait for a
   * sync in flight: no Limio call, no failure for the breaker or the retry budget.
   */
  heldForCooldown: 'heldForCooldown',
  /** Ledger reads, claims and writes that failed or timed out: the batch synced as without a ledger (fail open). */
  ledgerUnavailable: 'ledgerUnavailable',
  /** The adaptive limit on Limio calls in flight in this container at the end of the batch (real-valued). */
  limioConcurrencyLimit: 'limioConcurrencyLimit',
  /** The most Limio calls in flight at once in this container during the batch. */
  limioCallsInFlight: 'limioCallsInFlight',
  /** Limio's unloaded latency as last measured (ms). */
  limioUnloadedLatency: 'limioUnloadedLatency',
  /** The last window's median Limio latency over the unloaded latency: above 1 + SYNC_ADAPTIVE_LATENCY_TOLERANCE the limit is cut. */
  limioLatencyRatio: 'limioLatencyRatio',
  /**
   * Messages put back (1-2 s) because no Limio slot came within their wait bound: no Limio call, no failure for
   * the breaker or the retry budget. Steady counts mean the backlog is larger than Limio's capacity drains.
   */
  syncSlotWaits: 'syncSlotWaits',
  /**
   * Copies of slot-waiting messages SQS did not take: their originals went back by visibility instead, one more
   * receive towards SQS's redrive. Should stay at zero.
   */
  slotWaitCopiesRefused: 'slotWaitCopiesRefused',
} as const;

export function createSyncLogger(): Logger {
  return new Logger({ serviceName: SYNC_SERVICE_NAME });
}

export function createSyncMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SYNC_SERVICE_NAME });
}
