/**
 * The local sync worker on its own, in a process the chaos run can kill with SIGKILL in the middle of a batch:
 * the production sync handler (createSyncHandler + loadSyncConfig, as in functions/sync/handler.ts) behind the
 * local runtime's SQS poller, wired as local/runtime.ts wires them. Settings come from the environment (the
 * sync Lambda's own variables, plus the AWS SDK's for the emulator); one JSON line per sync outcome goes to
 * stdout so the parent can tally retries without trusting the worker for the verdict.
 *
 *   SYNC_POLLERS, SYNC_BATCH_SIZE, SYNC_BATCHING_WINDOW_SECONDS, SYNC_FUNCTION_TIMEOUT_SECONDS: the poller.
 *   LEDGER_TABLE_NAME with AWS_ENDPOINT_URL_DYNAMODB: the sync ledger, as the sync Lambda finds it; one line per
 *   ledger request says whether it was answered (with SYNC_WORKER_LEDGER_LINES=true), so the parent can tell the
 *   ledger was used, or was unreachable.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ledgerDynamoDbClient } from '../functions/ledger/dynamodb-ledger-store';
import { loadSyncConfig } from '../functions/sync/config';
import { createSyncHandler } from '../functions/sync/sync-handler';
import { integer } from '../functions/shared/env';
import { DEFAULTS } from '../functions/shared/defaults';
import { SYNC_PATH } from '../functions/limio';
import { startSqsPoller } from '../local/sqs-poller';

export interface WorkerLine {
  readonly kind: 'ready' | 'outcome' | 'error' | 'in-flight' | 'ledger';
  /** For `ledger`: the DynamoDB request was answered (a refused condition is an answer too). */
  readonly answered?: boolean;
  /** For `in-flight`: the most Limio sync requests this process has had open at once so far. */
  readonly maxInFlight?: number;
  readonly outcome?: string;
  readonly subscriptionId?: string;
  readonly httpStatus?: number;
  readonly failureClass?: string;
  readonly error?: string;
  /** For `outcome`: how many messages it settled, whether a recorded sync covered them, and when (epoch ms). */
  readonly messages?: number;
  readonly covered?: boolean;
  readonly at?: number;
}

function emit(line: WorkerLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/**
 * Counts the Limio sync requests this process is waiting for, as the client sees them: the sandbox counts a
 * request until its connection closes, which for a request abandoned at LIMIO_TIMEOUT_MS can be after the
 * client's next request has arrived. Wraps fetch only to count; every call goes through unchanged.
 */
function countLimioRequests(): void {
  const realFetch = globalThis.fetch;
  let inFlight = 0;
  let maxInFlight = 0;
  globalThis.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.includes(SYNC_PATH)) return realFetch(input, init);
    inFlight++;
    if (inFlight > maxInFlight) {
      maxInFlight = inFlight;
      emit({ kind: 'in-flight', maxInFlight });
    }
    try {
      return await realFetch(input, init);
    } finally {
      inFlight--;
    }
  };
}

/**
 * Reports every ledger request and whether DynamoDB answered it. A ConditionalCheckFailed is DynamoDB's answer
 * to a claim or a record it refused, not an unreachable table.
 */
function reportLedgerRequests(client: ReturnType<typeof ledgerDynamoDbClient>): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const output = await next(args);
        emit({ kind: 'ledger', answered: true });
        return output;
      } catch (error) {
        emit({ kind: 'ledger', answered: (error as Error).name === 'ConditionalCheckFailedException' });
        throw error;
      }
    },
    { step: 'initialize', name: 'chaosLedgerReporter' },
  );
}

async function main(): Promise<void> {
  countLimioRequests();
  const env = process.env;
  const config = loadSyncConfig(env);
  // The sync handler's production client (endpoint from AWS_ENDPOINT_URL_SQS), shared with the poller.
  const sqs = new SQSClient({});
  // The client the handler would build itself for LEDGER_TABLE_NAME (endpoint from AWS_ENDPOINT_URL_DYNAMODB).
  const dynamo = config.ledger.tableName === undefined ? undefined : ledgerDynamoDbClient();
  if (dynamo && env.SYNC_WORKER_LEDGER_LINES === 'true') reportLedgerRequests(dynamo);
  const handler = createSyncHandler(config, {
    sqs,
    ...(dynamo && { dynamo }),
    logger: new Logger({ serviceName: 'sync', logLevel: 'SILENT' }),
    observer: {
      onSyncOutcome: (event) =>
        emit({
          kind: 'outcome',
          outcome: event.outcome,
          ...(event.subscriptionId !== undefined && { subscriptionId: event.subscriptionId }),
          ...(event.httpStatus !== undefined && { httpStatus: event.httpStatus }),
          ...(event.failureClass !== undefined && { failureClass: event.failureClass }),
          ...(event.error !== undefined && { error: event.error.slice(0, 120) }),
          messages: event.messageIds.length,
          covered: event.coveredBySyncStartedAt !== undefined,
          at: performance.timeOrigin + performance.now(),
        }),
    },
  });
  const poller = await startSqsPoller({
    client: sqs,
    queueUrl: config.queueUrl,
    handler,
    batchSize: integer(env, 'SYNC_BATCH_SIZE', DEFAULTS.syncBatchSize, { min: 1, max: 10_000 }),
    batchingWindowSeconds: integer(env, 'SYNC_BATCHING_WINDOW_SECONDS', DEFAULTS.syncBatchingWindowSeconds, {
      min: 0,
      max: 300,
    }),
    concurrency: integer(env, 'SYNC_POLLERS', 2, { min: 1, max: 50 }),
    waitTimeSeconds: 1,
    functionTimeoutSeconds: integer(env, 'SYNC_FUNCTION_TIMEOUT_SECONDS', DEFAULTS.syncFunctionTimeoutSeconds, {
      min: 1,
      max: 900,
    }),
    functionName: 'sync',
    onError: (error) => emit({ kind: 'error', error: (error as Error).message?.slice(0, 200) ?? String(error) }),
  });
  emit({ kind: 'ready' });
  const stop = () => void poller.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`sync worker: ${(error as Error).message}\n`);
  process.exit(1);
});
