import { ACCOUNTS_BESIDE_SUBSCRIPTIONS } from '../../functions/callout/account-plan';
import { ZUORA_TENANT_ID } from '../../functions/callout/tenant';
import { ConfigError } from '../../functions/shared/config-error';
import { BREAKER_DEFAULTS } from '../../functions/breaker/settings';
import { DEFAULTS, maxRetryBudgetSeconds } from '../../functions/shared/defaults';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../../functions/shared/subscription-id';
import { LEDGER_DEFAULTS, loadLedgerConfig } from '../../functions/ledger/config';
import { apiSecurityPolicy, ipRanges, wafRateLimit } from './front-door';
import {
  checkedByLambdaRules,
  chosen,
  kmsKeyArn,
  limioUrl,
  LOG_RETENTION_DAYS,
  optionalText,
  wholeNumber,
} from './rules';
import { accountNumberPattern, fanOutSettings } from './fan-out';
import { sweepSettings } from './sweep';
import { syncConcurrencySettings } from './sync-concurrency';
import {
  CALLOUT_API_KINDS,
  CALLOUT_AUTH_MODES,
  INFRA_DEFAULTS,
  type BridgeSettings,
  type BridgeSettingsInput,
} from './types';

/**
 * The tunable settings of the bridge, validated once, shared by the construct (props) and the app (cdk.json
 * context). Pure: no CDK here, so the rules are tested without synthesising anything. The rules of the front
 * door and of the sweep are in their own files; this one puts them together.
 */

export * from './types';
export { asCidr, isEnhancedSecurityPolicy, isIpv6Range } from './front-door';
export { FAN_OUT_DEFAULTS, FAN_OUT_TIMEOUT_SECONDS } from './fan-out';
export {
  FAILED_SWEEPS,
  MISSING_CALLOUTS_SWEEPS,
  sweepEnvironment,
  sweepFallingBehindSeconds,
  SWEEP_TIMEOUT_SECONDS,
  zuoraConnectionEnvironment,
} from './sweep';
export { syncAdaptiveInitialLimit, syncConcurrencyEnvironment } from './sync-concurrency';

function ledgerTiming(input: BridgeSettingsInput): { syncCooldownSeconds: number; syncClockMarginSeconds: number } {
  const syncCooldownSeconds = input.syncCooldownSeconds ?? LEDGER_DEFAULTS.cooldownSeconds;
  const syncClockMarginSeconds = input.syncClockMarginSeconds ?? LEDGER_DEFAULTS.clockMarginSeconds;
  checkedByLambdaRules(
    loadLedgerConfig,
    {
      SYNC_COOLDOWN_SECONDS: String(syncCooldownSeconds),
      SYNC_CLOCK_MARGIN_SECONDS: String(syncClockMarginSeconds),
    },
    { SYNC_COOLDOWN_SECONDS: 'syncCooldownSeconds', SYNC_CLOCK_MARGIN_SECONDS: 'syncClockMarginSeconds' },
  );
  return { syncCooldownSeconds, syncClockMarginSeconds };
}

