import { DEFAULTS, maxRetryBudgetSeconds } from '../shared/defaults';
import { integer, type Env } from '../shared/env';

/**
 * Outage mode's tunables. Every duration is in seconds and settable by environment, so the local runtime and
 * the chaos run can compress a day-long outage into seconds with the very same code.
 */
export const BREAKER_DEFAULTS = {
  /** A Limio-side failure is retried until this much closed-breaker time has passed since the callout. */
  retryBudgetSeconds: 24 * 60 * 60,
  /**
   * Hard cap on receives, a safety net for bugs only: the time budget decides. Full-jitter backoff at the
   * 15-minute cap averages 450 s between receives, so a 24 h budget takes about 192 receives plus the ramp;
   * 400 leaves room for receives while the breaker flips (held messages) without ever cutting a budget short.
   * SQS's redrive maxReceiveCount is one above (401, within SQS's limit of 1000). Shared with the queue topology.
   */
  maxAttempts: DEFAULTS.maxAttempts,
  backoffBaseSeconds: DEFAULTS.backoffBaseSeconds,
  backoffMaxSeconds: DEFAULTS.backoffMaxSeconds,
  /** Width of one outcome bucket; the rule looks at the current and the previous bucket (one to two widths). */
  windowSeconds: 60,
  /** Calls the window must hold before the failure share means anything. */
  minCalls: 10,
  /** Share of Limio-side failures among the window's calls that trips the breaker, in percent. */
  failureThresholdPercent: 80,
  /** Failures must come from this many distinct subscriptions, so one bad subscription can never trip it. */
  minDistinctSubscriptions: 3,
  /**
   * Batches that found no token (endpoint down, slow, or refusing the credentials) in the window that trip it on
   * their own. Refused credentials count too: nothing could sync, and holding the messages beats exhausting them.
   */
  tokenFailures: 3,
  /** Half-open closes after this many successful syncs... */
  halfOpenSuccesses: 5,
  /** ...or, with no traffic to judge by, after this many healthy probes in a row. */
  halfOpenHealthyProbes: 3,
  /** Lambda's MaximumConcurrency minimum is 2: the smallest batch the event source can send. */
  halfOpenMaxConcurrency: 2,
  /** How long a sync Lambda instance trusts the state it read. */
  stateCacheSeconds: 5,
  /** First hold of a message received while the breaker is open; it doubles with each receive, up to 12 h. */
  holdSeconds: 60,
  /** The probe's schedule (EventBridge rate in AWS, a timer locally). */
  probeIntervalSeconds: 60,
  /** Outcome buckets are deleted by DynamoDB TTL after this long. */
  bucketTtlSeconds: 24 * 60 * 60,
  /** Open intervals older than the queue's retention can no longer matter to any message. */
  openIntervalRetentionSeconds: DEFAULTS.retentionSeconds,
  /** Bound on the state item's size: the oldest intervals are merged beyond this (only ever lengthens budgets). */
  maxOpenIntervals: 200,
} as const;

export interface RetrySettings {
  readonly retryBudgetSeconds: number;
  readonly maxAttempts: number;
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
  readonly holdSeconds: number;
}

export interface BreakerSettings {
  readonly windowSeconds: number;
  readonly minCalls: number;
  readonly failureThresholdPercent: number;
  readonly minDistinctSubscriptions: number;
  readonly tokenFailures: number;
  readonly halfOpenSuccesses: number;
  readonly halfOpenHealthyProbes: number;
  readonly halfOpenMaxConcurrency: number;
  readonly stateCacheSeconds: number;
  readonly bucketTtlSeconds: number;
  readonly openIntervalRetentionSeconds: number;
  readonly maxOpenIntervals: number;
  /** The probe's period: the EventBridge rate in AWS (whole minutes), the timer locally. */
  readonly probeIntervalSeconds: number;
}

