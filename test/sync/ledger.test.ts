import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { Socket } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { openBreaker } from '../../functions/breaker/operator';
import {
  DynamoDbLedgerStore,
  LEDGER_PARTITION_KEY,
  ledgerDynamoDbClient,
} from '../../functions/ledger/dynamodb-ledger-store';
import type { LedgerStore } from '../../functions/ledger/ledger-store';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { createSyncHandler, type SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import {
  DYNAMODB_EMULATOR_CREDENTIALS,
  DYNAMODB_EMULATOR_REGION,
  createOnDemandTable,
} from '../../local/dynamodb-emulator';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import type { QueuePair } from '../../local/sqs-emulator';
import { captureOutput, metricValues } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { deliver, mockLimioSecret, newQueuePair, syncConfig, toRecord } from './harness';
import { lambdaContext, pollUntilDone, sendAll } from './ledger-pipeline';

// The sync ledger wired into the sync handler, on real local parts: queues on the SQS emulator, the ledger on
// dynalite through the DynamoDB store, Limio as the sandbox over HTTP; only Secrets Manager is mocked.

// One EMF document holds a metric added several times as an array of its values.
const sum = (values: Array<number | number[]>) => values.flat().reduce((total, value) => total + value, 0);
const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

function bodyReceivedAt(subscriptionId: string, receivedAt: number): string {
  return serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'test', receivedAt: new Date(receivedAt) }));
}

/**
 * The emulator stamps SentTimestamp when it takes a message, now; a message these tests date back (its receivedAt)
 * was, in their story, also sent then, as the callout Lambda sends within milliseconds of stamping it. The ledger
 * judges a message by the later of the two (changeTimeOf).
 */
function sentWhenReceived(event: SQSEvent): SQSEvent {
  return {
    Records: event.Records.map((record) => ({
      ...record,
      attributes: { ...record.attributes, SentTimestamp: String(Date.parse(JSON.parse(record.body).receivedAt)) },
    })),
  };
}

