import { randomBytes } from 'node:crypto';
import { ConfigError } from '../functions/shared/config-error';
import { DEFAULTS, redriveMaxReceiveCount } from '../functions/shared/defaults';
import { baseUrl, integer, oneOf, optionalString, type Env } from '../functions/shared/env';
import { API_KINDS, type ApiKind } from './api-gateway';
import { LOCAL_DEFAULTS, LOCAL_SWEEP_DEFAULTS, LOCAL_ZUORA_CLIENT } from './defaults';
import { SANDBOX_CAPACITY_BOUNDS, SANDBOX_LATENCY_BOUNDS } from './limio-capacity';
import { SHARE_ROUNDING, type LimioFaults } from './limio-faults';
import type { ZuoraFaults } from './zuora-tenant';

/**
 * The local runtime's own settings, read from the environment once. Every problem is a ConfigError naming the
 * variable, so `npm start` can say what to change. Variables the handlers read (BACKOFF_BASE_SECONDS,
 * CALLOUT_DELAY_SECONDS, SUBSCRIPTION_ID_PATTERN, ...) are passed through to them untouched and checked by
 * their own loaders.
 */
type LimioTarget =
  | {
      readonly kind: 'sandbox';
      readonly port: number;
      readonly faults: LimioFaults;
      /** LIMIO_SANDBOX_CAPACITY: sync calls in flight served at its latency (local/limio-capacity.ts); absent = unlimited. */
      readonly capacity?: number;
      /** Fixed sandbox credentials, when LIMIO_CLIENT_ID/SECRET are given; generated otherwise. */
      readonly clientId?: string;
      readonly clientSecret?: string;
    }
  | { readonly kind: 'tenant'; readonly baseUrl: string; readonly clientId: string; readonly clientSecret: string };

/** The tenant the reconciliation sweep reads: the local Zuora sandbox, or a real one (ZUORA_BASE_URL). */
type ZuoraTarget =
  | {
      readonly kind: 'sandbox';
      readonly port: number;
      readonly faults: ZuoraFaults;
      readonly clientId: string;
      readonly clientSecret: string;
      /** ZUORA_ENTITY_ID: the sandbox then wants it on every call, as a multi-entity tenant does. */
      readonly entityId?: string;
    }
  | { readonly kind: 'tenant'; readonly baseUrl: string; readonly clientId: string; readonly clientSecret: string };

/** How the printed curl authenticates; `generated` credentials may be printed, the user's own never are. */
export type CalloutCredentials =
  | { readonly mode: 'basic'; readonly username: string; readonly password: string; readonly generated: boolean }
  | { readonly mode: 'header'; readonly headerName: string; readonly value: string }
  | { readonly mode: 'hmac' };

export interface RuntimeConfig {
  readonly host: string;
  readonly port: number;
  readonly sqsPort: number;
  /** The DynamoDB emulator holding the sync ledger and the breaker (DYNAMODB_PORT). */
  readonly dynamoDbPort: number;
  readonly apiKind: ApiKind;
  readonly limio: LimioTarget;
  readonly zuora: ZuoraTarget;
  /**
   * How often the sweep runs (SWEEP_INTERVAL_SECONDS). Locally any whole number of seconds from 1: the timer is
   * not EventBridge, whose once-a-minute floor the sweep's own loader keeps for AWS.
   */
  readonly sweepIntervalSeconds: number;
  readonly callout: CalloutCredentials;
  readonly poller: { readonly batchSize: number; readonly batchingWindowSeconds: number; readonly concurrency: number };
  /** Redrive after this many receives, as the CDK stack sets it from MAX_ATTEMPTS. */
  readonly maxReceiveCount: number;
  /** The environment the handlers see, before the runtime adds queue URLs and Limio settings. */
  readonly handlerEnv: Readonly<Record<string, string>>;
}

const ZUORA_SANDBOX_FAULT_VARIABLES = [
  'ZUORA_SANDBOX_429_RATE',
  'ZUORA_SANDBOX_500_RATE',
  'ZUORA_SANDBOX_LATENCY_MS',
] as const;

