import { ConfigError } from '../functions/shared/config-error';
import { BREAKER_DEFAULTS } from '../functions/breaker/settings';
import { DEFAULTS, maxRetryBudgetSeconds } from '../functions/shared/defaults';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../functions/shared/subscription-id';

/**
 * The tunable settings of the bridge, validated once, shared by the construct (props) and the app (cdk.json
 * context). Pure: no CDK here, so the rules are tested without synthesising anything.
 */

export type CalloutAuthMode = 'basic' | 'header' | 'hmac';
export const CALLOUT_AUTH_MODES: readonly CalloutAuthMode[] = ['basic', 'header', 'hmac'];

/** `rest`: API Gateway REST API (needed for Zuora's default, non-preemptive Basic). `http`: HTTP API. */
export type CalloutApiKind = 'rest' | 'http';
export const CALLOUT_API_KINDS: readonly CalloutApiKind[] = ['rest', 'http'];

/** The example Limio URL shipped in cdk.json: synth works with it, a deployment with it syncs nothing. */
export const EXAMPLE_LIMIO_BASE_URL = 'https://your-tenant.prod.limio.com';

/** Defaults of the settings that only the deployed bridge has (the Lambda-side ones live in DEFAULTS). */
export const INFRA_DEFAULTS = {
  calloutAuthMode: 'basic' as CalloutAuthMode,
  apiKind: 'rest' as CalloutApiKind,
  calloutRealm: 'zuora-limio-sync',
  /** Lambda invocations the SQS event source runs at once (its maxConcurrency); AWS's minimum is 2. */
  syncInvocationConcurrency: 2,
  /** Requests per second (steady) and burst the API stage accepts before answering 429. */
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  calloutTimeoutSeconds: 10,
  logRetentionDays: 90,
  /** A message older than this on the main queue means the sync is not keeping up (or is paused). */
  oldestMessageAgeAlarmSeconds: 3600,
  serviceName: 'zuora-limio-sync',
  /** The namespace both functions publish their custom metrics to (functions/sync/telemetry.ts). */
  metricsNamespace: 'ZuoraLimioSync',
} as const;

/** Everything the construct needs besides CDK objects (secret ARNs, KMS key, SNS topic). */
export interface BridgeSettingsInput {
  /** Limio tenant base URL, e.g. https://acme.prod.limio.com (https only). */
  readonly limioBaseUrl: string;
  /** How Zuora authenticates its callouts; shapes the generated secret and, for `basic`, the API's 401 challenge. */
  readonly calloutAuthMode?: CalloutAuthMode;
  /** Front door kind. Default `rest`. */
  readonly apiKind?: CalloutApiKind;
  /** Basic realm announced in the 401 challenge (and CALLOUT_REALM). Letters, digits, space, `.`, `_`, `-`. */
  readonly calloutRealm?: string;
  /** Stage throttling: steady requests per second. */
  readonly throttleRateLimit?: number;
  /** Stage throttling: burst. */
  readonly throttleBurstLimit?: number;
  /** Optional source IP allowlist (CIDRs or addresses), REST API only. Default: none (authentication still applies). */
  readonly allowedIpRanges?: readonly string[];
  /** Distinct subscriptions one sync invocation syncs at once (SYNC_CONCURRENCY). */
  readonly syncConcurrency?: number;
  /** Event source maxConcurrency: sync invocations at once. Limio sees at most this x syncConcurrency calls. */
  readonly syncInvocationConcurrency?: number;
  /**
   * Seconds a Limio-side failure is retried, from when the callout was accepted, not counting the time the
   * circuit breaker was open (RETRY_BUDGET_SECONDS). At most the queue's 14-day retention minus (backoffMaxSeconds
   * + 1 day): 1 122 300 s with the default 900 s backoff cap.
   */
  readonly retryBudgetSeconds?: number;
  /** Safety net on receives of one message (MAX_ATTEMPTS); the time budget decides. The redrive is one above. */
  readonly maxAttempts?: number;
  /** SQS event source batch size. */
  readonly batchSize?: number;
  /** SQS event source batching window, seconds. */
  readonly batchingWindowSeconds?: number;
  /** Sync Lambda timeout, seconds; the main queue's visibility timeout is 6x this. */
  readonly syncTimeoutSeconds?: number;
  /** Limio request timeout (LIMIO_TIMEOUT_MS); must leave room inside the sync timeout. */
  readonly limioTimeoutMs?: number;
  /** Retry backoff (BACKOFF_BASE_SECONDS / BACKOFF_MAX_SECONDS). */
  readonly backoffBaseSeconds?: number;
  readonly backoffMaxSeconds?: number;
  /** Debounce: SQS delay on every queued callout (CALLOUT_DELAY_SECONDS), 0-900. */
  readonly calloutDelaySeconds?: number;
  /** Most subscription ids accepted in one callout (CALLOUT_MAX_IDS). */
  readonly calloutMaxIds?: number;
  /** Largest callout body accepted (CALLOUT_MAX_BODY_BYTES). */
  readonly calloutMaxBodyBytes?: number;
  /** Field name carrying the subscription id in callout bodies (CALLOUT_ID_FIELD); default: the Lambda's own list. */
  readonly calloutIdField?: string;
  /** Tenant-specific subscription number pattern (SUBSCRIPTION_ID_PATTERN); default: the shared rule. */
  readonly subscriptionIdPattern?: string;
  /**
   * A subscription the breaker probe syncs besides asking for a token (PROBE_SUBSCRIPTION_ID), so an outage of
   * Limio's sync API behind a healthy token endpoint keeps the breaker open. Default: token only.
   */
  readonly probeSubscriptionId?: string;
  /** CloudWatch Logs retention for both functions and the API access log, in days. */
  readonly logRetentionDays?: number;
  /** Age-of-oldest-message alarm threshold, seconds. */
  readonly oldestMessageAgeAlarmSeconds?: number;
}

