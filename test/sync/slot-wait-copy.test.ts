import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { DEFAULTS } from '../../functions/shared/defaults';
import { FIRST_SENT_AT_ATTRIBUTE } from '../../functions/sync/batch-messages';
import { slotWaitReturn } from '../../functions/sync/fates/waited-for-slot';
import { createSyncHandler } from '../../functions/sync/sync-handler';
import { createQueuePair } from '../../local/sqs-emulator';
import { deleteProcessed, toSqsRecord } from '../../local/sqs-lambda-event';
import { failedIds, useHandlerParts } from './handler-parts';
import { body, drain, syncConfig } from './harness';

const DAY_MS = 86_400_000;
const ARN = 'arn:aws:sqs:us-east-1:000000000000:slot-wait';

describe('slotWaitReturn', () => {
  const now = Date.parse('2026-03-01T00:00:00Z');

  it('returns a message on its first receive by visibility and one received before as a fresh copy', () => {
    expect(slotWaitReturn({ receiveCount: 1, sentAtMs: now - 60_000 }, now)).toEqual({ kind: 'visibility' });
    expect(slotWaitReturn({ receiveCount: 2, sentAtMs: now - 60_000 }, now)).toEqual({ kind: 'copy' });
    expect(slotWaitReturn({ receiveCount: 400, sentAtMs: undefined }, now)).toEqual({ kind: 'copy' });
  });

  it("dead-letters a message whose chain of waits nears the queue's retention, with that reason", () => {
    const nearly = now - (DEFAULTS.retentionSeconds - DEFAULTS.retentionMarginSeconds) * 1000;
    const decision = slotWaitReturn({ receiveCount: 1, sentAtMs: nearly }, now);
    expect(decision).toEqual({
      kind: 'dead-letter',
      reason: expect.stringMatching(/retention is near.*no Limio slot/),
    });
    expect(slotWaitReturn({ receiveCount: 2, sentAtMs: nearly + 1_000 }, now)).toEqual({ kind: 'copy' });
  });
});

