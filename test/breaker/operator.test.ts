import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { breakerStatus, closeBreaker, openBreaker, readQueueBacklog } from '../../functions/breaker/operator';
import { startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';
import { CreateQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';

const T0 = Date.parse('2026-11-24T10:00:00.000Z');

describe('breaker open / close / status', () => {
  it('opens by hand with a reason, reports it, and closes by hand', async () => {
    const store = new InMemoryBreakerStore();
    expect(await breakerStatus(store, { now: T0 })).toEqual({
      state: 'closed',
      reason: 'never opened',
      openedBy: 'auto',
      openSecondsLast24h: 0,
    });

    const opened = await openBreaker(store, '  Limio maintenance 02:00-04:00 UTC ', { now: T0 });
    expect(opened).toMatchObject({
      state: 'open',
      openedBy: 'manual',
      reason: 'opened by hand: Limio maintenance 02:00-04:00 UTC',
    });
    const backlog = { waiting: 1200, inFlight: 0, delayed: 3 };
    expect(await breakerStatus(store, { now: T0 + 90_000, backlog: async () => backlog })).toEqual({
      state: 'open',
      since: '2026-11-24T10:00:00.000Z',
      forSeconds: 90,
      reason: 'opened by hand: Limio maintenance 02:00-04:00 UTC',
      openedBy: 'manual',
      openSecondsLast24h: 90,
      backlog,
    });

    const closed = await closeBreaker(store, { now: T0 + 7_200_000, reason: 'maintenance over' });
    expect(closed).toMatchObject({
      state: 'closed',
      reason: 'closed by hand: maintenance over',
      openIntervals: [{ from: T0, to: T0 + 7_200_000 }],
    });
    expect((await breakerStatus(store, { now: T0 + 7_200_000 })).openSecondsLast24h).toBe(7200);
    // A day later the outage has left the 24-hour figure.
    expect((await breakerStatus(store, { now: T0 + 7_200_000 + 86_400_000 })).openSecondsLast24h).toBe(0);
  });

  it('refuses to open without a reason', async () => {
    await expect(openBreaker(new InMemoryBreakerStore(), '   ')).rejects.toThrow(/a reason is required/);
  });

  it('closing a closed breaker changes nothing', async () => {
    const store = new InMemoryBreakerStore();
    const before = (await store.read()).breaker;
    expect(await closeBreaker(store, { now: T0 })).toBe(before);
  });
});

describe('readQueueBacklog', () => {
  it('asks SQS for the three approximate counters', async () => {
    const sqs = mockClient(SQSClient);
    try {
      sqs.on(GetQueueAttributesCommand).resolves({
        Attributes: {
          ApproximateNumberOfMessages: '42',
          ApproximateNumberOfMessagesNotVisible: '7',
          ApproximateNumberOfMessagesDelayed: '0',
        },
      });
      await expect(readQueueBacklog(new SQSClient({ region: 'eu-west-1' }), 'https://sqs/q')).resolves.toEqual({
        waiting: 42,
        inFlight: 7,
        delayed: 0,
      });
      expect(sqs.commandCalls(GetQueueAttributesCommand)[0]!.args[0].input.AttributeNames).toEqual([
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ]);
    } finally {
      sqs.restore();
    }
  });

  describe('against the SQS emulator', () => {
    let emulator: SqsEmulator;
    beforeAll(async () => {
      emulator = await startSqsEmulator();
    });
    afterAll(async () => {
      await emulator?.stop();
    });

    it('counts the messages waiting', async () => {
      const client = emulator.client();
      try {
        const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'breaker-backlog' }));
        for (let i = 0; i < 3; i++) await client.send(new SendMessageCommand({ QueueUrl, MessageBody: `{"n":${i}}` }));
        await expect(readQueueBacklog(client, QueueUrl!)).resolves.toMatchObject({ waiting: 3, inFlight: 0 });
      } finally {
        client.destroy();
      }
    });
  });
});
