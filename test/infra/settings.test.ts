import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../functions/shared/config-error';
import { DEFAULTS } from '../../functions/shared/defaults';
import { LEDGER_DEFAULTS } from '../../functions/ledger/config';
import { SWEEP_DEFAULTS } from '../../functions/sweep/config';
import { bridgeSettingsFromContext } from '../../infra/context';
import {
  EXAMPLE_LIMIO_BASE_URL,
  FAN_OUT_DEFAULTS,
  INFRA_DEFAULTS,
  resolveBridgeSettings,
  syncAdaptiveInitialLimit,
} from '../../infra/settings';

const limioBaseUrl = 'https://acme.prod.limio.com';

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveBridgeSettings', () => {
  it('accepts a retry budget up to the queue retention minus backoffMaxSeconds and one day', () => {
    expect(
      resolveBridgeSettings({ limioBaseUrl, retryBudgetSeconds: 13 * 24 * 60 * 60 - 900 }).retryBudgetSeconds,
    ).toBe(1_122_300);
    expect(
      resolveBridgeSettings({ limioBaseUrl, backoffMaxSeconds: 43_200, retryBudgetSeconds: 12.5 * 24 * 60 * 60 })
        .retryBudgetSeconds,
    ).toBe(1_080_000);
  });

  it('fills every unset setting from the shared defaults', () => {
    const settings = resolveBridgeSettings({ limioBaseUrl: `${limioBaseUrl}/` });
    expect(settings).toMatchObject({
      limioBaseUrl,
      calloutAuthMode: 'basic',
      apiKind: 'rest',
      calloutRealm: INFRA_DEFAULTS.calloutRealm,
      syncAdaptive: true,
      syncConcurrency: INFRA_DEFAULTS.adaptiveCeiling.syncConcurrency,
      retryBudgetSeconds: 24 * 60 * 60,
      maxAttempts: 400,
      batchSize: DEFAULTS.syncBatchSize,
      batchingWindowSeconds: DEFAULTS.syncBatchingWindowSeconds,
      syncTimeoutSeconds: DEFAULTS.syncFunctionTimeoutSeconds,
      limioTimeoutMs: DEFAULTS.limioTimeoutMs,
      calloutDelaySeconds: DEFAULTS.calloutDelaySeconds,
      syncInvocationConcurrency: INFRA_DEFAULTS.adaptiveCeiling.syncInvocationConcurrency,
      allowedIpRanges: [],
      throttleRateLimit: 500,
      throttleBurstLimit: 1000,
      apiSecurityPolicy: 'SecurityPolicy_TLS13_1_2_PQ_2025_09',
      retainStatefulResources: true,
    });
    expect(settings.wafRateLimitPerIp).toBeUndefined();
    expect(settings.expectedZuoraTenantId).toBeUndefined();
    expect(settings.secretsKmsKeyArn).toBeUndefined();
    expect(settings.subscriptionIdPattern).toBeUndefined();
    expect(settings.calloutIdField).toBeUndefined();
  });

  it.each([
    ['limioBaseUrl', { limioBaseUrl: 'http://acme.prod.limio.com' }],
    ['limioBaseUrl', { limioBaseUrl: 'https://user:pw@acme.prod.limio.com' }],
    ['limioBaseUrl', { limioBaseUrl: 'not a url' }],
    ['calloutAuthMode', { calloutAuthMode: 'none' as never }],
    ['apiKind', { apiKind: 'websocket' as never }],
    ['syncInvocationConcurrency', { syncInvocationConcurrency: 1 }],
    ['syncConcurrency', { syncConcurrency: 2.5 }],
    ['batchingWindowSeconds', { batchSize: 50, batchingWindowSeconds: 0 }],
    ['limioTimeoutMs', { syncTimeoutSeconds: 10, limioTimeoutMs: 10_000 }],
    ['backoffMaxSeconds', { backoffBaseSeconds: 60, backoffMaxSeconds: 30 }],
    ['calloutDelaySeconds', { calloutDelaySeconds: 901 }],
    // A body the synchronous Lambda invocation cannot take would get API Gateway's 5xx, not the callout's 413.
    ['calloutMaxBodyBytes', { calloutMaxBodyBytes: 4 * 1024 * 1024 + 1 }],
    ['retryBudgetSeconds', { retryBudgetSeconds: 15 * 24 * 60 * 60 }],
    // Beyond the 14-day retention minus (backoffMaxSeconds + 1 day): the message could expire instead of being dead-lettered.
    ['retryBudgetSeconds', { retryBudgetSeconds: 14 * 24 * 60 * 60 }],
    ['retryBudgetSeconds', { retryBudgetSeconds: 13 * 24 * 60 * 60 - 900 + 1 }],
    ['retryBudgetSeconds', { backoffMaxSeconds: 43_200, retryBudgetSeconds: 13 * 24 * 60 * 60 - 900 }],
    ['retryBudgetSeconds', { retryBudgetSeconds: 30 }],
    ['probeSubscriptionId', { probeSubscriptionId: '../admin' }],
    ['probeSubscriptionId', { subscriptionIdPattern: '^SUB-[0-9]+$', probeSubscriptionId: 'A-S00000271' }],
    ['calloutRealm', { calloutRealm: 'x" , Basic realm="y' }],
    ['logRetentionDays', { logRetentionDays: 31 }],
    ['subscriptionIdPattern', { subscriptionIdPattern: '([' }],
    ['allowedIpRanges', { allowedIpRanges: ['300.1.1.1/24'] }],
    ['allowedIpRanges', { allowedIpRanges: ['203.0.113.0/24'], apiKind: 'http' as const }],
    // WAF cannot be associated with an HTTP API.
    ['wafRateLimitPerIp', { wafRateLimitPerIp: 1000, apiKind: 'http' as const }],
    // Without Zuora's addresses exempt, a bill run from a few Zuora addresses would be blocked.
    ['wafRateLimitPerIp', { wafRateLimitPerIp: 1000 }],
    ['wafRateLimitPerIp', { wafRateLimitPerIp: 99, allowedIpRanges: ['203.0.113.0/24'] }],
    ['wafExemptIpRanges', { wafRateLimitPerIp: 1000, wafExemptIpRanges: ['zuora'] }],
    ['apiSecurityPolicy', { apiSecurityPolicy: 'TLS_1_0' }],
    ['apiSecurityPolicy', { apiSecurityPolicy: 'SecurityPolicy_TLS13_2025_EDGE' }],
    ['expectedZuoraTenantId', { expectedZuoraTenantId: '12 345' }],
    ['expectedZuoraTenantId', { expectedZuoraTenantId: 'tenant_1' }],
    ['expectedZuoraTenantId', { expectedZuoraTenantId: '-12345' }],
    // IAM matches a grant against the key's ARN: an alias would deploy and then be denied at run time.
    ['secretsKmsKeyArn', { secretsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/zuora-limio' }],
    ['secretsKmsKeyArn', { secretsKmsKeyArn: '1234abcd-12ab-34cd-56ef-1234567890ab' }],
  ])('refuses a bad %s, naming it', (name, overrides) => {
    const error = configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, ...overrides }));
    expect(error.variable).toBe(name);
  });

  it('exempts the allowlist from the WAF rate rule unless told otherwise', () => {
    expect(
      resolveBridgeSettings({ limioBaseUrl, wafRateLimitPerIp: 2000, allowedIpRanges: ['203.0.113.0/24'] }),
    ).toMatchObject({
      wafRateLimitPerIp: 2000,
      wafExemptIpRanges: ['203.0.113.0/24'],
    });
    expect(
      resolveBridgeSettings({ limioBaseUrl, wafRateLimitPerIp: 2000, wafExemptIpRanges: ['198.51.100.0/24'] }),
    ).toMatchObject({
      allowedIpRanges: [],
      wafExemptIpRanges: ['198.51.100.0/24'],
    });
  });

  it('accepts the legacy TLS_1_2 policy and enhanced regional ones, a tenant id and a key ARN', () => {
    expect(resolveBridgeSettings({ limioBaseUrl, apiSecurityPolicy: 'TLS_1_2' }).apiSecurityPolicy).toBe('TLS_1_2');
    expect(
      resolveBridgeSettings({ limioBaseUrl, apiSecurityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09' }).apiSecurityPolicy,
    ).toBe('SecurityPolicy_TLS13_1_3_2025_09');
    expect(resolveBridgeSettings({ limioBaseUrl, expectedZuoraTenantId: ' 12345 ' }).expectedZuoraTenantId).toBe(
      '12345',
    );
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(resolveBridgeSettings({ limioBaseUrl, secretsKmsKeyArn: keyArn }).secretsKmsKeyArn).toBe(keyArn);
  });

  it('accepts IPv4 and IPv6 allowlist entries on a REST API', () => {
    const ranges = ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32'];
    expect(resolveBridgeSettings({ limioBaseUrl, allowedIpRanges: ranges }).allowedIpRanges).toEqual(ranges);
  });
});

