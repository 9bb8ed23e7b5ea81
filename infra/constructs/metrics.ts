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
/**
 * The fan-out Lambda's (functions/fanout/, the issue 22 contract): service "fanout". Written out here, not imported,
 * because the CDK was built beside that Lambda against the contract.
 */
export const FAN_OUT_METRICS_SERVICE = 'fanout';
export const FAN_OUT_METRICS = {
  accounts: 'FanOutAccounts',
  subscriptionsQueued: 'FanOutSubscriptionsQueued',
  unknownAccounts: 'FanOutUnknownAccounts',
  continuations: 'FanOutContinuations',
  zuoraRetries: 'FanOutZuoraRetries',
} as const;
/** The callout Lambda's account metrics (functions/callout/callout-handler.ts). */
export const CALLOUT_ACCOUNT_METRICS = { queued: 'AccountKeysQueued', ignored: 'CalloutAccountsIgnored' } as const;

/** Shown on their own dashboard widget, not among the Limio calls. */
export const LEDGER_SYNC_METRICS: readonly string[] = [SYNC_METRICS.coveredByLedger, SYNC_METRICS.heldForCooldown, SYNC_METRICS.ledgerUnavailable];

/** A custom metric the functions publish (embedded metric format), by name and service dimension. */
export function bridgeMetric(metricName: string, service: string, period: Duration, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: INFRA_DEFAULTS.metricsNamespace, metricName, dimensionsMap: { service }, period, statistic });
}
