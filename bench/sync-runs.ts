import { Logger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createSyncRequest, serializeSyncRequest } from '../functions/shared/queue-message';
import { loadSyncConfig } from '../functions/sync/config';
import { createSyncHandler } from '../functions/sync/sync-handler';
import type { LimioFaults } from '../local/limio-faults';
import { startLimioSandbox } from '../local/limio-sandbox';

/**
 * The sync handler alone against the Limio sandbox over HTTP, fed SQS events directly by a few concurrent
 * "invocations" as the event source mapping would, so what is measured is the handler and Limio, not a queue.
 */
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/main';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq';
const LIMIO_SECRET_ID = 'zuora-limio-sync/limio';

/** Counts SQS calls; a clean run needs none (no retries, no dead letters), so any count is reported. */
function countingSqs(): { client: SQSClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: async () => {
      calls++;
      return {};
    },
  } as unknown as SQSClient;
  return { client, calls: () => calls };
}

function sqsRecord(subscriptionId: string, messageId: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'test' })),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'AIDALOCAL',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:main',
    awsRegion: 'eu-west-1',
  };
}

export interface SyncRunOptions {
  readonly syncs: number;
  readonly syncConcurrency: number;
  readonly faults?: LimioFaults;
  /** Invocations running side by side (each with its own batch), like concurrent pollers. */
  readonly invocations?: number;
  readonly batchSize?: number;
}

export interface SyncRunResult {
  readonly syncs: number;
  readonly synced: number;
  readonly failedItems: number;
  readonly seconds: number;
  readonly syncsPerSecond: number;
  readonly limioCalls: number;
  readonly tokenRequests: number;
  readonly secretReads: number;
  readonly maxInFlight: number;
  readonly sqsCalls: number;
}

/** Syncs `syncs` distinct subscriptions through one handler instance (one warm container), credentials from a mocked Secrets Manager. */
export async function runSyncs(options: SyncRunOptions): Promise<SyncRunResult> {
  const sandbox = await startLimioSandbox(options.faults ?? {});
  const secrets = mockClient(SecretsManagerClient);
  secrets.on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID }).resolves({
    SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }),
  });
  const sqs = countingSqs();
  const previousSwitch = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  try {
    const handler = createSyncHandler(
      loadSyncConfig({
        QUEUE_URL,
        DLQ_URL,
        LIMIO_BASE_URL: sandbox.baseUrl,
        LIMIO_SECRET_ID,
        SYNC_CONCURRENCY: String(options.syncConcurrency),
      }),
      {
        sqs: sqs.client,
        secretsManager: new SecretsManagerClient({
          region: 'eu-west-1',
          credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
        }),
        logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
      },
    );
    const batchSize = options.batchSize ?? 10;
    const ids = Array.from({ length: options.syncs }, (_, index) => `A-S${String(index).padStart(8, '0')}`);
    let next = 0;
    let failedItems = 0;
    const invoke = async () => {
      while (next < ids.length) {
        const batch = ids.slice(next, next + batchSize);
        next += batch.length;
        const event: SQSEvent = { Records: batch.map((id) => sqsRecord(id, `m-${id}`)) };
        failedItems += (await handler(event)).batchItemFailures.length;
      }
    };
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: options.invocations ?? 4 }, invoke));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      syncs: options.syncs,
      synced: sandbox.stats.synced.size,
      failedItems,
      seconds,
      syncsPerSecond: sandbox.stats.synced.size / seconds,
      limioCalls: sandbox.stats.syncCalls,
      tokenRequests: sandbox.stats.tokenRequests,
      secretReads: secrets.commandCalls(GetSecretValueCommand).length,
      maxInFlight: sandbox.stats.maxInFlight,
      sqsCalls: sqs.calls(),
    };
  } finally {
    if (previousSwitch === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previousSwitch;
    secrets.restore();
    await sandbox.stop();
  }
}
