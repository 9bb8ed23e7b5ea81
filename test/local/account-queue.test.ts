import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { AcceptedCallout } from '../../functions/callout/callout-handler';
import { parseQueueMessage } from '../../functions/shared/queue-message';
import { calloutAcceptedLine } from '../../local/output';
import { parseTouchRequest } from '../../local/zuora-control';
import { hasZuoraConnection, type Runtime } from '../../local/runtime';
import { basicHeader, postJson, recorder, start } from './runtime-harness';

/** Issue #22: npm start's fan-out queue, which the callout handler writes account messages to and the fan-out handler reads. */
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

  it("is created with a Zuora connection (the sandbox, as for the sweep), redriven to the main queue's DLQ", async () => {
    expect(hasZuoraConnection(runtime.config)).toBe(true);
    expect(runtime.accountQueueUrl).toEqual(expect.stringMatching(/zuora-limio-sync-accounts$/));
    const attributes = async (queueUrl: string) =>
      (
        await runtime.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy', 'QueueArn'] }),
        )
      ).Attributes!;
    const dlqArn = (await attributes(runtime.queues.deadLetterQueueUrl)).QueueArn;
    const accountRedrive = JSON.parse((await attributes(runtime.accountQueueUrl!)).RedrivePolicy!);
    const mainRedrive = JSON.parse((await attributes(runtime.queues.mainQueueUrl)).RedrivePolicy!);
    expect(accountRedrive).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: mainRedrive.maxReceiveCount });
  });

  it('fans an account callout out: a contact changed through the touch route, the account callout sent, each of its subscriptions synced with Limio', async () => {
    const touch = (body: unknown) => postJson(new URL('/_local/zuora/touch', runtime.calloutUrl).toString(), body);
    const names = ['A-S00010001', 'A-S00010002', 'A-S00010003'];
    // Two versions of each, on the account (created by the first touch).
    expect((await touch({ subscriptions: names, account: 'A00001234' })).status).toBe(200);
    expect((await touch({ subscriptions: names })).status).toBe(200);
    const contact = await touch({ contacts: [{ account: 'A00001234', address1: '2 New Street', city: 'Leeds' }] });
    expect(contact.status).toBe(200);
    expect(JSON.parse(contact.body).contacts).toEqual([
      expect.objectContaining({ account: 'A00001234', role: 'billTo', address1: '2 New Street', city: 'Leeds' }),
    ]);

    const response = await postJson(
      runtime.calloutUrl,
      { AccountNumber: 'A00001234', EventType: 'ContactUpdate' },
      { authorization },
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ success: true, accepted: [], acceptedAccounts: ['A00001234'] });
    const synced = await Promise.all(names.map((name) => rec.waitFor(name, 'synced')));
    expect(synced.map((event) => event.subscriptionId).sort()).toEqual(names);
    expect(rec.fanOuts).toEqual([
      expect.objectContaining({ accountKey: 'A00001234', outcome: 'done', queued: 3, pages: 1 }),
    ]);
    expect(names.map((name) => runtime.limioSandbox!.stats.syncCallsById.get(name))).toEqual([1, 1, 1]);
    expect(rec.accepted).toEqual([expect.objectContaining({ ids: [], accountKeys: ['A00001234'] })]);
  });

  it('dead-letters an account Zuora does not know, as terminal with its reason', async () => {
    const response = await postJson(runtime.calloutUrl, { AccountNumber: 'A00009999' }, { authorization });
    expect(response.status).toBe(200);
    for (let i = 0; i < 100 && !rec.fanOuts.some((event) => event.accountKey === 'A00009999'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rec.fanOuts).toContainEqual(
      expect.objectContaining({
        accountKey: 'A00009999',
        outcome: 'dead-lettered',
        failureClass: 'terminal',
        error: 'Zuora has no account with number A00009999',
      }),
    );
    const letters = await runtime.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queues.deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect((letters.Messages ?? []).map((message) => parseQueueMessage(message.Body!))).toEqual([
      { ok: true, message: expect.objectContaining({ kind: 'account', accountKey: 'A00009999' }) },
    ]);
  });
});

describe('npm start: what a callout line says about accounts (issue #22)', () => {
  const callout = (extra: Partial<AcceptedCallout>): AcceptedCallout => ({
    requestId: 'r',
    ids: [],
    source: 'workflow',
    ...extra,
  });

  it('says the accounts went to the fan-out queue, or that they were ignored', () => {
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'] }))).toBe('callout       A-S1 queued (workflow)');
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'], accountKeys: ['A1'] }))).toBe(
      'callout       A-S1 queued; account A1 on the fan-out queue (workflow)',
    );
    expect(calloutAcceptedLine(callout({ ids: ['A-S1'], ignoredAccountKeys: ['A1'] }))).toBe(
      'callout       A-S1 queued; account A1 ignored (no fan-out queue) (workflow)',
    );
  });
});

describe("the Zuora control route's touch request (issue #22)", () => {
  it('takes subscriptions (on an account or not), accounts and contacts, and refuses anything else with its usage', () => {
    expect(parseTouchRequest({ subscriptions: ['A-S1'], account: 'A00000001' })).toEqual({
      subscriptions: ['A-S1'],
      account: 'A00000001',
      accounts: [],
      contacts: [],
    });
    expect(parseTouchRequest({ accounts: ['A00000001', 'A00000001'] })).toEqual({
      subscriptions: [],
      accounts: ['A00000001'],
      contacts: [],
    });
    expect(
      parseTouchRequest({ contacts: [{ account: 'A00000001', role: 'soldTo', workEmail: 'new@example.com' }] }),
    ).toEqual({
      subscriptions: [],
      accounts: [],
      contacts: [{ account: 'A00000001', role: 'soldTo', details: { workEmail: 'new@example.com' } }],
    });
    for (const bad of [
      {},
      { accounts: ['A 1'] },
      { contacts: [{ account: 'A1', role: 'shipTo' }] },
      { contacts: [{ account: 'A1', city: 7 }] },
      { subscriptions: ['A-S1'], account: '../x' },
    ]) {
      expect(parseTouchRequest(bad)).toEqual(expect.stringMatching(/^expected /));
    }
  });
});
