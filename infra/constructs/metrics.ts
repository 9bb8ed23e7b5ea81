import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SWEEP_SERVICE_NAME } from '../../functions/sweep/lambda-sweep';
import { SYNC_METRICS } from '../../functions/sync/telemetry';
import { INFRA_DEFAULTS } from '../settings';

/** The `service` dimension of each function's custom metrics (set in the handlers, not from the environment). */
export const SYNC_METRICS_SERVICE = 'sync';
export const CALLOUT_METRICS_SERVICE = 'zuora-limio-callout';
/** The probe's (functions/breaker/probe-lambda.ts): BreakerState, BreakerOpened, BreakerClosed. */
export const BREAKER_METRICS_SERVICE = 'breaker';
export { SWEEP_SERVICE_NAME };
/** The fan-out Lambda's (functions/fanout/telemetry.ts): service "fanout", by the names it publishes them under. */
export {
  FANOUT_METRICS as FAN_OUT_METRICS,
  FANOUT_SERVICE_NAME as FAN_OUT_METRICS_SERVICE,
} from '../../functions/fanout/telemetry';
/** The callout Lambda's account metrics (functions/callout/callout-handler.ts). */
export const CALLOUT_ACCOUNT_METRICS = { queued: 'AccountKeysQueued', ignored: 'CalloutAccountsIgnored' } as const;

/** Shown on their own dashboard widget, not among the Limio calls. */
const LEDGER_SYNC_METRICS: readonly string[] = [
  SYNC_METRICS.coveredByLedger,
  SYNC_METRICS.heldForCooldown,
  SYNC_METRICS.ledgerUnavailable,
];

/**
 * The adaptive Limio limit's metrics (issue #21), by the names the sync Lambda publishes them under (service
 * `sync`, per batch); shown on their own widgets, not among the counters of the Limio calls.
 */
export const ADAPTIVE_LIMIT_METRICS = {
  /** The invocation's current limit on Limio calls in flight (a real number; below 1 the calls are paced). */
  limit: SYNC_METRICS.limioConcurrencyLimit,
  /** The most Limio calls the invocation had in flight during the batch. */
  callsInFlight: SYNC_METRICS.limioCallsInFlight,
  /** Limio's latency when not loaded, ms: the baseline the latency is compared with. */
  unloadedLatency: SYNC_METRICS.limioUnloadedLatency,
  /** Limio's latency / its unloaded latency: above 1 + the tolerance the limit shrinks. */
  latencyRatio: SYNC_METRICS.limioLatencyRatio,
  /** Messages put back because no Limio slot came free in time: waiting, not failing. */
  slotWaits: SYNC_METRICS.syncSlotWaits,
} as const;

const ADAPTIVE_LIMIT_METRIC_NAMES: readonly string[] = Object.values(ADAPTIVE_LIMIT_METRICS);

/**
 * The sync Lambda's counters the "Limio syncs" widget sums: every one it publishes (a new one shows up there by
 * itself) except those with a widget of their own. Gauges such as the adaptive limit summed would mean nothing.
 */
export function limioSyncCounters(syncMetricNames: readonly string[]): string[] {
  return syncMetricNames.filter(
    (name) =>
      name !== SYNC_METRICS.syncLatency &&
      name !== SYNC_METRICS.held &&
      !LEDGER_SYNC_METRICS.includes(name) &&
      !ADAPTIVE_LIMIT_METRIC_NAMES.includes(name),
  );
}

/** A custom metric the functions publish (embedded metric format), by name and service dimension. */
export function bridgeMetric(
  metricName: string,
  service: string,
  period: Duration,
  statistic: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: INFRA_DEFAULTS.metricsNamespace,
    metricName,
    dimensionsMap: { service },
    period,
    statistic,
  });
}