describe('resolveBridgeSettings: Limio concurrency (issue #21)', () => {
  it('turns the adaptive limit on by default, under the ceiling of 20 x 10, the fleet starting at 10 in flight', () => {
    expect(resolveBridgeSettings({ limioBaseUrl })).toEqual(
      resolveBridgeSettings({ limioBaseUrl, syncAdaptive: true }),
    );
    expect(resolveBridgeSettings({ limioBaseUrl })).toMatchObject({
      syncAdaptive: true,
      syncInvocationConcurrency: 20,
      syncConcurrency: 10,
      syncAdaptiveInitialFleetLimit: 10,
    });
  });

  it('raises the ceiling to 20 invocations x 10 calls with the adaptive limit, the fleet starting at 10 in flight', () => {
    const settings = resolveBridgeSettings({ limioBaseUrl, syncAdaptive: true });
    expect(settings).toMatchObject({
      syncAdaptive: true,
      syncInvocationConcurrency: 20,
      syncConcurrency: 10,
      syncAdaptiveInitialFleetLimit: 10,
    });
    expect(syncAdaptiveInitialLimit({ syncInvocationConcurrency: 20, syncAdaptiveInitialFleetLimit: 10 })).toBe(0.5);
  });

  it('keeps the fixed cap of 2 x 5 without the adaptive limit: the ceiling would be the load Limio gets', () => {
    const settings = resolveBridgeSettings({ limioBaseUrl, syncAdaptive: false });
    expect(settings).toMatchObject({
      syncAdaptive: false,
      syncInvocationConcurrency: 2,
      syncConcurrency: DEFAULTS.syncConcurrency,
    });
    expect(settings.syncAdaptiveInitialFleetLimit).toBeUndefined();
    expect(
      resolveBridgeSettings({ limioBaseUrl, syncAdaptive: false, syncInvocationConcurrency: 4, syncConcurrency: 3 }),
    ).toMatchObject({ syncInvocationConcurrency: 4, syncConcurrency: 3 });
  });

  it("shares the fleet's starting limit between the invocations, rounded down so the fleet never starts above it", () => {
    expect(syncAdaptiveInitialLimit({ syncInvocationConcurrency: 3, syncAdaptiveInitialFleetLimit: 10 })).toBe(3.3333);
    expect(syncAdaptiveInitialLimit({ syncInvocationConcurrency: 1000, syncAdaptiveInitialFleetLimit: 286 })).toBe(
      0.286,
    );
    expect(syncAdaptiveInitialLimit({ syncInvocationConcurrency: 2, syncAdaptiveInitialFleetLimit: 20 })).toBe(10);
    // The smallest fleet the per-invocation floor (0.05) allows.
    expect(
      resolveBridgeSettings({
        limioBaseUrl,
        syncAdaptive: true,
        syncInvocationConcurrency: 1000,
        syncAdaptiveInitialFleetLimit: 50,
      }).syncAdaptiveInitialFleetLimit,
    ).toBe(50);
    expect(
      resolveBridgeSettings({
        limioBaseUrl,
        syncAdaptive: true,
        syncInvocationConcurrency: 20,
        syncAdaptiveInitialFleetLimit: 1,
      }).syncAdaptiveInitialFleetLimit,
    ).toBe(1);
    // A ceiling below the default start is where the fleet starts.
    expect(
      resolveBridgeSettings({ limioBaseUrl, syncAdaptive: true, syncInvocationConcurrency: 3, syncConcurrency: 2 })
        .syncAdaptiveInitialFleetLimit,
    ).toBe(6);
  });

  it.each([
    ['syncAdaptiveInitialFleetLimit', { syncAdaptive: true, syncAdaptiveInitialFleetLimit: 0 }, /between 1 and/],
    ['syncAdaptiveInitialFleetLimit', { syncAdaptive: true, syncAdaptiveInitialFleetLimit: 2.5 }, /whole number/],
    // Above the ceiling no invocation could start there.
    [
      'syncAdaptiveInitialFleetLimit',
      { syncAdaptive: true, syncInvocationConcurrency: 4, syncConcurrency: 2, syncAdaptiveInitialFleetLimit: 9 },
      /at most the ceiling.*= 8, got 9/,
    ],
    // Below 0.05 per invocation: the controller's floor would start it higher than asked.
    [
      'syncAdaptiveInitialFleetLimit',
      { syncAdaptive: true, syncInvocationConcurrency: 1000 },
      /at least 50 with syncInvocationConcurrency 1000.*got 10/,
    ],
    // A fixed cap has no starting limit: accepting one would promise a protection it does not give.
    [
      'syncAdaptiveInitialFleetLimit',
      { syncAdaptive: false, syncAdaptiveInitialFleetLimit: 10 },
      /only with syncAdaptive true/,
    ],
    ['syncAdaptive', { syncAdaptive: 'yes' as never }, /true or false/],
    ['syncConcurrency', { syncConcurrency: 101 }, /between 1 and 100/],
    ['syncInvocationConcurrency', { syncAdaptive: false, syncInvocationConcurrency: 1 }, /between 2 and 1000/],
  ])('refuses a bad %s, saying why', (name, overrides, why) => {
    const error = configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, ...overrides }));
    expect(error.variable).toBe(name);
    expect(error.message).toMatch(why);
  });
});

