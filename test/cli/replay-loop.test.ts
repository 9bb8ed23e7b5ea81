import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { listDeadLetters, type DeadLetterRow } from '../../cli/commands/dlq-list';
import type { ReplayResult } from '../../cli/commands/replay-types';
import { runCli } from '../../cli/main';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { loadRuntimeConfig } from '../../local/config';
import { startRuntime, type Runtime } from '../../local/runtime';
import { captureIo, depth, putDeadLetter, reason } from './queues';

/**
 * Issue #12 item 1, the whole loop on `npm start`'s runtime: the production sync handler behind the local poller,
 * the SQS emulator and the Limio sandbox answering 404 for some subscriptions for good. A replay of their letters
 * used to receive each letter's failed-again copy as a new letter and replay it again, for ever.
 */
const RUNTIME_ENV = {
  PORT: '0',
  SQS_PORT: '0',
  LIMIO_SANDBOX_PORT: '0',
  SYNC_BATCHING_WINDOW_SECONDS: '0',
  BACKOFF_BASE_SECONDS: '1',
  BACKOFF_MAX_SECONDS: '1',
};

const STILL_404 = ['A-S00000404', 'A-S00000405'];
const HEALTHY = 'A-S00000200';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(100);
  }
}

/** Fails the test instead of hanging it (the old replay never returned); stops the runtime so the loop ends too. */
async function returnsWithin<T>(promise: Promise<T>, ms: number, onTimeout: () => Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void onTimeout().finally(() => reject(new Error(`dlq replay did not return within ${ms} ms`)));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('dlq replay while the subscriptions still fail (local runtime, Limio sandbox)', () => {
  let runtime: Runtime;
  let cliEnv: Record<string, string>;

  beforeEach(async () => {
    runtime = await startRuntime({ config: loadRuntimeConfig(RUNTIME_ENV), quiet: true });
    for (const id of STILL_404) runtime.limioSandbox!.respondWith(id, 404);
    // How an operator reaches a runtime started with PORT=0 / SQS_PORT=0: the ports it printed, in the same variables.
    cliEnv = { SQS_PORT: new URL(runtime.sqsEndpoint).port, PORT: new URL(runtime.calloutUrl).port };
  });
  afterEach(async () => {
    await runtime.stop();
  });

  /** Queues one message per id and waits until the sync handler has dead-lettered the 404 ones. */
  async function deadLetter(ids: readonly string[]): Promise<void> {
    await runtime.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: runtime.queues.mainQueueUrl,
        Entries: ids.map((subscriptionId, index) => ({
          Id: String(index),
          MessageBody: serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'test' })),
        })),
      }),
    );
    const expected = ids.filter((id) => STILL_404.includes(id)).length;
    const reached = await waitFor(
      () => depth(runtime.sqs, runtime.queues.deadLetterQueueUrl),
      (d) => d.visible === expected,
      10_000,
    );
    expect(reached).toEqual({ visible: expected, inFlight: 0 });
  }

  const callsTo = (id: string) => runtime.limioSandbox!.stats.syncCallsById.get(id) ?? 0;
  const lettersNow = async (): Promise<DeadLetterRow[]> =>
    (
      await listDeadLetters(runtime.sqs, {
        deadLetterQueueUrl: runtime.queues.deadLetterQueueUrl,
        limit: 100,
        waitTimeSeconds: 0,
      })
    ).deadLetters;

  it('ends, costs Limio one call per letter, and reports the letters back in the DLQ with their reason and a raised replay count', async () => {
    await deadLetter([...STILL_404, HEALTHY]);
    const callsBefore = STILL_404.map(callsTo);

    const captured = captureIo(cliEnv);
    const exitCode = await returnsWithin(
      runCli(['dlq', 'replay', '--local', '--watch', '20s', '--json'], captured.io),
      25_000,
      () => runtime.stop(),
    );
    const result = JSON.parse(captured.stdout()) as ReplayResult;

    // Exit 1: letters failed again, and they are listed with their new reason.
    expect(exitCode).toBe(1);
    expect(result.replayed.map((r) => r.subscriptionId).sort()).toEqual(STILL_404);
    expect(
      result.failedAgain
        .map((letter) => ({ ...letter, messageId: undefined }))
        .sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId)),
    ).toEqual(
      STILL_404.map((subscriptionId) => ({
        subscriptionId,
        messageId: undefined,
        replayCount: 1,
        failureClass: 'terminal',
        httpStatus: 404,
        error: expect.stringMatching(/404/),
      })),
    );
    // One Limio call per letter replayed, and none after the run: nothing is going round any more.
    expect(STILL_404.map((id, index) => callsTo(id) - callsBefore[index])).toEqual([1, 1]);
    await sleep(1500);
    expect(STILL_404.map((id, index) => callsTo(id) - callsBefore[index])).toEqual([1, 1]);

    // Back in the DLQ, visible at once, each once, with the reason and replay count 1 and this run's id.
    expect(await depth(runtime.sqs, runtime.queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
    const letters = await lettersNow();
    expect(
      letters
        .map((row) => [row.subscriptionId, row.failureClass, row.httpStatus, row.replayCount, row.replayRunId])
        .sort(),
    ).toEqual(STILL_404.map((id) => [id, 'terminal', 404, 1, result.runId]));
  }, 40_000);

  it('--watch ends once nothing is left to watch: a letter that now syncs does not hold the run for the whole AGE', async () => {
    // Limio was fixed since this letter died: its replay syncs, so it never comes back to the DLQ.
    await putDeadLetter(runtime.sqs, runtime.queues.deadLetterQueueUrl, {
      request: { subscriptionId: HEALTHY, source: 'test' },
      reason: reason('exhausted', 502),
    });
    const callsBefore = callsTo(HEALTHY);
    const captured = captureIo(cliEnv);
    const started = Date.now();
    // 60 s asked for; the test allows 20: it must end once the main queue has been read empty twice.
    const exitCode = await returnsWithin(
      runCli(['dlq', 'replay', '--local', '--watch', '60s', '--json'], captured.io),
      20_000,
      () => runtime.stop(),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const result = JSON.parse(captured.stdout()) as ReplayResult;
    expect(exitCode).toBe(0);
    expect(result.replayed.map((r) => r.subscriptionId)).toEqual([HEALTHY]);
    expect(result.failedAgain).toEqual([]);
    expect(callsTo(HEALTHY) - callsBefore).toBe(1);
    expect(await depth(runtime.sqs, runtime.queues.deadLetterQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  }, 40_000);

  it('ends without --watch too, and a second run replays each letter once more, no more', async () => {
    await deadLetter(STILL_404);
    const callsBefore = STILL_404.map(callsTo);

    for (const run of [1, 2]) {
      const captured = captureIo(cliEnv);
      const exitCode = await returnsWithin(runCli(['dlq', 'replay', '--local'], captured.io), 20_000, () =>
        runtime.stop(),
      );
      expect(exitCode).toBe(0);
      expect(captured.stdout()).toContain('replayed: 2');
      expect(captured.stdout()).toMatch(/run id: r-\d{8}T\d{6}Z-[0-9a-f]{6}/);
      const letters = await waitFor(
        lettersNow,
        (rows) => rows.length === 2 && rows.every((row) => row.replayCount === run),
        10_000,
      );
      expect(
        letters.map((row) => [row.subscriptionId, row.failureClass, row.httpStatus, row.replayCount]).sort(),
      ).toEqual(STILL_404.map((id) => [id, 'terminal', 404, run]));
      expect(STILL_404.map((id, index) => callsTo(id) - callsBefore[index])).toEqual([run, run]);
    }
  }, 60_000);
});
