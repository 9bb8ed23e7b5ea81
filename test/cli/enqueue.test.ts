import { enqueueSubscriptions, readCandidates } from '../../cli/commands/enqueue';
import { runCli } from '../../cli/main';
import { UsageError } from '../../cli/usage-error';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { InMemoryLedgerStore } from '../../functions/ledger/ledger-store';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { subscriptionIdRuleFrom } from '../../functions/shared/subscription-id';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { bodies, captureIo, depth, freshQueues, takeAll } from './queues';
import { sqsClientDroppingFromAnswer } from './dropping-sqs-client';

describe('reading a backfill list', () => {
  it('takes one id per line, skipping blank lines and # comments, numbering lines as in the file', () => {
    const { candidates, refused } = readCandidates(
      '# backfill for ticket 42\nA-S00000001\n\n  A-S00000002  \r\nnot valid\n',
      'stdin',
    );
    expect(candidates).toEqual([
      { where: 'line 2', value: 'A-S00000001' },
      { where: 'line 4', value: 'A-S00000002' },
      { where: 'line 5', value: 'not valid' },
    ]);
    expect(refused).toEqual([]);
  });

  it('finds the subscription column of a CSV export by its header, quoted cells included', () => {
    const csv =
      'Account.Number,"Subscription.Name",Status\nA001,A-S00000001,Active\n"A,002","A-S00000002",Cancelled\nA003\n';
    const { candidates, refused } = readCandidates(csv, '--file export.csv');
    expect(candidates).toEqual([
      { where: 'line 2', value: 'A-S00000001' },
      { where: 'line 3', value: 'A-S00000002' },
    ]);
    expect(refused).toEqual([{ where: 'line 4', value: 'A003', reason: 'has no column 2 (the subscription column)' }]);
  });

  it('prefers the subscription number over the object id when both columns exist', () => {
    const csv = 'subscriptionId,subscriptionNumber\n8a8082c45a1b2c3d4e5f60718293a4b5,A-S00000009\n';
    expect(readCandidates(csv, 'stdin').candidates).toEqual([{ where: 'line 2', value: 'A-S00000009' }]);
  });

  it('accepts a one-column CSV with a header', () => {
    expect(readCandidates('subscription\nA-S1\n', 'stdin').candidates).toEqual([{ where: 'line 2', value: 'A-S1' }]);
  });

  it('refuses a CSV without a subscription column, naming the input', () => {
    expect(() => readCandidates('account,status\nA1,Active\n', '--file accounts.csv')).toThrow(
      new UsageError(
        '--file accounts.csv',
        'line 1 looks like a CSV header but has no subscription column (columns: account, status)',
      ),
    );
  });
});

