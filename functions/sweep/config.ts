import { ConfigError } from '../shared/config-error';
import { loadClientCredentials, type ClientCredentialsConfig } from '../shared/client-credentials';
import { baseUrl, integer, optionalString, type Env } from '../shared/env';
import { subscriptionIdRuleFrom, type SubscriptionIdRule } from '../shared/subscription-id';
import type { WindowSettings } from './window';

/** Secrets Manager in AWS ({"clientId","clientSecret"}), plain variables only locally: the same shape as Limio's. */
export type ZuoraCredentialsConfig = ClientCredentialsConfig;

export interface SweepConfig {
  /** The tenant's REST root, no trailing slash (https, or http for 127.0.0.1/localhost only). */
  readonly zuoraBaseUrl: string;
  readonly credentials: ZuoraCredentialsConfig;
  /** Multi-entity tenants: the entity the sweep reads (Zuora-Entity-Ids). */
  readonly entityId?: string;
  /** How often the schedule starts a sweep. */
  readonly intervalSeconds: number;
  readonly window: WindowSettings;
  /** A sync must have started this long after UpdatedDate to count as having read the change. */
  readonly coverageMarginSeconds: number;
  readonly zuoraTimeoutMs: number;
  readonly subscriptionIdRule: SubscriptionIdRule;
}

export const SWEEP_DEFAULTS = {
  intervalSeconds: 15 * 60,
  settleSeconds: 5 * 60,
  overlapSeconds: 10 * 60,
  initialLookbackSeconds: 60 * 60,
  /** One hour per query; halved automatically while slices do not fit an invocation. */
  sliceSeconds: 60 * 60,
  /** UpdatedDate has whole seconds (up to 1 s early) and clocks differ a little; callouts take seconds anyway. */
  coverageMarginSeconds: 2,
  zuoraTimeoutMs: 60_000,
} as const;

const DAY_SECONDS = 24 * 60 * 60;

/** Any of these makes the sweep wanted; then all it needs must be right, or the start stops. */
const ZUORA_VARIABLES = ['ZUORA_BASE_URL', 'ZUORA_SECRET_ID', 'ZUORA_CLIENT_ID', 'ZUORA_CLIENT_SECRET', 'ZUORA_ENTITY_ID'] as const;

/** The sweep is optional: off when no Zuora setting is given at all. */
export function sweepRequested(env: Env): boolean {
  return ZUORA_VARIABLES.some((name) => optionalString(env, name) !== undefined);
}

/** Zuora entity ids are hexadecimal or UUID-like; anything else cannot be a header value we want to send. */
const ENTITY_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Reads and checks the sweep's environment once; every error names its variable. */
export function loadSweepConfig(env: Env): SweepConfig {
  const { zuoraBaseUrl, credentials, entityId, zuoraTimeoutMs } = loadZuoraConnection(env);
  // EventBridge schedules run at most once a minute.
  const intervalSeconds = integer(env, 'SWEEP_INTERVAL_SECONDS', SWEEP_DEFAULTS.intervalSeconds, { min: 60, max: DAY_SECONDS });
  const settleSeconds = integer(env, 'SWEEP_SETTLE_SECONDS', SWEEP_DEFAULTS.settleSeconds, { min: 0, max: DAY_SECONDS });
  const overlapSeconds = integer(env, 'SWEEP_OVERLAP_SECONDS', SWEEP_DEFAULTS.overlapSeconds, { min: 0, max: DAY_SECONDS });
  const initialLookbackSeconds = integer(env, 'SWEEP_INITIAL_LOOKBACK_SECONDS', SWEEP_DEFAULTS.initialLookbackSeconds, {
    min: 60,
    max: 31 * DAY_SECONDS,
  });
  const maxSliceSeconds = integer(env, 'SWEEP_SLICE_SECONDS', SWEEP_DEFAULTS.sliceSeconds, { min: 60, max: DAY_SECONDS });
  const coverageMarginSeconds = integer(env, 'SWEEP_COVERAGE_MARGIN_SECONDS', SWEEP_DEFAULTS.coverageMarginSeconds, { min: 0, max: 3600 });
  return {
    zuoraBaseUrl,
    credentials,
    ...(entityId !== undefined && { entityId }),
    intervalSeconds,
    window: { settleSeconds, overlapSeconds, initialLookbackSeconds, maxSliceSeconds },
    coverageMarginSeconds,
    zuoraTimeoutMs,
    subscriptionIdRule: subscriptionIdRuleFrom(optionalString(env, 'SUBSCRIPTION_ID_PATTERN')),
  };
}

/** The stack's one Zuora connection, read the same way by the sweep and the fan-out Lambda. */
export interface ZuoraConnectionConfig {
  readonly zuoraBaseUrl: string;
  readonly credentials: ZuoraCredentialsConfig;
  readonly entityId?: string;
  readonly zuoraTimeoutMs: number;
}

/** ZUORA_BASE_URL, the credentials, ZUORA_ENTITY_ID and ZUORA_TIMEOUT_MS; every error names its variable. */
export function loadZuoraConnection(env: Env): ZuoraConnectionConfig {
  const zuoraBaseUrl = baseUrl(env, 'ZUORA_BASE_URL');
  const credentials = loadZuoraCredentials(env);
  const entityId = optionalString(env, 'ZUORA_ENTITY_ID');
  if (entityId !== undefined && !ENTITY_ID.test(entityId)) {
    throw new ConfigError('ZUORA_ENTITY_ID', `must be a Zuora entity id (letters, digits and "-", at most 64), got "${entityId}"`);
  }
  const zuoraTimeoutMs = integer(env, 'ZUORA_TIMEOUT_MS', SWEEP_DEFAULTS.zuoraTimeoutMs, { min: 1000, max: 300_000 });
  return { zuoraBaseUrl, credentials, ...(entityId !== undefined && { entityId }), zuoraTimeoutMs };
}

/** ZUORA_SECRET_ID (Secrets Manager, in AWS) or, for local use only, ZUORA_CLIENT_ID + ZUORA_CLIENT_SECRET; never both. */
export function loadZuoraCredentials(env: Env): ZuoraCredentialsConfig {
  return loadClientCredentials(env, 'ZUORA');
}
