import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createSweepLambda, loadSweepLambdaConfig, SWEEP_METRICS } from '../functions/sweep/lambda-sweep';
import { METRICS_NAMESPACE } from '../functions/shared/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { queueDepth } from '../local/queue-depth';
import type { Runtime } from '../local/runtime';
import type { ZuoraSandbox } from '../local/zuora-sandbox';
import { LEDGER_TABLE, type CalloutsLostResult } from './chaos-options';
import { waitUntil } from './pipeline';

/** Powertools Metrics whose output is kept instead of printed: the EMF documents the sweep Lambda would publish. */
export class RecordingMetrics extends Metrics {
  readonly published: Record<string, unknown>[] = [];

  override publishStoredMetrics(): this {
    this.published.push(this.serializeMetrics() as Record<string, unknown>);
    this.clearMetrics();
    return this;
  }
}

export interface SweepForDroppedCallouts {
  readonly runtime: Runtime;
  readonly zuora: ZuoraSandbox;
  /** The ledger's DynamoDB: the table the callouts marked and the worker's syncs recorded. */
  readonly ledgerDb: DynamoDBClient;
  readonly dropped: ReadonlySet<string>;
  readonly calloutsNamedUpdatedDate: boolean;
  /** Updated by the Limio sandbox's observer as syncs succeed (performance.now()). */
  readonly lastSyncedAt: ReadonlyMap<string, number>;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
}

/**
 * One scheduled run of the sweep Lambda as deployed (createSweepLambda: its ledger and watermark in the ledger
 * table, queueing on the main queue), settle 0 because the changes are already seconds old, then the backlog
 * it queued drained by the worker.
 */
export async function sweepForDroppedCallouts({
  runtime,
  zuora,
  ledgerDb,
  dropped,
  calloutsNamedUpdatedDate,
  lastSyncedAt,
  log,
  timeoutMs,
}: SweepForDroppedCallouts): Promise<CalloutsLostResult> {
  const sandbox = runtime.limioSandbox!;
  const metrics = new RecordingMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'sweep' });
  const sweepLambda = createSweepLambda(
    loadSweepLambdaConfig({
      QUEUE_URL: runtime.queues.mainQueueUrl,
      LEDGER_TABLE_NAME: LEDGER_TABLE,
      ZUORA_BASE_URL: zuora.baseUrl,
      ZUORA_CLIENT_ID: zuora.clientId,
      ZUORA_CLIENT_SECRET: zuora.clientSecret,
      SWEEP_SETTLE_SECONDS: '0',
      SWEEP_INITIAL_LOOKBACK_SECONDS: '600',
    }),
    { sqs: runtime.sqs, dynamodb: ledgerDb, metrics, logger: new Logger({ serviceName: 'sweep', logLevel: 'SILENT' }) },
  );
  const callsBefore = new Map(sandbox.stats.syncCallsById);
  const sweepAt = performance.now();
  const report = await sweepLambda({}, { getRemainingTimeInMillis: () => 300_000 });
  const { counts } = report;
  log(
    `sweep: read ${counts.read}, covered ${counts.covered}, pending ${counts.pending}, unproven ${counts.unproven}, missing ${counts.missing}, ` +
      `queued ${counts.queued} (${dropped.size} changes had no callout; callouts ${calloutsNamedUpdatedDate ? 'named' : 'did not name'} UpdatedDate)`,
  );
  const syncedSinceSweep = (id: string) => (lastSyncedAt.get(id) ?? -1) >= sweepAt;
  const drainedAfterSweep = await waitUntil(
    async () =>
      [...dropped].every(syncedSinceSweep) && (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
    timeoutMs,
    250,
  );
  const sweepDrainSeconds = (performance.now() - sweepAt) / 1000;
  const published = metrics.published.at(-1) ?? {};
  const metric = (name: string) => (typeof published[name] === 'number' ? (published[name] as number) : undefined);
  let secondCallsForCalledOut = 0;
  for (const [id, calls] of sandbox.stats.syncCallsById) {
    if (!dropped.has(id)) secondCallsForCalledOut += calls - (callsBefore.get(id) ?? 0);
  }
  const droppedNotSynced = [...dropped].filter((id) => !syncedSinceSweep(id));
  return {
    dropped: dropped.size,
    withCallouts: zuora.versions().length - dropped.size,
    calloutsNamedUpdatedDate,
    report,
    queuedMetric: metric(SWEEP_METRICS.queued),
    coveredMetric: metric(SWEEP_METRICS.covered),
    pendingMetric: metric(SWEEP_METRICS.pending),
    unprovenMetric: metric(SWEEP_METRICS.unproven),
    missingMetric: metric(SWEEP_METRICS.missing),
    droppedSynced: dropped.size - droppedNotSynced.length,
    droppedNotSynced: droppedNotSynced.slice(0, 5),
    secondCallsForCalledOut,
    drainedAfterSweep,
    sweepDrainSeconds,
  };
}