describe('enqueue against the SQS emulator', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'enqueue');
  });

  it('refuses bad lines with their numbers and queues the rest as backfill requests, in batches', async () => {
    const good = Array.from({ length: 23 }, (_, i) => `A-S${String(i + 1).padStart(8, '0')}`);
    const lines = [
      ...good.slice(0, 2),
      'A-S/../../oauth2',
      ...good.slice(2, 10),
      '',
      'drop table',
      ...good.slice(10),
      'A-S00000001',
      '8a8082c45a1b2c3d4e5f60718293a4b5',
    ];
    const { candidates, refused } = readCandidates(lines.join('\n'), 'stdin');
    const receivedAt = new Date('2026-11-25T09:00:00.000Z');

    const result = await enqueueSubscriptions(emulator.sqs, {
      queueUrl: queues.mainQueueUrl,
      candidates,
      refused,
      now: () => receivedAt,
    });

    expect(result.refused.map((r) => [r.where, r.value])).toEqual([
      ['line 3', 'A-S/../../oauth2'],
      ['line 13', 'drop table'],
    ]);
    expect(result.refused[0].reason).toMatch(/characters other than letters, digits/);
    expect(result.duplicates).toEqual([{ where: 'line 27', subscriptionId: 'A-S00000001', firstAt: 'line 1' }]);
    expect(result.failed).toEqual([]);
    expect(result.accepted).toHaveLength(24);

    const queued = bodies(await takeAll(emulator.sqs, queues.mainQueueUrl));
    expect(queued.map((b) => b.subscriptionId).sort()).toEqual([...good, '8a8082c45a1b2c3d4e5f60718293a4b5'].sort());
    expect(queued.every((b) => b.v === 1 && b.source === 'backfill' && b.receivedAt === receivedAt.toISOString())).toBe(
      true,
    );
  });

  it('marks each queued subscription in the sync ledger with the receivedAt its message carries; a ledger that fails leaves them queued, reported unmarked', async () => {
    const ledger = new InMemoryLedgerStore();
    const receivedAt = new Date('2026-11-25T09:00:00.000Z');
    const candidates = [
      { where: 'argument 1', value: 'A-S00000011' },
      { where: 'argument 2', value: 'A-S00000012' },
    ];
    const result = await enqueueSubscriptions(emulator.sqs, {
      queueUrl: queues.mainQueueUrl,
      candidates,
      now: () => receivedAt,
      ledger,
    });
    expect(result.unmarked).toBeUndefined();
    const { entries } = await ledger.readMany(['A-S00000011', 'A-S00000012']);
    expect([...entries.values()].map((entry) => entry.lastQueuedAt)).toEqual([
      receivedAt.getTime(),
      receivedAt.getTime(),
    ]);

    const failing = {
      ...ledger,
      readMany: ledger.readMany.bind(ledger),
      claimSync: ledger.claimSync.bind(ledger),
      recordOutcome: ledger.recordOutcome.bind(ledger),
      raiseMark: async () => Promise.reject(new Error('AccessDeniedException')),
    };
    const again = await enqueueSubscriptions(emulator.sqs, {
      queueUrl: queues.mainQueueUrl,
      candidates,
      ledger: failing,
    });
    expect(again.accepted).toHaveLength(2);
    expect(again.unmarked).toEqual({ count: 2, error: 'AccessDeniedException' });
  });

  it("honours SUBSCRIPTION_ID_PATTERN, the callouts' own rule", async () => {
    const rule = subscriptionIdRuleFrom('^SUB-[0-9]{6}$');
    const result = await enqueueSubscriptions(emulator.sqs, {
      queueUrl: queues.mainQueueUrl,
      candidates: [
        { where: 'argument 1', value: 'SUB-000123' },
        { where: 'argument 2', value: 'A-S00000001' },
      ],
      rule,
    });
    expect(result.accepted.map((a) => a.subscriptionId)).toEqual(['SUB-000123']);
    expect(result.refused.map((r) => r.where)).toEqual(['argument 2']);
  });

  it('queues nothing in a dry run', async () => {
    const result = await enqueueSubscriptions(emulator.sqs, {
      queueUrl: queues.mainQueueUrl,
      candidates: [{ where: 'argument 1', value: 'A-S1' }],
      dryRun: true,
    });
    expect(result.accepted).toEqual([{ where: 'argument 1', subscriptionId: 'A-S1' }]);
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('reads stdin through the command line and exits 1 when a line was refused', async () => {
    const captured = captureIo(
      {
        ZLS_QUEUE_URL: queues.mainQueueUrl,
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      'A-S00000001\nbad id\nA-S00000002\n',
    );
    const code = await runCli(['enqueue', '-'], captured.io);
    expect(captured.stdout()).toContain('refused line 2: subscription id "bad id" has characters other than letters');
    expect(captured.stdout()).toContain('queued: 2, refused: 1');
    expect(code).toBe(1);
    expect(
      bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))
        .map((b) => b.subscriptionId)
        .sort(),
    ).toEqual(['A-S00000001', 'A-S00000002']);
  });

  it('draws a progress bar on stderr only when stderr is a terminal', async () => {
    const env = {
      ZLS_QUEUE_URL: queues.mainQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const ids = Array.from({ length: 12 }, (_, i) => `A-S${i + 1}`).join('\n');
    const terminal = captureIo(env, ids, true);
    expect(await runCli(['enqueue', '-'], terminal.io)).toBe(0);
    expect(terminal.stderr()).toMatch(/\rqueueing \[#+\.*\] \d+\/12/);
    expect(terminal.stderr()).toContain('12/12');
    expect(terminal.stdout()).not.toContain('\r');

    const piped = captureIo(env, ids, false);
    expect(await runCli(['enqueue', '-'], piped.io)).toBe(0);
    expect(piped.stderr()).toBe('');
  });

  describe("with the target's sync ledger (dynalite)", () => {
    const dynamo = useDynamoDbEmulator();
    it('marks what it queued in the table --ledger-table names, as the sweep reads it', async () => {
      await createOnDemandTable(dynamo.dynamodb, { tableName: 'enqueue-ledger', partitionKey: LEDGER_PARTITION_KEY });
      const captured = captureIo({
        ZLS_QUEUE_URL: queues.mainQueueUrl,
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      });
      const before = Date.now();
      expect(await runCli(['enqueue', 'A-S00000021', '--ledger-table', 'enqueue-ledger'], captured.io)).toBe(0);
      expect(captured.stderr()).not.toContain('not marked');
      const entry = (
        await new DynamoDbLedgerStore(dynamo.dynamodb, 'enqueue-ledger').readMany(['A-S00000021'])
      ).entries.get('A-S00000021');
      expect(entry?.lastQueuedAt).toBeGreaterThanOrEqual(before - 1_000);
    });
  });

  it('exits 0 with --json when every id was queued', async () => {
    const captured = captureIo({
      ZLS_QUEUE_URL: queues.mainQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const code = await runCli(['enqueue', 'A-S00000007', '--json'], captured.io);
    expect(code).toBe(0);
    expect(JSON.parse(captured.stdout())).toMatchObject({
      dryRun: false,
      accepted: [{ where: 'argument 1', subscriptionId: 'A-S00000007' }],
      refused: [],
    });
  });

  describe('when SQS leaves an entry out of its answer', () => {
    const clientDroppingFromAnswer = (subscriptionId: string, drops: (send: number) => boolean) =>
      sqsClientDroppingFromAnswer(emulator.endpoint, (body) => body.subscriptionId === subscriptionId, drops);
    const lines = Array.from({ length: 12 }, (_, i) => `A-S${String(i + 1).padStart(8, '0')}`).join('\n');

    it('sends it again, and counts it queued when SQS then lists it', async () => {
      const { client, sends } = clientDroppingFromAnswer('A-S00000011', (send) => send === 1);
      try {
        const result = await enqueueSubscriptions(client, {
          queueUrl: queues.mainQueueUrl,
          ...readCandidates(lines, 'stdin'),
        });
        expect(sends()).toBe(2);
        expect(result.failed).toEqual([]);
        expect(result.accepted.map((a) => a.subscriptionId).sort()).toEqual(lines.split('\n').sort());
        expect(result.accepted.find((a) => a.subscriptionId === 'A-S00000011')).toMatchObject({
          where: 'line 11',
          messageId: expect.any(String),
        });
      } finally {
        client.destroy();
      }
    });

    it('reports it failed with its line number when SQS leaves it out again', async () => {
      const { client, sends } = clientDroppingFromAnswer('A-S00000011', () => true);
      try {
        const result = await enqueueSubscriptions(client, {
          queueUrl: queues.mainQueueUrl,
          ...readCandidates(lines, 'stdin'),
        });
        expect(sends()).toBe(2);
        expect(result.failed).toEqual([
          {
            where: 'line 11',
            subscriptionId: 'A-S00000011',
            error: expect.stringMatching(/neither sent nor failed.*may or may not be queued/),
          },
        ]);
        expect(result.accepted).toHaveLength(11);
        expect(result.accepted.map((a) => a.subscriptionId)).not.toContain('A-S00000011');
      } finally {
        client.destroy();
      }
    });

    it('makes the command name the line and exit 1', async () => {
      const { client } = clientDroppingFromAnswer('A-S00000011', () => true);
      const captured = captureIo({ ZLS_QUEUE_URL: queues.mainQueueUrl }, lines);
      const code = await runCli(['enqueue', '-'], captured.io, { sqsClient: () => client });
      expect(captured.stdout()).toMatch(/not queued line 11 \(A-S00000011\): SQS reported it neither sent nor failed/);
      expect(captured.stdout()).toContain('queued: 11');
      expect(captured.stdout()).toContain('failed: 1');
      expect(code).toBe(1);
    });
  });
});
