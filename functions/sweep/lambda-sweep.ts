import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsSender } from '../shared/enqueue';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY, ledgerDynamoDbClient } from '../ledger/dynamodb-ledger-store';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import { requiredString, type Env } from '../shared/env';
import { METRICS_NAMESPACE } from '../shared/metrics';
import { loadSweepConfig, type SweepConfig } from './config';
import { DynamoDbWatermarkStore, sweepWatermarkKey } from './dynamodb-watermark-store';
import { freshStartWarning, noticingFreshStart } from './fresh-start';
import { describeSweep } from './ports';
import { createSweepRunner } from './runner';
import type { SweepProgress, SweepReport } from './sweep';
import type { ZuoraRequestEvent } from './zuora-client';

/** The `service` dimension of the sweep's metrics (the CDK alarms and dashboard read these names). */
export const SWEEP_SERVICE_NAME = 'sweep';

export const SWEEP_METRICS = {
  /** Versions Zuora returned for the window. */
  read: 'sweepRead',
  /** Account and contact records Zuora returned for the window. */
  accountsRead: 'sweepAccountsRead',
  contactsRead: 'sweepContactsRead',
  /** Accounts changed (the account or a contact), and their subscriptions, judged like subscription changes. */
  accountsChanged: 'sweepAccountsChanged',
  accountSubscriptions: 'sweepAccountSubscriptions',
  /** Changed subscriptions a successful sync provably read: no Limio call. */
  covered: 'sweepCovered',
  /** Changes whose queued message is still to be synced (a backlog, a Limio outage): not queued again. */
  pending: 'sweepPending',
  /** Changes a message came for whose sync cannot be shown to have read them: queued again (one Limio call each). */
  unproven: 'sweepUnproven',
  /** Changes nothing was queued for since: their callouts never arrived; queued (MissingCalloutsAlarm). */
  missing: 'sweepMissing',
  /** Everything queued: unproven + missing. */
  queued: 'sweepQueued',
  durationMs: 'sweepDurationMs',
  /** How far the watermark is behind now. */
  lagSeconds: 'sweepLagSeconds',
  /** 1 for a run that failed (Zuora credentials or API, the queue, the watermark), 0 otherwise (SweepFailedAlarm). */
  failed: 'sweepFailed',
  /** 1 for a run that found no watermark under its key (first deployment, or a changed Zuora host or entity), 0 otherwise. */
  startedFresh: 'sweepStartedFresh',
} as const;

/**
 * Kept back from the invocation's remaining time: the report, its log line and the metrics must still be
 * written when the sweep stops at its deadline (runSweep keeps its own reserve on top to settle a slice).
 */
export const SWEEP_LAMBDA_RESERVE_MS = 10_000;

export interface SweepLambdaConfig {
  readonly sweep: SweepConfig;
  readonly queueUrl: string;
  readonly ledgerTableName: string;
}

/** The sweep's own settings plus where it queues and what it reads; every error names its variable. */
export function loadSweepLambdaConfig(env: Env): SweepLambdaConfig {
  return {
    sweep: loadSweepConfig(env),
    queueUrl: requiredString(env, 'QUEUE_URL'),
    ledgerTableName: requiredString(env, 'LEDGER_TABLE_NAME'),
  };
}

/** What the Lambda runtime gives the handler that the sweep uses. */
export interface SweepInvocationContext {
  getRemainingTimeInMillis(): number;
}

export interface SweepLambdaDependencies {
  readonly sqs?: SqsSender;
  readonly dynamodb?: DynamoDBClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
}

/** A sweep that failed: thrown so the invocation counts as an error (SweepFailedAlarm), after its metrics. */
export class SweepFailedError extends Error {
  override readonly name = 'SweepFailedError';
}

/**
 * The scheduled sweep Lambda: one runner per container (the Zuora token is reused), one sweep per invocation up
 * to the invocation's deadline, a log line and metrics per run. It only reads Zuora and the ledger and sends to
 * the main queue: nothing on the callout path waits for it.
 */
