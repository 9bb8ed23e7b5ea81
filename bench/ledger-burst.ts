import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { enqueueMessages } from '../functions/shared/enqueue';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../functions/ledger/dynamodb-ledger-store';
import { createSyncRequest } from '../functions/shared/queue-message';
import { loadSyncConfig } from '../functions/sync/config';
import { createSyncHandler, type SyncOutcomeEvent } from '../functions/sync/sync-handler';
import { createOnDemandTable, startDynamoDbEmulator } from '../local/dynamodb-emulator';
import { startLimioSandbox, type LimioSandbox } from '../local/limio-sandbox';
import { startSqsPoller } from '../local/sqs-poller';
import { createQueuePair, startSqsEmulator } from '../local/sqs-emulator';
import { countCommands, type CommandCounts } from './command-counts';
import { median, sleep } from './figures';
import { waitUntil } from './pipeline';

/**
 * Issue #13's burst: `callouts` callouts for one subscription sent together (each put on the queue as the callout
 * Lambda puts a single-id callout, all at once), picked up by the local runtime's poller with `pollers` loops (two
 * concurrent invocations of the sync handler, so coalescing across invocations is what is measured), synced
 * against the Limio sandbox, with the sync ledger (dynalite, the DynamoDB store) on and off in the same run. Runs
 * alternate off and on, each with its own queue and subscription, so load drifts hit both alike.
 */
export interface LedgerBurstOptions {
  readonly runs: number;
  readonly callouts: number;
  readonly pollers: number;
  /**
   * Messages per invocation. 2: a busy event source, whose long polls SQS answers with a few messages each, so a
   * burst is spread over several invocations (the emulator would hand a quiet poller all 8 at once).
   */
  readonly batchSize: number;
  readonly cooldownSeconds: number;
  /** Limio's answer time, so a sync takes as long as against a tenant and invocations overlap. */
  readonly limioLatencyMs: number;
  readonly timeoutMs?: number;
}

const LEDGER_BURST_DEFAULTS: LedgerBurstOptions = {
  runs: 5,
  callouts: 8,
  pollers: 2,
  batchSize: 2,
  cooldownSeconds: 5,
  limioLatencyMs: 100,
};

export interface BurstRun {
  readonly ledger: boolean;
  readonly limioCalls: number;
  /** First callout sent until Limio answered a sync that started after the last callout was received; NaN if none did. */
  readonly lastChangeSyncedMs: number;
  /** First callout sent until every message was deleted from the queue. */
  readonly allDoneMs: number;
  readonly allDone: boolean;
  /** Messages that ended on the DLQ or were reported dead-lettered: must be 0. */
  readonly deadLettered: number;
  /** BatchGetItem requests (the one read per batch). */
  readonly ledgerReads: number;
  /** UpdateItem requests: claims before and records after each Limio call. */
  readonly ledgerWrites: number;
  /** Messages done without a Limio call because a recorded sync covered them. */
  readonly covered: number;
}

export interface LedgerBurstResult {
  readonly options: LedgerBurstOptions;
  readonly off: readonly BurstRun[];
  readonly on: readonly BurstRun[];
}

export interface BurstSummary {
  readonly limioCalls: number;
  readonly lastChangeSyncedMs: number;
  readonly allDoneMs: number;
  readonly ledgerRequests: number;
  readonly ledgerReads: number;
  readonly ledgerWrites: number;
}

/** Medians over the runs of one mode. */
export function summarizeBursts(runs: readonly BurstRun[]): BurstSummary {
  return {
    limioCalls: median(runs.map((run) => run.limioCalls)),
    lastChangeSyncedMs: median(runs.map((run) => run.lastChangeSyncedMs)),
    allDoneMs: median(runs.map((run) => run.allDoneMs)),
    ledgerRequests: median(runs.map((run) => run.ledgerReads + run.ledgerWrites)),
    ledgerReads: median(runs.map((run) => run.ledgerReads)),
    ledgerWrites: median(runs.map((run) => run.ledgerWrites)),
  };
}

