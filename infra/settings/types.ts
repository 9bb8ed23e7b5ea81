import type { AccountsBesideSubscriptions } from '../../functions/callout/account-plan';
/** The bridge's settings as given (BridgeSettingsInput) and as resolved (BridgeSettings), and their defaults. */

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
  /**
   * With the adaptive limit (the default) the sync Lambdas' ceiling: 20 invocations (the event source's
   * maxConcurrency) x 10 calls each = 200 Limio calls in flight at most. The limit, not the ceiling, decides
   * what Limio gets, so the ceiling only has to stay above any Limio's capacity: a Limio sync reads the
   * subscription from Zuora, whose default of 40 concurrent requests per tenant (shared with every other
   * integration) caps it far below 200. 20 invocations are 2 % of the account's default 1,000 concurrent
   * executions, and at the controller's floor (0.05 each) the fleet still makes 1 call at a time; each
   * invocation waiting for a slot is billed as it waits (20 x 256 MB is 5 GB-s per second of drain). 10 per
   * invocation is the default batch size: one invocation alone can run its whole batch at once.
   */
  adaptiveCeiling: { syncInvocationConcurrency: 20, syncConcurrency: 10 },
  /**
   * With `syncAdaptive: false` the cap is fixed and is what Limio gets: today's 2 invocations (AWS's minimum
   * maxConcurrency) x 5 calls = 10 in flight.
   */
  fixedCap: { syncInvocationConcurrency: 2, syncConcurrency: 5 },
  /**
   * On: Limio calls in flight follow the adaptive limit under the ceiling (issue #21). A 502 cuts it only when
   * load explains it, so a flaky Zuora behind Limio does not take it to its floor; 429s and timeouts always cut,
   * as Limio asks, so a Limio answering many of them drains more slowly than under the old fixed cap, and safely.
   */
  syncAdaptive: true,
  /** The whole fleet starts at no more than the 10 calls in flight the fixed cap allowed. */
  syncAdaptiveInitialFleetLimit: 10,
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
  /**
   * Limio calls in flight follow an adaptive limit (SYNC_ADAPTIVE): it grows while Limio answers close to its
   * unloaded latency and shrinks when it slows down or refuses, across every sync invocation, up to the ceiling
   * `syncInvocationConcurrency` x `syncConcurrency`. `false`: that ceiling is a fixed cap, as before issue #21.
   * Default true: see INFRA_DEFAULTS.syncAdaptive.
   */
  readonly syncAdaptive?: boolean;
  /**
   * Distinct subscriptions one sync invocation syncs at once at most (SYNC_CONCURRENCY): the adaptive limit's
   * ceiling per invocation, or the fixed cap. Default 10 (5 with `syncAdaptive: false`).
   */
  readonly syncConcurrency?: number;
  /**
   * Event source maxConcurrency: sync invocations at once. Limio sees at most this x syncConcurrency calls.
   * Default 20 (2 with `syncAdaptive: false`).
   */
  readonly syncInvocationConcurrency?: number;
  /**
   * Limio calls in flight the whole fleet starts with (each invocation starts at this / syncInvocationConcurrency,
   * SYNC_ADAPTIVE_INITIAL_LIMIT), 1 up to the ceiling. Only with `syncAdaptive`. Default 10.
   */
  readonly syncAdaptiveInitialFleetLimit?: number;
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
  /** The longest window one ZOQL query reads (halved automatically while slices do not fit a run), 60 to 86400. Default 3600. */
  readonly sweepSliceSeconds?: number;
  /**
   * The commit lag: a change is visible to every reader of Zuora this long after its UpdatedDate, 0 to 3600
   * (SWEEP_COMMIT_LAG_SECONDS). Default 60.
   */
  readonly sweepCommitLagSeconds?: number;
  /** Replaced by sweepCommitLagSeconds: refused with a message saying so. */
  readonly sweepCoverageMarginSeconds?: number;
  /**
   * MissingCalloutsAlarm: changes a sweep found with no callout at all (missing; not pending, not unproven) at or
   * above this in 3 sweeps in a row. Default 1.
   */
  readonly missingCalloutsAlarmThreshold?: number;
  /**
   * Account numbers callouts may name (ACCOUNT_NUMBER_PATTERN of the callout and fan-out Lambdas), a regular
   * expression, anchored if it is not already. An AccountId (32 hex) is always accepted. Default: an optional
   * letter prefix, then digits (A00001234).
   */
  readonly accountNumberPattern?: string;
  /**
   * What account keys in a callout that also names subscriptions ask for (CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS):
   * `fan-out` (default) syncs the account's every subscription too; `ignore` reads them as the template's context.
   */
  readonly calloutAccountsBesideSubscriptions?: AccountsBesideSubscriptions;
  /** Account messages one fan-out invocation takes (its SQS event source batch size), 1 to 10. Needs `zuoraBaseUrl`. Default 1. */
  readonly fanOutBatchSize?: number;
  /**
   * Fan-out invocations at once (its event source maxConcurrency), 2 to 20: each reads Zuora, whose 40
   * concurrent requests per tenant every integration shares. Needs `zuoraBaseUrl`. Default 2.
   */
  readonly fanOutMaxConcurrency?: number;
}

/** The sweep's settings, resolved; present only when `zuoraBaseUrl` is set. */
export interface SweepSettings {
  readonly zuoraBaseUrl: string;
  readonly zuoraEntityId?: string;
  readonly intervalSeconds: number;
  readonly settleSeconds: number;
  readonly overlapSeconds: number;
  readonly initialLookbackSeconds: number;
  readonly sliceSeconds: number;
  readonly commitLagSeconds: number;
  readonly missingCalloutsAlarmThreshold: number;
  /** The watermark item's partition key in the ledger table (the sweep role may write no other item). */
  readonly watermarkKey: string;
}

/** The account fan-out's settings, resolved; present only with a Zuora connection (`zuoraBaseUrl` set). */
export interface FanOutSettings {
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

type OptionalSetting =
  | 'calloutIdField'
  | 'subscriptionIdPattern'
  | 'probeSubscriptionId'
  | 'wafRateLimitPerIp'
  | 'expectedZuoraTenantId'
  | 'secretsKmsKeyArn'
  | 'accountNumberPattern'
  /** Set only with syncAdaptive. */
  | 'syncAdaptiveInitialFleetLimit';
export type FanOutSettingName = 'fanOutBatchSize' | 'fanOutMaxConcurrency';
export type SweepSettingName =
  | 'zuoraBaseUrl'
  | 'zuoraEntityId'
  | 'sweepIntervalSeconds'
  | 'sweepSettleSeconds'
  | 'sweepOverlapSeconds'
  | 'sweepInitialLookbackSeconds'
  | 'sweepSliceSeconds'
  | 'sweepCommitLagSeconds'
  | 'sweepCoverageMarginSeconds'
  | 'missingCalloutsAlarmThreshold';

export type BridgeSettings = Required<
  Omit<BridgeSettingsInput, OptionalSetting | SweepSettingName | FanOutSettingName>
> &
  Pick<BridgeSettingsInput, OptionalSetting> & {
    /** Set when `zuoraBaseUrl` is: the reconciliation sweep is on. */
    readonly sweep?: SweepSettings;
    /** Set when `zuoraBaseUrl` is: account callouts are fanned out to their subscriptions through Zuora. */
    readonly fanOut?: FanOutSettings;
  };