export function createSweepLambda(
  config: SweepLambdaConfig,
  dependencies: SweepLambdaDependencies = {},
): (event: unknown, context: SweepInvocationContext) => Promise<SweepReport> {
  const now = dependencies.now ?? Date.now;
  const logger = dependencies.logger ?? new Logger({ serviceName: SWEEP_SERVICE_NAME });
  const metrics =
    dependencies.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SWEEP_SERVICE_NAME });
  const dynamodb = dependencies.dynamodb ?? ledgerDynamoDbClient();
  const watermarkKey = sweepWatermarkKey(config.sweep);
  const watermarks = noticingFreshStart(
    // The same table as the ledger: the key holds a '#', which no subscription id does.
    new DynamoDbWatermarkStore(dynamodb, {
      tableName: config.ledgerTableName,
      partitionKey: LEDGER_PARTITION_KEY,
      key: watermarkKey,
      now,
    }),
  );
  const runner = createSweepRunner({
    config: config.sweep,
    sqs: dependencies.sqs ?? new SQSClient(BATCH_AWS_CLIENT_OPTIONS),
    queueUrl: config.queueUrl,
    source: 'sweep',
    ledger: new DynamoDbLedgerStore(dynamodb, config.ledgerTableName),
    watermarks,
    ...(dependencies.secretsManager !== undefined && { secretsManager: dependencies.secretsManager }),
    onZuoraRequest: (event) => logZuoraTrouble(logger, event),
  });

  return async (_event, context) => {
    const report = await runner.run({
      deadlineMs: now() + context.getRemainingTimeInMillis() - SWEEP_LAMBDA_RESERVE_MS,
      onProgress: (progress) => logProgress(logger, progress),
      now,
    });
    const startedFresh = watermarks.foundNone && report.window !== undefined;
    if (startedFresh)
      logger.warn(freshStartWarning(watermarkKey, report.window!), {
        watermarkKey,
        freshFrom: new Date(report.window!.startMs).toISOString(),
      });
    // Published as 0 too, so an alarm or a graph can tell a healthy run from none.
    metrics.addMetric(SWEEP_METRICS.startedFresh, MetricUnit.Count, startedFresh ? 1 : 0);
    publishReport(metrics, report);
    const line = describeSweep(report);
    const fields = {
      outcome: report.outcome,
      counts: report.counts,
      errorKind: report.errorKind,
      lagSeconds: report.lagSeconds,
    };
    if (report.outcome === 'failed') {
      logger.error(line, fields);
      throw new SweepFailedError(line);
    }
    if (report.coverageUnavailable) logger.warn(line, fields);
    else logger.info(line, fields);
    return report;
  };
}

function publishReport(metrics: Metrics, report: SweepReport): void {
  metrics.addMetric(SWEEP_METRICS.read, MetricUnit.Count, report.counts.read);
  metrics.addMetric(SWEEP_METRICS.accountsRead, MetricUnit.Count, report.counts.accountsRead);
  metrics.addMetric(SWEEP_METRICS.contactsRead, MetricUnit.Count, report.counts.contactsRead);
  metrics.addMetric(SWEEP_METRICS.accountsChanged, MetricUnit.Count, report.counts.accountsChanged);
  metrics.addMetric(SWEEP_METRICS.accountSubscriptions, MetricUnit.Count, report.counts.accountSubscriptions);
  metrics.addMetric(SWEEP_METRICS.covered, MetricUnit.Count, report.counts.covered);
  metrics.addMetric(SWEEP_METRICS.pending, MetricUnit.Count, report.counts.pending);
  metrics.addMetric(SWEEP_METRICS.unproven, MetricUnit.Count, report.counts.unproven);
  metrics.addMetric(SWEEP_METRICS.missing, MetricUnit.Count, report.counts.missing);
  metrics.addMetric(SWEEP_METRICS.queued, MetricUnit.Count, report.counts.queued);
  metrics.addMetric(SWEEP_METRICS.durationMs, MetricUnit.Milliseconds, report.durationMs);
  if (report.lagSeconds !== undefined)
    metrics.addMetric(SWEEP_METRICS.lagSeconds, MetricUnit.Seconds, report.lagSeconds);
  // Published as 0 too, so a healthy sweep shows on the graph and a gap means the sweep did not run.
  metrics.addMetric(SWEEP_METRICS.failed, MetricUnit.Count, report.outcome === 'failed' ? 1 : 0);
  metrics.publishStoredMetrics();
}

function logProgress(logger: Logger, progress: SweepProgress): void {
  if (progress.type === 'coverage-unavailable') {
    logger.warn('the sync ledger did not answer: queued without checking', {
      ids: progress.ids,
      error: progress.error,
    });
  } else if (progress.type === 'window') {
    logger.info('sweep window', {
      startAt: new Date(progress.window.startMs).toISOString(),
      endAt: new Date(progress.window.endMs).toISOString(),
      slices: progress.slices,
    });
  }
}

/** Retries and refusals only: the path and status say what Zuora did, and carry no token or secret. */
function logZuoraTrouble(logger: Logger, event: ZuoraRequestEvent): void {
  if (event.attempt > 1 || typeof event.status !== 'number' || event.status >= 400) {
    logger.warn('Zuora request', {
      path: event.path,
      status: event.status,
      attempt: event.attempt,
      durationMs: event.durationMs,
    });
  }
}
