import { ConfigError } from '../../functions/shared/config-error';
import { loadSweepConfig, SWEEP_DEFAULTS, sweepRequested } from '../../functions/sweep/config';

const minimal = { ZUORA_BASE_URL: 'https://rest.apisandbox.zuora.com/', ZUORA_SECRET_ID: 'zuora-limio-sync/zuora' };

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadSweepConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSweepConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadSweepConfig(minimal)).toMatchObject({
      zuoraBaseUrl: 'https://rest.apisandbox.zuora.com',
      credentials: { source: 'secrets-manager', secretId: 'zuora-limio-sync/zuora' },
      intervalSeconds: 900,
      window: { settleSeconds: 300, overlapSeconds: 600, initialLookbackSeconds: 3600, maxSliceSeconds: 3600 },
      commitLagSeconds: SWEEP_DEFAULTS.commitLagSeconds,
      zuoraTimeoutMs: 60_000,
    });
    expect(loadSweepConfig(minimal).entityId).toBeUndefined();
  });

  it('reads every SWEEP_* value and the entity', () => {
    const config = loadSweepConfig({
      ...minimal,
      ZUORA_ENTITY_ID: '2c92c0f85f1b2d27015f1b2d3e380008',
      SWEEP_INTERVAL_SECONDS: '300',
      SWEEP_SETTLE_SECONDS: '120',
      SWEEP_OVERLAP_SECONDS: '0',
      SWEEP_INITIAL_LOOKBACK_SECONDS: '86400',
      SWEEP_SLICE_SECONDS: '900',
      SWEEP_COMMIT_LAG_SECONDS: '5',
    });
    expect(config).toMatchObject({
      entityId: '2c92c0f85f1b2d27015f1b2d3e380008',
      intervalSeconds: 300,
      window: { settleSeconds: 120, overlapSeconds: 0, initialLookbackSeconds: 86400, maxSliceSeconds: 900 },
      commitLagSeconds: 5,
    });
  });

  it('takes plain client credentials for local use', () => {
    expect(
      loadSweepConfig({
        ZUORA_BASE_URL: 'http://127.0.0.1:4020',
        ZUORA_CLIENT_ID: 'id',
        ZUORA_CLIENT_SECRET: 'secret',
      }),
    ).toMatchObject({
      zuoraBaseUrl: 'http://127.0.0.1:4020',
      credentials: { source: 'environment', clientId: 'id', clientSecret: 'secret' },
    });
  });

  it('refuses SWEEP_COVERAGE_MARGIN_SECONDS, saying SWEEP_COMMIT_LAG_SECONDS replaced it, and defaults the commit lag to a minute', () => {
    expect(configError({ ...minimal, SWEEP_COVERAGE_MARGIN_SECONDS: '2' })).toMatchObject({
      variable: 'SWEEP_COVERAGE_MARGIN_SECONDS',
      message: expect.stringContaining('replaced by SWEEP_COMMIT_LAG_SECONDS'),
    });
    expect(loadSweepConfig(minimal).commitLagSeconds).toBe(60);
    expect(configError({ ...minimal, SWEEP_COMMIT_LAG_SECONDS: '3601' }).variable).toBe('SWEEP_COMMIT_LAG_SECONDS');
  });

  it('names the variable at fault', () => {
    expect(configError({ ZUORA_SECRET_ID: 'x' }).variable).toBe('ZUORA_BASE_URL');
    expect(configError({ ...minimal, ZUORA_BASE_URL: 'http://rest.zuora.com' })).toMatchObject({
      variable: 'ZUORA_BASE_URL',
      message: expect.stringMatching(/https/),
    });
    expect(configError({ ZUORA_BASE_URL: 'https://rest.zuora.com' }).variable).toBe('ZUORA_SECRET_ID');
    expect(configError({ ...minimal, ZUORA_CLIENT_ID: 'id' }).message).toMatch(/set only one/);
    expect(configError({ ZUORA_BASE_URL: 'https://rest.zuora.com', ZUORA_CLIENT_ID: 'id' }).variable).toBe(
      'ZUORA_CLIENT_SECRET',
    );
    expect(configError({ ...minimal, ZUORA_ENTITY_ID: 'a b' }).variable).toBe('ZUORA_ENTITY_ID');
    expect(configError({ ...minimal, SWEEP_INTERVAL_SECONDS: '30' }).variable).toBe('SWEEP_INTERVAL_SECONDS');
    expect(configError({ ...minimal, SWEEP_SETTLE_SECONDS: '-1' }).variable).toBe('SWEEP_SETTLE_SECONDS');
    expect(configError({ ...minimal, SWEEP_OVERLAP_SECONDS: 'ten' }).variable).toBe('SWEEP_OVERLAP_SECONDS');
    expect(configError({ ...minimal, SWEEP_INITIAL_LOOKBACK_SECONDS: '10' }).variable).toBe(
      'SWEEP_INITIAL_LOOKBACK_SECONDS',
    );
    expect(configError({ ...minimal, SWEEP_SLICE_SECONDS: '0' }).variable).toBe('SWEEP_SLICE_SECONDS');
    expect(configError({ ...minimal, SUBSCRIPTION_ID_PATTERN: '(' }).variable).toBe('SUBSCRIPTION_ID_PATTERN');
  });
});

describe('sweepRequested', () => {
  it('is off without any Zuora setting and on with any of them', () => {
    expect(sweepRequested({})).toBe(false);
    expect(sweepRequested({ SWEEP_INTERVAL_SECONDS: '60', ZUORA_BASE_URL: ' ' })).toBe(false);
    expect(sweepRequested({ ZUORA_BASE_URL: 'https://rest.zuora.com' })).toBe(true);
    expect(sweepRequested({ ZUORA_SECRET_ID: 'x' })).toBe(true);
  });
});
