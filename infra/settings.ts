import { ZUORA_TENANT_ID } from '../functions/callout/tenant';
import { ConfigError } from '../functions/shared/config-error';
import { BREAKER_DEFAULTS } from '../functions/breaker/settings';
import { DEFAULTS, maxRetryBudgetSeconds } from '../functions/shared/defaults';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../functions/shared/subscription-id';
import type { Env } from '../functions/shared/env';
import { LEDGER_DEFAULTS, loadLedgerConfig } from '../functions/ledger/config';
import { loadSweepConfig, SWEEP_DEFAULTS } from '../functions/sweep/config';
import { sweepWatermarkKey } from '../functions/sweep/dynamodb-watermark-store';

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
  /**
   * Requests per second (steady) and burst the API stage accepts before answering 429. Sized for a bill run's
   * peak with room, not for an average: a bill run can send thousands of callouts within minutes, a throttled
   * callout gets 429 and Zuora gives up after its few retries. The callout Lambda (a few ms per callout) and
   * SQS absorb thousands per second, so the stage limit is the first thing that would refuse a burst. 500/1000
   * stays a small share of the account's regional 10,000 requests/s, which every API of the account shares;
   * callers other than Zuora are kept out by allowedIpRanges or the WAF option, not by a low throttle.
   */
  throttleRateLimit: 500,
  throttleBurstLimit: 1000,
  calloutTimeoutSeconds: 10,
  logRetentionDays: 90,
  /** A message older than this on the main queue means the sync is not keeping up (or is paused). */
  oldestMessageAgeAlarmSeconds: 3600,
  serviceName: 'zuora-limio-sync',
  /** The namespace both functions publish their custom metrics to (functions/sync/telemetry.ts). */
  metricsNamespace: 'ZuoraLimioSync',
  /**
   * TLS of the REST API's own endpoint: TLS 1.3 and 1.2 only (a regional REST API defaults to TLS_1_0). An
   * enhanced policy (SecurityPolicy_…) also takes an endpoint access mode; STRICT refuses requests whose SNI
   * host is not this API's, which Zuora's calls to the execute-api URL always match.
   */
  apiSecurityPolicy: 'SecurityPolicy_TLS13_1_2_PQ_2025_09',
  /** Stateful resources (queues, created secrets, breaker table) outlive the stack unless told otherwise. */
  retainStatefulResources: true,
} as const;

