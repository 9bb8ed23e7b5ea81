/**
 * Measures, at the Limio sandbox, what the sync handler costs Limio: token requests per 1,000 syncs and the
 * most calls it ever had in flight. Real parts only: SQS emulator, the sandbox over HTTP with injected faults,
 * pollers that hand batches to one handler instance (one warm Lambda container) as the event source would.
 *
 *   npx tsx test/sync/measure-sync.ts [subscriptions=1000] [pollers=2] [concurrency=5] [tokenTtlSeconds=3600]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { loadSyncConfig } from '../../functions/sync/config';
import { createSyncHandler } from '../../functions/sync/sync-handler';
import { startLimioSandbox } from '../../local/limio-sandbox';
import { createQueuePair, startSqsEmulator } from '../../local/sqs-emulator';
import { toRecord } from './harness';

async function main(): Promise<void> {
  const [subscriptions = 1000, pollers = 2, concurrency = 5, tokenTtlSeconds = 3600] = process.argv
    .slice(2)
    .map(Number);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const emulator = await startSqsEmulator();
  const sandbox = await startLimioSandbox({
    latencyMs: 20,
    rate502: 0.05,
    rate429: 0.02,
    retryAfterSeconds: 1,
    tokenTtlSeconds,
  });
  const sqs = emulator.client();
  try {
    const queues = await createQueuePair(sqs, {
      mainQueueName: 'measure',
      deadLetterQueueName: 'measure-dlq',
      visibilityTimeoutSeconds: 30,
    });
    const handler = createSyncHandler(
      loadSyncConfig({
        QUEUE_URL: queues.mainQueueUrl,
        DLQ_URL: queues.deadLetterQueueUrl,
        LIMIO_BASE_URL: sandbox.baseUrl,
        LIMIO_CLIENT_ID: sandbox.clientId,
        LIMIO_CLIENT_SECRET: sandbox.clientSecret,
        SYNC_CONCURRENCY: String(concurrency),
        BACKOFF_BASE_SECONDS: '1',
        BACKOFF_MAX_SECONDS: '2',
      }),
      { sqs, logger: new Logger({ logLevel: 'SILENT' }) },
    );

    for (let first = 0; first < subscriptions; first += 10) {
      const entries = Array.from({ length: Math.min(10, subscriptions - first) }, (_, n) => ({
        Id: String(n),
        MessageBody: serializeSyncRequest(createSyncRequest({ subscriptionId: `A-S${first + n}`, source: 'test' })),
      }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: queues.mainQueueUrl, Entries: entries }));
    }

    let batches = 0;
    let reportedFailures = 0;
    const started = Date.now();
    const poll = async () => {
      while (sandbox.stats.synced.size < subscriptions && Date.now() - started < 120_000) {
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.mainQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        batches += 1;
        const response = await handler({ Records: messages.map((message) => toRecord(message, queues.mainQueueUrl)) });
        reportedFailures += response.batchItemFailures.length;
        const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const done = messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queues.mainQueueUrl,
              Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
        }
      }
    };
    await Promise.all(Array.from({ length: pollers }, poll));

    const { tokenRequests, syncCalls, synced, maxInFlight, connections } = sandbox.stats;
    process.stdout.write(
      `${JSON.stringify(
        {
          subscriptions,
          pollers,
          syncConcurrency: concurrency,
          tokenTtlSeconds,
          synced: synced.size,
          limioSyncCalls: syncCalls,
          retriedMessages: reportedFailures,
          batches,
          tokenRequests,
          tokenRequestsPer1000Syncs: Number(((tokenRequests / Math.max(synced.size, 1)) * 1000).toFixed(2)),
          maxInFlightAtLimio: maxInFlight,
          tcpConnectionsToLimio: connections,
          seconds: (Date.now() - started) / 1000,
        },
        null,
        2,
      )}\n`,
    );
    if (synced.size < subscriptions || maxInFlight > concurrency) process.exitCode = 1;
  } finally {
    await sandbox.stop();
    await emulator.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