describe('resolveBridgeSettings: sync ledger and reconciliation sweep', () => {
  const zuoraBaseUrl = 'https://rest.apisandbox.zuora.com';

  it("gives the sync ledger the Lambda's own defaults, and has no sweep without zuoraBaseUrl", () => {
    const settings = resolveBridgeSettings({ limioBaseUrl });
    expect(settings).toMatchObject({
      syncCooldownSeconds: LEDGER_DEFAULTS.cooldownSeconds,
      syncClockMarginSeconds: LEDGER_DEFAULTS.clockMarginSeconds,
    });
    expect(settings.sweep).toBeUndefined();
  });

  it('refuses ledger timings the sync Lambda would refuse at cold start, naming the props', () => {
    // The Lambda's rule: a cooldown must be 0 (off) or more than the margin.
    const tooShort = configErrorOf(() =>
      resolveBridgeSettings({ limioBaseUrl, syncCooldownSeconds: 2, syncClockMarginSeconds: 2 }),
    );
    expect(tooShort.variable).toBe('syncCooldownSeconds');
    expect(tooShort.message).toBe(
      'syncCooldownSeconds: must be 0 (off) or more than syncClockMarginSeconds (2), got 2',
    );
    expect(configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, syncCooldownSeconds: 301 })).variable).toBe(
      'syncCooldownSeconds',
    );
    expect(configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, syncClockMarginSeconds: 61 })).variable).toBe(
      'syncClockMarginSeconds',
    );
    expect(configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, syncCooldownSeconds: 1.5 })).variable).toBe(
      'syncCooldownSeconds',
    );
    expect(resolveBridgeSettings({ limioBaseUrl, syncCooldownSeconds: 0 }).syncCooldownSeconds).toBe(0);
  });

  it("turns the sweep on with zuoraBaseUrl, with the sweep Lambda's defaults and its watermark key", () => {
    expect(resolveBridgeSettings({ limioBaseUrl, zuoraBaseUrl: `${zuoraBaseUrl}/` }).sweep).toEqual({
      zuoraBaseUrl,
      intervalSeconds: SWEEP_DEFAULTS.intervalSeconds,
      settleSeconds: SWEEP_DEFAULTS.settleSeconds,
      overlapSeconds: SWEEP_DEFAULTS.overlapSeconds,
      initialLookbackSeconds: SWEEP_DEFAULTS.initialLookbackSeconds,
      sliceSeconds: SWEEP_DEFAULTS.sliceSeconds,
      commitLagSeconds: SWEEP_DEFAULTS.commitLagSeconds,
      missingCalloutsAlarmThreshold: 1,
      watermarkKey: 'sweep#rest.apisandbox.zuora.com#default',
    });
    expect(
      resolveBridgeSettings({
        limioBaseUrl,
        zuoraBaseUrl,
        zuoraEntityId: 'abc-123',
        sweepIntervalSeconds: 600,
        sweepSettleSeconds: 120,
        sweepOverlapSeconds: 300,
        sweepInitialLookbackSeconds: 7200,
        sweepSliceSeconds: 1800,
        sweepCommitLagSeconds: 5,
        missingCalloutsAlarmThreshold: 10,
      }).sweep,
    ).toEqual({
      zuoraBaseUrl,
      zuoraEntityId: 'abc-123',
      intervalSeconds: 600,
      settleSeconds: 120,
      overlapSeconds: 300,
      initialLookbackSeconds: 7200,
      sliceSeconds: 1800,
      commitLagSeconds: 5,
      missingCalloutsAlarmThreshold: 10,
      watermarkKey: 'sweep#rest.apisandbox.zuora.com#abc-123',
    });
  });

  it.each([
    ['zuoraBaseUrl', { zuoraBaseUrl: 'http://rest.zuora.com' }],
    // The local sandbox's http://127.0.0.1 is fine for npm start, never for a deployed Lambda.
    ['zuoraBaseUrl', { zuoraBaseUrl: 'http://127.0.0.1:4020' }],
    ['zuoraBaseUrl', { zuoraBaseUrl: 'https://user:pw@rest.zuora.com' }],
    ['zuoraBaseUrl', { zuoraBaseUrl: 'https://rest.zuora.com/?tenant=1' }],
    ['zuoraBaseUrl', { zuoraBaseUrl: 'rest.zuora.com' }],
    ['zuoraEntityId', { zuoraBaseUrl, zuoraEntityId: 'entity id with spaces' }],
    ['sweepIntervalSeconds', { zuoraBaseUrl, sweepIntervalSeconds: 30 }],
    ['sweepIntervalSeconds', { zuoraBaseUrl, sweepIntervalSeconds: 90 }],
    ['sweepIntervalSeconds', { zuoraBaseUrl, sweepIntervalSeconds: 2 * 24 * 60 * 60 }],
    ['sweepSettleSeconds', { zuoraBaseUrl, sweepSettleSeconds: -1 }],
    ['sweepOverlapSeconds', { zuoraBaseUrl, sweepOverlapSeconds: 86_401 }],
    ['sweepInitialLookbackSeconds', { zuoraBaseUrl, sweepInitialLookbackSeconds: 59 }],
    ['sweepSliceSeconds', { zuoraBaseUrl, sweepSliceSeconds: 59 }],
    ['sweepSliceSeconds', { zuoraBaseUrl, sweepSliceSeconds: 86_401 }],
    ['sweepSliceSeconds', { zuoraBaseUrl, sweepSliceSeconds: 90.5 }],
    ['sweepCommitLagSeconds', { zuoraBaseUrl, sweepCommitLagSeconds: -1 }],
    ['sweepCommitLagSeconds', { zuoraBaseUrl, sweepCommitLagSeconds: 3601 }],
    ['missingCalloutsAlarmThreshold', { zuoraBaseUrl, missingCalloutsAlarmThreshold: 0 }],
    // A sweep setting without the tenant would deploy no sweep at all.
    ['zuoraBaseUrl', { sweepIntervalSeconds: 600 }],
    ['zuoraBaseUrl', { zuoraEntityId: 'abc-123' }],
    ['zuoraBaseUrl', { missingCalloutsAlarmThreshold: 3 }],
    ['zuoraBaseUrl', { sweepSliceSeconds: 1800 }],
    ['zuoraBaseUrl', { sweepCommitLagSeconds: 5 }],
    // A sync still under way when the sweep looks must have started after every change it reads was committed.
    ['sweepSettleSeconds', { zuoraBaseUrl, sweepSettleSeconds: 89 }],
    [
      'sweepSettleSeconds',
      { zuoraBaseUrl, sweepSettleSeconds: 300, sweepCommitLagSeconds: 120, syncTimeoutSeconds: 200 },
    ],
    // Its 2 s meant a clock margin: read as a commit lag it would quietly weaken coverage.
    ['sweepCoverageMarginSeconds', { zuoraBaseUrl, sweepCoverageMarginSeconds: 2 }],
    ['sweepCoverageMarginSeconds', { sweepCoverageMarginSeconds: 2 }],
  ])('refuses a bad %s, naming it', (name, overrides) => {
    const error = configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, ...overrides }));
    expect(error.variable).toBe(name);
    expect(error.message).not.toMatch(/ZUORA_|SWEEP_/);
  });
});