/** Waiting is not failing, over the SQS emulator: the redrive never sees a slot-waiting message (issue #21). */
describe('a message that keeps waiting for a Limio slot', () => {
  const parts = useHandlerParts();
  const { emulator } = parts;
  // SQS's redrive moves a message received more than 3 times; the handler dead-letters Limio failures at 2.
  const env = { SYNC_CONCURRENCY: '1', SYNC_SLOT_WAIT_SECONDS: '1', MAX_ATTEMPTS: '2' };

  beforeEach(async () => {
    parts.queues = await createQueuePair(emulator.sqs, {
      mainQueueName: `slot-${Date.now()}`,
      deadLetterQueueName: `slot-${Date.now()}-dlq`,
      maxReceiveCount: 3,
    });
    // Each blocker's 1.2 s sync holds the one slot longer than the waiter's 1 s wait bound.
    parts.sandbox.setFaults({ latencyMs: 1_200 });
  });

  it('waits more times than the redrive allows receives and is neither moved to the DLQ nor lost', async () => {
    // random 0: each return is 1 s.
    const handler = parts.handlerWith(env, { random: () => 0 });
    const waiter = body('W-S1');
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MessageBody: waiter }));

    const seen: Array<{ messageId: string; receiveCount: number }> = [];
    for (let round = 0; round < 6; round++) {
      await emulator.sqs.send(
        new SendMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MessageBody: body(`W-B${round}`) }),
      );
      const messages = await receiveBoth(emulator.sqs, parts.queues.mainQueueUrl, ['W-B', 'W-S1']);
      const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, ARN, 'us-east-1')) };
      const waiting = event.Records[1]!;
      expect(waiting.body).toBe(waiter);
      seen.push({ messageId: waiting.messageId, receiveCount: Number(waiting.attributes.ApproximateReceiveCount) });

      const failed = new Set(failedIds(await handler(event)));
      expect(parts.sandbox.stats.synced.has(`W-B${round}`)).toBe(true);
      // As Lambda's event source does with a partial batch response.
      await deleteProcessed(
        emulator.sqs,
        parts.queues.mainQueueUrl,
        event.Records.filter((record) => !failed.has(record.messageId)),
        undefined,
      );
    }

    // Six waits, more than the three receives the redrive allows one message: never more than two receives each.
    expect(Math.max(...seen.map((wait) => wait.receiveCount))).toBeLessThanOrEqual(2);
    expect(new Set(seen.map((wait) => wait.messageId)).size).toBeGreaterThanOrEqual(3);
    expect(await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 0)).toEqual([]);
    expect(parts.sandbox.stats.synced.has('W-S1')).toBe(false);
    // Still queued, once, with its body untouched.
    const left = await drain(emulator.sqs, parts.queues.mainQueueUrl, 1, 2);
    expect(left.map((letter) => letter.body)).toEqual([waiter]);
    // Not a Limio failure.
    expect(parts.events.filter((event) => event.subscriptionId === 'W-S1').map((event) => event.outcome)).toEqual(
      Array(6).fill('retry'),
    );
  }, 60_000);

  it('keeps the original when SQS does not take the copy: it goes back by visibility, nothing is lost', async () => {
    const refusingSends = {
      send: (command: unknown, options?: unknown) =>
        command instanceof SendMessageBatchCommand
          ? Promise.reject(new Error('SQS is unavailable'))
          : (emulator.sqs.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options),
    } as unknown as SQSClient;
    const handler = createSyncHandler(syncConfig(parts.sandbox, parts.queues, env), {
      sqs: refusingSends,
      secretsManager: parts.secret.client,
      random: () => 0,
      observer: { onSyncOutcome: (event) => parts.events.push(event) },
    });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MessageBody: body('W-S2') }));
    // Received once already, so this wait sends a copy.
    const [first] = await receiveBoth(emulator.sqs, parts.queues.mainQueueUrl, ['W-S2'], 0);
    await emulator.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: parts.queues.mainQueueUrl,
        ReceiptHandle: first!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MessageBody: body('W-B9') }));
    const messages = await receiveBoth(emulator.sqs, parts.queues.mainQueueUrl, ['W-B', 'W-S2'], 0);
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, ARN, 'us-east-1')) };
    expect(event.Records[1]!.attributes.ApproximateReceiveCount).toBe('2');

    const failed = failedIds(await handler(event));
    expect(failed).toEqual([event.Records[1]!.messageId]);
    await deleteProcessed(
      emulator.sqs,
      parts.queues.mainQueueUrl,
      event.Records.filter((record) => !failed.includes(record.messageId)),
      undefined,
    );
    expect(parts.output.lines().some((line) => line.slotWaitCopiesRefused === 1)).toBe(true);

    // The original, and only it, comes back after the 1 s visibility.
    const back = await receiveBoth(emulator.sqs, parts.queues.mainQueueUrl, ['W-S2'], 0);
    expect(back.map((message) => message.MessageId)).toEqual([event.Records[1]!.messageId]);
    expect(await drain(emulator.sqs, parts.queues.mainQueueUrl, 0, 2)).toEqual([]);
    expect(await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 0)).toEqual([]);
  }, 30_000);

  it("dead-letters with a reason a copy whose chain's first send nears the queue's retention", async () => {
    const handler = parts.handlerWith(env, { random: () => 0 });
    const firstSentAt = Date.now() - (DEFAULTS.retentionSeconds * 1000 - DAY_MS) - 60_000;
    await emulator.sqs.send(
      new SendMessageCommand({
        QueueUrl: parts.queues.mainQueueUrl,
        MessageBody: body('W-S3'),
        MessageAttributes: { [FIRST_SENT_AT_ATTRIBUTE]: { DataType: 'Number', StringValue: String(firstSentAt) } },
      }),
    );
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MessageBody: body('W-B8') }));
    const messages = await receiveBoth(emulator.sqs, parts.queues.mainQueueUrl, ['W-B', 'W-S3'], 0);
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, ARN, 'us-east-1')) };

    expect(failedIds(await handler(event))).toEqual([]);
    const letters = await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 1);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.body).toBe(event.Records[1]!.body);
    expect(letters[0]!.reason).toMatchObject({
      failureClass: 'exhausted',
      error: expect.stringMatching(/retention is near.*no Limio slot/),
    });
  }, 30_000);
});

/**
 * Receives until one message per prefix (by subscription id) is in hand, in the prefixes' order, with every
 * attribute as Lambda would have them. Anything else received is a test failure.
 */
async function receiveBoth(
  sqs: SQSClient,
  queueUrl: string,
  prefixes: readonly string[],
  waitRounds = 15,
): Promise<Message[]> {
  const found = new Map<string, Message>();
  for (let round = 0; round < Math.max(waitRounds, 15) && found.size < prefixes.length; round++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of answer.Messages ?? []) {
      const subscriptionId = (JSON.parse(message.Body!) as { subscriptionId: string }).subscriptionId;
      const prefix = prefixes.find((candidate) => subscriptionId.startsWith(candidate));
      if (prefix === undefined || found.has(prefix)) throw new Error(`unexpected message for ${subscriptionId}`);
      found.set(prefix, message);
    }
  }
  if (found.size !== prefixes.length) throw new Error(`received ${found.size} of ${prefixes.length} messages`);
  return prefixes.map((prefix) => found.get(prefix)!);
}