/** WAF's rate-based rules count over 5 minutes by default; this is the smallest limit the bridge accepts. */
export const WAF_MIN_RATE_LIMIT_PER_IP = 100;

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
  /**
   * Optional source IP allowlist (CIDRs or addresses), REST API only: Zuora's published callout addresses of
   * the data centre(s) your tenant uses, chosen by you (the list changes over time, so none is built in).
   * Default: none (authentication still applies).
   */
  readonly allowedIpRanges?: readonly string[];
  /**
   * REST API only: creates a WAF web ACL on the stage whose rate-based rule blocks (403) a source address that
   * sends more than this many requests in 5 minutes, so one caller cannot use up the stage throttle. Zuora's
   * addresses (`wafExemptIpRanges`, else `allowedIpRanges`) are exempt and must be given: a bill run comes
   * from a few addresses. Default: no WAF (it costs a monthly fee per web ACL and rule, plus per request).
   */
  readonly wafRateLimitPerIp?: number;
  /** Addresses the WAF rate rule never limits (Zuora's). Default: `allowedIpRanges`. */
  readonly wafExemptIpRanges?: readonly string[];
  /**
   * REST API security policy (TLS versions and ciphers): `TLS_1_2` or an enhanced `SecurityPolicy_TLS13_…`
   * policy for regional endpoints (taken with endpoint access mode STRICT). TLS 1.0 is refused. HTTP APIs need
   * nothing: API Gateway enforces TLS_1_2 on every HTTP API endpoint.
   */
  readonly apiSecurityPolicy?: string;
  /**
   * The Zuora tenant id callouts must carry (CALLOUT_EXPECTED_TENANT_ID): a callout naming another tenant (a
   * sandbox pointed at production) is refused. Default: not checked.
   */
  readonly expectedZuoraTenantId?: string;
  /**
   * Keep the main queue, the DLQ, the secrets the construct creates and the breaker table when the stack is
   * deleted or a resource replaced (DeletionPolicy and UpdateReplacePolicy Retain). Default true.
   */
  readonly retainStatefulResources?: boolean;
  /**
   * ARN of the customer managed KMS key that encrypts the secrets (existing ones given by ARN, and the ones the
   * construct creates). Each function reading a secret gets kms:Decrypt on this key, only through Secrets
   * Manager and only for its own secret. Default: the AWS managed key aws/secretsmanager.
   */
  readonly secretsKmsKeyArn?: string;
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
  /**
   * Sync ledger (SYNC_COOLDOWN_SECONDS): a change arriving within this long of a successful sync's start waits
   * for the cooldown's end and shares one Limio call with the others that did; 0 turns holding off. Default 5.
   */
  readonly syncCooldownSeconds?: number;
  /** Sync ledger (SYNC_CLOCK_MARGIN_SECONDS): clock difference allowed between callout and sync Lambdas. Default 1. */
  readonly syncClockMarginSeconds?: number;
  /**
   * The Zuora tenant's REST root (https), e.g. https://rest.zuora.com: turns on the reconciliation sweep, which
   * reads what Zuora changed and queues what has no sync since (changes whose callout never came). Recommended.
   * Default: no sweep.
   */
  readonly zuoraBaseUrl?: string;
  /** Multi-entity tenants: the entity the sweep reads (ZUORA_ENTITY_ID). Default: none. */
  readonly zuoraEntityId?: string;
  /** Seconds between sweeps (the schedule), whole minutes. Default 900. */
  readonly sweepIntervalSeconds?: number;
  /** The newest changes left to their callouts: a sweep's window ends this long before now. Default 300. */
  readonly sweepSettleSeconds?: number;
  /** Each sweep reads again this long before where the last one ended. Default 600. */
  readonly sweepOverlapSeconds?: number;
  /** How far the first sweep looks back. Default 3600. */
  readonly sweepInitialLookbackSeconds?: number;
  /**
   * MissingCalloutsAlarm: subscriptions a sweep queued (changed in Zuora without a sync) at or above this in 3
   * sweeps in a row. Default 1.
   */
  readonly missingCalloutsAlarmThreshold?: number;
}

/** The sweep's settings, resolved; present only when `zuoraBaseUrl` is set. */
export interface SweepSettings {
  readonly zuoraBaseUrl: string;
  readonly zuoraEntityId?: string;
  readonly intervalSeconds: number;
  readonly settleSeconds: number;
  readonly overlapSeconds: number;
  readonly initialLookbackSeconds: number;
  readonly missingCalloutsAlarmThreshold: number;
  /** The watermark item's partition key in the ledger table (the sweep role may write no other item). */
  readonly watermarkKey: string;
}

/** Queued subscriptions in this many sweeps in a row raise MissingCalloutsAlarm (one bad sweep is not a trend). */
export const MISSING_CALLOUTS_SWEEPS = 3;
/** Failed sweeps in a row that raise SweepFailedAlarm. */
export const FAILED_SWEEPS = 2;
/** The sweep Lambda's timeout: a run reads what fits, the next one goes on from the watermark. */
export const SWEEP_TIMEOUT_SECONDS = 300;

/**
 * A complete sweep leaves its watermark the settle time (plus the run) behind now. A sweep that keeps stopping at
 * its deadline ends every run "out of time", which is no failure, yet falls further behind each interval: beyond
 * two intervals more than that, SweepFailedAlarm counts it as failing.
 */
export function sweepFallingBehindSeconds(sweep: Pick<SweepSettings, 'settleSeconds' | 'intervalSeconds'>): number {
  return sweep.settleSeconds + SWEEP_TIMEOUT_SECONDS + 2 * sweep.intervalSeconds;
}