export async function runLedgerBurst(overrides: Partial<LedgerBurstOptions> = {}): Promise<LedgerBurstResult> {
  const options: LedgerBurstOptions = { ...LEDGER_BURST_DEFAULTS, ...overrides };
  const sqsEmulator = await startSqsEmulator();
  const dynamo = await startDynamoDbEmulator();
  const limio = await startLimioSandbox({ latencyMs: options.limioLatencyMs });
  const previousSwitch = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    const sqs = sqsEmulator.client();
    const dynamodb = dynamo.client();
    const ledgerRequests = countCommands(dynamodb);
    const tableName = 'bench-ledger-burst';
    await createOnDemandTable(dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
    const off: BurstRun[] = [];
    const on: BurstRun[] = [];
    for (let run = 0; run < options.runs; run++) {
      off.push(await burstOnce({ options, run, sqs, limio, ledgerRequests }));
      on.push(await burstOnce({ options, run, sqs, limio, ledgerRequests, ledger: { client: dynamodb, tableName } }));
    }
    return { options, off, on };
  } finally {
    if (previousSwitch === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previousSwitch;
    await limio.stop();
    await dynamo.stop();
    await sqsEmulator.stop();
  }
}

interface BurstContext {
  readonly options: LedgerBurstOptions;
  readonly run: number;
  readonly sqs: SQSClient;
  readonly limio: LimioSandbox;
  readonly ledgerRequests: CommandCounts;
  readonly ledger?: { readonly client: DynamoDBClient; readonly tableName: string };
}

async function burstOnce({ options, run, sqs, limio, ledgerRequests, ledger }: BurstContext): Promise<BurstRun> {
  const mode = ledger ? 'on' : 'off';
  const subscriptionId = `A-B${ledger ? 1 : 2}${String(run).padStart(5, '0')}`;
  const queues = await createQueuePair(sqs, {
    mainQueueName: `bench-burst-${mode}-${run}`,
    deadLetterQueueName: `bench-burst-${mode}-${run}-dlq`,
  });
  let lastReceivedAt = Number.POSITIVE_INFINITY;
  let lastChangeSyncedAt: number | undefined;
  let deadLettered = 0;
  let covered = 0;
  const handler = createSyncHandler(
    loadSyncConfig({
      QUEUE_URL: queues.mainQueueUrl,
      DLQ_URL: queues.deadLetterQueueUrl,
      LIMIO_BASE_URL: limio.baseUrl,
      LIMIO_CLIENT_ID: limio.clientId,
      LIMIO_CLIENT_SECRET: limio.clientSecret,
      SYNC_COOLDOWN_SECONDS: String(options.cooldownSeconds),
    }),
    {
      sqs,
      logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
      ...(ledger && { ledger: new DynamoDbLedgerStore(ledger.client, ledger.tableName) }),
      observer: {
        onSyncOutcome(event: SyncOutcomeEvent) {
          if (event.outcome === 'dead-lettered') deadLettered += event.messageIds.length;
          if (event.outcome !== 'synced') return;
          if (event.coveredBySyncStartedAt !== undefined) {
            covered += event.messageIds.length;
            return;
          }
          // A Limio call answered now, started latencyMs ago: after the last callout, it carries the last change.
          const answeredAt = Date.now();
          if (answeredAt - event.latencyMs >= lastReceivedAt) lastChangeSyncedAt ??= answeredAt;
        },
      },
    },
  );
  const poller = await startSqsPoller({
    client: sqs,
    queueUrl: queues.mainQueueUrl,
    handler,
    concurrency: options.pollers,
    batchSize: options.batchSize,
    waitTimeSeconds: 1,
    functionName: 'sync',
  });
  try {
    // Both loops long-polling before the burst, as Lambda's pollers are on a quiet queue.
    await waitUntil(() => poller.receivesInFlight >= options.pollers, 5_000, 10);
    const readsBefore = ledgerRequests.count('BatchGetItemCommand');
    const writesBefore = ledgerRequests.count('UpdateItemCommand');
    const callsBefore = limio.stats.syncCallsById.get(subscriptionId) ?? 0;
    const started = Date.now();
    const requests = Array.from({ length: options.callouts }, () =>
      createSyncRequest({ subscriptionId, source: 'test' }),
    );
    lastReceivedAt = Math.max(...requests.map((request) => Date.parse(request.receivedAt)));
    // One callout, one SendMessageBatch of one entry: what the callout Lambda does for a single-id callout.
    const sent = await Promise.all(
      requests.map((request) => enqueueMessages(sqs, [request], { queueUrl: queues.mainQueueUrl, delaySeconds: 0 })),
    );
    if (sent.some((result) => !result.ok)) throw new Error('the burst could not be queued');
    const allDone = await waitUntil(
      () => poller.stats.recordsDeleted >= options.callouts,
      options.timeoutMs ?? 60_000,
      10,
    );
    const allDoneMs = Date.now() - started;
    // The last change may be synced by a call still being recorded when its message was deleted; give it a moment.
    await waitUntil(() => lastChangeSyncedAt !== undefined, 1_000, 10);
    return {
      ledger: ledger !== undefined,
      limioCalls: (limio.stats.syncCallsById.get(subscriptionId) ?? 0) - callsBefore,
      lastChangeSyncedMs: lastChangeSyncedAt === undefined ? Number.NaN : lastChangeSyncedAt - started,
      allDoneMs,
      allDone,
      deadLettered,
      ledgerReads: ledgerRequests.count('BatchGetItemCommand') - readsBefore,
      ledgerWrites: ledgerRequests.count('UpdateItemCommand') - writesBefore,
      covered,
    };
  } finally {
    await poller.stop();
    // Connections of this run's poller settle before the next run's clock starts.
    await sleep(50);
  }
}

/** What must hold in every run, ledger on or off: every message done, none dead-lettered, the last change synced. */
export function checkLedgerBurst(result: LedgerBurstResult): string[] {
  const failures: string[] = [];
  for (const run of [...result.off, ...result.on]) {
    const label = `ledger ${run.ledger ? 'on' : 'off'}`;
    if (!run.allDone) failures.push(`${label}: not every message of the burst was done in time`);
    if (run.deadLettered > 0) failures.push(`${label}: ${run.deadLettered} messages dead-lettered`);
    if (!Number.isFinite(run.lastChangeSyncedMs))
      failures.push(`${label}: no sync started after the last callout (a change never reached Limio)`);
    if (!run.ledger && run.ledgerReads + run.ledgerWrites > 0) failures.push(`${label}: the ledger was used`);
  }
  return failures;
}
