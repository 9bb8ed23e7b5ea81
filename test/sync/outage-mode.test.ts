import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { BreakerState } from '../../functions/breaker/breaker-state';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { openBreaker } from '../../functions/breaker/operator';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { createSyncHandler, type SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { body, deliver, drain, LIMIO_SECRET_ID, mockLimioSecret, newQueuePair, syncConfig } from './harness';
import { captureOutput } from '../support/capture-output';

// Outage mode in the sync handler (#9), end to end on the real Limio sandbox and real queues on the SQS
// emulator: the time budget, the breaker gate before and during a batch, and what the handler reports to the
// breaker. The breaker's state lives in the in-memory store the local runtime uses (same contract as DynamoDB).

const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();
const ids = (event: SQSEvent, indexes: number[]) => indexes.map((index) => event.Records[index].messageId).sort();

const MINUTE = 60_000;

describe('sync handler in outage mode', () => {
  const emulator = useSqsEmulator();
  let sandbox: LimioSandbox;
  let queues: QueuePair;
  let secret: ReturnType<typeof mockLimioSecret>;
  let output: ReturnType<typeof captureOutput>;
  let events: SyncOutcomeEvent[];
  let transitions: Array<[string, string]>;

  beforeEach(async () => {
    output = captureOutput();
    sandbox = await startLimioSandbox();
    queues = await newQueuePair(emulator.sqs);
    secret = mockLimioSecret(sandbox);
    events = [];
    transitions = [];
  });
  afterEach(async () => {
    output.restore();
    secret.mock.restore();
    await sandbox.stop();
  });

  function handlerWith(store: InMemoryBreakerStore | undefined, env: Record<string, string> = {}, now?: () => number) {
    return createSyncHandler(syncConfig(sandbox, queues, env), {
      sqs: emulator.sqs,
      secretsManager: secret.client,
      random: () => 0.5,
      ...(now && { now }),
      ...(store && { breakerStore: store }),
      observer: { onSyncOutcome: (event) => events.push(event) },
      onBreakerTransition: (before, after) => transitions.push([before.state, after.state]),
    });
  }

  /** A body accepted by the bridge at a known instant, so budgets can be checked to the second. */
  function bodyAcceptedAt(subscriptionId: string, receivedAt: number, replayCount?: number): string {
    return serializeSyncRequest(
      createSyncRequest({
        subscriptionId,
        source: 'test',
        receivedAt: new Date(receivedAt),
        ...(replayCount !== undefined && { replayCount }),
      }),
    );
  }

  describe('breaker open', () => {
    it('calls Limio for nothing: every message is held with the hold visibility, none dead-lettered even past its budget; poison still is', async () => {
      const store = new InMemoryBreakerStore();
      await openBreaker(store, 'Limio maintenance window');
      const acceptedAt = Date.now() - 2 * 60 * MINUTE;
      // A one-minute budget spent long ago: only the breaker keeps these messages from the DLQ.
      const handler = handlerWith(store, { BREAKER_HOLD_SECONDS: '1', RETRY_BUDGET_SECONDS: '60' });
      const bodies = [
        bodyAcceptedAt('A-S1', acceptedAt),
        bodyAcceptedAt('A-S2', acceptedAt),
        bodyAcceptedAt('A-S1', acceptedAt),
        'poison',
      ];
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, bodies);

      expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1, 2]));
      expect(sandbox.stats.syncCalls).toBe(0);
      expect(sandbox.stats.tokenRequests).toBe(0);
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 1)).toEqual([
        { body: 'poison', reason: expect.objectContaining({ failureClass: 'poison' }) },
      ]);
      // Held messages of distinct subscriptions are settled concurrently: compare them in a fixed order.
      const held = events
        .filter((e) => e.outcome === 'retry')
        .sort((a, b) => String(a.subscriptionId).localeCompare(String(b.subscriptionId)));
      expect(held.map((e) => [e.subscriptionId, e.messageIds.length, e.visibilitySeconds])).toEqual([
        ['A-S1', 2, 1],
        ['A-S2', 1, 1],
      ]);
      for (const event of held)
        expect(event).toMatchObject({
          heldBy: 'breaker',
          error: 'held: the circuit breaker is open (opened by hand: Limio maintenance window)',
        });

      // Held, not lost: the three come back after the hold (1 s), not after the queue's 180 s default.
      const back = new Set<string>();
      for (let round = 0; round < 5 && back.size < 3; round++) {
        const answer = await emulator.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
        );
        for (const message of answer.Messages ?? []) back.add(message.MessageId!);
      }
      expect([...back].sort()).toEqual(ids(event, [0, 1, 2]));
    });

    it('holds longer with each receive once the breaker has been open a while, so an enabled event source spends few receives', async () => {
      const store = new InMemoryBreakerStore();
      await openBreaker(store, 'Limio down');
      // The breaker has been open a day; the second message has been received (held) three times before.
      const aDayLater = Date.now() + 24 * 60 * MINUTE;
      const handler = handlerWith(store, { BREAKER_HOLD_SECONDS: '10' }, () => aDayLater);
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S2')], { 1: 4 });

      expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
      expect(sandbox.stats.syncCalls).toBe(0);
      const held = events
        .filter((e) => e.outcome === 'retry')
        .sort((a, b) => String(a.subscriptionId).localeCompare(String(b.subscriptionId)));
      // 10 s x 2^(receives - 1), plus a quarter of it at most as jitter (random() is 0.5 here).
      expect(held.map((e) => [e.subscriptionId, e.attempt, e.visibilitySeconds])).toEqual([
        ['A-S1', 1, 11],
        ['A-S2', 4, 90],
      ]);
    });

    it('holds a message received an 11th time after 12 h open within 12 h of its receive, so SQS takes the hold and the message stays away', async () => {
      // The queue's own visibility timeout is 2 s: a hold SQS refused would bring the message back at once.
      queues = await newQueuePair(emulator.sqs, 2);
      const store = new InMemoryBreakerStore();
      await openBreaker(store, 'Limio down');
      const twelveHoursLater = Date.now() + 12 * 60 * MINUTE + MINUTE;
      const handler = handlerWith(store, {}, () => twelveHoursLater);
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')], { 0: 11 });

      expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
      // 60 s x 2^10 is past 12 h: the hold is what is left of SQS's 12 hours since the receive, less the margin.
      expect(events).toEqual([
        expect.objectContaining({ subscriptionId: 'A-S1', outcome: 'retry', attempt: 11, visibilitySeconds: 42_300 }),
      ]);
      expect(output.lines().filter((entry) => entry.level === 'ERROR' || entry.level === 'WARN')).toEqual([]);
      const again = await emulator.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 4 }),
      );
      expect(again.Messages ?? []).toEqual([]);
    });

    it('dead-letters, instead of holding, a message a day short of the queue retention, so it never expires unseen', async () => {
      const store = new InMemoryBreakerStore();
      await openBreaker(store, 'token endpoint refused the client credentials (401): check the Limio secret');
      const handler = handlerWith(store, {}, () => Date.now() + 13 * 24 * 60 * MINUTE + MINUTE);
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')]);

      expect(await handler(event)).toEqual({ batchItemFailures: [] });
      expect(sandbox.stats.syncCalls).toBe(0);
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 1)).toEqual([
        {
          body: event.Records[0].body,
          reason: expect.objectContaining({
            failureClass: 'exhausted',
            error:
              "the queue's 14-day retention is near (sent 13.0 days ago): dead-lettered before SQS deletes it; held: the circuit breaker is open (opened by hand: token endpoint refused the client credentials (401): check the Limio secret)",
          }),
        },
      ]);
      expect(events).toEqual([
        expect.objectContaining({ subscriptionId: 'A-S1', outcome: 'dead-lettered', failureClass: 'exhausted' }),
      ]);
    });

    it('stops a batch under way from calling Limio once the breaker opens', async () => {
      const store = new InMemoryBreakerStore();
      // One call at a time, and no cached state: the slot after the first sync sees the breaker opened meanwhile.
      const handler = handlerWith(store, { SYNC_CONCURRENCY: '1', BREAKER_STATE_CACHE_SECONDS: '0' });
      sandbox.onSync = () => void openBreaker(store, 'opened while a batch was running');
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [
        body('A-S1'),
        body('A-S2'),
        body('A-S3'),
        body('A-S4'),
      ]);

      expect(failedIds(await handler(event))).toEqual(ids(event, [1, 2, 3]));
      expect(sandbox.stats.syncCalls).toBe(1);
      expect([...sandbox.stats.synced]).toEqual(['A-S1']);
      expect(events.filter((e) => e.outcome === 'retry').map((e) => e.error)).toEqual(
        Array(3).fill('held: the circuit breaker is open (opened by hand: opened while a batch was running)'),
      );
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 0)).toEqual([]);
    });
  });

  describe('tripping', () => {
    it('opens when Limio fails for many subscriptions; the next batch makes no Limio call and nothing is dead-lettered', async () => {
      sandbox.setFaults({ rate502: 1 });
      const store = new InMemoryBreakerStore();
      const handler = handlerWith(store, { SYNC_CONCURRENCY: '10' });
      const first = await deliver(
        emulator.sqs,
        queues.mainQueueUrl,
        Array.from({ length: 10 }, (_, n) => body(`A-S${n}`)),
      );
      expect(failedIds(await handler(first))).toEqual(ids(first, [...Array(10).keys()]));
      expect(sandbox.stats.syncCalls).toBe(10);

      const { breaker } = await store.read();
      expect(breaker).toMatchObject({
        state: 'open',
        openedBy: 'auto',
        reason: "10 of 10 syncs failed on Limio's side, for 10 subscriptions",
      });
      expect(transitions).toEqual([['closed', 'open']]);
      expect(output.lines()).toContainEqual(
        expect.objectContaining({
          level: 'WARN',
          message: 'breaker opened by this instance: Limio judged down, messages are held in the queue',
          to: 'open',
        }),
      );

      const second = await deliver(
        emulator.sqs,
        queues.mainQueueUrl,
        Array.from({ length: 5 }, (_, n) => body(`B-S${n}`)),
      );
      expect(failedIds(await handler(second))).toEqual(ids(second, [...Array(5).keys()]));
      expect(sandbox.stats.syncCalls).toBe(10);
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 0)).toEqual([]);
    });

    it('never opens for one subscription: a 404 dead-letters at once, a subscription Limio always fails for only retries', async () => {
      sandbox.respondWith('A-S404', 404, { message: 'Subscription not found in Zuora' });
      sandbox.respondWith('A-S502', 502, { message: 'this one subscription breaks Limio' });
      const store = new InMemoryBreakerStore();
      // The most sensitive rule there is: a single call in the window is enough to judge.
      const handler = handlerWith(store, { BREAKER_MIN_CALLS: '1', BREAKER_STATE_CACHE_SECONDS: '0' });
      for (let round = 0; round < 4; round++) {
        const event = await deliver(emulator.sqs, queues.mainQueueUrl, [
          body('A-S404'),
          body(`A-S${round}1`),
          body(`A-S${round}2`),
          body('A-S502'),
        ]);
        expect(failedIds(await handler(event))).toEqual(ids(event, [3]));
        // The bad one alone in a batch: every call in the window failed, still one subscription.
        const alone = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S502')]);
        expect(failedIds(await handler(alone))).toEqual(ids(alone, [0]));
      }
      expect((await store.read()).breaker.state).toBe('closed');
      expect(transitions).toEqual([]);
      expect(sandbox.stats.syncCallsById.get('A-S502')).toBe(8);
      const dead = await drain(emulator.sqs, queues.deadLetterQueueUrl, 4);
      expect(
        dead.map((letter) => [
          JSON.parse(letter.body).subscriptionId,
          letter.reason.failureClass,
          letter.reason.attempts,
        ]),
      ).toEqual(Array(4).fill(['A-S404', 'terminal', 1]));
    });

    it('opens after BREAKER_TOKEN_FAILURES batches that could get no token, and then stops asking for one', async () => {
      secret.mock
        .on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID })
        .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: 'revoked-by-limio' }) });
      const store = new InMemoryBreakerStore();
      const handler = handlerWith(store, { BREAKER_STATE_CACHE_SECONDS: '0' });
      for (let batch = 0; batch < 3; batch++) {
        const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body(`A-S${batch}`)]);
        expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
      }
      expect((await store.read()).breaker).toMatchObject({
        state: 'open',
        reason: 'token endpoint failed 3 times in the window',
      });
      const tokenRequests = sandbox.stats.tokenRequests;
      await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S9')]));
      expect(sandbox.stats.tokenRequests).toBe(tokenRequests);
      expect(sandbox.stats.syncCalls).toBe(0);
      expect(output.text()).not.toContain('revoked-by-limio');
    });
  });

  describe('retry budget by time', () => {
    const acceptedAt = Date.parse('2026-11-25T10:00:00.000Z');
    const limioDown = () => sandbox.respondWith('A-S502', 502, { message: 'upstream failed' });

    it('retries a Limio-side failure however often it was received until RETRY_BUDGET_SECONDS has passed, then dead-letters it', async () => {
      limioDown();
      let now = acceptedAt;
      const handler = handlerWith(undefined, { RETRY_BUDGET_SECONDS: '600' }, () => now);
      const message = bodyAcceptedAt('A-S502', acceptedAt);

      // 50 receives is far beyond the old budget of 8 attempts: the time budget decides now.
      const early = await deliver(emulator.sqs, queues.mainQueueUrl, [message], { 0: 50 });
      expect(failedIds(await handler(early))).toEqual(ids(early, [0]));
      // Full jitter at the 15-minute cap with a draw of 0.5 would be 450 s; the 600 s budget still allows it.
      expect(events.at(-1)).toMatchObject({ outcome: 'retry', visibilitySeconds: 450 });

      now = acceptedAt + 590_000;
      const late = await deliver(emulator.sqs, queues.mainQueueUrl, [message], { 0: 51 });
      expect(failedIds(await handler(late))).toEqual(ids(late, [0]));
      // The last retry lands when the budget ends, not a whole backoff step beyond it.
      expect(events.at(-1)).toMatchObject({ outcome: 'retry', visibilitySeconds: 10 });
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 0)).toEqual([]);

      now = acceptedAt + 600_000;
      const spent = await deliver(emulator.sqs, queues.mainQueueUrl, [message], { 0: 52 });
      expect(await handler(spent)).toEqual({ batchItemFailures: [] });
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 1)).toEqual([
        {
          body: message,
          reason: {
            failureClass: 'exhausted',
            httpStatus: 502,
            error: 'retry budget of 600 s spent: Limio answered 502: upstream failed',
            failedAt: new Date(now).toISOString(),
            attempts: 52,
          },
        },
      ]);
      expect(output.lines()).toContainEqual(
        expect.objectContaining({
          level: 'ERROR',
          message: 'retry budget spent: dead-lettering it',
          subscriptionId: 'A-S502',
        }),
      );
    });

    it('does not count the time the breaker was open', async () => {
      limioDown();
      // Limio was down for 5 minutes right after the callout; the breaker was open (or half-open) all that time.
      const afterOutage: BreakerState = {
        state: 'closed',
        since: acceptedAt + 5 * MINUTE,
        reason: 'half-open batch succeeded',
        openedBy: 'auto',
        openIntervals: [{ from: acceptedAt, to: acceptedAt + 5 * MINUTE }],
        healthyProbes: 0,
        version: 3,
      };
      const store = new InMemoryBreakerStore(afterOutage);
      const now = acceptedAt + 10 * MINUTE + 1_000;
      const handler = handlerWith(store, { RETRY_BUDGET_SECONDS: '600' }, () => now);
      const message = bodyAcceptedAt('A-S502', acceptedAt);
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [message], { 0: 30 });

      // 601 s of wall clock, of which 300 s open: 299 s of budget left, and so the backoff is cut to it.
      expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
      expect(events).toEqual([expect.objectContaining({ outcome: 'retry', visibilitySeconds: 299 })]);
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 0)).toEqual([]);
    });

    it('dead-letters a failing message a day short of the queue retention, though open time left its budget unspent', async () => {
      limioDown();
      const sentAround = Date.now();
      // The breaker was open for 13 days of the message's life: the 24 h budget has barely been touched.
      const store = new InMemoryBreakerStore({
        state: 'closed',
        since: sentAround + 13 * 24 * 60 * MINUTE,
        reason: 'half-open batch succeeded',
        openedBy: 'auto',
        openIntervals: [{ from: sentAround - MINUTE, to: sentAround + 13 * 24 * 60 * MINUTE }],
        healthyProbes: 0,
        version: 7,
      });
      const handler = handlerWith(store, {}, () => sentAround + 13 * 24 * 60 * MINUTE + 60 * MINUTE);
      const event = await deliver(emulator.sqs, queues.mainQueueUrl, [bodyAcceptedAt('A-S502', sentAround)], { 0: 40 });

      expect(await handler(event)).toEqual({ batchItemFailures: [] });
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 1)).toEqual([
        {
          body: event.Records[0].body,
          reason: expect.objectContaining({
            failureClass: 'exhausted',
            httpStatus: 502,
            error:
              "the queue's 14-day retention is near (sent 13.0 days ago): dead-lettered before SQS deletes it: Limio answered 502: upstream failed",
          }),
        },
      ]);
    });

    it('counts the retention of a replayed message from its new SentTimestamp, as its fresh budget', async () => {
      limioDown();
      const handler = handlerWith(undefined, {});
      const twentyDaysAgo = Date.now() - 20 * 24 * 60 * MINUTE;
      const replayed = await deliver(emulator.sqs, queues.mainQueueUrl, [bodyAcceptedAt('A-S502', twentyDaysAgo, 1)]);
      expect(failedIds(await handler(replayed))).toEqual(ids(replayed, [0]));
      expect(events).toEqual([expect.objectContaining({ outcome: 'retry' })]);
      expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 0)).toEqual([]);
    });

    it('gives a message replayed from the DLQ a fresh budget from when it was sent again', async () => {
      limioDown();
      const handler = handlerWith(undefined, { RETRY_BUDGET_SECONDS: '600' });
      const twoDaysAgo = Date.now() - 2 * 24 * 60 * MINUTE;
      const replayed = await deliver(emulator.sqs, queues.mainQueueUrl, [bodyAcceptedAt('A-S502', twoDaysAgo, 1)]);
      expect(failedIds(await handler(replayed))).toEqual(ids(replayed, [0]));
      // The same request never replayed: its budget is long spent.
      const original = await deliver(emulator.sqs, queues.mainQueueUrl, [bodyAcceptedAt('A-S502', twoDaysAgo)]);
      expect(await handler(original)).toEqual({ batchItemFailures: [] });
      const dead = await drain(emulator.sqs, queues.deadLetterQueueUrl, 1);
      expect(dead.map((letter) => [JSON.parse(letter.body).replayCount, letter.reason.failureClass])).toEqual([
        [undefined, 'exhausted'],
      ]);
    });
  });
});
