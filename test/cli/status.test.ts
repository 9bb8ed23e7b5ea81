import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer } from 'node:net';
import { queueStatus } from '../../cli/commands/status';
import { runCli } from '../../cli/main';
import { createQueuePair, type QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { captureIo, depth, freshQueues, putDeadLetter, reason } from './queues';

describe('status against the SQS emulator', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeAll(async () => {
    queues = await freshQueues(emulator.sqs, 'status');
  });

  it('reports depth of both queues, samples the DLQ without consuming it, and leaves the main queue alone unless asked', async () => {
    for (const id of ['A-S1', 'A-S2'])
      await emulator.sqs.send(
        new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: JSON.stringify({ id }) }),
      );
    await emulator.sqs.send(
      new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: '{}', DelaySeconds: 600 }),
    );
    for (const id of ['A-S3', 'A-S4'])
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: id, source: 'notification' },
        reason: reason('terminal', 404),
      });
    const later = Date.now() + 60 * 60 * 1000;

    const [main, dlq] = await queueStatus(emulator.sqs, { ...queues, now: () => later });
    expect(main).toMatchObject({ queue: 'main', visible: 2, inFlight: 0, delayed: 1, sampled: 0 });
    expect(main.oldestAgeMs).toBeUndefined();
    expect(main.ageNote).toMatch(/CloudWatch ApproximateAgeOfOldestMessage/);
    expect(dlq).toMatchObject({ queue: 'dlq', visible: 2, inFlight: 0, delayed: 0, sampled: 2 });
    // Sent within the last minute, looked at an hour later: between one hour and one hour and a minute.
    expect(dlq.oldestAgeMs).toBeGreaterThanOrEqual(60 * 60 * 1000);
    expect(dlq.oldestAgeMs).toBeLessThan(61 * 60 * 1000);
    expect(dlq.ageNote).toMatch(/lower bound/);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });

    const [peekedMain] = await queueStatus(emulator.sqs, { ...queues, peekMain: true, now: () => later });
    expect(peekedMain.sampled).toBe(2);
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('offers --peek-main for the main queue only: the fan-out queue is never peeked at', async () => {
    const fanOut = await freshQueues(emulator.sqs, 'status-fan-out');
    const statuses = await queueStatus(emulator.sqs, { ...queues, accountQueueUrl: fanOut.mainQueueUrl });
    const note = (queue: string) => statuses.find((status) => status.queue === queue)?.ageNote;
    expect(note('main')).toMatch(/CloudWatch ApproximateAgeOfOldestMessage \(or --peek-main\)$/);
    expect(note('fan-out')).toMatch(/CloudWatch ApproximateAgeOfOldestMessage$/);
  });
});

