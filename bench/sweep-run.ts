import { BatchWriteItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDbLedgerStore,
  LEDGER_PARTITION_KEY,
  LEDGER_TTL_ATTRIBUTE,
} from '../functions/ledger/dynamodb-ledger-store';
import { expiresAtFor } from '../functions/ledger/ledger-entry';
import { parseSyncRequest } from '../functions/shared/queue-message';
import { loadSweepConfig, type SweepConfig } from '../functions/sweep/config';
import { DynamoDbWatermarkStore, sweepWatermarkKey } from '../functions/sweep/dynamodb-watermark-store';
import { createSweepRunner } from '../functions/sweep/runner';
import type { SweepReport } from '../functions/sweep/sweep';
import { changedSubscriptionsZoql } from '../functions/sweep/window';
import { createOnDemandTable, startDynamoDbEmulator } from '../local/dynamodb-emulator';
import { createQueuePair, startSqsEmulator } from '../local/sqs-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../local/zuora-sandbox';
import { ZUORA_MAX_PAGE_SIZE } from '../local/zuora-tenant';
import { countCommands } from './command-counts';
import { forEachLimited } from './figures';
import { seededRandom, subscriptionNumbers } from './pipeline';

/**
 * Issue #14's sweep at scale: `subscriptions` changed in the Zuora sandbox within the sweep's first window, a
 * share of them (`uncoveredShare`) without a sync since their change, the rest covered by a successful sync in
 * the sync ledger (dynalite, the DynamoDB ledger store's own table format). One scheduled sweep through
 * createSweepRunner (the entry the Lambda, npm start and the CLI share), its watermark in the ledger table as in
 * AWS, queueing on the SQS emulator. The verdict is taken from the outside: the sandbox's request counts and
 * what is on the queue afterwards, which must be exactly the uncovered subscriptions.
 */
export interface SweepBenchOptions {
  readonly subscriptions: number;
  /** 0..1: changed in Zuora without a sync since (half never synced, half synced before their change). */
  readonly uncoveredShare: number;
  /** Records per Zuora page (default Zuora's maximum, 2000). */
  readonly pageSize?: number;
}

export interface SweepBenchResult {
  readonly subscriptions: number;
  readonly uncovered: number;
  readonly report: SweepReport;
  readonly seconds: number;
  /** The same window read again with the same client, pages only (no ledger, no queue): the sweep's floor. */
  readonly readOnlySeconds: number;
  /** query + queryMore requests the sandbox served for the sweep. */
  readonly zuoraRequests: number;
  readonly zuoraTokenRequests: number;
  /**
   * ceil(subscriptions / page size), plus each slice's Account and Contact queries (no account changes here): the
   * fewest requests that can read the window.
   */
  readonly pageFloor: number;
  readonly pageSize: number;
  readonly zuoraMaxInFlight: number;
  /** BatchGetItem requests the sweep made to the ledger; floor ceil(subscriptions / 100). */
  readonly ledgerBatchGets: number;
  /** SendMessageBatch requests the sweep made; floor ceil(uncovered / 10). */
  readonly sqsSendBatches: number;
  /** Ids on the queue after the sweep, as read back from it. */
  readonly queuedOnQueue: number;
  /** Uncovered subscriptions not on the queue, and queued ones that were covered (or queued twice): must be empty. */
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly duplicates: number;
  /** Every queued message says source "sweep". */
  readonly allSourceSweep: boolean;
  readonly seedSeconds: number;
  /** The watermark in the ledger table after the sweep (epoch ms): the window's end. */
  readonly watermarkMs?: number;
}

const MINUTE = 60_000;
const BATCH_WRITE_LIMIT = 25;

