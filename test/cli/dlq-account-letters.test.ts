import { listDeadLetters } from '../../cli/commands/dlq-list';
import { replayDeadLetters } from '../../cli/commands/replay-dead-letters';
import { nativeMoveRefusal } from '../../cli/commands/replay-native';
import { SQSClient } from '@aws-sdk/client-sqs';
import { runCli } from '../../cli/main';
import { resolveTargets } from '../../cli/targets';
import { createAccountRequest, serializeQueueMessage } from '../../functions/shared/queue-message';
import { createAccountQueue, EMULATOR_CREDENTIALS, EMULATOR_REGION, type QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { bodies, captureIo, depth, freshQueues, putDeadLetter, reason, takeAll } from './queues';

// Issue #22: the fan-out's letters share the DLQ. They are read as account messages, listed by their account key,
// and replayed to the fan-out queue, or left in the DLQ with a clear reason where that queue is unknown.

const accountLetter = (accountKey: string, extra: { fanOut?: { queryLocator: string; accountId: string } } = {}) =>
  serializeQueueMessage(
    createAccountRequest({
      accountKey,
      source: 'workflow',
      receivedAt: '2026-12-07T01:00:00.000Z',
      zuoraRequestId: 'req-9',
      ...extra,
    }),
  );

describe('dlq list and replay: account letters (issue #22)', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  let accountQueueUrl: string;
  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'acct');
    accountQueueUrl = await createAccountQueue(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      accountQueueName: `${queues.mainQueueUrl.split('/').pop()}-accounts`,
    });
    await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
      body: accountLetter('A00001234'),
      reason: { ...reason('terminal', undefined), error: 'Zuora has no account with number A00001234' },
    });
    await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
      body: accountLetter('A00005678', { fanOut: { queryLocator: 'abc-2000', accountId: 'c'.repeat(32) } }),
      reason: reason('exhausted', 503),
    });
    await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: 'A-S00000001', source: 'account', receivedAt: '2026-12-07T01:00:00.000Z' },
      reason: reason('exhausted', 502),
    });
  });

  it('lists an account letter by its key, with its continuation, and as "account KEY" in the table', async () => {
    const result = await listDeadLetters(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      limit: 10,
      waitTimeSeconds: 0,
    });
    const byKey = Object.fromEntries(result.deadLetters.map((row) => [row.accountKey ?? row.subscriptionId, row]));
    expect(byKey.A00001234).toMatchObject({
      accountKey: 'A00001234',
      source: 'workflow',
      failureClass: 'terminal',
      error: 'Zuora has no account with number A00001234',
      replayCount: 0,
    });
    expect(byKey.A00001234).not.toHaveProperty('bodyProblem');
    expect(byKey.A00005678).toMatchObject({ fanOut: { queryLocator: 'abc-2000', accountId: 'c'.repeat(32) } });
    expect(byKey['A-S00000001']).toMatchObject({ subscriptionId: 'A-S00000001', source: 'account' });

    const captured = captureIo({
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect(await runCli(['dlq', 'list'], captured.io)).toBe(0);
    expect(captured.stdout()).toContain('account A00001234');
  });

  it('replays account letters to the fan-out queue and subscription letters to the main queue', async () => {
    const result = await replayDeadLetters(emulator.sqs, { ...queues, accountQueueUrl, waitTimeSeconds: 0 });
    expect(result).toMatchObject({ failed: [], skipped: [] });
    expect(result.replayed.map((r) => r.accountKey ?? r.subscriptionId).sort()).toEqual([
      'A-S00000001',
      'A00001234',
      'A00005678',
    ]);
    const onAccountQueue = bodies(await takeAll(emulator.sqs, accountQueueUrl)).sort((a, b) =>
      String(a.accountKey).localeCompare(String(b.accountKey)),
    );
    expect(onAccountQueue).toEqual([
      {
        v: 1,
        kind: 'account',
        accountKey: 'A00001234',
        source: 'workflow',
        receivedAt: '2026-12-07T01:00:00.000Z',
        zuoraRequestId: 'req-9',
        replayCount: 1,
        replayRunId: result.runId,
      },
      expect.objectContaining({
        accountKey: 'A00005678',
        replayCount: 1,
        fanOut: { queryLocator: 'abc-2000', accountId: 'c'.repeat(32) },
      }),
    ]);
    expect(bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))).toEqual([
      expect.objectContaining({ subscriptionId: 'A-S00000001', replayCount: 1 }),
    ]);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves account letters in the DLQ with a clear reason when the fan-out queue is unknown, and replays the rest', async () => {
    const env = {
      ZLS_QUEUE_URL: queues.mainQueueUrl,
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const captured = captureIo(env);
    expect(await runCli(['dlq', 'replay'], captured.io)).toBe(1);
    expect(captured.stderr()).toMatch(
      /account letter for A00001234: not replayed, the fan-out queue is unknown \(the fan-out queue is known only with --local or --stack \(its AccountQueueUrl output\)\)/,
    );
    expect(bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))).toEqual([
      expect.objectContaining({ subscriptionId: 'A-S00000001' }),
    ]);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
    expect(await depth(emulator.sqs, accountQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  describe('--native (SQS moves every letter to the main queue, which refuses account messages)', () => {
    /** An SQS client on the emulator that records the name of every command it sends. */
    function recordingClient() {
      const client = new SQSClient({
        endpoint: emulator.endpoint,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
      });
      const commands: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          commands.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: 'recordCommands' },
      );
      return { client, commands };
    }

    it('is refused where the target has a fan-out queue: each letter goes back to its own queue, message by message, saying why', async () => {
      const { client, commands } = recordingClient();
      try {
        const result = await replayDeadLetters(client, {
          ...queues,
          accountQueueUrl,
          native: true,
          waitTimeSeconds: 0,
        });
        expect(commands).not.toContain('StartMessageMoveTaskCommand');
        expect(result.mode).toBe('receive-send-delete');
        expect(result.fallbackReason).toMatch(
          /^--native not used: the DLQ may hold the fan-out's account letters \(this target has a fan-out queue\), and SQS's native redrive would move them to the main queue, where the sync Lambda refuses account messages; replayed message by message instead/,
        );
      } finally {
        client.destroy();
      }
      expect(
        bodies(await takeAll(emulator.sqs, accountQueueUrl))
          .map((b) => b.accountKey)
          .sort(),
      ).toEqual(['A00001234', 'A00005678']);
      const onMain = bodies(await takeAll(emulator.sqs, queues.mainQueueUrl));
      expect(onMain).toEqual([expect.objectContaining({ subscriptionId: 'A-S00000001', replayCount: 1 })]);
      expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    });

    it('is refused where the target cannot tell (explicit URLs): account letters stay in the DLQ with their reason, the command says why', async () => {
      const env = {
        ZLS_QUEUE_URL: queues.mainQueueUrl,
        ZLS_DLQ_URL: queues.deadLetterQueueUrl,
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      };
      const captured = captureIo(env);
      expect(await runCli(['dlq', 'replay', '--native'], captured.io)).toBe(1);
      expect(captured.stderr()).toMatch(
        /note: --native not used: the DLQ may hold the fan-out's account letters \(the fan-out queue is known only with --local or --stack/,
      );
      expect(captured.stderr()).toMatch(/account letter for A00001234: not replayed, the fan-out queue is unknown/);
      expect(bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))).toEqual([
        expect.objectContaining({ subscriptionId: 'A-S00000001' }),
      ]);
      expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
    });

    it('is tried where the target is known to have no fan-out queue (then falls back only where SQS lacks it, as the emulator does)', async () => {
      expect(
        nativeMoveRefusal({ accountQueueAbsent: true, accountQueueUnknown: 'stack "S" has no AccountQueueUrl output' }),
      ).toBeUndefined();
      const { client, commands } = recordingClient();
      try {
        const result = await replayDeadLetters(client, {
          ...queues,
          accountQueueAbsent: true,
          accountQueueUnknown: 'stack "S" has no AccountQueueUrl output',
          native: true,
          waitTimeSeconds: 0,
        });
        expect(commands).toContain('StartMessageMoveTaskCommand');
        expect(result.fallbackReason).toMatch(/StartMessageMoveTask is not supported/);
      } finally {
        client.destroy();
      }
    });

    it('knows a stack without the AccountQueueUrl output has no fan-out queue, and explicit URLs cannot say', async () => {
      const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
      const outputs = {
        MainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
        DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      };
      const needs = { mainQueue: true, deadLetterQueue: true, accountQueue: true };
      const stack = await resolveTargets({ stack: 'S' }, env, needs, { readStackOutputs: async () => outputs });
      expect(stack.accountQueueAbsent).toBe(true);
      stack.sqs.destroy();
      const withFanOut = await resolveTargets({ stack: 'S' }, env, needs, {
        readStackOutputs: async () => ({
          ...outputs,
          AccountQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/accounts',
        }),
      });
      expect(withFanOut.accountQueueAbsent).toBeUndefined();
      withFanOut.sqs.destroy();
      const explicit = await resolveTargets(
        {},
        { ...env, ZLS_QUEUE_URL: outputs.MainQueueUrl, ZLS_DLQ_URL: outputs.DeadLetterQueueUrl },
        needs,
        {},
      );
      expect(explicit.accountQueueAbsent).toBeUndefined();
      expect(nativeMoveRefusal(explicit)).toMatch(/the DLQ may hold the fan-out's account letters/);
      explicit.sqs.destroy();
    });
  });

  it("trace shows a subscription's letter that came from an account fan-out, with its source", async () => {
    const captured = captureIo({
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    await runCli(['trace', 'A-S00000001'], captured.io);
    expect(captured.stdout()).toContain('dead letters: 1 for A-S00000001');
    expect(captured.stdout()).toMatch(/SOURCE[\s\S]*\baccount\b/);
  });

  it("finds a stack's fan-out queue in its AccountQueueUrl output, and says when the stack has none", async () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
    const outputs = {
      MainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      AccountQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/accounts',
    };
    const needs = { mainQueue: true, deadLetterQueue: true, accountQueue: true };
    const withOutput = await resolveTargets({ stack: 'S' }, env, needs, { readStackOutputs: async () => outputs });
    expect(withOutput.accountQueueUrl).toBe(outputs.AccountQueueUrl);
    withOutput.sqs.destroy();
    const { AccountQueueUrl: _none, ...older } = outputs;
    const without = await resolveTargets({ stack: 'S' }, env, needs, { readStackOutputs: async () => older });
    expect(without.accountQueueUrl).toBeUndefined();
    expect(without.accountQueueUnknown).toMatch(/stack "S" has no AccountQueueUrl output/);
    without.sqs.destroy();
  });
});
