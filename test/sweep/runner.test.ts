import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { InMemoryLedgerStore } from '../../functions/ledger/ledger-store';
import { parseSyncRequest } from '../../functions/shared/queue-message';
import { loadSweepConfig } from '../../functions/sweep/config';
import { createSweepRunner } from '../../functions/sweep/runner';
import { memoryWatermarkStore } from '../../functions/sweep/sweep';
import type { ZuoraRequestEvent } from '../../functions/sweep/zuora-client';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { drainQueue } from '../callout/queue-reader';
import { useSqsEmulator } from '../support/sqs-emulator';

const MINUTE = 60_000;

describe('createSweepRunner (Zuora sandbox, SQS emulator, ledger)', () => {
  const emulator = useSqsEmulator();
  let sandbox: ZuoraSandbox;
  let queueUrl: string;
  let counter = 0;

  beforeEach(async () => {
    sandbox = await startZuoraSandbox({ pageSize: 3 });
    queueUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: `sweep-runner-${++counter}` }))).QueueUrl!;
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  function runner(ledger: InMemoryLedgerStore, events: ZuoraRequestEvent[] = []) {
    const config = loadSweepConfig({
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_CLIENT_ID: sandbox.clientId,
      ZUORA_CLIENT_SECRET: sandbox.clientSecret,
      SWEEP_INTERVAL_SECONDS: '60',
      SWEEP_SETTLE_SECONDS: '60',
      SWEEP_OVERLAP_SECONDS: '120',
      SWEEP_INITIAL_LOOKBACK_SECONDS: '1800',
    });
    return createSweepRunner({
      config,
      sqs: emulator.sqs,
      queueUrl,
      source: 'sweep',
      ledger,
      watermarks: memoryWatermarkStore(),
      onZuoraRequest: (event) => events.push(event),
    });
  }

  it('queues a change made in Zuora without a callout once it settles, and costs nothing for changes their callouts synced', async () => {
    const ledger = new InMemoryLedgerStore();
    let now = Date.now();
    const changedAt = now - 10 * MINUTE;
    for (let i = 0; i < 5; i++) {
      const name = `A-S0000010${i}`;
      sandbox.touch(name, changedAt + i * 1000);
      // Each came with its callout, which named the change's UpdatedDate: synced a few seconds after the change,
      // and that sync proved it read it.
      await ledger.raiseMark(name, 'lastQueuedAt', changedAt + i * 1000 + 2_000);
      await ledger.recordOutcome(name, {
        kind: 'synced',
        startedAt: changedAt + i * 1000 + 4_000,
        finishedAt: changedAt + i * 1000 + 4_300,
        httpStatus: 200,
      });
      await ledger.raiseMark(name, 'provenThrough', changedAt + i * 1000);
    }
    sandbox.touch('A-S00000200', changedAt);
    const events: ZuoraRequestEvent[] = [];
    const sweep = runner(ledger, events);

    const first = await sweep.run({ now: () => now });
    expect(first).toMatchObject({
      outcome: 'complete',
      counts: { read: 6, covered: 5, queued: 1, missing: 1, unproven: 0, pending: 0 },
    });
    const bodies = await drainQueue(emulator.sqs, queueUrl);
    expect(
      bodies.map((body) => parseSyncRequest(body)).map((parsed) => parsed.ok && parsed.request.subscriptionId),
    ).toEqual(['A-S00000200']);

    // Changed again without a callout, too fresh for this sweep (settle), queued by the next one.
    const fresh = now - 30_000;
    sandbox.touch('A-S00000300', fresh);
    const second = await sweep.run({ now: () => now });
    expect(second.outcome).toBe('complete');
    expect(await drainQueue(emulator.sqs, queueUrl)).toEqual([]);
    now += 2 * MINUTE;
    const third = await sweep.run({ now: () => now });
    expect(third.counts.queued).toBe(1);
    expect((await drainQueue(emulator.sqs, queueUrl)).map((body) => JSON.parse(body).subscriptionId)).toEqual([
      'A-S00000300',
    ]);
    // One token for every run of the process.
    expect(events.filter((event) => event.path === '/oauth/token')).toHaveLength(1);
  });

  it('reads a backfill window in a dry run without queueing anything', async () => {
    const ledger = new InMemoryLedgerStore();
    const since = Date.parse('2026-11-01T00:00:00Z');
    sandbox.touch('A-S1', since + MINUTE);
    sandbox.touch('A-S2', since + 2 * MINUTE);
    const report = await runner(ledger).run({ window: { startMs: since, endMs: since + 3600_000 }, dryRun: true });
    expect(report).toMatchObject({ outcome: 'complete', dryRun: true, counts: { read: 2, queued: 2 } });
    expect(await drainQueue(emulator.sqs, queueUrl)).toEqual([]);
  });
});