type OptionalSetting = 'calloutIdField' | 'subscriptionIdPattern' | 'probeSubscriptionId' | 'wafRateLimitPerIp' | 'expectedZuoraTenantId' | 'secretsKmsKeyArn';
type SweepSettingName =
  | 'zuoraBaseUrl' | 'zuoraEntityId' | 'sweepIntervalSeconds' | 'sweepSettleSeconds' | 'sweepOverlapSeconds'
  | 'sweepInitialLookbackSeconds' | 'missingCalloutsAlarmThreshold';

export type BridgeSettings = Required<Omit<BridgeSettingsInput, OptionalSetting | SweepSettingName>> & Pick<BridgeSettingsInput, OptionalSetting> & {
  /** Set when `zuoraBaseUrl` is: the reconciliation sweep is on. */
  readonly sweep?: SweepSettings;
};

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

function ipRanges(name: string, ranges: readonly string[] | undefined, apiKind: CalloutApiKind): string[] {
  const list = (ranges ?? []).map((range) => range.trim()).filter((range) => range !== '');
  for (const range of list) {
    if (!IPV4_CIDR.test(range) && !IPV6_CIDR.test(range)) {
      throw new ConfigError(name, `"${range}" is not an IPv4/IPv6 address or CIDR`);
    }
  }
  // HTTP APIs have no resource policy (and no WAF): an allowlist there would silently do nothing.
  if (list.length > 0 && apiKind !== 'rest') {
    throw new ConfigError(name, 'needs apiKind "rest" (HTTP APIs have no resource policy)');
  }
  return list;
}

export function isIpv6Range(range: string): boolean {
  return range.includes(':');
}

/** A WAF IP set takes CIDRs only: a lone address becomes its /32 (or /128). */
export function asCidr(range: string): string {
  if (range.includes('/')) return range;
  return `${range}/${isIpv6Range(range) ? 128 : 32}`;
}

function wafRateLimit(value: number | undefined, apiKind: CalloutApiKind, exempt: readonly string[]): number | undefined {
  if (value === undefined) return undefined;
  // WAF cannot be associated with an HTTP API: refusing beats a synth that silently protects nothing.
  if (apiKind !== 'rest') throw new ConfigError('wafRateLimitPerIp', 'needs apiKind "rest" (WAF cannot be associated with an HTTP API)');
  const limit = wholeNumber('wafRateLimitPerIp', value, value, WAF_MIN_RATE_LIMIT_PER_IP, 2_000_000_000);
  if (exempt.length === 0) {
    throw new ConfigError('wafRateLimitPerIp', 'needs Zuora\'s addresses exempt (wafExemptIpRanges or allowedIpRanges): a bill run comes from a few Zuora addresses and would be blocked');
  }
  return limit;
}

function apiSecurityPolicy(value: string | undefined): string {
  const policy = value?.trim() || INFRA_DEFAULTS.apiSecurityPolicy;
  // TLS_1_2 (legacy) or an enhanced policy of a regional endpoint; never TLS_1_0, never an edge-only policy.
  if ((policy !== 'TLS_1_2' && !/^SecurityPolicy_TLS13_[A-Z0-9_]+$/.test(policy)) || policy.endsWith('_EDGE')) {
    throw new ConfigError('apiSecurityPolicy', `must be TLS_1_2 or a regional SecurityPolicy_TLS13_… policy, got "${policy}"`);
  }
  return policy;
}

export function isEnhancedSecurityPolicy(policy: string): boolean {
  return policy.startsWith('SecurityPolicy_');
}

function kmsKeyArn(value: string | undefined): string | undefined {
  const arn = optionalText(value);
  if (arn === undefined) return undefined;
  // IAM matches a grant against the key's own ARN: an alias ARN would deploy and then be denied at run time.
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(arn)) {
    throw new ConfigError('secretsKmsKeyArn', `must be a KMS key's ARN (arn:aws:kms:<region>:<account>:key/<key id>, not an alias), got "${arn}"`);
  }
  return arn;
}

