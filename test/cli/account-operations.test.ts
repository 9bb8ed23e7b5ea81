import { runCli } from '../../cli/main';
import { enqueueAccounts, readCandidates, ACCOUNT_LIST } from '../../cli/commands/enqueue';
import { sqsClientDroppingFromAnswer } from './dropping-sqs-client';
import { createAccountQueue, type QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startCloudFormation } from './cloudformation';
import { createAccountRequest, serializeQueueMessage } from '../../functions/shared/queue-message';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { bodies, captureIo, depth, freshQueues, putDeadLetter, reason, takeAll } from './queues';

// Issue #22, the operators' side of account callouts: `enqueue --account` backfills by account through the
// fan-out queue, `status` counts account messages, `trace` shows account-origin messages and an account's fan-out.
// Against the SQS emulator, with a stack's outputs from a CloudFormation endpoint on 127.0.0.1.

const AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

describe('account operations (issue #22)', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  let accountQueueUrl: string;
  let cloudFormation: Awaited<ReturnType<typeof startCloudFormation>>;
  let env: Record<string, string>;

  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'accops');
    accountQueueUrl = await createAccountQueue(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      accountQueueName: `${queues.mainQueueUrl.split('/').pop()}-accounts`,
    });
    cloudFormation = await startCloudFormation({
      WithFanOut: {
        MainQueueUrl: queues.mainQueueUrl,
        DeadLetterQueueUrl: queues.deadLetterQueueUrl,
        AccountQueueUrl: accountQueueUrl,
      },
      WithoutZuora: { MainQueueUrl: queues.mainQueueUrl, DeadLetterQueueUrl: queues.deadLetterQueueUrl },
    });
    env = {
      ...AWS_ENV,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
    };
  });
  afterEach(async () => {
    await cloudFormation.close();
  });

  describe('enqueue --account', () => {
    it('queues each valid account once as a backfill account message on the fan-out queue, refusing the rest with where they were', async () => {
      const captured = captureIo(env);
      const code = await runCli(
        ['enqueue', '--stack', 'WithFanOut', '--account', 'A00001234', 'A00001234', 'A-S00000001/../x', 'c'.repeat(32)],
        captured.io,
      );
      expect(code).toBe(1);
      expect(captured.stdout()).toMatch(
        /refused argument 3: account key "A-S00000001\/\.\.\/x" \(string\) has characters other than/,
      );
      expect(captured.stdout()).toContain('accounts queued for fan-out: 2, refused: 1, duplicates skipped: 1');
      const queued = bodies(await takeAll(emulator.sqs, accountQueueUrl)).sort((a, b) =>
        String(a.accountKey).localeCompare(String(b.accountKey)),
      );
      expect(queued).toEqual([
        { v: 1, kind: 'account', accountKey: 'A00001234', source: 'backfill', receivedAt: expect.any(String) },
        { v: 1, kind: 'account', accountKey: 'c'.repeat(32), source: 'backfill', receivedAt: expect.any(String) },
      ]);
      // Account messages never reach the main queue: the sync Lambda would refuse them as poison.
      expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('reads an account column from a CSV export and honours ACCOUNT_NUMBER_PATTERN', async () => {
      expect(
        readCandidates('Account.Number,Subscription.Name\nA00000001,A-S1\nACME-7,A-S2\n', 'stdin', ACCOUNT_LIST)
          .candidates,
      ).toEqual([
        { where: 'line 2', value: 'A00000001' },
        { where: 'line 3', value: 'ACME-7' },
      ]);
      const captured = captureIo(
        { ...env, ACCOUNT_NUMBER_PATTERN: '^ACME-[0-9]+$' },
        'Account.Number,Subscription.Name\nA00000001,A-S1\nACME-7,A-S2\n',
      );
      expect(await runCli(['enqueue', '--stack', 'WithFanOut', '--account', '--json', '-'], captured.io)).toBe(1);
      const result = JSON.parse(captured.stdout()) as {
        accepted: { accountKey: string }[];
        refused: { where: string; reason: string }[];
      };
      expect(result.accepted.map((entry) => entry.accountKey)).toEqual(['ACME-7']);
      expect(result.refused).toEqual([
        {
          where: 'line 2',
          value: 'A00000001',
          reason: expect.stringContaining('neither an account number matching ^ACME-[0-9]+$'),
        },
      ]);
      expect(bodies(await takeAll(emulator.sqs, accountQueueUrl))).toEqual([
        expect.objectContaining({ accountKey: 'ACME-7' }),
      ]);
    });

    it('refuses clearly, queueing nothing, where the target has no fan-out queue', async () => {
      const stack = captureIo(env);
      expect(await runCli(['enqueue', '--stack', 'WithoutZuora', '--account', 'A00001234'], stack.io)).toBe(2);
      expect(stack.stderr()).toMatch(
        /--account: cannot queue accounts: stack "WithoutZuora" has no AccountQueueUrl output/,
      );
      const explicit = captureIo({ ...env, ZLS_QUEUE_URL: queues.mainQueueUrl });
      expect(await runCli(['enqueue', '--account', 'A00001234'], explicit.io)).toBe(2);
      expect(explicit.stderr()).toMatch(/cannot queue accounts: .*fan-out queue/);
      expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
      expect(await depth(emulator.sqs, accountQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    });
  });

  describe('enqueue --account when SQS leaves an entry out of its answer', () => {
    const keys = Array.from({ length: 12 }, (_, i) => `A${String(i + 1).padStart(8, '0')}`);
    const clientDroppingFromAnswer = (accountKey: string, drops: (send: number) => boolean) =>
      sqsClientDroppingFromAnswer(emulator.endpoint, (body) => body.accountKey === accountKey, drops);

    it('sends it again, and counts it queued when SQS then lists it', async () => {
      const { client, sends } = clientDroppingFromAnswer('A00000011', (send) => send === 1);
      try {
        const result = await enqueueAccounts(client, {
          accountQueueUrl,
          ...readCandidates(keys.join('\n'), 'stdin', ACCOUNT_LIST),
        });
        expect(sends()).toBe(2);
        expect(result.failed).toEqual([]);
        expect(result.accepted.map((a) => a.accountKey).sort()).toEqual(keys);
        expect(result.accepted.find((a) => a.accountKey === 'A00000011')).toMatchObject({
          where: 'line 11',
          messageId: expect.any(String),
        });
      } finally {
        client.destroy();
      }
    });

    it('stops after MAX_SEND_ATTEMPTS (2) sends and reports it failed with its line number when SQS leaves it out again', async () => {
      const { client, sends } = clientDroppingFromAnswer('A00000011', () => true);
      try {
        const result = await enqueueAccounts(client, {
          accountQueueUrl,
          ...readCandidates(keys.join('\n'), 'stdin', ACCOUNT_LIST),
        });
        expect(sends()).toBe(2);
        expect(result.failed).toEqual([
          {
            where: 'line 11',
            accountKey: 'A00000011',
            error: expect.stringMatching(/neither sent nor failed \(2 tries\).*may or may not be queued/),
          },
        ]);
        expect(result.accepted.map((a) => a.accountKey)).toEqual(keys.filter((key) => key !== 'A00000011'));
      } finally {
        client.destroy();
      }
    });

    it('makes the command name the line and exit 1', async () => {
      const { client } = clientDroppingFromAnswer('A00000011', () => true);
      const captured = captureIo(env, keys.join('\n'));
      const code = await runCli(['enqueue', '--stack', 'WithFanOut', '--account', '-'], captured.io, {
        sqsClient: () => client,
      });
      expect(captured.stdout()).toMatch(/not queued line 11 \(A00000011\): SQS reported it neither sent nor failed/);
      expect(captured.stdout()).toContain('accounts queued for fan-out: 11, refused: 0, failed: 1');
      expect(code).toBe(1);
    });
  });

  const accountMessage = (accountKey: string) =>
    serializeQueueMessage(
      createAccountRequest({ accountKey, source: 'workflow', receivedAt: '2026-12-07T01:00:00.000Z' }),
    );

  describe('status', () => {
    it("shows the fan-out queue's depth beside the main queue and the DLQ, and counts the DLQ's account letters", async () => {
      for (const key of ['A00000001', 'A00000002'])
        await emulator.sqs.send(
          new SendMessageCommand({ QueueUrl: accountQueueUrl, MessageBody: accountMessage(key) }),
        );
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        body: accountMessage('A00001234'),
        reason: { ...reason('terminal', undefined), error: 'Zuora has no account with number A00001234' },
      });
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S00000001', source: 'account' },
        reason: reason('exhausted', 502),
      });

      const captured = captureIo(env);
      expect(await runCli(['status', '--stack', 'WithFanOut', '--sample', '1s', '--json'], captured.io)).toBe(0);
      const status = JSON.parse(captured.stdout()) as {
        queues: { queue: string; visible: number; accountLetters?: number; sampled: number }[];
        fanOutQueue?: unknown;
      };
      expect(status.queues.map((q) => [q.queue, q.visible])).toEqual([
        ['main', 0],
        ['dlq', 2],
        ['fan-out', 2],
      ]);
      expect(status.queues[1]).toMatchObject({ accountLetters: 1, sampled: 2 });
      expect(status).not.toHaveProperty('fanOutQueue');
      // Status only looks: every message is still where it was, visible.
      expect(await depth(emulator.sqs, accountQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
      expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });

      const table = captureIo(env);
      expect(await runCli(['status', '--stack', 'WithFanOut', '--sample', '1s'], table.io)).toBe(0);
      expect(table.stdout()).toMatch(/^fan-out\s+2\s+0\s+0\s/m);
      expect(table.stdout()).toContain('dlq: 1 of the 2 letters sampled are account letters (fan-out)');
    });

    it('says why the fan-out queue is not shown where the target has none', async () => {
      const captured = captureIo(env);
      expect(await runCli(['status', '--stack', 'WithoutZuora', '--sample', '1s'], captured.io)).toBe(0);
      expect(captured.stdout()).toMatch(/fan-out queue: not shown: stack "WithoutZuora" has no AccountQueueUrl output/);
      expect(captured.stdout()).not.toMatch(/^fan-out\s+\d/m);
    });
  });

  describe('trace', () => {
    beforeEach(async () => {
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        body: accountMessage('A00001234'),
        reason: { ...reason('terminal', undefined), error: 'Zuora has no account with number A00001234' },
      });
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        body: serializeQueueMessage(
          createAccountRequest({
            accountKey: 'A00005678',
            source: 'workflow',
            receivedAt: '2026-12-07T01:00:00.000Z',
            fanOut: { queryLocator: 'abc-2000', accountId: 'c'.repeat(32) },
          }),
        ),
        reason: reason('exhausted', 503),
      });
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S00000001', source: 'account', receivedAt: '2026-12-07T01:00:00.000Z' },
        reason: reason('exhausted', 502),
      });
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S00000001', source: 'callout' },
        reason: reason('exhausted', 502),
      });
    });

    it('trace SUBSCRIPTION counts its letters that came from an account fan-out', async () => {
      const captured = captureIo(env);
      await runCli(['trace', 'A-S00000001', '--stack', 'WithFanOut'], captured.io);
      expect(captured.stdout()).toContain(
        'dead letters: 2 for A-S00000001 (4 letter(s) searched), 1 of them from an account fan-out (source account',
      );
      const json = captureIo(env);
      await runCli(['trace', 'A-S00000001', '--stack', 'WithFanOut', '--json'], json.io);
      expect(JSON.parse(json.stdout())).toMatchObject({ subscriptionId: 'A-S00000001', accountOriginLetters: 1 });
    });

    it("trace --account shows the account's letters, where a continuation had got to, and says its subscriptions need Zuora", async () => {
      const terminal = captureIo(env);
      expect(await runCli(['trace', '--account', 'A00001234', '--stack', 'WithFanOut'], terminal.io)).toBe(0);
      expect(terminal.stdout()).toContain(
        'verdict: 1 letter(s) of account A00001234 on the DLQ: its fan-out stopped (terminal: Zuora has no account with number A00001234)',
      );
      expect(terminal.stdout()).toContain('a replay fails again unless the account key is fixed in Zuora');
      expect(terminal.stdout()).toContain('subscription letters from account fan-outs (any account): 1');
      expect(terminal.stdout()).toMatch(
        /note: the account's subscriptions are not listed: .* trace has no Zuora connection/,
      );

      const partWay = captureIo(env);
      expect(await runCli(['trace', '--account', 'A00005678', '--stack', 'WithFanOut', '--json'], partWay.io)).toBe(0);
      const trace = JSON.parse(partWay.stdout()) as {
        verdict: string;
        accountLetters: { fanOut?: unknown; failureClass: string }[];
        searched: number;
      };
      expect(trace.accountLetters).toEqual([
        expect.objectContaining({
          failureClass: 'exhausted',
          fanOut: { queryLocator: 'abc-2000', accountId: 'c'.repeat(32) },
        }),
      ]);
      expect(trace.verdict).toContain('1 stopped part-way (a continuation)');
      expect(trace.verdict).toContain(
        'replay with `zuora-limio-sync dlq replay --stack WithFanOut` (account letters go back to the fan-out queue)',
      );
      expect(trace.searched).toBe(4);

      const none = captureIo(env);
      await runCli(['trace', '--account', 'c'.repeat(32), '--stack', 'WithFanOut'], none.io);
      expect(none.stdout()).toContain(`no letter of account ${'c'.repeat(32)} on the DLQ`);
      // Nothing consumed: every letter is still on the DLQ, visible.
      expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 4, inFlight: 0 });
    });

    it('trace --account refuses a key the account rule refuses, and a subscription beside it', async () => {
      const bad = captureIo(env);
      expect(await runCli(['trace', '--account', '../A1', '--stack', 'WithFanOut'], bad.io)).toBe(2);
      expect(bad.stderr()).toMatch(/--account: account key "\.\.\/A1" \(string\) has characters other than/);
      const both = captureIo(env);
      expect(await runCli(['trace', 'A-S00000001', '--account', 'A00001234', '--stack', 'WithFanOut'], both.io)).toBe(
        2,
      );
      expect(both.stderr()).toContain('trace an account or a subscription, not both');
    });
  });
});
