import { DEFAULTS } from '../shared/defaults';
import { baseUrl, integer, optionalString, requiredString, type Env } from '../shared/env';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../shared/subscription-id';
import { ConfigError } from '../shared/config-error';
import type { LimioCredentialsConfig } from '../sync/config';
import { loadBreakerSettings, type BreakerSettings } from './settings';

/** The probe Lambda's environment, validated once at cold start. */
export interface ProbeConfig {
  /** BREAKER_TABLE_NAME: the breaker's DynamoDB table. */
  readonly tableName: string;
  /** SYNC_EVENT_SOURCE_MAPPING_ID: the UUID of the sync function's SQS event source mapping. */
  readonly eventSourceMappingId: string;
  /** SYNC_MAX_CONCURRENCY: the mapping's MaximumConcurrency at full speed, restored when the breaker closes. */
  readonly fullConcurrency: number;
  readonly limioBaseUrl: string;
  /** LIMIO_SECRET_ID, as for the sync Lambda (or LIMIO_CLIENT_ID + LIMIO_CLIENT_SECRET locally). */
  readonly credentials: LimioCredentialsConfig;
  readonly limioTimeoutMs: number;
  /** PROBE_SUBSCRIPTION_ID: optional; a subscription Limio may sync at every probe. */
  readonly probeSubscriptionId?: string;
  readonly settings: BreakerSettings;
}

export function loadProbeConfig(env: Env): ProbeConfig {
  const probeSubscription = optionalString(env, 'PROBE_SUBSCRIPTION_ID');
  let probeSubscriptionId: string | undefined;
  if (probeSubscription !== undefined) {
    const rule = subscriptionIdRuleFrom(optionalString(env, 'SUBSCRIPTION_ID_PATTERN'));
    const checked = checkSubscriptionId(probeSubscription, rule);
    if (!checked.ok) throw new ConfigError('PROBE_SUBSCRIPTION_ID', checked.reason);
    probeSubscriptionId = checked.id;
  }
  return {
    tableName: requiredString(env, 'BREAKER_TABLE_NAME'),
    eventSourceMappingId: requiredString(env, 'SYNC_EVENT_SOURCE_MAPPING_ID'),
    // Required: without it, closing the breaker could not undo the half-open cap of 2.
    fullConcurrency: requiredInteger(env, 'SYNC_MAX_CONCURRENCY', { min: 2, max: 1000 }),
    limioBaseUrl: baseUrl(env, 'LIMIO_BASE_URL'),
    credentials: limioCredentials(env),
    limioTimeoutMs: integer(env, 'LIMIO_TIMEOUT_MS', DEFAULTS.limioTimeoutMs, { min: 100, max: 60_000 }),
    ...(probeSubscriptionId !== undefined && { probeSubscriptionId }),
    settings: loadBreakerSettings(env),
  };
}


function requiredInteger(env: Env, name: string, bounds: { min: number; max: number }): number {
  requiredString(env, name);
  return integer(env, name, bounds.min, bounds);
}

/** The same rule as the sync Lambda's: Secrets Manager in AWS, plain variables only locally, never both. */
function limioCredentials(env: Env): LimioCredentialsConfig {
  const secretId = optionalString(env, 'LIMIO_SECRET_ID');
  const clientId = optionalString(env, 'LIMIO_CLIENT_ID');
  const clientSecret = optionalString(env, 'LIMIO_CLIENT_SECRET');
  if (secretId !== undefined) {
    if (clientId !== undefined || clientSecret !== undefined) {
      throw new ConfigError('LIMIO_SECRET_ID', 'is set together with LIMIO_CLIENT_ID/LIMIO_CLIENT_SECRET; set only one of the two');
    }
    return { source: 'secrets-manager', secretId };
  }
  if (clientId === undefined && clientSecret === undefined) {
    throw new ConfigError('LIMIO_SECRET_ID', 'is required (or, for local use only, LIMIO_CLIENT_ID and LIMIO_CLIENT_SECRET)');
  }
  return { source: 'environment', clientId: requiredString(env, 'LIMIO_CLIENT_ID'), clientSecret: requiredString(env, 'LIMIO_CLIENT_SECRET') };
}