export type BridgeSettings = Required<Omit<BridgeSettingsInput, 'calloutIdField' | 'subscriptionIdPattern' | 'probeSubscriptionId'>> &
  Pick<BridgeSettingsInput, 'calloutIdField' | 'subscriptionIdPattern' | 'probeSubscriptionId'>;

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

function wholeNumber(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved)) throw new ConfigError(name, `must be a whole number, got ${resolved}`);
  if (resolved < min || resolved > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${resolved}`);
  }
  return resolved;
}

function chosen<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  const resolved = value ?? fallback;
  if (!allowed.includes(resolved)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${String(resolved)}"`);
  }
  return resolved;
}

function limioUrl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError('limioBaseUrl', 'is required, e.g. https://acme.prod.limio.com');
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError('limioBaseUrl', `must be an absolute URL such as https://acme.prod.limio.com, got "${raw}"`);
  }
  // A deployed bridge sends a bearer token to this host: never in clear text, never to a loopback address.
  if (url.protocol !== 'https:') throw new ConfigError('limioBaseUrl', `must use https://, got "${raw}"`);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError('limioBaseUrl', `must not carry credentials, a query or a fragment, got "${raw}"`);
  }
  return url.toString().replace(/\/+$/, '');
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6_CIDR = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/;

function ipRanges(ranges: readonly string[] | undefined, apiKind: CalloutApiKind): string[] {
  const list = (ranges ?? []).map((range) => range.trim()).filter((range) => range !== '');
  for (const range of list) {
    if (!IPV4_CIDR.test(range) && !IPV6_CIDR.test(range)) {
      throw new ConfigError('allowedIpRanges', `"${range}" is not an IPv4/IPv6 address or CIDR`);
    }
  }
  // HTTP APIs have no resource policy (and no WAF): an allowlist there would silently do nothing.
  if (list.length > 0 && apiKind !== 'rest') {
    throw new ConfigError('allowedIpRanges', 'needs apiKind "rest" (HTTP APIs have no resource policy)');
  }
  return list;
}

