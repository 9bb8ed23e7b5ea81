import { DEFAULTS } from '../shared/defaults';
import { baseUrl, integer, optionalString, requiredString, type Env } from '../shared/env';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../shared/subscription-id';
import { ConfigError } from '../shared/config-error';
import { loadLimioCredentials, type LimioCredentialsConfig } from '../limio';
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
    credentials: loadLimioCredentials(env),
    limioTimeoutMs: integer(env, 'LIMIO_TIMEOUT_MS', DEFAULTS.limioTimeoutMs, { min: 100, max: 60_000 }),
    ...(probeSubscriptionId !== undefined && { probeSubscriptionId }),
    settings: loadBreakerSettings(env),
  };
}

function requiredInteger(env: Env, name: string, bounds: { min: number; max: number }): number {
  requiredString(env, name);
  return integer(env, name, bounds.min, bounds);
}
