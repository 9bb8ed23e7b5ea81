import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { BreakerState } from '../breaker/breaker-state';
import type { BreakerStore } from '../breaker/breaker-store';
import { createSyncBreaker, type SyncBreaker } from '../breaker/sync-breaker';
import { DynamoDbLedgerStore, ledgerDynamoDbClient } from '../ledger/dynamodb-ledger-store';
import type { LedgerStore } from '../ledger/ledger-store';
import { credentialsSourceFor, LimioClient, LimioTokenCache } from '../limio';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import type { LimitChange } from './adaptive-limit';
import type { SyncConfig } from './config';
import { LedgerStep } from './ledger-step';
import { AdaptiveLimioLimiter, fixedLimioLimiter, type LimioCallLimiter } from './limio-slots';
import { guarded, type SyncObserver } from './outcome-event';
import {
  createVisibilityBatcher,
  delayRedeliveries,
  type VisibilityAnswer,
  type VisibilityChange,
} from './sqs-actions';
import { createSyncLogger, createSyncMetrics, SYNC_METRICS } from './telemetry';

export interface SyncHandlerDependencies {
  /** Default: a client from the standard AWS environment (AWS_REGION, AWS_ENDPOINT_URL_SQS), with request timeouts. */
  readonly sqs?: SQSClient;
  /** Used only with LIMIO_SECRET_ID. */
  readonly secretsManager?: SecretsManagerClient;
  readonly now?: () => number;
  /** Backoff jitter. */
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly observer?: SyncObserver;
  /**
   * Where the circuit breaker lives. The local runtime passes its in-memory store; in AWS, BREAKER_TABLE_NAME
   * names the DynamoDB table. With neither, the breaker is off and only the time budget applies.
   */
  readonly breakerStore?: BreakerStore;
  /** Used only with BREAKER_TABLE_NAME and LEDGER_TABLE_NAME. */
  readonly dynamo?: DynamoDBClient;
  /**
   * The sync ledger (issue #13). The local runtime may pass its own; in AWS, LEDGER_TABLE_NAME names the DynamoDB
   * table. With neither, there is no ledger: every batch syncs each of its subscriptions.
   */
  readonly ledger?: LedgerStore;
  /** This instance moved the breaker (the local runtime then runs its probe at once, to pause the poller). */
  readonly onBreakerTransition?: (before: BreakerState, after: BreakerState) => void;
  /**
   * The adaptive limit on Limio calls moved markedly (by 20 % or more since the last report, or across a whole
   * number below 2), or a probe re-measured Limio's unloaded latency ('remeasured', the limit unchanged).
   * npm start prints a line; nothing in AWS needs it (the metrics carry the limit).
   */
  readonly onLimitChange?: (change: LimitChange) => void;
}

/**
 * What the message fates share, built once per container: everything that must outlive one invocation (token
 * cache, secret cache, SQS client, keep-alive connections, the cached breaker state, the Limio call limit).
 */
export interface SyncContext {
  readonly config: SyncConfig;
  readonly now: () => number;
  readonly random: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly sqs: SQSClient;
  readonly observer: SyncObserver | undefined;
  readonly limio: LimioClient;
  /**
   * Shared by concurrent invocations too (the local runtime may run several): the adaptive limit (SYNC_ADAPTIVE,
   * at most SYNC_CONCURRENCY), or SYNC_CONCURRENCY calls at once.
   */
  readonly limitLimioCalls: LimioCallLimiter;
  /** The adaptive limiter, for its metrics; absent with SYNC_ADAPTIVE=false. */
  readonly adaptiveLimit: AdaptiveLimioLimiter | undefined;
  readonly breaker: SyncBreaker;
  /** Absent without a ledger table: every batch syncs each of its subscriptions. */
  readonly ledger: LedgerStep | undefined;
  /** The holds, postponements and backoffs asked for together go to SQS together, up to 10 per request. */
  readonly changeVisibility: (change: VisibilityChange) => Promise<VisibilityAnswer>;
}

export function createSyncContext(config: SyncConfig, dependencies: SyncHandlerDependencies): SyncContext {
  const now = dependencies.now ?? Date.now;
  const logger = dependencies.logger ?? createSyncLogger();
  const metrics = dependencies.metrics ?? createSyncMetrics();
  const sqs = dependencies.sqs ?? new SQSClient(BATCH_AWS_CLIENT_OPTIONS);
  const tokens = new LimioTokenCache({
    baseUrl: config.limioBaseUrl,
    credentials: credentialsSourceFor(config.credentials, dependencies.secretsManager),
    timeoutMs: config.limioTimeoutMs,
    expiryMarginSeconds: config.tokenExpiryMarginSeconds,
    now,
    onTokenFetch: () => metrics.addMetric(SYNC_METRICS.tokenFetches, MetricUnit.Count, 1),
  });
  const adaptiveLimit =
    config.adaptive &&
    new AdaptiveLimioLimiter(
      {
        initial: config.adaptive.initialLimit,
        floor: config.adaptive.minLimit,
        ceiling: config.adaptive.ceiling,
        latencyTolerance: config.adaptive.latencyTolerance,
      },
      {
        now,
        ...(dependencies.random && { random: dependencies.random }),
        onLimitChange: (change) => {
          logger.info('Limio call limit changed', { ...change });
          dependencies.onLimitChange?.(change);
        },
      },
    );
  const ledgerStore =
    dependencies.ledger ??
    (config.ledger.tableName !== undefined
      ? new DynamoDbLedgerStore(dependencies.dynamo ?? ledgerDynamoDbClient(), config.ledger.tableName)
      : undefined);
  return {
    config,
    now,
    random: dependencies.random ?? Math.random,
    logger,
    metrics,
    sqs,
    observer: dependencies.observer && guarded(dependencies.observer, logger),
    limio: new LimioClient({ baseUrl: config.limioBaseUrl, tokens, timeoutMs: config.limioTimeoutMs, now }),
    limitLimioCalls: adaptiveLimit ?? fixedLimioLimiter(config.syncConcurrency),
    adaptiveLimit,
    breaker: createSyncBreaker(config.breaker, {
      ...(dependencies.breakerStore && { store: dependencies.breakerStore }),
      ...(dependencies.dynamo && { dynamo: dependencies.dynamo }),
      now,
      // Fails open: without the shared state the instance syncs as if the breaker were closed.
      onError: (error, during) =>
        logger.warn('breaker state unavailable; syncing as if closed', {
          during,
          error: (error as Error)?.message ?? String(error),
        }),
      onTransition: (before, after) => {
        const context = {
          from: before.state,
          to: after.state,
          reason: after.reason,
          since: new Date(after.since).toISOString(),
        };
        if (after.state === 'open')
          logger.warn('breaker opened by this instance: Limio judged down, messages are held in the queue', context);
        else logger.info('breaker moved by this instance', context);
        dependencies.onBreakerTransition?.(before, after);
      },
    }),
    ledger:
      ledgerStore &&
      new LedgerStep({
        store: ledgerStore,
        timing: config.ledger.timing,
        maxAttempts: config.breaker.retry.maxAttempts,
        now,
        logger,
        metrics,
      }),
    changeVisibility: createVisibilityBatcher((changes) => delayRedeliveries(sqs, config.queueUrl, changes)),
  };
}
