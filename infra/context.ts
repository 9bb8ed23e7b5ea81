import { ConfigError } from '../functions/shared/config-error';
import type { BridgeStackSettings } from './zuora-limio-sync-stack';

/**
 * Reads the bridge settings from CDK context (cdk.json "context", or `-c key=value` on the command line).
 * Values from cdk.json arrive typed; values from `-c` arrive as strings: both are accepted. Validation of the
 * values themselves is the construct's (settings.ts), so the same rules apply to props and context.
 *
 * | key | meaning |
 * |---|---|
 * | limioBaseUrl | Limio tenant URL (required), e.g. https://acme.prod.limio.com |
 * | limioSecretArn | existing Limio credentials secret (complete ARN); default: a new secret to fill |
 * | calloutAuthMode | basic (default) / header / hmac |
 * | calloutAuthSecretArn | existing callout auth secret (complete ARN); default: a new generated one |
 * | calloutRealm | Basic realm in the 401 challenge |
 * | apiKind | rest (default) / http |
 * | throttleRateLimit, throttleBurstLimit | API stage throttling |
 * | allowedIpRanges | IP allowlist (REST only): JSON array or comma-separated CIDRs; default none |
 * | wafRateLimitPerIp, wafExemptIpRanges | optional WAF per-IP rate rule (REST only) and the addresses it exempts |
 * | apiSecurityPolicy | REST API TLS security policy; default TLS 1.3 + 1.2 only |
 * | expectedZuoraTenantId | refuse callouts from another Zuora tenant; default not checked |
 * | retainStatefulResources | keep queues, created secrets and breaker table when the stack goes; default true |
 * | secretsKmsKeyArn | customer managed key of the secrets, granted for decryption through Secrets Manager |
 * | syncAdaptive | true (default): Limio calls in flight follow an adaptive limit below the ceiling; false: the ceiling is a fixed cap |
 * | syncConcurrency | subscriptions synced at once per invocation at most (default 10; 5 without syncAdaptive) |
 * | syncInvocationConcurrency | sync invocations at once (event source maxConcurrency, >= 2; default 20; 2 without syncAdaptive) |
 * | syncAdaptiveInitialFleetLimit | Limio calls in flight the whole fleet starts with (default 10) |
 * | retryBudgetSeconds | how long a Limio-side failure is retried (open-breaker time not counted); default 86400 |
 * | maxAttempts | safety net on receives of one message (the time budget decides); default 400 |
 * | probeSubscriptionId | a subscription the breaker probe syncs too (default: token only) |
 * | batchSize, batchingWindowSeconds | SQS event source batching |
 * | syncTimeoutSeconds, limioTimeoutMs | sync function and Limio request timeouts |
 * | backoffBaseSeconds, backoffMaxSeconds | retry backoff |
 * | calloutDelaySeconds | debounce: SQS delay of every queued callout |
 * | calloutMaxIds, calloutMaxBodyBytes, calloutIdField, subscriptionIdPattern | callout parsing limits and rules |
 * | logRetentionDays | log retention of both functions and the API |
 * | oldestMessageAgeAlarmSeconds | age-of-oldest-message alarm threshold |
 * | syncCooldownSeconds, syncClockMarginSeconds | sync ledger: cooldown that folds a burst into one more Limio call (0 = off), clock margin |
 * | zuoraBaseUrl | Zuora tenant REST root (https): turns the reconciliation sweep on (recommended) |
 * | zuoraSecretArn | existing Zuora OAuth client secret (complete ARN); default: a new secret to fill |
 * | zuoraEntityId | multi-entity tenants: the entity the sweep reads |
 * | sweepIntervalSeconds, sweepSettleSeconds, sweepOverlapSeconds, sweepInitialLookbackSeconds | sweep schedule and window |
 * | sweepSliceSeconds, sweepCommitLagSeconds | longest window of one Zuora query; how long after its UpdatedDate a change is visible to every reader (sweepCoverageMarginSeconds is refused: it was replaced) |
 * | missingCalloutsAlarmThreshold | changes the sweep found without any callout (missing), 3 sweeps in a row, that raise MissingCalloutsAlarm |
 * | accountNumberPattern | account numbers callouts may name (ACCOUNT_NUMBER_PATTERN); default a letter prefix, then digits |
 * | calloutAccountsBesideSubscriptions | fan-out or ignore: account keys in a callout that also names subscriptions |
 * | fanOutBatchSize, fanOutMaxConcurrency | account fan-out (needs zuoraBaseUrl): accounts per invocation (1), invocations at once (2) |
 * | alarmEmail | email subscribed to a new alarm topic |
 * | alarmTopicArn | existing SNS topic for the alarms |
 * | createApiGatewayCloudWatchRole | false when the account already has API Gateway's logging role |
 */