export async function runSweepBench(options: SweepBenchOptions): Promise<SweepBenchResult> {
  const pageSize = options.pageSize ?? ZUORA_MAX_PAGE_SIZE;
  const zuora = await startZuoraSandbox({ pageSize });
  const dynamo = await startDynamoDbEmulator();
  const sqsEmulator = await startSqsEmulator();
  try {
    const dynamodb = dynamo.client();
    const sqs = sqsEmulator.client();
    const tableName = 'zuora-limio-sync-ledger';
    await createOnDemandTable(dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
    const { mainQueueUrl } = await createQueuePair(sqs, {
      mainQueueName: 'bench-sweep',
      deadLetterQueueName: 'bench-sweep-dlq',
    });

    // Changes between 50 and 10 minutes ago: inside the first window (lookback 60 min, settle 5 min), one slice.
    const now = Date.now();
    const random = seededRandom(14);
    const names = subscriptionNumbers(options.subscriptions);
    const updated = names.map(
      (name) => zuora.touch(name, now - 50 * MINUTE + Math.floor(random() * 40 * MINUTE)).updatedMs,
    );
    const uncovered = new Set<string>();
    const items: Record<string, AttributeValue>[] = [];
    // Exactly the share asked for, spread evenly over the names; the uncovered ones alternate between the two kinds.
    let picked = 0;
    names.forEach((name, index) => {
      const changedAt = updated[index]!;
      const uncoveredHere =
        Math.floor((index + 1) * options.uncoveredShare) > Math.floor(index * options.uncoveredShare);
      if (uncoveredHere && picked++ % 2 === 0) {
        uncovered.add(name); // never synced: no ledger entry
      } else if (uncoveredHere) {
        uncovered.add(name); // synced once, then changed again without a callout
        items.push(ledgerItem(name, changedAt - 20 * MINUTE));
      } else {
        // Its callout named its UpdatedDate (the documented template) and its sync started 3 s after the change:
        // proven read (provenThrough), as issue #22's rule asks; a sync's start alone within the commit lag is not.
        items.push(ledgerItem(name, changedAt + 3_000, changedAt));
      }
    });
    const seedStarted = performance.now();
    await seedLedger(dynamodb, tableName, items);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    await checkSeeding(new DynamoDbLedgerStore(dynamodb, tableName), names, uncovered);

    const ledgerCalls = countCommands(dynamodb);
    const sqsCalls = countCommands(sqs);
    const config = loadSweepConfig({
      ZUORA_BASE_URL: zuora.baseUrl,
      ZUORA_CLIENT_ID: zuora.clientId,
      ZUORA_CLIENT_SECRET: zuora.clientSecret,
    });
    const { runner, report, seconds, zuoraRequests } = await timedSweep({
      config,
      sqs,
      mainQueueUrl,
      dynamodb,
      tableName,
      zuora,
    });
    const zuoraTokenRequests = zuora.stats.tokenRequests;
    const ledgerBatchGets = ledgerCalls.count('BatchGetItemCommand');
    const sqsSendBatches = sqsCalls.count('SendMessageBatchCommand');
    const watermark = await new DynamoDbWatermarkStore(dynamodb, {
      tableName,
      partitionKey: LEDGER_PARTITION_KEY,
      key: sweepWatermarkKey(config),
    }).get();

    // The floor: the same window's pages read by the same client, nothing else done with them.
    let readOnlySeconds = Number.NaN;
    if (report.window !== undefined) {
      const readStarted = performance.now();
      for await (const page of runner.client.query(changedSubscriptionsZoql(report.window))) void page;
      readOnlySeconds = (performance.now() - readStarted) / 1000;
    }

    const onQueue = await drainIds(sqs, mainQueueUrl);
    return {
      subscriptions: options.subscriptions,
      uncovered: uncovered.size,
      report,
      seconds,
      readOnlySeconds,
      zuoraRequests,
      zuoraTokenRequests,
      pageFloor: Math.ceil(options.subscriptions / pageSize) + 2 * report.slicesPlanned,
      pageSize,
      zuoraMaxInFlight: zuora.stats.maxInFlight,
      ledgerBatchGets,
      sqsSendBatches,
      ...queuedAgainst(onQueue, uncovered),
      seedSeconds,
      ...(watermark !== undefined && { watermarkMs: watermark.completedUntilMs }),
    };
  } finally {
    await sqsEmulator.stop();
    await dynamo.stop();
    await zuora.stop();
  }
}

/** What must hold after the sweep bench; a fast sweep that queued the wrong set is not a figure. */
export function checkSweepBench(result: SweepBenchResult): string[] {
  const failures: string[] = [];
  const { report } = result;
  const counts = report.counts;
  if (report.outcome !== 'complete')
    failures.push(`sweep ended ${report.outcome}${report.error ? `: ${report.error}` : ''}`);
  if (counts.read !== result.subscriptions || counts.distinct !== result.subscriptions) {
    failures.push(
      `sweep read ${counts.read} records (${counts.distinct} subscriptions) of ${result.subscriptions} changed`,
    );
  }
  if (counts.queued !== result.uncovered || counts.covered !== result.subscriptions - result.uncovered) {
    failures.push(
      `sweep reported ${counts.queued} queued and ${counts.covered} covered; ${result.uncovered} were uncovered`,
    );
  }
  failures.push(...queuedFailures(result));
  if (report.coverageUnavailable)
    failures.push('the ledger was unavailable during the sweep: coverage was not checked');
  if (result.zuoraMaxInFlight > 1)
    failures.push(`${result.zuoraMaxInFlight} Zuora requests in flight at once (one at a time is the rule)`);
  if (result.watermarkMs === undefined || report.window === undefined || result.watermarkMs !== report.window.endMs) {
    failures.push('the watermark in the ledger table is not at the end of the window read');
  }
  return failures;
}

/** A ledger item as DynamoDbLedgerStore writes one for a success, with its provenThrough mark (entryFromItem reads it back). */
export function ledgerItem(
  subscriptionId: string,
  startedAt: number,
  provenThrough?: number,
): Record<string, AttributeValue> {
  const n = (value: number): AttributeValue => ({ N: String(value) });
  return {
    [LEDGER_PARTITION_KEY]: { S: subscriptionId },
    lastSuccessStartedAt: n(startedAt),
    lastSuccessFinishedAt: n(startedAt + 300),
    limioId: { S: `limio-${subscriptionId}` },
    lastOutcome: { S: 'synced' },
    lastAttemptStartedAt: n(startedAt),
    lastAttemptFinishedAt: n(startedAt + 300),
    lastHttpStatus: n(200),
    [LEDGER_TTL_ATTRIBUTE]: n(expiresAtFor(startedAt + 300)),
    ...(provenThrough !== undefined && { provenThrough: n(provenThrough), lastQueuedAt: n(startedAt - 1_000) }),
  };
}

/** BatchWriteItem, 25 items a request, several requests at a time; unprocessed items are sent again. */
export async function seedLedger(
  client: DynamoDBClient,
  tableName: string,
  items: readonly Record<string, AttributeValue>[],
): Promise<void> {
  const chunks: Record<string, AttributeValue>[][] = [];
  for (let start = 0; start < items.length; start += BATCH_WRITE_LIMIT)
    chunks.push(items.slice(start, start + BATCH_WRITE_LIMIT));
  await forEachLimited(chunks, 8, async (chunk) => {
    let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round > 5) throw new Error(`seeding the ledger: ${requests.length} items still unprocessed`);
      const { UnprocessedItems } = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }),
      );
      requests = (UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : [],
      );
    }
  });
}

