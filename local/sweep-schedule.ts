import type { Logger } from '@aws-lambda-powertools/logger';
import { startProbeLoop, type ProbeLoop } from '../functions/breaker/probe-loop';
import { createSweepLambda, loadSweepLambdaConfig } from '../functions/sweep/lambda-sweep';
import type { SweepReport } from '../functions/sweep/sweep';
import { LOCAL_SWEEP_TIMEOUT_SECONDS } from './defaults';
import { sweepLambdaEnv, TABLE_VARIABLES } from './handler-env';
import { createLambdaContext } from './lambda-context';
import type { TenantAccess } from './tenants';

/**
 * The sweep Lambda as deployed, invoked by a timer instead of its EventBridge schedule (first run one interval
 * after the start, as a schedule's would be). It shares only the event loop with the callout path: a slow or
 * failing Zuora delays nothing there, and a failed run is reported and the next one runs on time.
 */
export interface SweepScheduleOptions {
  readonly handlerEnv: Record<string, string>;
  readonly zuora: TenantAccess;
  readonly intervalSeconds: number;
  /** { logger } to silence it (npm start quiet, the tests); {} for Powertools' own. */
  readonly logging: { logger?: Logger };
  readonly onSweep?: (report: SweepReport) => void;
  /** Without it, a failed run goes to onError like any failed timer run. */
  readonly onSweepFailed?: (error: Error) => void;
  readonly onError?: (error: unknown) => void;
}

export function startSweepSchedule(options: SweepScheduleOptions): ProbeLoop {
  const sweepLambda = createSweepLambda(
    loadSweepLambdaConfig(sweepLambdaEnv({ ...options.handlerEnv, ...TABLE_VARIABLES }, options.zuora)),
    options.logging,
  );
  return startProbeLoop({
    intervalSeconds: options.intervalSeconds,
    run: async () => {
      try {
        options.onSweep?.(await sweepLambda({}, createLambdaContext('sweep', LOCAL_SWEEP_TIMEOUT_SECONDS * 1000)));
      } catch (error) {
        if (options.onSweepFailed) options.onSweepFailed(error as Error);
        else throw error;
      }
    },
    ...(options.onError && { onError: options.onError }),
  });
}