async function sendMessages(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    const entries = Array.from({ length: Math.min(10, count - start) }, (_, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify({ id: `A-S${start + index}` }),
    }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

/** A port nothing listens on: --local's breaker endpoint is then unavailable, which status shows and goes on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface DrainJson {
  backlog: number;
  state: string;
  drainedPerMinute: number | null;
  arrivedPerMinute: number | null;
  etaSeconds: number | null;
  eta: string;
  measured: string;
}

describe('status: the drain rate and time to empty of the local runtime (two readings of the SQS emulator)', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  let env: Record<string, string>;
  beforeAll(async () => {
    // The names `npm start` gives its queues: --local finds them by name.
    queues = await createQueuePair(emulator.sqs);
    env = { SQS_PORT: String(emulator.port), PORT: String(await closedPort()) };
  });

  async function statusWhile(args: string[], during: () => Promise<void>) {
    const cli = captureIo(env);
    const [exitCode] = await Promise.all([runCli(['status', '--local', ...args], cli.io), during()]);
    return { exitCode, stdout: cli.stdout() };
  }

  async function drainAll() {
    for (;;) {
      const { Messages = [] } = await emulator.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages)
        await emulator.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queues.mainQueueUrl, ReceiptHandle: message.ReceiptHandle! }),
        );
    }
  }
  afterEach(drainAll);

  it('an empty main queue without --sample is not sampled: "empty", saying it was not measured', async () => {
    const { exitCode, stdout } = await statusWhile(['--json'], async () => undefined);
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).drain).toMatchObject({
      backlog: 0,
      state: 'empty',
      eta: 'empty',
      measured: 'not measured: the queue was empty',
    });
  });

  it('a backlog going down: the net drain per minute over --sample and the time to empty, in --json', async () => {
    await sendMessages(emulator.sqs, queues.mainQueueUrl, 12);
    const started = Date.now();
    const { exitCode, stdout } = await statusWhile(['--sample', '2s', '--json'], async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The sync deletes 6 of them between the readings.
      const { Messages = [] } = await emulator.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, MaxNumberOfMessages: 6 }),
      );
      for (const message of Messages)
        await emulator.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queues.mainQueueUrl, ReceiptHandle: message.ReceiptHandle! }),
        );
    });
    expect(exitCode).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const { drain } = JSON.parse(stdout) as { drain: DrainJson };
    // 6 gone in about 2 s: about 180/min, and the 6 left in about 2 s.
    expect(drain).toMatchObject({ backlog: 6, state: 'draining', arrivedPerMinute: 0, eta: 'under 1 min' });
    expect(drain.drainedPerMinute).toBeGreaterThan(150);
    expect(drain.drainedPerMinute).toBeLessThanOrEqual(180);
    expect(drain.etaSeconds).toBeGreaterThanOrEqual(2);
    expect(drain.etaSeconds).toBeLessThan(3);
    expect(drain.measured).toMatch(/^net change between 2 readings 2(\.\d)?s apart$/);
  });

  it('a backlog that grows says so instead of a time; one that holds level has none; both in the table', async () => {
    await sendMessages(emulator.sqs, queues.mainQueueUrl, 4);
    const growing = await statusWhile(['--sample', '1s'], async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sendMessages(emulator.sqs, queues.mainQueueUrl, 5);
    });
    expect(growing.exitCode).toBe(0);
    expect(growing.stdout).toMatch(/^breaker: unavailable: /);
    expect(growing.stdout).toMatch(
      /BACKLOG\s+DRAINED\s+ARRIVED\s+TIME TO EMPTY\s+MEASURED\n9\s+0\/min\s+\d+\/min\s+growing by \d+\/min\s+net change between 2 readings 1(\.\d)?s apart\n$/,
    );

    const level = await statusWhile(['--sample', '1s', '--json'], async () => undefined);
    expect((JSON.parse(level.stdout) as { drain: DrainJson }).drain).toMatchObject({
      backlog: 9,
      state: 'not draining',
      eta: '-',
      etaSeconds: null,
      drainedPerMinute: 0,
    });
  });

  it('refuses a --sample that is not a duration, or longer than 15m, before reading anything', async () => {
    for (const sample of ['soon', '0s', '16m']) {
      const cli = captureIo(env);
      expect(await runCli(['status', '--local', '--sample', sample], cli.io)).toBe(2);
      expect(cli.stderr()).toMatch(/^error: --sample: /);
    }
  });
});

describe('status: the drain rate and time to empty of a deployed queue (CloudWatch mocked, the queues in the SQS emulator)', () => {
  const emulator = useSqsEmulator();
  const cloudWatch = mockClient(CloudWatchClient);
  let queues: QueuePair;
  let env: Record<string, string>;
  beforeAll(async () => {
    queues = await freshQueues(emulator.sqs, 'status-cloudwatch');
    await sendMessages(emulator.sqs, queues.mainQueueUrl, 30);
    env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    };
  });
  afterEach(() => cloudWatch.reset());
  afterAll(() => cloudWatch.restore());

  const minutes = (values: number[], end: number) => ({
    Timestamps: values.map((_, index) => new Date(end - (index + 1) * 60_000)),
    Values: values,
  });
  const target = () => ['--queue-url', queues.mainQueueUrl, '--dlq-url', queues.deadLetterQueueUrl];

  it("asks for the main queue's deletions and sends per minute over the last minutes, and counts the time to empty from the net rate", async () => {
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'deleted', ...minutes([20, 20, 20, 20, 20], end) },
        { Id: 'sent', ...minutes([10, 10, 10, 10, 10], end) },
      ],
    });
    const cli = captureIo(env);
    expect(await runCli(['status', ...target(), '--json'], cli.io)).toBe(0);
    const { drain } = JSON.parse(cli.stdout()) as { drain: DrainJson };
    // 30 waiting, 20/min drained, 10/min arriving: 3 min (not the 1.5 that 30 ÷ 20 would promise).
    expect(drain).toEqual({
      backlog: 30,
      state: 'draining',
      drainedPerMinute: 20,
      arrivedPerMinute: 10,
      etaSeconds: 180,
      eta: 'about 3 min',
      measured: 'CloudWatch AWS/SQS NumberOfMessagesDeleted and NumberOfMessagesSent, last 5 min',
    });

    const calls = cloudWatch.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input as GetMetricDataCommandInput;
    const queueName = queues.mainQueueUrl.split('/').pop();
    expect(
      input.MetricDataQueries?.map((query) => [
        query.Id,
        query.MetricStat?.Metric?.Namespace,
        query.MetricStat?.Metric?.MetricName,
        query.MetricStat?.Stat,
        query.MetricStat?.Period,
      ]),
    ).toEqual([
      ['deleted', 'AWS/SQS', 'NumberOfMessagesDeleted', 'Sum', 60],
      ['sent', 'AWS/SQS', 'NumberOfMessagesSent', 'Sum', 60],
    ]);
    expect(
      input.MetricDataQueries?.every((query) => query.MetricStat?.Metric?.Dimensions?.[0]?.Value === queueName),
    ).toBe(true);
    // Whole minutes only, the one under way left out.
    expect(input.EndTime!.getTime() % 60_000).toBe(0);
    expect(input.EndTime!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(input.EndTime!.getTime() - input.StartTime!.getTime()).toBeGreaterThanOrEqual(5 * 60_000);
  });

  it('more sent than deleted: growing, with by how much, in the table', async () => {
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'deleted', ...minutes([0, 0, 0], end) },
        { Id: 'sent', ...minutes([12, 12, 12], end) },
      ],
    });
    const cli = captureIo(env);
    expect(await runCli(['status', ...target()], cli.io)).toBe(0);
    expect(cli.stdout()).toMatch(
      /\n30\s+0\/min\s+12\/min\s+growing by 12\/min\s+CloudWatch AWS\/SQS NumberOfMessagesDeleted and NumberOfMessagesSent, last 3 min\n$/,
    );
  });

  it('CloudWatch refused (a role without cloudwatch:GetMetricData) or without figures: "-" and why, and the rest of status as before', async () => {
    cloudWatch.on(GetMetricDataCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
        name: 'AccessDenied',
      }),
    );
    const refused = captureIo(env);
    expect(await runCli(['status', ...target()], refused.io)).toBe(0);
    expect(refused.stdout()).toMatch(/main\s+30\s/);
    expect(refused.stdout()).toMatch(
      /\n30\s+-\s+-\s+-\s+CloudWatch GetMetricData failed: AccessDenied: User is not authorized to perform: cloudwatch:GetMetricData\n$/,
    );

    cloudWatch.reset();
    cloudWatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'deleted', Timestamps: [], Values: [] },
        { Id: 'sent', Timestamps: [], Values: [] },
      ],
    });
    const silent = captureIo(env);
    expect(await runCli(['status', ...target(), '--json'], silent.io)).toBe(0);
    expect((JSON.parse(silent.stdout()) as { drain: DrainJson }).drain).toMatchObject({
      state: 'unknown',
      eta: '-',
      drainedPerMinute: null,
      measured: expect.stringMatching(/^CloudWatch has no NumberOfMessagesDeleted of /),
    });
  });

  it('--sample measures a deployed queue by readings instead, without asking CloudWatch', async () => {
    const cli = captureIo(env);
    expect(await runCli(['status', ...target(), '--sample', '1s', '--json'], cli.io)).toBe(0);
    expect((JSON.parse(cli.stdout()) as { drain: DrainJson }).drain).toMatchObject({
      backlog: 30,
      state: 'not draining',
      eta: '-',
    });
    expect(cloudWatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
