import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { AcceptedCallout } from '../../functions/callout/callout-handler';
import { parseQueueMessage } from '../../functions/shared/queue-message';
import { calloutAcceptedLine } from '../../local/output';
import { hasZuoraConnection, type Runtime } from '../../local/runtime';
import { basicHeader, postJson, recorder, start } from './runtime-harness';

/** Issue #22: npm start's fan-out queue, which the callout handler writes account messages to and nothing reads yet. */
describe('local runtime: the fan-out queue (issue #22)', () => {
  const rec = recorder();
  let runtime: Runtime;
  let authorization: string;

  beforeAll(async () => {
    runtime = await start({ SYNC_POLLERS: '1' }, rec);
    authorization = basicHeader(runtime.config.callout);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('is created with a Zuora connection (the sandbox, as for the sweep), redriven to the main queue\'s DLQ', async () => {
    expect(hasZuoraConnection(runtime.config)).toBe(true);
    expect(runtime.accountQueueUrl).toEqual(expect.stringMatching(/zuora-limio-sync-accounts$/));
    const attributes = async (queueUrl: string) =>
      (await runtime.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy', 'QueueArn'] }))).Attributes!;
    const dlqArn = (await attributes(runtime.queues.deadLetterQueueUrl)).QueueArn;
    const accountRedrive = JSON.parse((await attributes(runtime.accountQueueUrl!)).RedrivePolicy!);
    const mainRedrive = JSON.parse((await attributes(runtime.queues.mainQueueUrl)).RedrivePolicy!);
    expect(accountRedrive).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: mainRedrive.maxReceiveCount });
  });

  it('takes an account callout: 200, and its account message waits on the fan-out queue', async () => {
    const response = await postJson(runtime.calloutUrl, { AccountNumber: 'A00001234', EventType: 'ContactUpdate' }, { authorization });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ success: true, accepted: [], acceptedAccounts: ['A00001234'] });
    const received = await runtime.sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.accountQueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect((received.Messages ?? []).map((message) => parseQueueMessage(message.Body!))).toEqual([
      { ok: true, message: expect.objectContaining({ kind: 'account', accountKey: 'A00001234', source: 'workflow' }) },
    ]);
    expect(rec.accepted).toEqual([expect.objectContaining({ ids: [], accountKeys: ['A00001234'] })]);
  });
});

describe('npm start: what a callout line says about accounts (issue #22)', () => {
  const callout = (extra: Partial<AcceptedCallout>): AcceptedCallout => ({ requestId: 'r', ids: [], source: 'workflow', ...extra });

  it('says the accounts went to the fan-out queue and that no sync follows locally, or that they were ignored', () => {
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'] }))).toBe('callout       A-S1 queued (workflow)');
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'], accountKeys: ['A1'] }))).toBe(
      'callout       A-S1 queued; account A1 on the fan-out queue (no fan-out runs locally yet: no sync follows) (workflow)',
    );
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'], ignoredAccountKeys: ['A1'] }))).toBe('callout       A-S1 queued; account A1 ignored (no fan-out queue) (workflow)');
  });
});
