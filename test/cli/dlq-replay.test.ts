import { ChangeMessageVisibilityBatchCommand, SQSClient, type ReceiveMessageCommandOutput } from '@aws-sdk/client-sqs';
import { MAX_CONSECUTIVE_SEEN_PAGES, replayDeadLetters, scanHoldSeconds } from '../../cli/commands/replay-dead-letters';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, type QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { runCli } from '../../cli/main';
import { deeplyNestedBody } from '../support/hostile-bodies';
import { bodies, captureIo, depth, freshQueues, putDeadLetter, putMixedDeadLetters, reason, takeAll } from './queues';

// Replaying dead letters against the same SQS emulator `npm start` uses.
describe('dlq replay', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'dlq');
  });

  const hourAgo = new Date(Date.now() - 60 * 60 * 1000);

  const mixedDeadLetters = () => putMixedDeadLetters(emulator.sqs, queues.deadLetterQueueUrl, hourAgo);

  it("replays exactly the filtered set, keeping each message's fields and adding one to replayCount", async () => {
    await mixedDeadLetters();
    const result = await replayDeadLetters(emulator.sqs, {
      ...queues,
      filter: { failureClasses: ['exhausted'], httpStatuses: [502] },
      waitTimeSeconds: 0,
    });

    expect(result.replayed.map((r) => r.subscriptionId).sort()).toEqual(['A-S00000001', 'A-S00000003']);
    expect(result).toMatchObject({ notMatched: 3, failed: [], skipped: [], notRestored: 0 });
    const onMain = bodies(await takeAll(emulator.sqs, queues.mainQueueUrl)).sort((a, b) =>
      String(a.subscriptionId).localeCompare(String(b.subscriptionId)),
    );
    expect(onMain).toEqual([
      {
        v: 1,
        subscriptionId: 'A-S00000001',
        source: 'notification',
        receivedAt: '2026-11-24T10:00:00.000Z',
        zuoraRequestId: 'req-1',
        zuoraNotificationId: 'note-1',
        replayCount: 1,
        replayRunId: result.runId,
      },
      expect.objectContaining({ subscriptionId: 'A-S00000003', source: 'callout', replayCount: 3 }),
    ]);
    // The rest is back in the DLQ and visible at once, untouched.
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 3, inFlight: 0 });
    const left = await takeAll(emulator.sqs, queues.deadLetterQueueUrl);
    expect(
      left
        .map((m) => m.Body)
        .filter((b) => b !== 'this is not json')
        .map((b) => JSON.parse(b!).subscriptionId)
        .sort(),
    ).toEqual(['A-S00000002', 'A-S00000004']);
    expect(
      left.find((m) => m.Body !== 'this is not json' && JSON.parse(m.Body!).subscriptionId === 'A-S00000002')!
        .MessageAttributes?.failureClass?.StringValue,
    ).toBe('terminal');
  });

  it('filters by subscription, by age and by "unknown" (SQS-redriven) failure class', async () => {
    await mixedDeadLetters();
    const bySubscription = await replayDeadLetters(emulator.sqs, {
      ...queues,
      filter: { subscriptions: ['A-S00000002', 'A-S00000404'] },
      waitTimeSeconds: 0,
    });
    expect(bySubscription.replayed.map((r) => r.subscriptionId)).toEqual(['A-S00000002']);

    const byAge = await replayDeadLetters(emulator.sqs, {
      ...queues,
      filter: { olderThanMs: 30 * 60 * 1000 },
      waitTimeSeconds: 0,
    });
    expect(byAge.replayed.map((r) => r.subscriptionId)).toEqual(['A-S00000001']);

    const unknown = await replayDeadLetters(emulator.sqs, {
      ...queues,
      filter: { failureClasses: ['unknown'] },
      waitTimeSeconds: 0,
    });
    expect(unknown.replayed.map((r) => r.subscriptionId)).toEqual(['A-S00000004']);

    expect(
      bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))
        .map((b) => b.subscriptionId)
        .sort(),
    ).toEqual(['A-S00000001', 'A-S00000002', 'A-S00000004']);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('leaves an unreadable body in the DLQ and reports it, even when it matches', async () => {
    await mixedDeadLetters();
    const result = await replayDeadLetters(emulator.sqs, {
      ...queues,
      filter: { failureClasses: ['poison'] },
      waitTimeSeconds: 0,
    });
    expect(result.replayed).toEqual([]);
    expect(result.skipped).toEqual([
      { messageId: expect.any(String), reason: 'not replayable: message body is not JSON' },
    ]);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('replays the good letters of a DLQ holding one nested 5,000 deep, and leaves that one there as not replayable (issue #20 item 1)', async () => {
    await mixedDeadLetters();
    const nested = deeplyNestedBody();
    await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, { body: nested, reason: reason('poison', undefined) });
    const result = await replayDeadLetters(emulator.sqs, { ...queues, waitTimeSeconds: 0 });

    expect(result.replayed.map((r) => r.subscriptionId).sort()).toEqual([
      'A-S00000001',
      'A-S00000002',
      'A-S00000003',
      'A-S00000004',
    ]);
    expect(result.skipped).toEqual([
      { messageId: expect.any(String), reason: 'not replayable: message body is not JSON' },
      {
        messageId: expect.any(String),
        reason: expect.stringMatching(
          /^not replayable: unsupported message version \[\[\[\[.*… \(array\); expected 1$/,
        ),
      },
    ]);
    expect(bodies(await takeAll(emulator.sqs, queues.mainQueueUrl))).toHaveLength(4);
    expect((await takeAll(emulator.sqs, queues.deadLetterQueueUrl)).map((m) => m.Body).sort()).toEqual(
      ['this is not json', nested].sort(),
    );
  });

  it('replays at most --limit messages', async () => {
    for (let i = 1; i <= 13; i++)
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: `A-S${i}`, source: 'notification' },
        reason: reason('exhausted', 503),
      });
    const result = await replayDeadLetters(emulator.sqs, { ...queues, limit: 4, waitTimeSeconds: 0 });
    expect(result.replayed).toHaveLength(4);
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 4, inFlight: 0 });
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 9, inFlight: 0 });
  });

  it('changes nothing in a dry run, yet says what it would replay', async () => {
    await mixedDeadLetters();
    const result = await replayDeadLetters(emulator.sqs, {
      ...queues,
      dryRun: true,
      filter: { failureClasses: ['exhausted'] },
      waitTimeSeconds: 0,
    });
    expect(result.dryRun).toBe(true);
    expect(result.replayed.map((r) => [r.subscriptionId, r.replayCount]).sort()).toEqual([
      ['A-S00000001', 1],
      ['A-S00000003', 3],
    ]);
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
    const bodiesAfter = (await takeAll(emulator.sqs, queues.deadLetterQueueUrl)).map((m) => m.Body);
    expect(
      bodiesAfter
        .filter((b) => b !== 'this is not json')
        .map((b) => JSON.parse(b!).replayCount ?? 0)
        .sort(),
    ).toEqual([0, 0, 0, 2]);
  });

  it('deletes nothing when the send to the main queue fails, and stops', async () => {
    for (let i = 1; i <= 12; i++)
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: `A-S${i}`, source: 'notification' },
        reason: reason('exhausted', 502),
      });
    const missingMainQueue = queues.mainQueueUrl.replace(/[^/]+$/, 'no-such-queue');
    const result = await replayDeadLetters(emulator.sqs, {
      mainQueueUrl: missingMainQueue,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      waitTimeSeconds: 0,
    });

    expect(result.replayed).toEqual([]);
    expect(result.failed.length).toBeGreaterThan(0);
    expect(result.failed.every((f) => f.stage === 'send' && /does not exist/.test(f.error))).toBe(true);
    expect(result.stoppedEarly).toMatch(/send to the main queue failed/);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 12, inFlight: 0 });
  });

  it('says so on stderr and exits 1 when the command line replay could not send', async () => {
    await mixedDeadLetters();
    const captured = captureIo({
      ZLS_QUEUE_URL: queues.mainQueueUrl.replace(/[^/]+$/, 'deleted-queue'),
      ZLS_DLQ_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect(await runCli(['dlq', 'replay', '--failure-class', 'exhausted'], captured.io)).toBe(1);
    expect(captured.stdout()).toContain('replayed: 0');
    expect(captured.stderr()).toMatch(/failed A-S0000000[13] \(send\): .*does not exist.*; still in the DLQ/);
    expect(captured.stderr()).toContain('stopped early: send to the main queue failed');
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
  });

  it('falls back to receive -> send -> delete where StartMessageMoveTask is unsupported (fauxqs 1.9)', async () => {
    await mixedDeadLetters();
    const result = await replayDeadLetters(emulator.sqs, {
      ...queues,
      accountQueueAbsent: true,
      native: true,
      waitTimeSeconds: 0,
    });
    expect(result.mode).toBe('receive-send-delete');
    expect(result.fallbackReason).toMatch(/StartMessageMoveTask is not supported/);
    expect(result.replayed.map((r) => r.subscriptionId).sort()).toEqual([
      'A-S00000001',
      'A-S00000002',
      'A-S00000003',
      'A-S00000004',
    ]);
    expect(bodies(await takeAll(emulator.sqs, queues.mainQueueUrl)).every((b) => Number(b.replayCount) >= 1)).toBe(
      true,
    );
    // Only the unreadable one stays.
    expect((await takeAll(emulator.sqs, queues.deadLetterQueueUrl)).map((m) => m.Body)).toEqual(['this is not json']);
  });

  it('paces sends to --rate (checked on an injected clock, not a real one)', async () => {
    for (let i = 1; i <= 5; i++)
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: `A-S${i}`, source: 'notification' },
        reason: reason('exhausted', 502),
      });
    let clock = 1_000_000;
    const sleeps: number[] = [];
    const result = await replayDeadLetters(emulator.sqs, {
      ...queues,
      ratePerSecond: 2,
      waitTimeSeconds: 0,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    expect(result.replayed).toHaveLength(5);
    // 2 per second in chunks of 2: sends at t=0, 1 s, 2 s.
    expect(sleeps).toEqual([1000, 1000]);
  });

  describe('letters that fail again during the run (issue #12 item 1)', () => {
    /**
     * An SQS client on which every message the replay sends to the main queue fails again at once: a copy of its
     * body comes back to the DLQ with a terminal 404, as the sync Lambda would put it there, before the replay's
     * next call. Counts the messages sent to the main queue.
     */
    function clientWhoseLettersFailAgain() {
      const client = new SQSClient({
        endpoint: emulator.endpoint,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
      });
      const sent: string[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          const input = args.input as { QueueUrl?: string; Entries?: { MessageBody?: string }[] };
          if (context.commandName === 'SendMessageBatchCommand' && input.QueueUrl === queues.mainQueueUrl) {
            for (const entry of input.Entries ?? []) {
              sent.push(entry.MessageBody!);
              await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
                body: entry.MessageBody!,
                reason: reason('terminal', 404),
              });
            }
          }
          return result;
        },
        { step: 'initialize', name: 'failsAgain' },
      );
      return { client, sent };
    }

    it('replays each letter once per run, whatever comes back to the DLQ meanwhile, and leaves the returns there', async () => {
      for (let i = 1; i <= 23; i++)
        await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
          request: { subscriptionId: `A-S${i}`, source: 'notification' },
          reason: reason('terminal', 404),
        });
      const { client, sent } = clientWhoseLettersFailAgain();
      try {
        const result = await replayDeadLetters(client, { ...queues, waitTimeSeconds: 0 });

        expect(result.replayed).toHaveLength(23);
        expect(sent).toHaveLength(23);
        expect(new Set(bodies(sent.map((body) => ({ Body: body }))).map((b) => b.subscriptionId)).size).toBe(23);
        expect(result).toMatchObject({ scanEnded: 'dlq-exhausted', failed: [], notRestored: 0 });
        // The 23 copies that came back are in the DLQ, visible, with replayCount 1 and the run's id.
        expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 23, inFlight: 0 });
        const back = bodies(await takeAll(emulator.sqs, queues.deadLetterQueueUrl));
        expect(back.every((b) => b.replayCount === 1 && b.replayRunId === result.runId)).toBe(true);
      } finally {
        client.destroy();
      }
    });

    it('with watchSeconds, reports the letters that came back with their reason, and ends once all are back', async () => {
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S1', source: 'notification', replayCount: 1 },
        reason: reason('terminal', 404),
      });
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S2', source: 'notification' },
        reason: reason('terminal', 404),
      });
      const { client } = clientWhoseLettersFailAgain();
      try {
        const started = Date.now();
        const result = await replayDeadLetters(client, { ...queues, waitTimeSeconds: 0, watchSeconds: 30 });
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(
          result.failedAgain
            .map(({ messageId, ...rest }) => rest)
            .sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId)),
        ).toEqual([
          {
            subscriptionId: 'A-S1',
            replayCount: 2,
            failureClass: 'terminal',
            httpStatus: 404,
            error: 'Limio answered 404',
          },
          {
            subscriptionId: 'A-S2',
            replayCount: 1,
            failureClass: 'terminal',
            httpStatus: 404,
            error: 'Limio answered 404',
          },
        ]);
        expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
      } finally {
        client.destroy();
      }
    });

    it('stops reading at the most letters one run may hold, replays those, and a second run does the rest once', async () => {
      for (let i = 1; i <= 25; i++)
        await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
          request: { subscriptionId: `A-S${i}`, source: 'notification' },
          reason: reason('terminal', 404),
        });
      const { client, sent } = clientWhoseLettersFailAgain();
      try {
        const first = await replayDeadLetters(client, { ...queues, waitTimeSeconds: 0, maxHeldLetters: 12 });
        expect(first).toMatchObject({ scanEnded: 'held-limit', failed: [] });
        expect(first.replayed).toHaveLength(20);
        expect(first.stoppedEarly).toMatch(/as many as one run holds at once.*run the replay again for the rest/);

        // The second run meets the first run's 20 letters again (failed again, another run's id) and the 5 left.
        const second = await replayDeadLetters(client, { ...queues, waitTimeSeconds: 0, maxHeldLetters: 100 });
        expect(second).toMatchObject({ scanEnded: 'dlq-exhausted', stoppedEarly: undefined });
        expect(second.replayed).toHaveLength(25);
        const perSubscription = new Map<string, number>();
        for (const body of bodies(sent.map((b) => ({ Body: b }))))
          perSubscription.set(String(body.subscriptionId), (perSubscription.get(String(body.subscriptionId)) ?? 0) + 1);
        expect([...perSubscription.values()].sort()).toEqual([...Array(20).fill(2), ...Array(5).fill(1)].sort());
      } finally {
        client.destroy();
      }
    });

    it('says how many letters another reader was hiding when it began', async () => {
      await mixedDeadLetters();
      await takeAll(emulator.sqs, queues.deadLetterQueueUrl);
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: 'A-S9', source: 'notification' },
        reason: reason('exhausted', 502),
      });
      const result = await replayDeadLetters(emulator.sqs, { ...queues, waitTimeSeconds: 0 });
      expect(result.replayed.map((r) => r.subscriptionId)).toEqual(['A-S9']);
      expect(result.hiddenAtStart).toBe(5);
    });
  });

  it('on a terminal, shows the reading of the DLQ and then the sending, each on its own line', async () => {
    for (let i = 1; i <= 12; i++)
      await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
        request: { subscriptionId: `A-S${i}`, source: 'notification' },
        reason: reason('exhausted', 502),
      });
    const captured = captureIo(
      {
        ZLS_QUEUE_URL: queues.mainQueueUrl,
        ZLS_DLQ_URL: queues.deadLetterQueueUrl,
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      '',
      true,
    );
    expect(await runCli(['dlq', 'replay'], captured.io)).toBe(0);
    const lines = captured
      .stderr()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\r').filter(Boolean).pop());
    expect(lines).toEqual([
      expect.stringMatching(/^reading DLQ \[#+\] 12\/12/),
      expect.stringMatching(/^replaying \[#+\] 12\/12/),
    ]);
  });

  describe('on a DLQ larger than one page whose scanned messages come back', () => {
    /**
     * An SQS client for the emulator on which the replay's hold of a page runs out at once on the receives
     * `holdRunsOut` picks, as on a DLQ too big for the hold: those messages come back and are seen again. The
     * emulator's clock cannot be hurried, so a client middleware makes them visible again; `afterReceive` lets a
     * test act between receives. Records each page's message ids and the hold each receive asked for.
     */
    function clientWhoseHoldRunsOut(
      holdRunsOut: (receiveNumber: number) => boolean,
      afterReceive: (receiveNumber: number) => Promise<void> = async () => {},
    ) {
      const client = new SQSClient({
        endpoint: emulator.endpoint,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
      });
      const pages: string[][] = [];
      const visibilityTimeouts: number[] = [];
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName !== 'ReceiveMessageCommand') return result;
          visibilityTimeouts.push(Number((args.input as { VisibilityTimeout?: number }).VisibilityTimeout));
          const messages = (result.output as ReceiveMessageCommandOutput).Messages ?? [];
          pages.push(messages.map((m) => m.MessageId!));
          if (messages.length > 0 && holdRunsOut(pages.length)) {
            await emulator.sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: queues.deadLetterQueueUrl,
                Entries: messages.map((m, index) => ({
                  Id: String(index),
                  ReceiptHandle: m.ReceiptHandle!,
                  VisibilityTimeout: 0,
                })),
              }),
            );
          }
          await afterReceive(pages.length);
          return result;
        },
        { step: 'initialize', name: 'holdRunsOut' },
      );
      return { client, pages, visibilityTimeouts };
    }

    const notMatching = async (count: number) => {
      for (let i = 1; i <= count; i++)
        await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
          request: { subscriptionId: `A-S${100 + i}`, source: 'notification' },
          reason: reason('terminal', 404),
        });
    };
    const isAllSeen = (pages: string[][], index: number) => {
      const seenBefore = new Set(pages.slice(0, index).flat());
      return pages[index].length > 0 && pages[index].every((id) => seenBefore.has(id));
    };

    it('keeps scanning past a page of messages already seen and replays every match', async () => {
      await notMatching(20);
      // SQS promises no order; the emulator serves the oldest visible message first and puts one made visible
      // again last. So the matches go in behind the first page's returning messages, as letters the sync Lambda
      // dead-letters during the replay would: the third page then holds only messages seen before.
      const { client, pages, visibilityTimeouts } = clientWhoseHoldRunsOut(
        (receive) => receive === 1,
        async (receive) => {
          if (receive !== 2) return;
          for (let i = 1; i <= 5; i++)
            await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, {
              request: { subscriptionId: `A-S${200 + i}`, source: 'notification' },
              reason: reason('exhausted', 502),
            });
        },
      );
      try {
        const result = await replayDeadLetters(client, {
          ...queues,
          filter: { failureClasses: ['exhausted'] },
          waitTimeSeconds: 0,
        });

        // The case under test happened: a page of seen messages came before the matches (the old scan ended there).
        expect(isAllSeen(pages, 2)).toBe(true);
        expect(result.replayed.map((r) => r.subscriptionId).sort()).toEqual([
          'A-S201',
          'A-S202',
          'A-S203',
          'A-S204',
          'A-S205',
        ]);
        expect(result).toMatchObject({ scanEnded: 'dlq-exhausted', notMatched: 20, failed: [], notRestored: 0 });
        expect(result.stoppedEarly).toBeUndefined();
        // The hold asked for is the one sized from the depth found at the start.
        expect(new Set(visibilityTimeouts)).toEqual(new Set([scanHoldSeconds({ depth: 20 })]));
        expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 20, inFlight: 0 });
        expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
      } finally {
        client.destroy();
      }
    });

    it('says the scan ended before seeing the whole DLQ when only seen messages keep coming back', async () => {
      await notMatching(25);
      const { client, pages } = clientWhoseHoldRunsOut(() => true);
      try {
        const result = await replayDeadLetters(client, {
          ...queues,
          filter: { failureClasses: ['exhausted'] },
          waitTimeSeconds: 0,
        });

        // It went on past single pages of seen messages, and gave up after a run of them (never on an empty receive).
        const lastPages = pages.map((_, index) => index).slice(-MAX_CONSECUTIVE_SEEN_PAGES);
        expect(lastPages.every((index) => isAllSeen(pages, index))).toBe(true);
        expect(isAllSeen(pages, pages.length - MAX_CONSECUTIVE_SEEN_PAGES - 1)).toBe(false);
        expect(pages.every((page) => page.length > 0)).toBe(true);
        expect(result).toMatchObject({ scanEnded: 'only-seen-messages', replayed: [], notMatched: 25 });
        // stoppedEarly makes the command print it and exit 1.
        expect(result.stoppedEarly).toMatch(/ended before seeing the whole DLQ.*matching messages may remain/);
        expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 25, inFlight: 0 });
      } finally {
        client.destroy();
      }
    });
  });

  it('holds scanned messages for longer the deeper the DLQ and the slower the --rate', () => {
    expect(scanHoldSeconds({ depth: undefined })).toBe(300);
    expect(scanHoldSeconds({ depth: 25 })).toBe(300);
    // 20,000 messages = 2,000 pages: longer than the 5-minute floor.
    const deep = scanHoldSeconds({ depth: 20_000 });
    expect(deep).toBeGreaterThan(2_000);
    // --limit bounds the sends, not the scan: matches can be anywhere in the DLQ.
    expect(scanHoldSeconds({ depth: 20_000, limit: 10 })).toBe(deep);
    expect(scanHoldSeconds({ depth: 20_000, ratePerSecond: 5 })).toBeGreaterThan(deep + 4_000);
    expect(scanHoldSeconds({ depth: 20_000, limit: 10, ratePerSecond: 5 })).toBeLessThan(deep + 10);
    expect(scanHoldSeconds({ depth: 10_000_000 })).toBe(43_200);
  });
});
