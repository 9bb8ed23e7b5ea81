import { ConfigError } from '../shared/config-error';
import { loadClientCredentials, type ClientCredentialsConfig } from '../shared/client-credentials';
import { baseUrl, integer, optionalString, type Env } from '../shared/env';
import { subscriptionIdRuleFrom, type SubscriptionIdRule } from '../shared/subscription-id';
import type { WindowSettings } from './window';

/** Secrets Manager in AWS ({"clientId","clientSecret"}), plain variables only locally: the same shape as Limio's. */
type ZuoraCredentialsConfig = ClientCredentialsConfig;

export interface SweepConfig {
  /** The tenant's REST root, no trailing slash (https, or http for 127.0.0.1/localhost only). */
  readonly zuoraBaseUrl: string;
  readonly credentials: ZuoraCredentialsConfig;
  /** Multi-entity tenants: the entity the sweep reads (Zuora-Entity-Ids). */
  readonly entityId?: string;
  /** How often the schedule starts a sweep. */
  readonly intervalSeconds: number;
  readonly window: WindowSettings;
  /** SWEEP_COMMIT_LAG_SECONDS: a change is visible to every reader of Zuora this long after its UpdatedDate. */
  readonly commitLagSeconds: number;
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
  /**
   * A change is committed (visible to every reader) within this long of its UpdatedDate: Zuora stamps it before the
   * commit, and UpdatedDate has whole seconds; a minute is far beyond what callouts show and costs only an extra
   * Limio call for a change whose sync started within it and cannot otherwise be shown to have read it.
   */
  commitLagSeconds: 60,
  zuoraTimeoutMs: 60_000,
} as const;

const DAY_SECONDS = 24 * 60 * 60;

/** Any of these makes the sweep wanted; then all it needs must be right, or the start stops. */
const ZUORA_VARIABLES = [
  'ZUORA_BASE_URL',
  'ZUORA_SECRET_ID',
  'ZUORA_CLIENT_ID',
  'ZUORA_CLIENT_SECRET',
  'ZUORA_ENTITY_ID',
] as const;

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
  const intervalSeconds = integer(env, 'SWEEP_INTERVAL_SECONDS', SWEEP_DEFAULTS.intervalSeconds, {
    min: 60,
    max: DAY_SECONDS,
  });
  const settleSeconds = integer(env, 'SWEEP_SETTLE_SECONDS', SWEEP_DEFAULTS.settleSeconds, {
    min: 0,
    max: DAY_SECONDS,
  });
  const overlapSeconds = integer(env, 'SWEEP_OVERLAP_SECONDS', SWEEP_DEFAULTS.overlapSeconds, {
    min: 0,
    max: DAY_SECONDS,
  });
  const initialLookbackSeconds = integer(env, 'SWEEP_INITIAL_LOOKBACK_SECONDS', SWEEP_DEFAULTS.initialLookbackSeconds, {
    min: 60,
    max: 31 * DAY_SECONDS,
  });
  const maxSliceSeconds = integer(env, 'SWEEP_SLICE_SECONDS', SWEEP_DEFAULTS.sliceSeconds, {
    min: 60,
    max: DAY_SECONDS,
  });
  // Refused rather than read as the commit lag: its values (2 s by default) meant a clock margin, far too short a lag.
  if (optionalString(env, 'SWEEP_COVERAGE_MARGIN_SECONDS') !== undefined) {
    throw new ConfigError(
      'SWEEP_COVERAGE_MARGIN_SECONDS',
      'was replaced by SWEEP_COMMIT_LAG_SECONDS (how long after its UpdatedDate a change is visible to every reader, default 60): remove it, and set SWEEP_COMMIT_LAG_SECONDS if 60 does not suit',
    );
  }
  const commitLagSeconds = integer(env, 'SWEEP_COMMIT_LAG_SECONDS', SWEEP_DEFAULTS.commitLagSeconds, {
    min: 0,
    max: 3600,
  });
  return {
    zuoraBaseUrl,
    credentials,
    ...(entityId !== undefined && { entityId }),
    intervalSeconds,
    window: { settleSeconds, overlapSeconds, initialLookbackSeconds, maxSliceSeconds },
    commitLagSeconds,
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
    throw new ConfigError(
      'ZUORA_ENTITY_ID',
      `must be a Zuora entity id (letters, digits and "-", at most 64), got "${entityId}"`,
    );
  }
  const zuoraTimeoutMs = integer(env, 'ZUORA_TIMEOUT_MS', SWEEP_DEFAULTS.zuoraTimeoutMs, { min: 1000, max: 300_000 });
  return { zuoraBaseUrl, credentials, ...(entityId !== undefined && { entityId }), zuoraTimeoutMs };
}

/** ZUORA_SECRET_ID (Secrets Manager, in AWS) or, for local use only, ZUORA_CLIENT_ID + ZUORA_CLIENT_SECRET; never both. */
function loadZuoraCredentials(env: Env): ZuoraCredentialsConfig {
  return loadClientCredentials(env, 'ZUORA');
}
