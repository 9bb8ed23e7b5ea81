import { ConfigError } from '../shared/config-error';
import { DEFAULTS } from '../shared/defaults';
import { baseUrl, integer, oneOf, optionalString, requiredString, type Env } from '../shared/env';
import { subscriptionIdRuleFrom, type SubscriptionIdRule } from '../shared/subscription-id';
import { loadSyncBreakerConfig, type SyncBreakerConfig } from '../breaker/sync-breaker';
import { loadLedgerConfig, type LedgerConfig } from '../ledger/config';
import { loadLimioCredentials, type LimioCredentialsConfig } from '../limio';

export interface SyncConfig {
  /** Main queue: ChangeMessageVisibility for backoff. */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Tenant root, no trailing slash: the token endpoint is at the root, the sync API under /api. */
  readonly limioBaseUrl: string;
  readonly credentials: LimioCredentialsConfig;
  readonly syncConcurrency: number;
  readonly limioTimeoutMs: number;
  readonly tokenExpiryMarginSeconds: number;
  readonly subscriptionIdRule: SubscriptionIdRule;
  /**
   * Outage mode: the retry budget by time (RETRY_BUDGET_SECONDS, MAX_ATTEMPTS as a safety net, BACKOFF_*,
   * BREAKER_HOLD_SECONDS) in `breaker.retry`, and the circuit breaker (BREAKER_TABLE_NAME, BREAKER_*). Without
   * BREAKER_TABLE_NAME (or a store given to the handler) the breaker is off and only the time budget applies.
   */
  readonly breaker: SyncBreakerConfig;
  /**
   * The sync ledger (LEDGER_TABLE_NAME, SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS). Without a table (or a
   * store given to the handler) there is no ledger: every batch syncs each of its subscriptions, as before.
   */
  readonly ledger: LedgerConfig;
  /** The adaptive limit on Limio calls in flight (issue #21); off: SYNC_CONCURRENCY calls at once, as before. */
  readonly adaptive: AdaptiveConfig | undefined;
}

interface AdaptiveConfig {
  /** SYNC_CONCURRENCY is the ceiling. */
  readonly ceiling: number;
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly latencyTolerance: number;
  /** The longest a message waits for a Limio slot before it goes back to the queue. */
  readonly slotWaitSeconds: number;
}

/**
 * SQS refuses a visibility timeout above 12 hours, counted from the receive: a backoff of up to this is asked
 * for within what is left of it (withinVisibilityCeiling).
 */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/** Reads and checks the sync Lambda's environment once, at cold start; every error names its variable. */
export function loadSyncConfig(env: Env): SyncConfig {
  const backoffBaseSeconds = integer(env, 'BACKOFF_BASE_SECONDS', DEFAULTS.backoffBaseSeconds, {
    min: 1,
    max: MAX_VISIBILITY_SECONDS,
  });
  const backoffMaxSeconds = integer(env, 'BACKOFF_MAX_SECONDS', DEFAULTS.backoffMaxSeconds, {
    min: 1,
    max: MAX_VISIBILITY_SECONDS,
  });
  if (backoffMaxSeconds < backoffBaseSeconds) {
    throw new ConfigError(
      'BACKOFF_MAX_SECONDS',
      `must be at least BACKOFF_BASE_SECONDS (${backoffBaseSeconds}), got ${backoffMaxSeconds}`,
    );
  }
  // Checked above first so that each error names the variable an operator must change; read again there.
  const breaker = loadSyncBreakerConfig(env);
  const syncConcurrency = integer(env, 'SYNC_CONCURRENCY', DEFAULTS.syncConcurrency, { min: 1, max: 100 });
  return {
    queueUrl: requiredString(env, 'QUEUE_URL'),
    deadLetterQueueUrl: requiredString(env, 'DLQ_URL'),
    limioBaseUrl: baseUrl(env, 'LIMIO_BASE_URL'),
    credentials: loadLimioCredentials(env),
    syncConcurrency,
    limioTimeoutMs: integer(env, 'LIMIO_TIMEOUT_MS', DEFAULTS.limioTimeoutMs, { min: 100, max: 120_000 }),
    tokenExpiryMarginSeconds: DEFAULTS.tokenExpiryMarginSeconds,
    subscriptionIdRule: subscriptionIdRuleFrom(optionalString(env, 'SUBSCRIPTION_ID_PATTERN')),
    breaker,
    ledger: loadLedgerConfig(env),
    adaptive: loadAdaptiveConfig(env, syncConcurrency),
  };
}

/** SYNC_ADAPTIVE (default true) and its settings; each bound says what the limit can mean. */
function loadAdaptiveConfig(env: Env, ceiling: number): AdaptiveConfig | undefined {
  if (!oneOf(env, 'SYNC_ADAPTIVE', ['true', 'false'], 'true').startsWith('t')) return undefined;
  const minLimit = decimal(env, 'SYNC_ADAPTIVE_MIN_LIMIT', DEFAULTS.syncAdaptiveMinLimit, { min: 0.01, max: ceiling });
  return {
    ceiling,
    minLimit,
    initialLimit: decimal(
      env,
      'SYNC_ADAPTIVE_INITIAL_LIMIT',
      Math.max(minLimit, Math.min(ceiling, DEFAULTS.syncConcurrency)),
      { min: minLimit, max: ceiling },
    ),
    latencyTolerance: decimal(env, 'SYNC_ADAPTIVE_LATENCY_TOLERANCE', 0.2, { min: 0.05, max: 5 }),
    slotWaitSeconds: integer(env, 'SYNC_SLOT_WAIT_SECONDS', 10, { min: 1, max: 600 }),
  };
}

function decimal(env: Env, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(?:\.\d+)?$/.test(raw)) throw new ConfigError(name, `must be a number such as 0.5, got "${raw}"`);
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max)
    throw new ConfigError(name, `must be between ${bounds.min} and ${bounds.max}, got ${value}`);
  return value;
}