function optionalText(value: string | undefined, check?: (text: string) => void): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  check?.(value.trim());
  return value.trim();
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
  const syncTimeoutSeconds = wholeNumber('syncTimeoutSeconds', input.syncTimeoutSeconds, DEFAULTS.syncFunctionTimeoutSeconds, 5, 900);
  const batchSize = wholeNumber('batchSize', input.batchSize, DEFAULTS.syncBatchSize, 1, 100);
  const batchingWindowSeconds = wholeNumber('batchingWindowSeconds', input.batchingWindowSeconds, DEFAULTS.syncBatchingWindowSeconds, 0, 300);
  if (batchSize > 10 && batchingWindowSeconds < 1) {
    // An SQS event source rejects batches above 10 without a batching window.
    throw new ConfigError('batchingWindowSeconds', 'must be at least 1 when batchSize is above 10');
  }
  const limioTimeoutMs = wholeNumber('limioTimeoutMs', input.limioTimeoutMs, DEFAULTS.limioTimeoutMs, 100, 120_000);
  if (limioTimeoutMs >= syncTimeoutSeconds * 1000) {
    throw new ConfigError('limioTimeoutMs', `must be below the sync timeout (${syncTimeoutSeconds * 1000} ms), got ${limioTimeoutMs}`);
  }
  const backoffBaseSeconds = wholeNumber('backoffBaseSeconds', input.backoffBaseSeconds, DEFAULTS.backoffBaseSeconds, 1, 43_200);
  const backoffMaxSeconds = wholeNumber('backoffMaxSeconds', input.backoffMaxSeconds, DEFAULTS.backoffMaxSeconds, backoffBaseSeconds, 43_200);
  const logRetentionDays = input.logRetentionDays ?? INFRA_DEFAULTS.logRetentionDays;
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    throw new ConfigError('logRetentionDays', `must be one of ${LOG_RETENTION_DAYS.join(', ')}, got ${logRetentionDays}`);
  }
  const calloutRealm = input.calloutRealm?.trim() || INFRA_DEFAULTS.calloutRealm;
  // The realm is spliced into a quoted header value of a gateway response: keep it to harmless characters.
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(calloutRealm)) {
    throw new ConfigError('calloutRealm', `may hold only letters, digits, space, ".", "_" and "-" (1-64), got "${calloutRealm}"`);
  }
  const throttleRateLimit = wholeNumber('throttleRateLimit', input.throttleRateLimit, INFRA_DEFAULTS.throttleRateLimit, 1, 10_000);
  const throttleBurstLimit = wholeNumber('throttleBurstLimit', input.throttleBurstLimit, INFRA_DEFAULTS.throttleBurstLimit, 1, 5_000);
  return {
    limioBaseUrl: limioUrl(input.limioBaseUrl),
    calloutAuthMode: chosen('calloutAuthMode', input.calloutAuthMode, CALLOUT_AUTH_MODES, INFRA_DEFAULTS.calloutAuthMode),
    apiKind,
    calloutRealm,
    throttleRateLimit,
    throttleBurstLimit,
    allowedIpRanges: ipRanges(input.allowedIpRanges, apiKind),
    syncConcurrency: wholeNumber('syncConcurrency', input.syncConcurrency, DEFAULTS.syncConcurrency, 1, 100),
    syncInvocationConcurrency: wholeNumber('syncInvocationConcurrency', input.syncInvocationConcurrency, INFRA_DEFAULTS.syncInvocationConcurrency, 2, 1000),
    // Up to the 14-day retention minus (backoffMaxSeconds + 1 day): the last retry is dead-lettered, not expired.
    retryBudgetSeconds: wholeNumber('retryBudgetSeconds', input.retryBudgetSeconds, BREAKER_DEFAULTS.retryBudgetSeconds, 60, maxRetryBudgetSeconds(backoffMaxSeconds)),
    maxAttempts: wholeNumber('maxAttempts', input.maxAttempts, DEFAULTS.maxAttempts, 1, 999),
    batchSize,
    batchingWindowSeconds,
    syncTimeoutSeconds,
    limioTimeoutMs,
    backoffBaseSeconds,
    backoffMaxSeconds,
    calloutDelaySeconds: wholeNumber('calloutDelaySeconds', input.calloutDelaySeconds, DEFAULTS.calloutDelaySeconds, 0, 900),
    calloutMaxIds: wholeNumber('calloutMaxIds', input.calloutMaxIds, DEFAULTS.calloutMaxIds, 1, 1000),
    // API Gateway itself refuses payloads above 10 MB.
    calloutMaxBodyBytes: wholeNumber('calloutMaxBodyBytes', input.calloutMaxBodyBytes, DEFAULTS.calloutMaxBodyBytes, 1024, DEFAULTS.calloutMaxBodyBytesLimit),
    calloutIdField: optionalText(input.calloutIdField),
    subscriptionIdPattern,
    probeSubscriptionId,
    logRetentionDays,
    oldestMessageAgeAlarmSeconds: wholeNumber('oldestMessageAgeAlarmSeconds', input.oldestMessageAgeAlarmSeconds, INFRA_DEFAULTS.oldestMessageAgeAlarmSeconds, 60, DEFAULTS.retentionSeconds),
  };
}
