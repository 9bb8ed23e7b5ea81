import { listDeadLetters } from '../../cli/commands/dlq-list';
import { runCli } from '../../cli/main';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { MAX_REFUSAL_LENGTH } from '../../functions/shared/queue-message';
import { deeplyNestedBody, longVersionBody } from '../support/hostile-bodies';
import { captureIo, depth, freshQueues, putDeadLetter, putMixedDeadLetters, reason, takeAll } from './queues';

// Listing dead letters against the same SQS emulator `npm start` uses.
describe('dlq list', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'dlq-list');
  });

  const hourAgo = new Date(Date.now() - 60 * 60 * 1000);

  const mixedDeadLetters = () => putMixedDeadLetters(emulator.sqs, queues.deadLetterQueueUrl, hourAgo);

  it('lists every dead letter with its reason and consumes nothing', async () => {
    await mixedDeadLetters();
    const result = await listDeadLetters(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      limit: 100,
      waitTimeSeconds: 0,
    });

    const bySubscription = Object.fromEntries(
      result.deadLetters.map((row) => [row.subscriptionId ?? 'unreadable', row]),
    );
    expect(Object.keys(bySubscription).sort()).toEqual([
      'A-S00000001',
      'A-S00000002',
      'A-S00000003',
      'A-S00000004',
      'unreadable',
    ]);
    expect(bySubscription['A-S00000001']).toMatchObject({
      failureClass: 'exhausted',
      httpStatus: 502,
      attempts: 8,
      failedAt: hourAgo.toISOString(),
      source: 'notification',
    });
    expect(bySubscription['A-S00000002']).toMatchObject({
      failureClass: 'terminal',
      httpStatus: 404,
      error: 'Limio answered 404',
    });
    expect(bySubscription['A-S00000003']).toMatchObject({ replayCount: 2 });
    expect(bySubscription['A-S00000004'].failureClass).toBe('unknown');
    expect(bySubscription['A-S00000004'].error).toMatch(/SQS redrive/);
    // Without a failedAt attribute, the time it was first sent is all there is; it is labelled as such.
    expect(bySubscription['A-S00000004'].failedAt).toBeUndefined();
    expect(Date.parse(bySubscription['A-S00000004'].sentAt!)).toBeGreaterThan(hourAgo.getTime());
    expect(bySubscription.unreadable).toMatchObject({
      failureClass: 'poison',
      bodyProblem: 'message body is not JSON',
      body: 'this is not json',
    });
    expect(result).toMatchObject({ truncated: false, notRestored: 0 });

    // Visible again at once, not after a visibility timeout.
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
    expect(await takeAll(emulator.sqs, queues.deadLetterQueueUrl)).toHaveLength(5);
  });

  it('stops at --limit and says so, still consuming nothing', async () => {
    await mixedDeadLetters();
    const result = await listDeadLetters(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      limit: 2,
      waitTimeSeconds: 0,
    });
    expect(result.deadLetters).toHaveLength(2);
    expect(result.truncated).toBe(true);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
  });

  it('shows a long error whole when stdout is a pipe or with --wide, cut to fit on a terminal', async () => {
    const error = `Limio answered 502: ${'upstream connect error or disconnect/reset before headers; '.repeat(4)}end`;
    await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: 'A-S00000001', source: 'notification' },
      reason: { ...reason('exhausted', 502, hourAgo), error },
    });
    const env = {
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const list = async (args: string[], terminal: boolean) => {
      const captured = captureIo(env, '', false, terminal);
      expect(await runCli(['dlq', 'list', ...args], captured.io)).toBe(0);
      return captured.stdout();
    };
    expect(error.length).toBeGreaterThan(200);
    expect(await list([], false)).toContain(error);
    expect(await list(['--wide'], true)).toContain(error);
    const onTerminal = await list([], true);
    expect(onTerminal).not.toContain(error);
    expect(onTerminal).toContain(`${error.slice(0, 99)}…`);
  });

  it('dlq list does not call a DLQ empty whose letters another reader is hiding', async () => {
    await mixedDeadLetters();
    // Another reader (a replay under way) holds every letter.
    await takeAll(emulator.sqs, queues.deadLetterQueueUrl);
    const result = await listDeadLetters(emulator.sqs, {
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      limit: 100,
      waitTimeSeconds: 0,
    });
    expect(result).toMatchObject({ deadLetters: [], hidden: 5 });

    const captured = captureIo({
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect(await runCli(['dlq', 'list'], captured.io)).toBe(0);
    expect(captured.stdout()).toContain('No dead letter is visible right now, but the dead-letter queue is NOT empty.');
    expect(captured.stdout()).not.toContain('The dead-letter queue is empty.');
    expect(captured.stderr()).toMatch(/5 more letter\(s\) are hidden \(in flight\): a `dlq replay` under way/);
  });

  describe('a letter an outsider could send (issue #20 item 1)', () => {
    const nested = deeplyNestedBody();
    const env = () => ({
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });

    it('lists every letter when one is nested 5,000 deep, that one as unreadable, and consumes nothing', async () => {
      await mixedDeadLetters();
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        body: nested,
        reason: reason('poison', undefined),
      });
      const result = await listDeadLetters(emulator.sqs, {
        deadLetterQueueUrl: queues.deadLetterQueueUrl,
        limit: 100,
        waitTimeSeconds: 0,
      });

      expect(result.deadLetters.map((row) => row.subscriptionId ?? 'unreadable').sort()).toEqual([
        'A-S00000001',
        'A-S00000002',
        'A-S00000003',
        'A-S00000004',
        'unreadable',
        'unreadable',
      ]);
      const nestedRow = result.deadLetters.find((row) => row.body?.startsWith('{"v":[['))!;
      expect(nestedRow).toMatchObject({
        failureClass: 'poison',
        bodyProblem: expect.stringMatching(/^unsupported message version \[\[\[\[.*… \(array\); expected 1$/),
      });
      expect(nestedRow.body).toHaveLength(200);

      const captured = captureIo(env());
      expect(await runCli(['dlq', 'list'], captured.io)).toBe(0);
      expect(captured.stdout()).toContain('6 dead letter(s); nothing was consumed.');
      expect(captured.stdout().match(/\(unreadable body\)/g)).toHaveLength(2);
      const json = captureIo(env());
      expect(await runCli(['dlq', 'list', '--json'], json.io)).toBe(0);
      expect((JSON.parse(json.stdout()) as { deadLetters: unknown[] }).deadLetters).toHaveLength(6);
      expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 6, inFlight: 0 });
    });

    it("clips a 250 KB letter's bodyProblem to a short sentence", async () => {
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        body: longVersionBody(),
        reason: reason('poison', undefined),
      });
      const [row] = (
        await listDeadLetters(emulator.sqs, {
          deadLetterQueueUrl: queues.deadLetterQueueUrl,
          limit: 100,
          waitTimeSeconds: 0,
        })
      ).deadLetters;
      expect(row.bodyProblem).toMatch(/^unsupported message version "x+… \(string, 250,000 characters\); expected 1$/);
      expect(row.bodyProblem!.length).toBeLessThanOrEqual(MAX_REFUSAL_LENGTH);
    });
  });
});
