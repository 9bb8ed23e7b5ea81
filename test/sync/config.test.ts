import { ConfigError } from '../../functions/shared/config-error';
import { DEFAULTS } from '../../functions/shared/defaults';
import { loadSyncConfig } from '../../functions/sync/config';

const minimal = {
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123/zuora-limio-sync',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123/zuora-limio-sync-dlq',
  LIMIO_BASE_URL: 'https://acme.prod.limio.com/',
  LIMIO_SECRET_ID: 'zuora-limio-sync/limio',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadSyncConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSyncConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadSyncConfig(minimal);
    expect(config).toMatchObject({
      queueUrl: minimal.QUEUE_URL,
      deadLetterQueueUrl: minimal.DLQ_URL,
      limioBaseUrl: 'https://acme.prod.limio.com',
      credentials: { source: 'secrets-manager', secretId: 'zuora-limio-sync/limio' },
      syncConcurrency: DEFAULTS.syncConcurrency,
      limioTimeoutMs: DEFAULTS.limioTimeoutMs,
      breaker: {
        retry: {
          retryBudgetSeconds: 24 * 60 * 60,
          maxAttempts: 400,
          backoffBaseSeconds: DEFAULTS.backoffBaseSeconds,
          backoffMaxSeconds: DEFAULTS.backoffMaxSeconds,
        },
      },
    });
    // No table: the breaker is off and only the time budget applies.
    expect(config.breaker.tableName).toBeUndefined();
    // No ledger table: no ledger, every batch syncs each of its subscriptions as before.
    expect(config.ledger).toEqual({ timing: { cooldownSeconds: 5, clockMarginSeconds: 1 } });
    expect(config.subscriptionIdRule.numberPattern.test('A-S00000271')).toBe(true);
  });

  it('reads every setting', () => {
    const config = loadSyncConfig({
      ...minimal,
      LIMIO_SECRET_ID: undefined,
      LIMIO_CLIENT_ID: 'local-id',
      LIMIO_CLIENT_SECRET: 'local-secret',
      LIMIO_BASE_URL: 'http://127.0.0.1:4010',
      SYNC_CONCURRENCY: '3',
      MAX_ATTEMPTS: '4',
      LIMIO_TIMEOUT_MS: '2500',
      BACKOFF_BASE_SECONDS: '2',
      BACKOFF_MAX_SECONDS: '60',
      SUBSCRIPTION_ID_PATTERN: 'SUB[0-9]+',
      RETRY_BUDGET_SECONDS: '3600',
      BREAKER_TABLE_NAME: 'zuora-limio-sync-breaker',
      BREAKER_HOLD_SECONDS: '30',
      BREAKER_MIN_CALLS: '4',
      BREAKER_STATE_CACHE_SECONDS: '0',
      LEDGER_TABLE_NAME: 'zuora-limio-sync-ledger',
      SYNC_COOLDOWN_SECONDS: '10',
      SYNC_CLOCK_MARGIN_SECONDS: '2',
    });
    expect(config).toMatchObject({
      credentials: { source: 'environment', clientId: 'local-id', clientSecret: 'local-secret' },
      limioBaseUrl: 'http://127.0.0.1:4010',
      syncConcurrency: 3,
      limioTimeoutMs: 2500,
      breaker: {
        tableName: 'zuora-limio-sync-breaker',
        retry: {
          retryBudgetSeconds: 3600,
          maxAttempts: 4,
          backoffBaseSeconds: 2,
          backoffMaxSeconds: 60,
          holdSeconds: 30,
        },
        settings: { minCalls: 4, stateCacheSeconds: 0 },
      },
      ledger: { tableName: 'zuora-limio-sync-ledger', timing: { cooldownSeconds: 10, clockMarginSeconds: 2 } },
    });
    expect(config.subscriptionIdRule.numberPattern.test('SUB42')).toBe(true);
    expect(config.subscriptionIdRule.numberPattern.test('A-S00000271')).toBe(false);
  });

  it.each([
    ['QUEUE_URL', { QUEUE_URL: undefined }],
    ['DLQ_URL', { DLQ_URL: ' ' }],
    ['LIMIO_BASE_URL', { LIMIO_BASE_URL: undefined }],
    ['LIMIO_BASE_URL', { LIMIO_BASE_URL: 'http://acme.prod.limio.com' }],
    ['LIMIO_SECRET_ID', { LIMIO_SECRET_ID: undefined }],
    ['LIMIO_SECRET_ID', { LIMIO_CLIENT_ID: 'also-set' }],
    ['LIMIO_CLIENT_SECRET', { LIMIO_SECRET_ID: undefined, LIMIO_CLIENT_ID: 'only-the-id' }],
    ['LIMIO_CLIENT_ID', { LIMIO_SECRET_ID: undefined, LIMIO_CLIENT_SECRET: 'only-the-secret' }],
    ['SYNC_CONCURRENCY', { SYNC_CONCURRENCY: '0' }],
    ['SYNC_CONCURRENCY', { SYNC_CONCURRENCY: 'five' }],
    ['MAX_ATTEMPTS', { MAX_ATTEMPTS: '1000' }],
    ['LIMIO_TIMEOUT_MS', { LIMIO_TIMEOUT_MS: '8s' }],
    ['BACKOFF_BASE_SECONDS', { BACKOFF_BASE_SECONDS: '0' }],
    ['BACKOFF_MAX_SECONDS', { BACKOFF_MAX_SECONDS: '50000' }],
    ['BACKOFF_MAX_SECONDS', { BACKOFF_BASE_SECONDS: '100', BACKOFF_MAX_SECONDS: '10' }],
    ['SUBSCRIPTION_ID_PATTERN', { SUBSCRIPTION_ID_PATTERN: '([' }],
    ['RETRY_BUDGET_SECONDS', { RETRY_BUDGET_SECONDS: '0' }],
    ['RETRY_BUDGET_SECONDS', { RETRY_BUDGET_SECONDS: String(15 * 24 * 60 * 60) }],
    ['BREAKER_HOLD_SECONDS', { BREAKER_HOLD_SECONDS: 'a minute' }],
    ['BREAKER_FAILURE_THRESHOLD_PERCENT', { BREAKER_FAILURE_THRESHOLD_PERCENT: '101' }],
    ['BREAKER_MIN_DISTINCT_SUBSCRIPTIONS', { BREAKER_MIN_DISTINCT_SUBSCRIPTIONS: '1' }],
    ['SYNC_COOLDOWN_SECONDS', { SYNC_COOLDOWN_SECONDS: '1' }],
    ['SYNC_CLOCK_MARGIN_SECONDS', { SYNC_CLOCK_MARGIN_SECONDS: 'soon' }],
  ])('names %s when it is missing or malformed', (variable, change) => {
    const error = configError({ ...minimal, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^${variable}: `));
  });

  it('never echoes a client secret in its errors', () => {
    const error = configError({ ...minimal, LIMIO_SECRET_ID: undefined, LIMIO_CLIENT_SECRET: 'hunter2-secret' });
    expect(error.message).not.toContain('hunter2-secret');
  });
});

describe('loadSyncConfig: the adaptive limit (issue #21)', () => {
  const adaptiveOn = { ...minimal, SYNC_ADAPTIVE: 'true' };

  it('is on by default, as SYNC_ADAPTIVE=true', () => {
    expect(loadSyncConfig(minimal).adaptive).toEqual(loadSyncConfig(adaptiveOn).adaptive);
    expect(loadSyncConfig(minimal).adaptive).toBeDefined();
  });

  it('SYNC_ADAPTIVE=true turns it on, with SYNC_CONCURRENCY as its ceiling and the documented defaults', () => {
    expect(loadSyncConfig(adaptiveOn).adaptive).toEqual({
      ceiling: 5,
      initialLimit: 5,
      minLimit: 0.05,
      latencyTolerance: 0.2,
      slotWaitSeconds: 10,
    });
    expect(loadSyncConfig({ ...adaptiveOn, SYNC_CONCURRENCY: '40' }).adaptive).toMatchObject({
      ceiling: 40,
      initialLimit: 5,
    });
    expect(loadSyncConfig({ ...adaptiveOn, SYNC_CONCURRENCY: '2' }).adaptive).toMatchObject({
      ceiling: 2,
      initialLimit: 2,
    });
  });

  it('reads fractional limits and the tolerance, and SYNC_ADAPTIVE=false turns it off', () => {
    const env = {
      ...adaptiveOn,
      SYNC_ADAPTIVE_INITIAL_LIMIT: '0.5',
      SYNC_ADAPTIVE_MIN_LIMIT: '0.1',
      SYNC_ADAPTIVE_LATENCY_TOLERANCE: '0.35',
      SYNC_SLOT_WAIT_SECONDS: '3',
    };
    expect(loadSyncConfig(env).adaptive).toEqual({
      ceiling: 5,
      initialLimit: 0.5,
      minLimit: 0.1,
      latencyTolerance: 0.35,
      slotWaitSeconds: 3,
    });
    expect(loadSyncConfig({ ...env, SYNC_ADAPTIVE: 'false' }).adaptive).toBeUndefined();
  });

  it.each([
    ['SYNC_ADAPTIVE', 'no'],
    ['SYNC_ADAPTIVE_MIN_LIMIT', '0'],
    ['SYNC_ADAPTIVE_MIN_LIMIT', '6'],
    ['SYNC_ADAPTIVE_INITIAL_LIMIT', '0.01'],
    ['SYNC_ADAPTIVE_INITIAL_LIMIT', '6'],
    ['SYNC_ADAPTIVE_INITIAL_LIMIT', '1e2'],
    ['SYNC_ADAPTIVE_LATENCY_TOLERANCE', '0'],
    ['SYNC_SLOT_WAIT_SECONDS', '0'],
    ['SYNC_SLOT_WAIT_SECONDS', '1.5'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(configError({ ...adaptiveOn, [name]: value }).variable).toBe(name);
  });
});
