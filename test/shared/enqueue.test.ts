import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { enqueueMessages } from '../../functions/shared/enqueue';
import {
  createAccountRequest,
  createSyncRequest,
  parseQueueMessage,
  parseSyncRequest,
} from '../../functions/shared/queue-message';

/*
 * The retry policy for single failed entries. SQS can refuse some entries of a SendMessageBatch while taking
 * the rest, and the emulator cannot be made to do that, so these cases use aws-sdk-client-mock. What reaches
 * a real queue is tested against the emulator in callout-handler.test.ts.
 */
describe('enqueueMessages', () => {
  const sqsMock = mockClient(SQSClient);
  const sqs = new SQSClient({ region: 'eu-west-1' });
  const noSleep = async () => undefined;
  const requests = (count: number) =>
    Array.from({ length: count }, (_, index) =>
      createSyncRequest({ subscriptionId: `A-S${index}`, source: 'workflow', receivedAt: '2026-11-25T10:00:00.000Z' }),
    );
  const sentIds = (call: number) =>
    (sqsMock.commandCalls(SendMessageBatchCommand)[call]!.args[0].input.Entries ?? []).map(
      (entry) => parseSyncRequest(entry.MessageBody!).ok && JSON.parse(entry.MessageBody!).subscriptionId,
    );

  afterEach(() => sqsMock.reset());
  afterAll(() => sqs.destroy());

  it('sends in chunks of ten with the configured delay', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input) => ({
      Successful: input.Entries.map((entry: { Id: string }) => ({ Id: entry.Id })),
      Failed: [],
    }));
    const result = await enqueueMessages(sqs, requests(23), { queueUrl: 'q', delaySeconds: 30, sleep: noSleep });
    expect(result).toEqual({ ok: true, calls: 3 });
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(calls.map((call) => call.args[0].input.Entries!.length).sort()).toEqual([10, 10, 3]);
    expect(calls.every((call) => call.args[0].input.Entries!.every((entry) => entry.DelaySeconds === 30))).toBe(true);
  });

  it('omits DelaySeconds when there is no delay, so the queue default applies', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [{ Id: 'm0' }], Failed: [] } as never);
    await enqueueMessages(sqs, requests(1), { queueUrl: 'q', delaySeconds: 0, sleep: noSleep });
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]).not.toHaveProperty(
      'DelaySeconds',
    );
  });

  it('sends again only the entries SQS reported as failed', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'm0' }, { Id: 'm2' }],
        Failed: [{ Id: 'm1', Code: 'InternalError', SenderFault: false }],
      } as never)
      .resolves({ Successful: [{ Id: 'm1' }], Failed: [] } as never);
    const sleeps: number[] = [];
    const result = await enqueueMessages(sqs, requests(3), {
      queueUrl: 'q',
      delaySeconds: 0,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
    });
    expect(result).toEqual({ ok: true, calls: 2 });
    expect(sentIds(1)).toEqual(['A-S1']);
    expect(sleeps).toEqual([75]);
  });

  it('treats an entry SQS neither confirmed nor refused as not queued', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Successful: [{ Id: 'm0' }], Failed: [] } as never)
      .resolves({ Successful: [{ Id: 'm1' }], Failed: [] } as never);
    expect(await enqueueMessages(sqs, requests(2), { queueUrl: 'q', delaySeconds: 0, sleep: noSleep })).toEqual({
      ok: true,
      calls: 2,
    });
    expect(sentIds(1)).toEqual(['A-S1']);
  });

  it('gives up after the attempts and says which ids were not queued', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm0' }],
      Failed: [{ Id: 'm1', Code: 'ServiceUnavailable', SenderFault: false }],
    } as never);
    const result = await enqueueMessages(sqs, requests(2), {
      queueUrl: 'q',
      delaySeconds: 0,
      maxAttempts: 3,
      sleep: noSleep,
    });
    expect(result).toMatchObject({
      ok: false,
      calls: 3,
      notQueued: ['A-S1'],
      error: expect.stringContaining('ServiceUnavailable'),
    });
  });

  it('does not resend an entry refused as a sender fault', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm1' }],
      Failed: [{ Id: 'm0', Code: 'InvalidMessageContents', SenderFault: true }],
    } as never);
    const result = await enqueueMessages(sqs, requests(2), { queueUrl: 'q', delaySeconds: 0, sleep: noSleep });
    expect(result).toMatchObject({ ok: false, calls: 1, notQueued: ['A-S0'] });
  });

  it('retries a call that threw, and stops retrying at the deadline', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ Successful: [{ Id: 'm0' }], Failed: [] } as never);
    expect(await enqueueMessages(sqs, requests(1), { queueUrl: 'q', delaySeconds: 0, sleep: noSleep })).toEqual({
      ok: true,
      calls: 2,
    });

    sqsMock.reset();
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('connect ECONNREFUSED'));
    const result = await enqueueMessages(sqs, requests(1), {
      queueUrl: 'q',
      delaySeconds: 0,
      maxAttempts: 5,
      deadline: 1_000,
      now: () => 1_000,
      sleep: noSleep,
    });
    expect(result).toMatchObject({ ok: false, calls: 1, error: 'Error: connect ECONNREFUSED' });
  });

  it('puts account messages on the queue as they are, and names an account not queued by its key (issue #22)', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm0' }],
      Failed: [{ Id: 'm1', Code: 'InvalidMessageContents', SenderFault: true }],
    } as never);
    const accounts = ['A00001234', '2c92a0fd55822b4d015590d5d7c0418d'].map((accountKey) =>
      createAccountRequest({ accountKey, source: 'notification', receivedAt: '2026-11-25T10:00:00.000Z' }),
    );
    const result = await enqueueMessages(sqs, accounts, { queueUrl: 'account-q', delaySeconds: 0, sleep: noSleep });
    expect(result).toMatchObject({ ok: false, notQueued: ['2c92a0fd55822b4d015590d5d7c0418d'] });
    const sent = sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input;
    expect(sent.QueueUrl).toBe('account-q');
    expect(sent.Entries!.map((entry) => parseQueueMessage(entry.MessageBody!))).toEqual(
      accounts.map((message) => ({ ok: true, message })),
    );
  });
});