/** The seeded items must read back through the store as the sweep will read them, or the bench proves nothing. */
export async function checkSeeding(
  store: DynamoDbLedgerStore,
  names: readonly string[],
  uncovered: ReadonlySet<string>,
): Promise<void> {
  const sample = names.filter((_, index) => index % Math.max(1, Math.floor(names.length / 500)) === 0);
  const { entries, unread } = await store.readMany(sample);
  const withSuccess = sample.filter((name) => entries.get(name)?.lastSuccess !== undefined);
  const expected = sample.filter((name) => !uncovered.has(name));
  if (unread.length > 0 || withSuccess.length < expected.length) {
    throw new Error(
      `the seeded ledger does not read back: ${withSuccess.length} of ${expected.length} sampled entries have a success, ${unread.length} unread`,
    );
  }
}

/** Reads every message off the queue (deleting it) and returns the subscription ids in them. */
/** One production sweep run over the sandbox, its ledger and watermark in dynalite: its report, time and Zuora requests. */
export async function timedSweep(parts: {
  readonly config: SweepConfig;
  readonly sqs: SQSClient;
  readonly mainQueueUrl: string;
  readonly dynamodb: DynamoDBClient;
  readonly tableName: string;
  readonly zuora: ZuoraSandbox;
}): Promise<{
  runner: ReturnType<typeof createSweepRunner>;
  report: SweepReport;
  seconds: number;
  zuoraRequests: number;
}> {
  const { config, sqs, mainQueueUrl, dynamodb, tableName, zuora } = parts;
  const runner = createSweepRunner({
    config,
    sqs,
    queueUrl: mainQueueUrl,
    source: 'sweep',
    ledger: new DynamoDbLedgerStore(dynamodb, tableName),
    watermarks: new DynamoDbWatermarkStore(dynamodb, {
      tableName,
      partitionKey: LEDGER_PARTITION_KEY,
      key: sweepWatermarkKey(config),
    }),
  });
  const requestsBefore = zuora.stats.queryRequests + zuora.stats.queryMoreRequests;
  const started = performance.now();
  const report = await runner.run();
  const seconds = (performance.now() - started) / 1000;
  const zuoraRequests = zuora.stats.queryRequests + zuora.stats.queryMoreRequests - requestsBefore;
  return { runner, report, seconds, zuoraRequests };
}