describe('resolveBridgeSettings: account callouts and their fan-out', () => {
  const zuoraBaseUrl = 'https://rest.apisandbox.zuora.com';

  it('has no fan-out without a Zuora connection, and one with small defaults beside the sweep with it', () => {
    expect(resolveBridgeSettings({ limioBaseUrl }).fanOut).toBeUndefined();
    expect(resolveBridgeSettings({ limioBaseUrl, zuoraBaseUrl }).fanOut).toEqual({ batchSize: 1, maxConcurrency: 2 });
    expect(FAN_OUT_DEFAULTS).toEqual({ batchSize: 1, maxConcurrency: 2 });
    expect(
      resolveBridgeSettings({ limioBaseUrl, zuoraBaseUrl, fanOutBatchSize: 10, fanOutMaxConcurrency: 20 }).fanOut,
    ).toEqual({ batchSize: 10, maxConcurrency: 20 });
  });

  it('takes an account number pattern with or without a Zuora connection (the callout Lambda reads it either way)', () => {
    expect(resolveBridgeSettings({ limioBaseUrl }).accountNumberPattern).toBeUndefined();
    expect(resolveBridgeSettings({ limioBaseUrl, accountNumberPattern: ' ^ACC-[0-9]{6}$ ' }).accountNumberPattern).toBe(
      '^ACC-[0-9]{6}$',
    );
  });

  it.each([
    ['accountNumberPattern', { accountNumberPattern: '([' }],
    ['fanOutBatchSize', { zuoraBaseUrl, fanOutBatchSize: 0 }],
    // An SQS event source takes more than 10 only with a batching window, and the contract says 1 to 10.
    ['fanOutBatchSize', { zuoraBaseUrl, fanOutBatchSize: 11 }],
    ['fanOutBatchSize', { zuoraBaseUrl, fanOutBatchSize: 2.5 }],
    // AWS's minimum for an SQS event source's maxConcurrency.
    ['fanOutMaxConcurrency', { zuoraBaseUrl, fanOutMaxConcurrency: 1 }],
    // More than half of Zuora's 40 concurrent requests per tenant, which every integration shares.
    ['fanOutMaxConcurrency', { zuoraBaseUrl, fanOutMaxConcurrency: 21 }],
    // A fan-out setting without the tenant would deploy no fan-out at all.
    ['zuoraBaseUrl', { fanOutBatchSize: 5 }],
    ['zuoraBaseUrl', { fanOutMaxConcurrency: 4 }],
  ])('refuses a bad %s, naming it', (name, overrides) => {
    const error = configErrorOf(() => resolveBridgeSettings({ limioBaseUrl, ...overrides }));
    expect(error.variable).toBe(name);
    expect(error.message).not.toMatch(/ACCOUNT_NUMBER_PATTERN/);
  });
});