/** Sandbox settings that would silently do nothing against a real tenant (LIMIO_SANDBOX_PORT is merely unused). */
const SANDBOX_FAULT_VARIABLES = [
  'LIMIO_SANDBOX_502_RATE',
  'LIMIO_SANDBOX_429_RATE',
  'LIMIO_SANDBOX_HANG_RATE',
  'LIMIO_SANDBOX_LATENCY_MS',
  'LIMIO_SANDBOX_TOKEN_TTL_SECONDS',
  'LIMIO_SANDBOX_RETRY_AFTER_SECONDS',
  'LIMIO_SANDBOX_CAPACITY',
  'LIMIO_SANDBOX_DOWN',
  'LIMIO_SANDBOX_NOT_FOUND_IDS',
] as const;

function port(env: Env, name: string, fallback: number): number {
  return integer(env, name, fallback, { min: 0, max: 65_535 });
}

/** A share between 0 and 1, such as 0.2 for one call in five. */
function rate(env: Env, name: string): number | undefined {
  const raw = optionalString(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(name, `must be a share between 0 and 1 such as 0.2, got "${raw}"`);
  }
  return value;
}

/** A comma-separated list of subscription ids, such as "A-S00000500,A-S00000501"; unset or empty is none. */
function idList(env: Env, name: string): string[] {
  const ids = (optionalString(env, name) ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.some((id) => /\s/.test(id)))
    throw new ConfigError(
      name,
      `must be subscription ids separated by commas, such as A-S00000500,A-S00000501, got "${env[name]}"`,
    );
  return ids;
}

function limioTarget(env: Env): LimioTarget {
  if (optionalString(env, 'LIMIO_SECRET_ID') !== undefined) {
    throw new ConfigError(
      'LIMIO_SECRET_ID',
      'Secrets Manager is not used locally; set LIMIO_CLIENT_ID and LIMIO_CLIENT_SECRET instead',
    );
  }
  const clientId = optionalString(env, 'LIMIO_CLIENT_ID');
  const clientSecret =
    env.LIMIO_CLIENT_SECRET === undefined || env.LIMIO_CLIENT_SECRET === '' ? undefined : env.LIMIO_CLIENT_SECRET;
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    const missing = clientId === undefined ? 'LIMIO_CLIENT_ID' : 'LIMIO_CLIENT_SECRET';
    throw new ConfigError(missing, 'must be set together with the other of LIMIO_CLIENT_ID and LIMIO_CLIENT_SECRET');
  }
  if (optionalString(env, 'LIMIO_BASE_URL') !== undefined) {
    const tenantUrl = baseUrl(env, 'LIMIO_BASE_URL');
    for (const name of SANDBOX_FAULT_VARIABLES) {
      if (optionalString(env, name) !== undefined) {
        throw new ConfigError(
          name,
          'applies to the local Limio sandbox only; unset it, or unset LIMIO_BASE_URL to use the sandbox',
        );
      }
    }
    if (clientId === undefined || clientSecret === undefined) {
      throw new ConfigError(
        'LIMIO_CLIENT_ID',
        'is required with LIMIO_BASE_URL, as is LIMIO_CLIENT_SECRET: the API client of your Limio tenant',
      );
    }
    return { kind: 'tenant', baseUrl: tenantUrl, clientId, clientSecret };
  }
  const latencyMs = integer(env, 'LIMIO_SANDBOX_LATENCY_MS', 0, SANDBOX_LATENCY_BOUNDS);
  const tokenTtlSeconds = integer(env, 'LIMIO_SANDBOX_TOKEN_TTL_SECONDS', 3600, { min: 1, max: 86_400 });
  const retryAfterSeconds = integer(env, 'LIMIO_SANDBOX_RETRY_AFTER_SECONDS', 1, { min: 0, max: 3600 });
  const rate502 = rate(env, 'LIMIO_SANDBOX_502_RATE') ?? 0;
  const rate429 = rate(env, 'LIMIO_SANDBOX_429_RATE') ?? 0;
  const hangRate = rate(env, 'LIMIO_SANDBOX_HANG_RATE') ?? 0;
  if (rate502 + rate429 + hangRate > 1 + SHARE_ROUNDING) {
    throw new ConfigError(
      'LIMIO_SANDBOX_502_RATE',
      'with LIMIO_SANDBOX_429_RATE and LIMIO_SANDBOX_HANG_RATE must add up to at most 1',
    );
  }
  // Unset is unlimited, so there is no fallback number to give.
  const capacity =
    optionalString(env, 'LIMIO_SANDBOX_CAPACITY') === undefined
      ? undefined
      : integer(env, 'LIMIO_SANDBOX_CAPACITY', 0, SANDBOX_CAPACITY_BOUNDS);
  return {
    kind: 'sandbox',
    port: port(env, 'LIMIO_SANDBOX_PORT', LOCAL_DEFAULTS.limioSandboxPort),
    faults: {
      latencyMs,
      tokenTtlSeconds,
      retryAfterSeconds,
      rate502,
      rate429,
      hangRate,
      down: oneOf(env, 'LIMIO_SANDBOX_DOWN', ['true', 'false'], 'false') === 'true',
      notFoundIds: idList(env, 'LIMIO_SANDBOX_NOT_FOUND_IDS'),
    },
    ...(capacity !== undefined && { capacity }),
    ...(clientId !== undefined && clientSecret !== undefined && { clientId, clientSecret }),
  };
}