/** Read by the sync Lambda (phase 2) next to its own settings; MAX_ATTEMPTS and BACKOFF_* are shared names. */
export function loadRetrySettings(env: Env): RetrySettings {
  const backoffMaxSeconds = integer(env, 'BACKOFF_MAX_SECONDS', BREAKER_DEFAULTS.backoffMaxSeconds, {
    min: 1,
    max: 12 * 60 * 60,
  });
  return {
    // SQS keeps a message 14 days at most; a longer budget would be a promise the queue cannot keep.
    retryBudgetSeconds: integer(env, 'RETRY_BUDGET_SECONDS', BREAKER_DEFAULTS.retryBudgetSeconds, {
      min: 1,
      max: maxRetryBudgetSeconds(backoffMaxSeconds),
    }),
    maxAttempts: integer(env, 'MAX_ATTEMPTS', BREAKER_DEFAULTS.maxAttempts, { min: 1, max: 999 }),
    backoffBaseSeconds: integer(env, 'BACKOFF_BASE_SECONDS', BREAKER_DEFAULTS.backoffBaseSeconds, {
      min: 1,
      max: backoffMaxSeconds,
    }),
    backoffMaxSeconds,
    holdSeconds: integer(env, 'BREAKER_HOLD_SECONDS', BREAKER_DEFAULTS.holdSeconds, { min: 1, max: 12 * 60 * 60 }),
  };
}

export function loadBreakerSettings(env: Env): BreakerSettings {
  return {
    windowSeconds: integer(env, 'BREAKER_WINDOW_SECONDS', BREAKER_DEFAULTS.windowSeconds, { min: 1, max: 60 * 60 }),
    minCalls: integer(env, 'BREAKER_MIN_CALLS', BREAKER_DEFAULTS.minCalls, { min: 1, max: 100_000 }),
    failureThresholdPercent: integer(
      env,
      'BREAKER_FAILURE_THRESHOLD_PERCENT',
      BREAKER_DEFAULTS.failureThresholdPercent,
      { min: 1, max: 100 },
    ),
    minDistinctSubscriptions: integer(
      env,
      'BREAKER_MIN_DISTINCT_SUBSCRIPTIONS',
      BREAKER_DEFAULTS.minDistinctSubscriptions,
      { min: 2, max: 100 },
    ),
    tokenFailures: integer(env, 'BREAKER_TOKEN_FAILURES', BREAKER_DEFAULTS.tokenFailures, { min: 1, max: 1000 }),
    halfOpenSuccesses: integer(env, 'BREAKER_HALF_OPEN_SUCCESSES', BREAKER_DEFAULTS.halfOpenSuccesses, {
      min: 1,
      max: 1000,
    }),
    halfOpenHealthyProbes: integer(env, 'BREAKER_HALF_OPEN_HEALTHY_PROBES', BREAKER_DEFAULTS.halfOpenHealthyProbes, {
      min: 1,
      max: 1000,
    }),
    halfOpenMaxConcurrency: integer(env, 'BREAKER_HALF_OPEN_MAX_CONCURRENCY', BREAKER_DEFAULTS.halfOpenMaxConcurrency, {
      min: 2,
      max: 1000,
    }),
    stateCacheSeconds: integer(env, 'BREAKER_STATE_CACHE_SECONDS', BREAKER_DEFAULTS.stateCacheSeconds, {
      min: 0,
      max: 300,
    }),
    bucketTtlSeconds: BREAKER_DEFAULTS.bucketTtlSeconds,
    openIntervalRetentionSeconds: BREAKER_DEFAULTS.openIntervalRetentionSeconds,
    maxOpenIntervals: BREAKER_DEFAULTS.maxOpenIntervals,
    probeIntervalSeconds: integer(env, 'BREAKER_PROBE_INTERVAL_SECONDS', BREAKER_DEFAULTS.probeIntervalSeconds, {
      min: 1,
      max: 60 * 60,
    }),
  };
}

export const DEFAULT_RETRY_SETTINGS: RetrySettings = loadRetrySettings({});
export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = loadBreakerSettings({});
