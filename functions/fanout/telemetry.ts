import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../shared/metrics';

/** Service dimension of the fan-out Lambda's metrics, under the bridge's one namespace. */
export const FANOUT_SERVICE_NAME = 'fanout';

/** The metric names the contract fixes (design i22, "Fan-out Lambda contract"); the dashboard reads them. */
export const FANOUT_METRICS = {
  /** Account messages fanned out to their last page (a continuation counts when it ends). */
  accounts: 'FanOutAccounts',
  /** Subscription messages put on the main queue. */
  subscriptionsQueued: 'FanOutSubscriptionsQueued',
  /** Account keys Zuora does not know: dead-lettered as terminal. */
  unknownAccounts: 'FanOutUnknownAccounts',
  /** Continuations queued because the invocation ran out of time between pages. */
  continuations: 'FanOutContinuations',
  /** Zuora requests tried again (429, 5xx, timeouts), in the invocation or by a message's backoff. */
  zuoraRetries: 'FanOutZuoraRetries',
} as const;

export function createFanOutLogger(): Logger {
  return new Logger({ serviceName: FANOUT_SERVICE_NAME });
}

export function createFanOutMetrics(): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: FANOUT_SERVICE_NAME });
}