/**
 * The Zuora sandbox, with fixed client credentials (the CLI's `sweep --local` knows them) unless
 * ZUORA_CLIENT_ID/SECRET choose others; or the tenant at ZUORA_BASE_URL with the client given. The URL itself
 * (https, or http for 127.0.0.1/localhost only) is checked by the sweep's own loader.
 */
function zuoraTarget(env: Env): ZuoraTarget {
  if (optionalString(env, 'ZUORA_SECRET_ID') !== undefined) {
    throw new ConfigError(
      'ZUORA_SECRET_ID',
      'Secrets Manager is not used locally; set ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET instead',
    );
  }
  const clientId = optionalString(env, 'ZUORA_CLIENT_ID');
  const clientSecret = optionalString(env, 'ZUORA_CLIENT_SECRET');
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    const missing = clientId === undefined ? 'ZUORA_CLIENT_ID' : 'ZUORA_CLIENT_SECRET';
    throw new ConfigError(missing, 'must be set together with the other of ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET');
  }
  const tenantUrl = optionalString(env, 'ZUORA_BASE_URL');
  if (tenantUrl !== undefined) {
    for (const name of ZUORA_SANDBOX_FAULT_VARIABLES) {
      if (optionalString(env, name) !== undefined) {
        throw new ConfigError(
          name,
          'applies to the local Zuora sandbox only; unset it, or unset ZUORA_BASE_URL to use the sandbox',
        );
      }
    }
    if (clientId === undefined || clientSecret === undefined) {
      throw new ConfigError(
        'ZUORA_CLIENT_ID',
        'is required with ZUORA_BASE_URL, as is ZUORA_CLIENT_SECRET: the OAuth client of your Zuora tenant',
      );
    }
    return { kind: 'tenant', baseUrl: tenantUrl.replace(/\/+$/, ''), clientId, clientSecret };
  }
  const rate429 = rate(env, 'ZUORA_SANDBOX_429_RATE') ?? 0;
  const rate500 = rate(env, 'ZUORA_SANDBOX_500_RATE') ?? 0;
  if (rate429 + rate500 > 1)
    throw new ConfigError('ZUORA_SANDBOX_429_RATE', 'with ZUORA_SANDBOX_500_RATE must add up to at most 1');
  const entityId = optionalString(env, 'ZUORA_ENTITY_ID');
  return {
    kind: 'sandbox',
    port: port(env, 'ZUORA_SANDBOX_PORT', LOCAL_DEFAULTS.zuoraSandboxPort),
    faults: { rate429, rate500, latencyMs: integer(env, 'ZUORA_SANDBOX_LATENCY_MS', 0, { min: 0, max: 600_000 }) },
    clientId: clientId ?? LOCAL_ZUORA_CLIENT.clientId,
    clientSecret: clientSecret ?? LOCAL_ZUORA_CLIENT.clientSecret,
    ...(entityId !== undefined && { entityId }),
  };
}

