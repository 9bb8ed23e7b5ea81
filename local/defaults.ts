/**
 * Where the local runtime (`npm start`) listens, so the CLI's `--local` finds it without a state file.
 * Each can be moved by its environment variable.
 */
export const LOCAL_DEFAULTS = {
  host: '127.0.0.1',
  /** Callout endpoint: http://127.0.0.1:3000/zuora/callout (PORT). */
  calloutPort: 3000,
  /** SQS emulator (SQS_PORT); 9324 is the port SQS emulators customarily use. */
  sqsPort: 9324,
  /** Limio sandbox (LIMIO_SANDBOX_PORT), used unless LIMIO_BASE_URL points at a real tenant. */
  limioSandboxPort: 4010,
  /** DynamoDB emulator (DYNAMODB_PORT) holding the ledger and breaker tables; 8000 is DynamoDB Local's port. */
  dynamoDbPort: 8000,
  /** Zuora sandbox (ZUORA_SANDBOX_PORT), swept unless ZUORA_BASE_URL points at a real tenant. */
  zuoraSandboxPort: 4020,
  calloutPath: '/zuora/callout',
} as const;

/** The tables npm start creates in its DynamoDB emulator, named as the CLI's `--local` expects them. */
export const LOCAL_TABLES = {
  /** Sync ledger and the sweep's watermark (partition key subscriptionId). */
  ledger: 'zuora-limio-sync-ledger',
  /** Circuit breaker state and outcome buckets (partition key pk). */
  breaker: 'zuora-limio-sync-breaker',
} as const;

/** The Zuora sandbox's fixed OAuth client, so the CLI's `sweep --local` can sign in without being told. */
export const LOCAL_ZUORA_CLIENT = { clientId: 'local-zuora-client', clientSecret: 'local-zuora-secret' } as const;

/**
 * The sweep's schedule locally: every minute rather than AWS's 15, and a 30 s settle rather than 5 min, so a
 * change made without a callout shows up within about a minute and a half. Both can be set by their variables.
 */
export const LOCAL_SWEEP_DEFAULTS = {
  intervalSeconds: 60,
  settleSeconds: 30,
  /**
   * The Zuora sandbox commits a change the instant it stamps it, so a second covers its commit lag; a real tenant
   * (ZUORA_BASE_URL) keeps the sweep's own default.
   */
  sandboxCommitLagSeconds: 1,
} as const;

/** What a local sweep run may take, as the CDK stack's sweep Lambda timeout (infra/settings.ts SWEEP_TIMEOUT_SECONDS). */
export const LOCAL_SWEEP_TIMEOUT_SECONDS = 300;
