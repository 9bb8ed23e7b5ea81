import type { Logger } from '@aws-lambda-powertools/logger';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import { PollerController } from '../functions/breaker/polling-controller';
import { createProbeHandler, type ProbeRunReport } from '../functions/breaker/probe-handler';
import { limioProbeFor } from '../functions/breaker/probe-lambda';
import { startProbeLoop, type ProbeLoop } from '../functions/breaker/probe-loop';
import type { loadSyncConfig } from '../functions/sync/config';
import { probeSubscription } from './handler-env';
import type { SqsPoller } from './sqs-poller';
import type { TenantAccess } from './tenants';

/**
 * Outage mode locally: the probe Lambda's handler on a timer instead of its schedule, driving the local poller
 * (pause, half-open cap, full speed) as in AWS it drives the event source mapping.
 */
export interface ProbeScheduleOptions {
  readonly store: BreakerStore;
  readonly poller: SqsPoller;
  readonly limio: TenantAccess;
  readonly syncConfig: ReturnType<typeof loadSyncConfig>;
  /** The handlers' environment: PROBE_SUBSCRIPTION_ID. */
  readonly handlerEnv: Record<string, string>;
  /** The poller's concurrency at full speed. */
  readonly fullConcurrency: number;
  /** { logger } to silence it (npm start quiet, the tests); {} for Powertools' own. */
  readonly logging: { logger?: Logger };
  readonly onProbe?: (report: ProbeRunReport) => void;
  readonly onError?: (error: unknown) => void;
}

export function startProbeSchedule(options: ProbeScheduleOptions): ProbeLoop {
  const { syncConfig, limio, fullConcurrency } = options;
  const runProbe = createProbeHandler({
    store: options.store,
    controller: new PollerController(options.poller),
    probe: limioProbeFor({
      limioBaseUrl: limio.baseUrl,
      credentials: { source: 'environment', clientId: limio.clientId, clientSecret: limio.clientSecret },
      limioTimeoutMs: syncConfig.limioTimeoutMs,
      ...probeSubscription(options.handlerEnv, syncConfig),
    }),
    // Half-open lets a small batch through: never more pollers than full speed has.
    settings: {
      ...syncConfig.breaker.settings,
      halfOpenMaxConcurrency: Math.min(syncConfig.breaker.settings.halfOpenMaxConcurrency, fullConcurrency),
    },
    fullConcurrency,
    ...options.logging,
  });
  return startProbeLoop({
    intervalSeconds: syncConfig.breaker.settings.probeIntervalSeconds,
    run: async () => {
      const report = await runProbe();
      options.onProbe?.(report);
      return report;
    },
    ...(options.onError && { onError: options.onError }),
  });
}