export type ContextReader = (key: string) => unknown;

const STRING_KEYS = [
  'limioBaseUrl',
  'limioSecretArn',
  'calloutAuthMode',
  'calloutAuthSecretArn',
  'calloutRealm',
  'apiKind',
  'calloutIdField',
  'subscriptionIdPattern',
  'probeSubscriptionId',
  'alarmEmail',
  'alarmTopicArn',
  'apiSecurityPolicy',
  'expectedZuoraTenantId',
  'secretsKmsKeyArn',
  'zuoraBaseUrl',
  'zuoraSecretArn',
  'zuoraEntityId',
  'accountNumberPattern',
  'calloutAccountsBesideSubscriptions',
] as const;
const NUMBER_KEYS = [
  'throttleRateLimit',
  'throttleBurstLimit',
  'syncConcurrency',
  'syncInvocationConcurrency',
  'maxAttempts',
  'retryBudgetSeconds',
  'batchSize',
  'batchingWindowSeconds',
  'syncTimeoutSeconds',
  'limioTimeoutMs',
  'backoffBaseSeconds',
  'backoffMaxSeconds',
  'calloutDelaySeconds',
  'calloutMaxIds',
  'calloutMaxBodyBytes',
  'logRetentionDays',
  'oldestMessageAgeAlarmSeconds',
  'wafRateLimitPerIp',
  'syncCooldownSeconds',
  'syncClockMarginSeconds',
  'sweepIntervalSeconds',
  'sweepSettleSeconds',
  'sweepOverlapSeconds',
  'sweepInitialLookbackSeconds',
  'sweepSliceSeconds',
  'sweepCommitLagSeconds',
  'sweepCoverageMarginSeconds',
  'missingCalloutsAlarmThreshold',
  'fanOutBatchSize',
  'fanOutMaxConcurrency',
  'syncAdaptiveInitialFleetLimit',
] as const;

function text(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ConfigError(key, `must be a string, got ${JSON.stringify(value)}`);
  return value.trim() === '' ? undefined : value.trim();
}

function numberFrom(key: string, value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  throw new ConfigError(key, `must be a number, got ${JSON.stringify(value)}`);
}

function booleanFrom(key: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ConfigError(key, `must be true or false, got ${JSON.stringify(value)}`);
}

function listFrom(key: string, value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) return listFrom(key, JSON.parse(trimmed) as unknown);
    return trimmed
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  throw new ConfigError(key, `must be a list of strings, got ${JSON.stringify(value)}`);
}

export function bridgeSettingsFromContext(read: ContextReader): BridgeStackSettings {
  const settings: Record<string, unknown> = {};
  for (const key of STRING_KEYS) settings[key] = text(key, read(key));
  for (const key of NUMBER_KEYS) settings[key] = numberFrom(key, read(key));
  for (const key of ['allowedIpRanges', 'wafExemptIpRanges']) settings[key] = listFrom(key, read(key));
  for (const key of ['createApiGatewayCloudWatchRole', 'retainStatefulResources', 'syncAdaptive'])
    settings[key] = booleanFrom(key, read(key));
  const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  if (typeof defined.limioBaseUrl !== 'string') {
    throw new ConfigError(
      'limioBaseUrl',
      'is required: set it in cdk.json "context" or pass -c limioBaseUrl=https://acme.prod.limio.com',
    );
  }
  return defined as unknown as BridgeStackSettings;
}