export function resolveBridgeSettings(input: BridgeSettingsInput): BridgeSettings {
  const subscriptionIdPattern = optionalText(input.subscriptionIdPattern, (pattern) => {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new ConfigError('subscriptionIdPattern', `is not a valid regular expression: ${(error as Error).message}`);
    }
  });
  // The probe Lambda checks it at cold start with the same rule; a bad one should fail the synth instead.
  const probeSubscriptionId = optionalText(input.probeSubscriptionId, (id) => {
    const checked = checkSubscriptionId(id, subscriptionIdRuleFrom(subscriptionIdPattern));
    if (!checked.ok) throw new ConfigError('probeSubscriptionId', checked.reason);
  });
  const apiKind = chosen('apiKind', input.apiKind, CALLOUT_API_KINDS, INFRA_DEFAULTS.apiKind);
  const syncTimeoutSeconds = wholeNumber(
    'syncTimeoutSeconds',
    input.syncTimeoutSeconds,
    DEFAULTS.syncFunctionTimeoutSeconds,
    5,
    900,
  );
  const batchSize = wholeNumber('batchSize', input.batchSize, DEFAULTS.syncBatchSize, 1, 100);
  const batchingWindowSeconds = wholeNumber(
    'batchingWindowSeconds',
    input.batchingWindowSeconds,
    DEFAULTS.syncBatchingWindowSeconds,
    0,
    300,
  );
  if (batchSize > 10 && batchingWindowSeconds < 1) {
    // An SQS event source rejects batches above 10 without a batching window.
    throw new ConfigError('batchingWindowSeconds', 'must be at least 1 when batchSize is above 10');
  }
  const limioTimeoutMs = wholeNumber('limioTimeoutMs', input.limioTimeoutMs, DEFAULTS.limioTimeoutMs, 100, 120_000);
  if (limioTimeoutMs >= syncTimeoutSeconds * 1000) {
    throw new ConfigError(
      'limioTimeoutMs',
      `must be below the sync timeout (${syncTimeoutSeconds * 1000} ms), got ${limioTimeoutMs}`,
    );
  }
  const backoffBaseSeconds = wholeNumber(
    'backoffBaseSeconds',
    input.backoffBaseSeconds,
    DEFAULTS.backoffBaseSeconds,
    1,
    43_200,
  );
  const backoffMaxSeconds = wholeNumber(
    'backoffMaxSeconds',
    input.backoffMaxSeconds,
    DEFAULTS.backoffMaxSeconds,
    backoffBaseSeconds,
    43_200,
  );
  const logRetentionDays = input.logRetentionDays ?? INFRA_DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError(
      'logRetentionDays',
      `must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${logRetentionDays}`,
    );
  }
  const calloutRealm = input.calloutRealm?.trim() || INFRA_DEFAULTS.calloutRealm;
  // The realm is spliced into a quoted header value of a gateway response: keep it to harmless characters.
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(calloutRealm)) {
    throw new ConfigError(
      'calloutRealm',
      `may hold only letters, digits, space, ".", "_" and "-" (1-64), got "${calloutRealm}"`,
    );
  }
  const throttleRateLimit = wholeNumber(
    'throttleRateLimit',
    input.throttleRateLimit,
    INFRA_DEFAULTS.throttleRateLimit,
    1,
    10_000,
  );
  const throttleBurstLimit = wholeNumber(
    'throttleBurstLimit',
    input.throttleBurstLimit,
    INFRA_DEFAULTS.throttleBurstLimit,
    1,
    5_000,
  );
  const allowedIpRanges = ipRanges('allowedIpRanges', input.allowedIpRanges, apiKind);
  const wafExemptIpRanges =
    input.wafExemptIpRanges === undefined
      ? allowedIpRanges
      : ipRanges('wafExemptIpRanges', input.wafExemptIpRanges, apiKind);
  // The callout Lambda's own rule (CALLOUT_EXPECTED_TENANT_ID, checked at its cold start): refused here at synth instead.
  const expectedZuoraTenantId = optionalText(input.expectedZuoraTenantId, (id) => {
    if (!ZUORA_TENANT_ID.test(id)) {
      throw new ConfigError(
        'expectedZuoraTenantId',
        `must be a Zuora tenant id (letters, digits and "-", at most 64, e.g. 12345), got "${id}"`,
      );
    }
  });
  const sweep = sweepSettings(input, subscriptionIdPattern);
  // A sync in flight whose claim the ledger never got (SYNC_COOLDOWN_SECONDS=0, a failed claim) is invisible to
  // the sweep, which may then take a change for pending that such a sync serves without reading it. A settle of at
  // least the commit lag plus the longest sync means any such sync started after the change was committed.
  if (sweep !== undefined && sweep.settleSeconds < sweep.commitLagSeconds + syncTimeoutSeconds) {
    throw new ConfigError(
      'sweepSettleSeconds',
      `must be at least sweepCommitLagSeconds + syncTimeoutSeconds (${sweep.commitLagSeconds} + ${syncTimeoutSeconds}), so a sync still under way when the sweep looks started after every change it reads was committed; got ${sweep.settleSeconds}`,
    );
  }
  // The fan-out reads Zuora through the sweep's connection: one per stack.
  const fanOut = fanOutSettings(input, sweep !== undefined);
  return {
    limioBaseUrl: limioUrl(input.limioBaseUrl),
    calloutAuthMode: chosen(
      'calloutAuthMode',
      input.calloutAuthMode,
      CALLOUT_AUTH_MODES,
      INFRA_DEFAULTS.calloutAuthMode,
    ),
    apiKind,
    calloutRealm,
    throttleRateLimit,
    throttleBurstLimit,
    allowedIpRanges,
    wafRateLimitPerIp: wafRateLimit(input.wafRateLimitPerIp, apiKind, wafExemptIpRanges),
    wafExemptIpRanges,
    apiSecurityPolicy: apiSecurityPolicy(input.apiSecurityPolicy),
    expectedZuoraTenantId,
    retainStatefulResources: input.retainStatefulResources ?? INFRA_DEFAULTS.retainStatefulResources,
    secretsKmsKeyArn: kmsKeyArn(input.secretsKmsKeyArn),
    ...syncConcurrencySettings(input),
    // Up to the 14-day retention minus (backoffMaxSeconds + 1 day): the last retry is dead-lettered, not expired.
    retryBudgetSeconds: wholeNumber(
      'retryBudgetSeconds',
      input.retryBudgetSeconds,
      BREAKER_DEFAULTS.retryBudgetSeconds,
      60,
      maxRetryBudgetSeconds(backoffMaxSeconds),
    ),
    maxAttempts: wholeNumber('maxAttempts', input.maxAttempts, DEFAULTS.maxAttempts, 1, 999),
    batchSize,
    batchingWindowSeconds,
    syncTimeoutSeconds,
    limioTimeoutMs,
    backoffBaseSeconds,
    backoffMaxSeconds,
    calloutDelaySeconds: wholeNumber(
      'calloutDelaySeconds',
      input.calloutDelaySeconds,
      DEFAULTS.calloutDelaySeconds,
      0,
      900,
    ),
    calloutMaxIds: wholeNumber('calloutMaxIds', input.calloutMaxIds, DEFAULTS.calloutMaxIds, 1, 1000),
    // API Gateway itself refuses payloads above 10 MB.
    calloutMaxBodyBytes: wholeNumber(
      'calloutMaxBodyBytes',
      input.calloutMaxBodyBytes,
      DEFAULTS.calloutMaxBodyBytes,
      1024,
      DEFAULTS.calloutMaxBodyBytesLimit,
    ),
    calloutIdField: optionalText(input.calloutIdField),
    subscriptionIdPattern,
    accountNumberPattern: accountNumberPattern(input.accountNumberPattern),
    calloutAccountsBesideSubscriptions: chosen(
      'calloutAccountsBesideSubscriptions',
      input.calloutAccountsBesideSubscriptions,
      ACCOUNTS_BESIDE_SUBSCRIPTIONS,
      'fan-out',
    ),
    probeSubscriptionId,
    logRetentionDays,
    oldestMessageAgeAlarmSeconds: wholeNumber(
      'oldestMessageAgeAlarmSeconds',
      input.oldestMessageAgeAlarmSeconds,
      INFRA_DEFAULTS.oldestMessageAgeAlarmSeconds,
      60,
      DEFAULTS.retentionSeconds,
    ),
    ...ledgerTiming(input),
    ...(sweep !== undefined && { sweep }),
    ...(fanOut !== undefined && { fanOut }),
  };
}