/** What a sweep queued, read back from the queue, against the subscriptions it should have queued. */
export function queuedAgainst(
  onQueue: { ids: string[]; allSourceSweep: boolean },
  uncovered: ReadonlySet<string>,
): { queuedOnQueue: number; missing: string[]; unexpected: string[]; duplicates: number; allSourceSweep: boolean } {
  const queuedIds = new Set(onQueue.ids);
  return {
    queuedOnQueue: onQueue.ids.length,
    missing: [...uncovered].filter((id) => !queuedIds.has(id)),
    unexpected: [...queuedIds].filter((id) => !uncovered.has(id)),
    duplicates: onQueue.ids.length - queuedIds.size,
    allSourceSweep: onQueue.allSourceSweep,
  };
}

/** The failures queuedAgainst's answer shows: a subscription missed, a covered one queued, one twice, a wrong source. */
export function queuedFailures(queued: {
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly duplicates: number;
  readonly allSourceSweep: boolean;
}): string[] {
  const failures: string[] = [];
  if (queued.missing.length > 0)
    failures.push(
      `${queued.missing.length} uncovered subscriptions not queued (e.g. ${queued.missing.slice(0, 3).join(', ')})`,
    );
  if (queued.unexpected.length > 0)
    failures.push(
      `${queued.unexpected.length} covered subscriptions queued (e.g. ${queued.unexpected.slice(0, 3).join(', ')})`,
    );
  if (queued.duplicates > 0) failures.push(`${queued.duplicates} subscriptions queued more than once`);
  if (!queued.allSourceSweep) failures.push('a queued message does not say source "sweep"');
  return failures;
}

export async function drainIds(sqs: SQSClient, queueUrl: string): Promise<{ ids: string[]; allSourceSweep: boolean }> {
  const ids: string[] = [];
  let allSourceSweep = true;
  let emptyAnswers = 0;
  const lane = async () => {
    while (emptyAnswers < 3) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 600,
        }),
      );
      if (Messages.length === 0) {
        emptyAnswers++;
        continue;
      }
      emptyAnswers = 0;
      for (const message of Messages) {
        const parsed = parseSyncRequest(message.Body ?? '');
        if (!parsed.ok) {
          allSourceSweep = false;
          continue;
        }
        ids.push(parsed.request.subscriptionId);
        if (parsed.request.source !== 'sweep') allSourceSweep = false;
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  return { ids, allSourceSweep };
}