describe('sync handler with the sync ledger', () => {
  const sqsEmulator = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  let sandbox: LimioSandbox;
  let queues: QueuePair;
  let secret: ReturnType<typeof mockLimioSecret>;
  let output: ReturnType<typeof captureOutput>;
  let events: SyncOutcomeEvent[];
  let ledger: DynamoDbLedgerStore;
  let tableName: string;

  beforeEach(async () => {
    output = captureOutput();
    sandbox = await startLimioSandbox();
    queues = await newQueuePair(sqsEmulator.sqs);
    secret = mockLimioSecret(sandbox);
    events = [];
    tableName = `ledger-${randomUUID().slice(0, 8)}`;
    await createOnDemandTable(dynamo.dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
    ledger = new DynamoDbLedgerStore(dynamo.dynamodb, tableName);
  });
  afterEach(async () => {
    output.restore();
    secret.mock.restore();
    await sandbox.stop();
  });

  function handlerWith(
    env: Record<string, string> = {},
    extra: { ledger?: LedgerStore; breakerStore?: InMemoryBreakerStore } = {},
  ) {
    return createSyncHandler(
      syncConfig(sandbox, queues, { SYNC_COOLDOWN_SECONDS: '2', SYNC_CLOCK_MARGIN_SECONDS: '1', ...env }),
      {
        sqs: sqsEmulator.sqs,
        secretsManager: secret.client,
        random: () => 0.5,
        ledger: extra.ledger ?? ledger,
        ...(extra.breakerStore && { breakerStore: extra.breakerStore }),
        observer: { onSyncOutcome: (event) => events.push(event) },
      },
    );
  }

  const metric = (name: string) => sum(metricValues(output.lines(), name));
  const syncCallsOf = (subscriptionId: string) => sandbox.stats.syncCallsById.get(subscriptionId) ?? 0;

  it('leaves no claim for a subscription whose message got no Limio slot within its bound: nothing holds it when it comes back', async () => {
    sandbox.setFaults({ latencyMs: 1_500 });
    const handler = handlerWith({ SYNC_CONCURRENCY: '1', SYNC_SLOT_WAIT_SECONDS: '1' });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
      bodyReceivedAt('A-S120', Date.now()),
      bodyReceivedAt('A-S121', Date.now()),
    ]);

    const answer = await handler(event);
    expect(answer.batchItemFailures).toHaveLength(1);
    const [waited, synced] =
      answer.batchItemFailures[0]!.itemIdentifier === event.Records[0]!.messageId
        ? ['A-S120', 'A-S121']
        : ['A-S121', 'A-S120'];
    expect(events).toContainEqual(
      expect.objectContaining({ subscriptionId: waited, error: 'not attempted: no Limio slot within the wait bound' }),
    );
    const entries = (await ledger.readMany([waited, synced])).entries;
    expect(entries.get(waited)?.claim).toBeUndefined();
    expect(entries.get(synced)?.lastSuccess).toBeDefined();
  });

  it('syncs a burst of 8 callouts for one subscription with at most 2 Limio calls, the last change included', async () => {
    const handler = handlerWith();
    const bodies = Array.from({ length: 8 }, () => bodyReceivedAt('A-S100', Date.now()));
    const lastReceivedAt = Math.max(...bodies.map((body) => Date.parse(JSON.parse(body).receivedAt)));
    const sent = await sendAll(sqsEmulator.sqs, queues.mainQueueUrl, bodies);

    // Two concurrent invocations of two messages each, as a busy event source would hand them out.
    const { done } = await pollUntilDone(sqsEmulator.sqs, queues.mainQueueUrl, handler, sent, {
      pollers: 2,
      batchSize: 2,
    });

    expect(done.size).toBe(8);
    expect(syncCallsOf('A-S100')).toBeLessThanOrEqual(2);
    const entry = (await ledger.readMany(['A-S100'])).entries.get('A-S100');
    // The last change is in Limio: a successful sync started after the last callout was received.
    expect(entry?.lastSuccess?.startedAt).toBeGreaterThan(lastReceivedAt);
    expect(entry?.lastSuccess?.limioId).toMatch(/^sub-/);
    expect(metric('heldForCooldown')).toBeGreaterThan(0);
  }, 30_000);

  it('costs no Limio call for a message a recorded successful sync covers, and reports which sync covered it', async () => {
    const syncStartedAt = Date.now() - 5_000;
    await ledger.recordOutcome('A-S101', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 100,
      httpStatus: 200,
      limioId: 'sub-1',
    });
    const handler = handlerWith();
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S101', syncStartedAt - 2_000),
        bodyReceivedAt('A-S102', Date.now()),
      ]),
    );

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S101')).toBe(0);
    expect(syncCallsOf('A-S102')).toBe(1);
    expect(metric('coveredByLedger')).toBe(1);
    expect(events.find((e) => e.subscriptionId === 'A-S101')).toEqual({
      subscriptionId: 'A-S101',
      messageIds: [event.Records[0].messageId],
      outcome: 'synced',
      coveredBySyncStartedAt: new Date(syncStartedAt).toISOString(),
      latencyMs: 0,
      attempt: 1,
    });
    // A-S102 had no entry: synced at once, and its answer recorded.
    expect((await ledger.readMany(['A-S102'])).entries.get('A-S102')?.lastAttempt).toMatchObject({
      outcome: 'synced',
      httpStatus: 200,
    });
  });

  it("syncs a message whose receivedAt runs 10 minutes behind its SentTimestamp (an operator's slow clock) when the recorded sync started between the two", async () => {
    const sentAt = Date.now();
    const syncStartedAt = sentAt - 5 * 60_000;
    await ledger.recordOutcome('A-S114', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 100,
      httpStatus: 200,
    });
    const handler = handlerWith();
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S114', sentAt - 10 * 60_000)]);
    expect(Number(event.Records[0].attributes.SentTimestamp)).toBeGreaterThan(syncStartedAt);

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S114')).toBe(1);
    expect(metric('coveredByLedger')).toBe(0);
  });

  it('uses the DynamoDB table LEDGER_TABLE_NAME names when no store is given, as the deployed Lambda does', async () => {
    const syncStartedAt = Date.now() - 5_000;
    await ledger.recordOutcome('A-S111', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 100,
      httpStatus: 200,
    });
    const handler = createSyncHandler(syncConfig(sandbox, queues, { LEDGER_TABLE_NAME: tableName }), {
      sqs: sqsEmulator.sqs,
      secretsManager: secret.client,
      dynamo: dynamo.dynamodb,
    });
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S111', syncStartedAt - 2_000),
        bodyReceivedAt('A-S112', Date.now()),
      ]),
    );

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S111')).toBe(0);
    expect((await ledger.readMany(['A-S112'])).entries.get('A-S112')?.lastSuccess).toBeDefined();
  });

  it('holds a change that arrives within the cooldown of a successful sync, without counting it as a failure', async () => {
    const syncStartedAt = Date.now() - 200;
    await ledger.recordOutcome('A-S103', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 50,
      httpStatus: 200,
    });
    const handler = handlerWith({ SYNC_COOLDOWN_SECONDS: '5' });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S103', Date.now())]);

    expect(failedIds(await handler(event, lambdaContext()))).toEqual([event.Records[0].messageId]);
    expect(syncCallsOf('A-S103')).toBe(0);
    expect(metric('heldForCooldown')).toBe(1);
    expect(metric('retryable')).toBe(0);
    // Put back until the cooldown ends (about 5 s after that sync started), not the queue's visibility timeout.
    const [held] = events;
    // Said to be held by the ledger, so that npm start prints it as held and does not count it as a retry.
    expect(held).toMatchObject({
      subscriptionId: 'A-S103',
      outcome: 'retry',
      heldBy: 'ledger',
      error: expect.stringContaining('SYNC_COOLDOWN_SECONDS'),
    });
    expect(held.visibilitySeconds).toBeGreaterThanOrEqual(4);
    expect(held.visibilitySeconds).toBeLessThanOrEqual(5);
  });

  it('syncs at once with SYNC_COOLDOWN_SECONDS=0: holding is off, covered messages are still spared', async () => {
    const syncStartedAt = Date.now() - 200;
    await ledger.recordOutcome('A-S104', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 50,
      httpStatus: 200,
    });
    const handler = handlerWith({ SYNC_COOLDOWN_SECONDS: '0' });
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S104', Date.now()),
        bodyReceivedAt('A-S104', syncStartedAt - 5_000),
      ]),
    );

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S104')).toBe(1);
    expect(metric('heldForCooldown')).toBe(0);
    expect(metric('coveredByLedger')).toBe(1);
  });

  it('syncs instead of holding a message received a quarter of MAX_ATTEMPTS times, so holds never bring it to the redrive', async () => {
    const syncStartedAt = Date.now() - 200;
    await ledger.recordOutcome('A-S105', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 50,
      httpStatus: 200,
    });
    const handler = handlerWith({ SYNC_COOLDOWN_SECONDS: '5', MAX_ATTEMPTS: '8' });
    const event = await deliver(
      sqsEmulator.sqs,
      queues.mainQueueUrl,
      [bodyReceivedAt('A-S105', Date.now()), bodyReceivedAt('A-S105', Date.now())],
      { 1: 2 },
    );

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S105')).toBe(1);
    expect(metric('heldForCooldown')).toBe(0);
  });

  it('holds, without a Limio call, the messages of a subscription another invocation claimed between the read and the claim', async () => {
    const racingLedger: LedgerStore = {
      readMany: (ids) => ledger.readMany(ids),
      recordOutcome: (id, outcome) => ledger.recordOutcome(id, outcome),
      raiseMark: (id, mark, valueMs) => ledger.raiseMark(id, mark, valueMs),
      claimSync: async (id, request) => {
        // Another invocation claims first, with the same expectation, and is still calling Limio.
        await ledger.claimSync(id, { ...request, startedAt: request.startedAt - 1, leaseMs: 20_000 });
        return ledger.claimSync(id, request);
      },
    };
    const syncStartedAt = Date.now() - 10_000;
    await ledger.recordOutcome('A-S106', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 50,
      httpStatus: 200,
    });
    const handler = handlerWith({}, { ledger: racingLedger });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S106', Date.now())]);

    expect(failedIds(await handler(event, lambdaContext()))).toEqual([event.Records[0].messageId]);
    expect(syncCallsOf('A-S106')).toBe(0);
    expect(events[0]).toMatchObject({
      outcome: 'retry',
      error: 'held: a sync of this subscription is in flight',
      visibilitySeconds: 1,
    });
  });

  it("reads again, once its own sync is done, a subscription waiting for another invocation's sync in flight, and lets go what that sync covered instead of holding it", async () => {
    const inFlightStartedAt = Date.now() - 1_000;
    await ledger.claimSync('A-S120', {
      startedAt: inFlightStartedAt,
      leaseMs: 20_000,
      expectedLastSuccessStartedAt: undefined,
    });
    const otherInvocationAnswers: LedgerStore = {
      readMany: (ids) => ledger.readMany(ids),
      recordOutcome: (id, outcome) => ledger.recordOutcome(id, outcome),
      raiseMark: (id, mark, valueMs) => ledger.raiseMark(id, mark, valueMs),
      claimSync: async (id, request) => {
        // While this batch syncs A-S121, the other invocation's sync of A-S120 succeeds and is recorded.
        await ledger.recordOutcome('A-S120', {
          kind: 'synced',
          startedAt: inFlightStartedAt,
          finishedAt: Date.now(),
          httpStatus: 200,
          limioId: 'sub-120',
        });
        return ledger.claimSync(id, request);
      },
    };
    const handler = handlerWith({}, { ledger: otherInvocationAnswers });
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S120', Date.now() - 5_000),
        bodyReceivedAt('A-S121', Date.now()),
      ]),
    );

    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(syncCallsOf('A-S120')).toBe(0);
    expect(syncCallsOf('A-S121')).toBe(1);
    expect(metric('heldForCooldown')).toBe(0);
    expect(metric('coveredByLedger')).toBe(1);
    expect(events.find((e) => e.subscriptionId === 'A-S120')).toMatchObject({
      outcome: 'synced',
      coveredBySyncStartedAt: new Date(inFlightStartedAt).toISOString(),
    });
  });

  it("still holds, after the second read, what the other invocation's sync has not covered yet", async () => {
    await ledger.claimSync('A-S122', {
      startedAt: Date.now() - 1_000,
      leaseMs: 20_000,
      expectedLastSuccessStartedAt: undefined,
    });
    const handler = handlerWith();
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S122', Date.now() - 5_000),
        bodyReceivedAt('A-S123', Date.now()),
      ]),
    );

    expect(failedIds(await handler(event, lambdaContext()))).toEqual([event.Records[0].messageId]);
    expect(syncCallsOf('A-S122')).toBe(0);
    expect(events.find((e) => e.subscriptionId === 'A-S122')).toMatchObject({
      outcome: 'retry',
      error: 'held: a sync of this subscription is in flight',
      visibilitySeconds: 1,
    });
  });

  it('records provenThrough on a success: the latest zuoraUpdatedAt its messages name, leaving out one dated after its message', async () => {
    const receivedAt = Date.now() - 1_000;
    const body = (subscriptionId: string, zuoraUpdatedAt: string) =>
      serializeSyncRequest(
        createSyncRequest({ subscriptionId, source: 'test', receivedAt: new Date(receivedAt), zuoraUpdatedAt }),
      );
    const named = (offsetMs: number) => new Date(receivedAt - offsetMs).toISOString();
    const handler = handlerWith({ SYNC_COOLDOWN_SECONDS: '0' });
    sandbox.respondWith('A-S130', 503, { message: 'Limio is busy' });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
      body('A-S128', named(30_000)),
      body('A-S128', named(10_000)),
      // A time after the callout arrived proves nothing. (One without its offset never gets this far: the message
      // schema refuses it, test/shared/queue-message.test.ts.)
      body('A-S128', new Date(receivedAt + 60_000).toISOString()),
      body('A-S129', named(5_000)),
      body('A-S130', named(5_000)),
    ]);
    await handler(event, lambdaContext());
    const { entries } = await ledger.readMany(['A-S128', 'A-S129', 'A-S130']);
    expect(entries.get('A-S128')?.provenThrough).toBe(receivedAt - 10_000);
    expect(entries.get('A-S129')?.provenThrough).toBe(receivedAt - 5_000);
    // A failed sync proves nothing.
    expect(entries.get('A-S130')?.provenThrough).toBeUndefined();
    expect(entries.get('A-S130')?.lastAttempt).toMatchObject({ outcome: 'retryable' });
  });

  it('records each Limio answer: a failure, then the retried sync with its Limio id and owner', async () => {
    sandbox.respondWith('A-S107', 503, { message: 'Limio is busy' });
    const handler = handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '1' });
    const first = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S107', Date.now())]);
    const before = Date.now();
    expect(failedIds(await handler(first, lambdaContext()))).toEqual([first.Records[0].messageId]);
    const failed = (await ledger.readMany(['A-S107'])).entries.get('A-S107');
    expect(failed?.lastSuccess).toBeUndefined();
    expect(failed?.lastAttempt).toMatchObject({
      outcome: 'retryable',
      httpStatus: 503,
      error: expect.stringContaining('Limio is busy'),
    });
    expect(failed?.lastAttempt?.startedAt).toBeGreaterThanOrEqual(before);
    // The claim the failed sync made is over once its answer is recorded: the retry is not held behind it.
    expect(failed?.claim?.startedAt).toBe(failed?.lastAttempt?.startedAt);

    sandbox.respondWith('A-S107', 200, { success: true, id: 'sub-107', owner: 'owner-107' });
    let retried;
    for (let round = 0; round < 5 && retried === undefined; round++) {
      const answer = await sqsEmulator.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.mainQueueUrl,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      retried = answer.Messages?.[0];
    }
    expect(retried).toBeDefined();
    expect(await handler({ Records: [toRecord(retried!, queues.mainQueueUrl)] }, lambdaContext())).toEqual({
      batchItemFailures: [],
    });
    const synced = (await ledger.readMany(['A-S107'])).entries.get('A-S107');
    expect(synced?.lastSuccess).toMatchObject({ limioId: 'sub-107', owner: 'owner-107' });
    expect(synced?.lastAttempt).toMatchObject({ outcome: 'synced', httpStatus: 200 });
    expect(synced!.lastSuccess!.startedAt).toBeGreaterThan(failed!.lastAttempt!.startedAt);
    expect(syncCallsOf('A-S107')).toBe(2);
  }, 20_000);

  it('makes no claim for a sync the breaker stops at its slot (opened by another instance mid-batch): the sweep must not take a claim no call followed for a sync whose answer was lost', async () => {
    /** Closed when the batch starts; another instance opens it before this batch's sync gets its slot. */
    class OpensAfterTheBatchStarts extends InMemoryBreakerStore {
      #opened = false;
      override async read() {
        const state = await super.read();
        if (!this.#opened) {
          this.#opened = true;
          await openBreaker(this, 'Limio judged down by another instance');
        }
        return state;
      }
    }
    const handler = handlerWith({ BREAKER_STATE_CACHE_SECONDS: '0' }, { breakerStore: new OpensAfterTheBatchStarts() });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S131', Date.now())]);

    expect(failedIds(await handler(event, lambdaContext()))).toEqual([event.Records[0].messageId]);
    expect(syncCallsOf('A-S131')).toBe(0);
    expect(metric('held')).toBe(1);
    expect((await ledger.readMany(['A-S131'])).entries.get('A-S131')?.claim).toBeUndefined();
  });

  it('is done with a covered message while the breaker is open; the others are held by the breaker', async () => {
    const breakerStore = new InMemoryBreakerStore();
    await openBreaker(breakerStore, 'Limio maintenance window');
    const syncStartedAt = Date.now() - 60_000;
    await ledger.recordOutcome('A-S108', {
      kind: 'synced',
      startedAt: syncStartedAt,
      finishedAt: syncStartedAt + 50,
      httpStatus: 200,
    });
    const handler = handlerWith({}, { breakerStore });
    const event = sentWhenReceived(
      await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S108', syncStartedAt - 5_000),
        bodyReceivedAt('A-S108', Date.now()),
      ]),
    );

    expect(failedIds(await handler(event, lambdaContext()))).toEqual([event.Records[1].messageId]);
    expect(sandbox.stats.syncCalls).toBe(0);
    expect(metric('coveredByLedger')).toBe(1);
    expect(metric('held')).toBe(1);
    expect(metric('heldForCooldown')).toBe(0);
  });

  it("postpones a sync that, with the ledger's claim and record at their timeouts, could outlive the invocation", async () => {
    // LIMIO_TIMEOUT_MS + 2 s for the SQS calls would fit; the ledger's two calls of up to 1.5 s each would not.
    const remainingMs = 5_000 + 2_000 + 1_000;
    const handler = handlerWith({ LIMIO_TIMEOUT_MS: '5000' });
    const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [bodyReceivedAt('A-S113', Date.now())]);
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs };

    expect(failedIds(await handler(event, context))).toEqual([event.Records[0].messageId]);
    expect(syncCallsOf('A-S113')).toBe(0);
    expect(events[0]).toMatchObject({
      outcome: 'retry',
      error: 'not attempted: the invocation was running out of time',
    });
  });

  describe('an unreachable ledger (a server that accepts connections and never answers)', () => {
    let silent: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('syncs every message as without a ledger, within the bounded waits, and counts the failed calls', async () => {
      const { port } = silent.address() as { port: number };
      const unreachable = new DynamoDbLedgerStore(
        ledgerDynamoDbClient({
          endpoint: `http://127.0.0.1:${port}`,
          region: DYNAMODB_EMULATOR_REGION,
          credentials: DYNAMODB_EMULATOR_CREDENTIALS,
        }),
        tableName,
      );
      const handler = handlerWith({}, { ledger: unreachable });
      const event = await deliver(sqsEmulator.sqs, queues.mainQueueUrl, [
        bodyReceivedAt('A-S109', Date.now()),
        bodyReceivedAt('A-S109', Date.now()),
        bodyReceivedAt('A-S110', Date.now()),
      ]);

      const started = Date.now();
      expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
      // One read and one write per subscription, each abandoned after LEDGER_CALL_TIMEOUT_MS (1.5 s): the reads
      // one after the other with the syncs, the writes side by side.
      expect(Date.now() - started).toBeLessThan(6_000);
      expect([...sandbox.stats.synced].sort()).toEqual(['A-S109', 'A-S110']);
      expect(metric('ledgerUnavailable')).toBe(3);
      expect(metric('synced')).toBe(2);
    }, 20_000);
  });
});
