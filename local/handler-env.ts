import { loadCalloutConfig } from '../functions/callout/config';
import { loadFanOutConfig } from '../functions/fanout/config';
import { ConfigError } from '../functions/shared/config-error';
import { checkSubscriptionId } from '../functions/shared/subscription-id';
import { loadSweepLambdaConfig } from '../functions/sweep/lambda-sweep';
import { loadSyncConfig } from '../functions/sync/config';
import type { RuntimeConfig } from './config';
import { LOCAL_TABLES } from './defaults';

/**
 * The local runtime's handlers read their settings as in Lambda, from environment variables: the checks run
 * before anything starts, the variables the runtime adds (tables, the sweep's tenant, the probe's subscription),
 * and the process.env values the AWS SDK reads, put back on stop.
 */

/** The handlers find their tables as in AWS: by name, in whatever DynamoDB AWS_ENDPOINT_URL_DYNAMODB names. */
export const TABLE_VARIABLES = {
  LEDGER_TABLE_NAME: LOCAL_TABLES.ledger,
  BREAKER_TABLE_NAME: LOCAL_TABLES.breaker,
} as const;

/** Runs the handlers' config loaders with stand-ins for the values the runtime fills in once it runs. */
export function checkHandlerSettings(config: RuntimeConfig): void {
  const placeholders = {
    QUEUE_URL: 'http://127.0.0.1/000000000000/pending',
    DLQ_URL: 'http://127.0.0.1/000000000000/pending-dlq',
    LIMIO_BASE_URL: config.limio.kind === 'tenant' ? config.limio.baseUrl : 'http://127.0.0.1',
    LIMIO_CLIENT_ID: 'pending',
    LIMIO_CLIENT_SECRET: 'pending',
    ...TABLE_VARIABLES,
  };
  loadCalloutConfig({ ...config.handlerEnv, ...placeholders });
  loadSyncConfig({ ...config.handlerEnv, ...placeholders });
  const zuora =
    config.zuora.kind === 'tenant'
      ? config.zuora
      : { baseUrl: 'http://127.0.0.1', clientId: 'pending', clientSecret: 'pending' };
  loadSweepLambdaConfig(sweepLambdaEnv({ ...config.handlerEnv, ...placeholders }, zuora));
  loadFanOutConfig(
    sweepLambdaEnv(
      { ...config.handlerEnv, ...placeholders, ACCOUNT_QUEUE_URL: 'http://127.0.0.1/000000000000/pending-accounts' },
      zuora,
    ),
  );
}

/**
 * The sweep Lambda's environment: the handlers' plus the tenant and its client. SWEEP_INTERVAL_SECONDS is the
 * runtime's timer (any seconds locally), not the Lambda's to check against EventBridge's one-minute floor.
 */
export function sweepLambdaEnv(
  handlerEnv: Record<string, string>,
  zuora: { baseUrl: string; clientId: string; clientSecret: string },
): Record<string, string> {
  const { SWEEP_INTERVAL_SECONDS: _interval, ...rest } = handlerEnv;
  return {
    ...rest,
    ZUORA_BASE_URL: zuora.baseUrl,
    ZUORA_CLIENT_ID: zuora.clientId,
    ZUORA_CLIENT_SECRET: zuora.clientSecret,
  };
}

/**
 * PROBE_SUBSCRIPTION_ID, as the probe Lambda reads it: a subscription the probe syncs besides asking for a token.
 * The sandbox's injected faults (LIMIO_SANDBOX_502_RATE, ...) hit syncs only, never its token endpoint, so only
 * this lets the probe see such an outage.
 */
export function probeSubscription(
  env: Record<string, string>,
  syncConfig: ReturnType<typeof loadSyncConfig>,
): { probeSubscriptionId?: string } {
  const raw = env.PROBE_SUBSCRIPTION_ID?.trim();
  if (!raw) return {};
  const checked = checkSubscriptionId(raw, syncConfig.subscriptionIdRule);
  if (!checked.ok) throw new ConfigError('PROBE_SUBSCRIPTION_ID', checked.reason);
  return { probeSubscriptionId: checked.id };
}

/** process.env values the runtime sets for the handlers and the AWS SDK, put back on stop. */
export function setProcessEnv(values: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(values)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