function optionalText(value: string | undefined, check?: (text: string) => void): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  check?.(value.trim());
  return value.trim();
}

/**
 * Runs a Lambda's own configuration loader over the environment the construct will give it, so a prop is refused
 * at synth by the very rule that would stop the Lambda's cold start; the error names the prop, not the variable.
 */
function checkedByLambdaRules<T>(load: (env: Env) => T, env: Record<string, string | undefined>, propOf: Record<string, string>): T {
  try {
    return load(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let problem = error.message.slice(error.variable.length + 2);
    for (const [variable, prop] of Object.entries(propOf)) problem = problem.replaceAll(variable, prop);
    throw new ConfigError(propOf[error.variable] ?? error.variable, problem);
  }
}

function ledgerTiming(input: BridgeSettingsInput): { syncCooldownSeconds: number; syncClockMarginSeconds: number } {
  const syncCooldownSeconds = input.syncCooldownSeconds ?? LEDGER_DEFAULTS.cooldownSeconds;
  const syncClockMarginSeconds = input.syncClockMarginSeconds ?? LEDGER_DEFAULTS.clockMarginSeconds;
  checkedByLambdaRules(loadLedgerConfig, {
    SYNC_COOLDOWN_SECONDS: String(syncCooldownSeconds),
    SYNC_CLOCK_MARGIN_SECONDS: String(syncClockMarginSeconds),
  }, { SYNC_COOLDOWN_SECONDS: 'syncCooldownSeconds', SYNC_CLOCK_MARGIN_SECONDS: 'syncClockMarginSeconds' });
  return { syncCooldownSeconds, syncClockMarginSeconds };
}

const SWEEP_VARIABLE_PROPS: Record<string, string> = {
  ZUORA_BASE_URL: 'zuoraBaseUrl',
  ZUORA_ENTITY_ID: 'zuoraEntityId',
  SWEEP_INTERVAL_SECONDS: 'sweepIntervalSeconds',
  SWEEP_SETTLE_SECONDS: 'sweepSettleSeconds',
  SWEEP_OVERLAP_SECONDS: 'sweepOverlapSeconds',
  SWEEP_INITIAL_LOOKBACK_SECONDS: 'sweepInitialLookbackSeconds',
};

const SWEEP_ONLY_PROPS = [
  'zuoraEntityId', 'sweepIntervalSeconds', 'sweepSettleSeconds', 'sweepOverlapSeconds', 'sweepInitialLookbackSeconds', 'missingCalloutsAlarmThreshold',
] as const satisfies readonly SweepSettingName[];

/** The sweep Lambda's environment for these settings (credentials excepted: the secret's ARN is the construct's). */
export function sweepEnvironment(sweep: SweepSettings): Record<string, string> {
  return {
    ZUORA_BASE_URL: sweep.zuoraBaseUrl,
    ...(sweep.zuoraEntityId !== undefined && { ZUORA_ENTITY_ID: sweep.zuoraEntityId }),
    SWEEP_INTERVAL_SECONDS: String(sweep.intervalSeconds),
    SWEEP_SETTLE_SECONDS: String(sweep.settleSeconds),
    SWEEP_OVERLAP_SECONDS: String(sweep.overlapSeconds),
    SWEEP_INITIAL_LOOKBACK_SECONDS: String(sweep.initialLookbackSeconds),
  };
}

function sweepSettings(input: BridgeSettingsInput, subscriptionIdPattern: string | undefined): SweepSettings | undefined {
  const zuoraBaseUrl = optionalText(input.zuoraBaseUrl);
  if (zuoraBaseUrl === undefined) {
    const orphan = SWEEP_ONLY_PROPS.find((prop) => input[prop] !== undefined);
    // A sweep setting without the tenant would silently deploy no sweep at all.
    if (orphan !== undefined) throw new ConfigError('zuoraBaseUrl', `is required for ${orphan}: the sweep is off without it`);
    return undefined;
  }
  // The deployed Lambda reaches no loopback sandbox, and sends Zuora a bearer token: https only.
  const url = (() => {
    try {
      return new URL(zuoraBaseUrl);
    } catch {
      throw new ConfigError('zuoraBaseUrl', `must be an absolute URL such as https://rest.zuora.com, got "${zuoraBaseUrl}"`);
    }
  })();
  if (url.protocol !== 'https:') throw new ConfigError('zuoraBaseUrl', `must use https://, got "${zuoraBaseUrl}"`);
  if (url.username || url.password) throw new ConfigError('zuoraBaseUrl', `must not carry credentials, got "${zuoraBaseUrl}"`);
  const intervalSeconds = input.sweepIntervalSeconds ?? SWEEP_DEFAULTS.intervalSeconds;
  // EventBridge rates are whole minutes.
  if (Number.isInteger(intervalSeconds) && intervalSeconds % 60 !== 0) {
    throw new ConfigError('sweepIntervalSeconds', `must be whole minutes (a multiple of 60: EventBridge schedules by the minute), got ${intervalSeconds}`);
  }
  const number = (value: number | undefined) => value === undefined ? undefined : String(value);
  const config = checkedByLambdaRules(loadSweepConfig, {
    ZUORA_BASE_URL: zuoraBaseUrl,
    // Stands for the secret's ARN the construct passes; only its presence is checked.
    ZUORA_SECRET_ID: 'zuora-secret',
    ZUORA_ENTITY_ID: optionalText(input.zuoraEntityId),
    SWEEP_INTERVAL_SECONDS: number(intervalSeconds),
    SWEEP_SETTLE_SECONDS: number(input.sweepSettleSeconds),
    SWEEP_OVERLAP_SECONDS: number(input.sweepOverlapSeconds),
    SWEEP_INITIAL_LOOKBACK_SECONDS: number(input.sweepInitialLookbackSeconds),
    SUBSCRIPTION_ID_PATTERN: subscriptionIdPattern,
  }, SWEEP_VARIABLE_PROPS);
  return {
    zuoraBaseUrl: config.zuoraBaseUrl,
    ...(config.entityId !== undefined && { zuoraEntityId: config.entityId }),
    intervalSeconds: config.intervalSeconds,
    settleSeconds: config.window.settleSeconds,
    overlapSeconds: config.window.overlapSeconds,
    initialLookbackSeconds: config.window.initialLookbackSeconds,
    missingCalloutsAlarmThreshold: wholeNumber('missingCalloutsAlarmThreshold', input.missingCalloutsAlarmThreshold, 1, 1, 1_000_000),
    watermarkKey: sweepWatermarkKey(config),
  };
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
  const allowedIpRanges = ipRanges('allowedIpRanges', input.allowedIpRanges, apiKind);
  const wafExemptIpRanges = input.wafExemptIpRanges === undefined ? allowedIpRanges : ipRanges('wafExemptIpRanges', input.wafExemptIpRanges, apiKind);
  // The callout Lambda's own rule (CALLOUT_EXPECTED_TENANT_ID, checked at its cold start): refused here at synth instead.
  const expectedZuoraTenantId = optionalText(input.expectedZuoraTenantId, (id) => {
    if (!ZUORA_TENANT_ID.test(id)) {
      throw new ConfigError('expectedZuoraTenantId', `must be a Zuora tenant id (letters, digits and "-", at most 64, e.g. 12345), got "${id}"`);
    }
  });
  const sweep = sweepSettings(input, subscriptionIdPattern);
  return {
    limioBaseUrl: limioUrl(input.limioBaseUrl),
    calloutAuthMode: chosen('calloutAuthMode', input.calloutAuthMode, CALLOUT_AUTH_MODES, INFRA_DEFAULTS.calloutAuthMode),
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
    ...ledgerTiming(input),
    ...(sweep !== undefined && { sweep }),
  };
}