/**
 * Fills in Basic credentials when no callout auth is configured (the handler refuses to run without), and
 * describes what the printed curl must send.
 */
function calloutCredentials(env: Env, handlerEnv: Record<string, string>): CalloutCredentials {
  if (optionalString(env, 'CALLOUT_AUTH_SECRET_ID') !== undefined) {
    throw new ConfigError(
      'CALLOUT_AUTH_SECRET_ID',
      'Secrets Manager is not used locally; set CALLOUT_AUTH_MODE and its CALLOUT_* variables instead',
    );
  }
  const username = optionalString(env, 'CALLOUT_USERNAME');
  const password = env.CALLOUT_PASSWORD === '' ? undefined : env.CALLOUT_PASSWORD;
  const mode =
    optionalString(env, 'CALLOUT_AUTH_MODE') ??
    (username !== undefined || password !== undefined ? 'basic' : undefined);
  if (mode === undefined) {
    const generated = { username: 'zuora', password: randomBytes(12).toString('base64url') };
    Object.assign(handlerEnv, {
      CALLOUT_AUTH_MODE: 'basic',
      CALLOUT_USERNAME: generated.username,
      CALLOUT_PASSWORD: generated.password,
    });
    return { mode: 'basic', ...generated, generated: true };
  }
  handlerEnv.CALLOUT_AUTH_MODE = mode;
  // The values themselves are checked by the callout handler's own loader, which names the variable at fault.
  if (mode === 'basic') return { mode, username: username ?? '', password: password ?? '', generated: false };
  if (mode === 'header') {
    return {
      mode,
      headerName: optionalString(env, 'CALLOUT_HEADER_NAME') ?? '',
      value: env.CALLOUT_HEADER_VALUE ?? '',
    };
  }
  return { mode: 'hmac' };
}

export function loadRuntimeConfig(env: Env): RuntimeConfig {
  const handlerEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) handlerEnv[name] = value;
  const maxAttempts = integer(env, 'MAX_ATTEMPTS', DEFAULTS.maxAttempts, { min: 1, max: 999 });
  // The sweep's settle time has a shorter local default; its other SWEEP_* values pass to its own loader as given.
  handlerEnv.SWEEP_SETTLE_SECONDS ??= String(LOCAL_SWEEP_DEFAULTS.settleSeconds);
  if (optionalString(env, 'ZUORA_BASE_URL') === undefined)
    handlerEnv.SWEEP_COMMIT_LAG_SECONDS ??= String(LOCAL_SWEEP_DEFAULTS.sandboxCommitLagSeconds);
  return {
    host: LOCAL_DEFAULTS.host,
    port: port(env, 'PORT', LOCAL_DEFAULTS.calloutPort),
    sqsPort: port(env, 'SQS_PORT', LOCAL_DEFAULTS.sqsPort),
    dynamoDbPort: port(env, 'DYNAMODB_PORT', LOCAL_DEFAULTS.dynamoDbPort),
    apiKind: oneOf(env, 'API_KIND', API_KINDS, 'rest'),
    limio: limioTarget(env),
    zuora: zuoraTarget(env),
    sweepIntervalSeconds: integer(env, 'SWEEP_INTERVAL_SECONDS', LOCAL_SWEEP_DEFAULTS.intervalSeconds, {
      min: 1,
      max: 24 * 60 * 60,
    }),
    callout: calloutCredentials(env, handlerEnv),
    poller: {
      batchSize: integer(env, 'SYNC_BATCH_SIZE', DEFAULTS.syncBatchSize, { min: 1, max: 10_000 }),
      batchingWindowSeconds: integer(env, 'SYNC_BATCHING_WINDOW_SECONDS', DEFAULTS.syncBatchingWindowSeconds, {
        min: 0,
        max: 300,
      }),
      concurrency: integer(env, 'SYNC_POLLERS', 2, { min: 1, max: 50 }),
    },
    maxReceiveCount: redriveMaxReceiveCount(maxAttempts),
    handlerEnv,
  };
}