describe('bridgeSettingsFromContext', () => {
  const contextOf = (values: Record<string, unknown>) => (key: string) => values[key];

  it('reads typed cdk.json values and the strings -c gives', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const fromJson = bridgeSettingsFromContext(
      contextOf({
        limioBaseUrl,
        syncConcurrency: 7,
        allowedIpRanges: ['203.0.113.0/24'],
        createApiGatewayCloudWatchRole: false,
        wafRateLimitPerIp: 2000,
        wafExemptIpRanges: ['198.51.100.0/24'],
        retainStatefulResources: false,
        apiSecurityPolicy: 'TLS_1_2',
        expectedZuoraTenantId: '12345',
        secretsKmsKeyArn: keyArn,
      }),
    );
    const fromCommandLine = bridgeSettingsFromContext(
      contextOf({
        limioBaseUrl,
        syncConcurrency: '7',
        allowedIpRanges: '203.0.113.0/24',
        createApiGatewayCloudWatchRole: 'false',
        wafRateLimitPerIp: '2000',
        wafExemptIpRanges: '198.51.100.0/24',
        retainStatefulResources: 'false',
        apiSecurityPolicy: 'TLS_1_2',
        expectedZuoraTenantId: '12345',
        secretsKmsKeyArn: keyArn,
      }),
    );
    expect(fromCommandLine).toEqual(fromJson);
    expect(fromJson).toEqual({
      limioBaseUrl,
      syncConcurrency: 7,
      allowedIpRanges: ['203.0.113.0/24'],
      createApiGatewayCloudWatchRole: false,
      wafRateLimitPerIp: 2000,
      wafExemptIpRanges: ['198.51.100.0/24'],
      retainStatefulResources: false,
      apiSecurityPolicy: 'TLS_1_2',
      expectedZuoraTenantId: '12345',
      secretsKmsKeyArn: keyArn,
    });
  });

  it("reads the adaptive limit's switch and starting limit, as typed values and -c strings", () => {
    const fromJson = bridgeSettingsFromContext(
      contextOf({ limioBaseUrl, syncAdaptive: false, syncAdaptiveInitialFleetLimit: 4 }),
    );
    expect(
      bridgeSettingsFromContext(contextOf({ limioBaseUrl, syncAdaptive: 'false', syncAdaptiveInitialFleetLimit: '4' })),
    ).toEqual(fromJson);
    expect(fromJson).toEqual({ limioBaseUrl, syncAdaptive: false, syncAdaptiveInitialFleetLimit: 4 });
  });

  it('leaves unset and empty keys to the construct defaults', () => {
    expect(bridgeSettingsFromContext(contextOf({ limioBaseUrl, alarmEmail: '', batchSize: '' }))).toEqual({
      limioBaseUrl,
    });
  });

  it('reads the ledger, sweep and fan-out settings, numbers given as -c strings', () => {
    expect(
      bridgeSettingsFromContext(
        contextOf({
          limioBaseUrl,
          syncCooldownSeconds: '10',
          syncClockMarginSeconds: '2',
          zuoraBaseUrl: 'https://rest.zuora.com',
          zuoraEntityId: 'abc-123',
          zuoraSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zuora-AbCdEf',
          sweepIntervalSeconds: '600',
          sweepSettleSeconds: '120',
          sweepOverlapSeconds: '300',
          sweepInitialLookbackSeconds: '7200',
          sweepSliceSeconds: '1800',
          sweepCommitLagSeconds: '5',
          missingCalloutsAlarmThreshold: '4',
          accountNumberPattern: '^ACC-[0-9]+$',
          fanOutBatchSize: '3',
          fanOutMaxConcurrency: '4',
        }),
      ),
    ).toEqual({
      limioBaseUrl,
      syncCooldownSeconds: 10,
      syncClockMarginSeconds: 2,
      zuoraBaseUrl: 'https://rest.zuora.com',
      zuoraEntityId: 'abc-123',
      zuoraSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zuora-AbCdEf',
      sweepIntervalSeconds: 600,
      sweepSettleSeconds: 120,
      sweepOverlapSeconds: 300,
      sweepInitialLookbackSeconds: 7200,
      sweepSliceSeconds: 1800,
      sweepCommitLagSeconds: 5,
      missingCalloutsAlarmThreshold: 4,
      accountNumberPattern: '^ACC-[0-9]+$',
      fanOutBatchSize: 3,
      fanOutMaxConcurrency: 4,
    });
  });

  it('splits a comma-separated list and parses a JSON one', () => {
    expect(
      bridgeSettingsFromContext(contextOf({ limioBaseUrl, allowedIpRanges: '203.0.113.0/24, 198.51.100.7' }))
        .allowedIpRanges,
    ).toEqual(['203.0.113.0/24', '198.51.100.7']);
    expect(
      bridgeSettingsFromContext(contextOf({ limioBaseUrl, allowedIpRanges: '["198.51.100.7"]' })).allowedIpRanges,
    ).toEqual(['198.51.100.7']);
  });

  it.each([
    ['limioBaseUrl', {}],
    ['syncConcurrency', { limioBaseUrl, syncConcurrency: 'five' }],
    ['calloutAuthMode', { limioBaseUrl, calloutAuthMode: 3 }],
    ['createApiGatewayCloudWatchRole', { limioBaseUrl, createApiGatewayCloudWatchRole: 'no' }],
    ['syncAdaptive', { limioBaseUrl, syncAdaptive: 'on' }],
    ['syncAdaptiveInitialFleetLimit', { limioBaseUrl, syncAdaptiveInitialFleetLimit: 'ten' }],
  ])('names the context key %s when it is missing or mistyped', (name, values) => {
    expect(configErrorOf(() => bridgeSettingsFromContext(contextOf(values))).variable).toBe(name);
  });
});

