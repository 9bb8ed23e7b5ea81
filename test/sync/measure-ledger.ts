/**
 * Measures what the sync ledger saves on a burst: 8 callouts for one subscription sent together, handed out by a
 * busy event source (several concurrent invocations of two messages each), with the ledger off and on. Reports
 * Limio calls for the subscription and the time from the first callout until the last change is in Limio (the
 * first successful answer to a call made after the last callout arrived) and until every message is done.
 * Real parts only: SQS emulator, dynalite with the DynamoDB ledger store, the Limio sandbox over HTTP.
 *
 *   npx tsx test/sync/measure-ledger.ts [runs=5] [pollers=4] [cooldownSeconds=5] [limioLatencyMs=100]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { loadSyncConfig } from '../../functions/sync/config';
import { createSyncHandler } from '../../functions/sync/sync-handler';
import { createOnDemandTable, startDynamoDbEmulator } from '../../local/dynamodb-emulator';
import { startLimioSandbox } from '../../local/limio-sandbox';
import { createQueuePair, startSqsEmulator } from '../../local/sqs-emulator';
import { pollUntilDone, sendAll } from './ledger-pipeline';

interface Run {
  readonly limioCalls: number;
  readonly lastChangeSyncedMs: number;
  readonly allDoneMs: number;
}

async function main(): Promise<void> {
  const [runs = 5, pollers = 4, cooldownSeconds = 5, latencyMs = 100] = process.argv.slice(2).map(Number);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const sqsEmulator = await startSqsEmulator();
  const dynamoEmulator = await startDynamoDbEmulator();
  const sandbox = await startLimioSandbox({ latencyMs });
  const sqs = sqsEmulator.client();
  const dynamodb = dynamoEmulator.client();
  try {
    const measure = async (withLedger: boolean, run: number): Promise<Run> => {
      const name = `measure-${withLedger ? 'on' : 'off'}-${run}`;
      const queues = await createQueuePair(sqs, {
        mainQueueName: name,
        deadLetterQueueName: `${name}-dlq`,
        visibilityTimeoutSeconds: 30,
      });
      await createOnDemandTable(dynamodb, { tableName: name, partitionKey: LEDGER_PARTITION_KEY });
      const handler = createSyncHandler(
        loadSyncConfig({
          QUEUE_URL: queues.mainQueueUrl,
          DLQ_URL: queues.deadLetterQueueUrl,
          LIMIO_BASE_URL: sandbox.baseUrl,
          LIMIO_CLIENT_ID: sandbox.clientId,
          LIMIO_CLIENT_SECRET: sandbox.clientSecret,
          SYNC_COOLDOWN_SECONDS: String(cooldownSeconds),
        }),
        {
          sqs,
          logger: new Logger({ logLevel: 'SILENT' }),
          ...(withLedger && { ledger: new DynamoDbLedgerStore(dynamodb, name) }),
        },
      );
      const subscriptionId = `A-S${withLedger ? 1 : 2}${run}`;
      const startedAt = Date.now();
      const bodies = Array.from({ length: 8 }, () =>
        serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'test' })),
      );
      const lastReceivedAt = Math.max(
        ...bodies.map((body) => Date.parse((JSON.parse(body) as { receivedAt: string }).receivedAt)),
      );
      let lastChangeSyncedAt: number | undefined;
      sandbox.onSync = (event) => {
        // The sandbox answers latencyMs after the call arrived: that call started after the last callout.
        const answeredAt = Date.now();
        if (event.subscriptionId === subscriptionId && event.status === 200 && answeredAt - latencyMs > lastReceivedAt)
          lastChangeSyncedAt ??= answeredAt;
      };
      const callsBefore = sandbox.stats.syncCallsById.get(subscriptionId) ?? 0;
      const ids = await sendAll(sqs, queues.mainQueueUrl, bodies);
      const { done } = await pollUntilDone(sqs, queues.mainQueueUrl, handler, ids, {
        pollers,
        batchSize: 2,
        deadlineMs: 60_000,
      });
      if (done.size !== ids.length) throw new Error(`only ${done.size} of ${ids.length} messages done`);
      return {
        limioCalls: (sandbox.stats.syncCallsById.get(subscriptionId) ?? 0) - callsBefore,
        lastChangeSyncedMs: (lastChangeSyncedAt ?? Number.NaN) - startedAt,
        allDoneMs: Date.now() - startedAt,
      };
    };

    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    for (const withLedger of [false, true]) {
      const results: Run[] = [];
      for (let run = 0; run < runs; run++) results.push(await measure(withLedger, run));
      console.log(
        `ledger ${withLedger ? `on (cooldown ${cooldownSeconds} s)` : 'off'}: Limio calls per burst ${results.map((r) => r.limioCalls).join(', ')} ` +
          `(median ${median(results.map((r) => r.limioCalls))}); last change in Limio after median ${median(results.map((r) => r.lastChangeSyncedMs))} ms ` +
          `(max ${Math.max(...results.map((r) => r.lastChangeSyncedMs))}); every message done after median ${median(results.map((r) => r.allDoneMs))} ms`,
      );
    }
  } finally {
    sqs.destroy();
    await sandbox.stop();
    await dynamoEmulator.stop();
    await sqsEmulator.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