describe('cdk.json', () => {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    app: string;
    context: Record<string, unknown>;
  };

  it('runs the TypeScript app through tsx', () => {
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
  });

  it('carries example context that is valid and spells out the defaults', () => {
    const fromCdkJson = resolveBridgeSettings(bridgeSettingsFromContext((key) => cdkJson.context[key]));
    expect(fromCdkJson).toEqual(resolveBridgeSettings({ limioBaseUrl: EXAMPLE_LIMIO_BASE_URL }));
    expect(fromCdkJson.limioBaseUrl).toBe(EXAMPLE_LIMIO_BASE_URL);
  });
});

describe('docs/deploying.md', () => {
  const deploying = readFileSync(join(__dirname, '..', '..', 'docs', 'deploying.md'), 'utf8');
  const cellsOfRow = (first: string) => {
    const row = deploying.split('\n').find((line) => line.startsWith(`| ${first} |`));
    expect(row).toBeDefined();
    return row!
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
  };

  it('gives the Limio concurrency props the defaults the construct uses, with and without the adaptive limit', () => {
    const adaptive = resolveBridgeSettings({ limioBaseUrl });
    const fixed = resolveBridgeSettings({ limioBaseUrl, syncAdaptive: false });
    expect(cellsOfRow('`syncAdaptive`')[1]).toBe(`\`${adaptive.syncAdaptive}\``);
    expect(cellsOfRow('`syncConcurrency`')[1]).toBe(
      `${adaptive.syncConcurrency} (${fixed.syncConcurrency} without \`syncAdaptive\`)`,
    );
    expect(cellsOfRow('`syncInvocationConcurrency`')[1]).toBe(
      `${adaptive.syncInvocationConcurrency} (${fixed.syncInvocationConcurrency} without \`syncAdaptive\`)`,
    );
    expect(cellsOfRow('`syncAdaptiveInitialFleetLimit`')[1]).toMatch(
      new RegExp(`^${adaptive.syncAdaptiveInitialFleetLimit} `),
    );
  });

  it('works the sizing example out right: syncs per second = calls in flight / latency, and 100,000 of them take what it says', () => {
    const rows = deploying
      .split('\n')
      .map((line) => /^\| [^|]+ \| (\d+) \| ([\d.]+) s \| (\d+) \| ([\d.]+) (h|min) \|$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null);
    expect(rows).toHaveLength(3);
    for (const [, inFlight, latencySeconds, syncsPerSecond, took, unit] of rows) {
      expect(Number(syncsPerSecond)).toBe(Number(inFlight) / Number(latencySeconds));
      const seconds = 100_000 / Number(syncsPerSecond);
      expect(Number(took)).toBe(unit === 'h' ? Math.round(seconds / 360) / 10 : Math.round(seconds / 60));
    }
    // The row as before issue #21 is the old fixed cap.
    expect(rows[0]![1]).toBe(
      String(INFRA_DEFAULTS.fixedCap.syncInvocationConcurrency * INFRA_DEFAULTS.fixedCap.syncConcurrency),
    );
  });
});
