import { accountKeyRuleFrom } from '../../functions/shared/account-key';
import {
  createAccountRequest,
  createSyncRequest,
  MAX_REFUSAL_LENGTH,
  messageKey,
  parseQueueMessage,
  parseSyncRequest,
  serializeQueueMessage,
  serializeSyncRequest,
} from '../../functions/shared/queue-message';
import { deeplyNestedBody, longVersionBody } from '../support/hostile-bodies';

describe('sync request message', () => {
  it('round-trips through its JSON form', () => {
    const request = createSyncRequest({
      subscriptionId: 'A-S00000271',
      source: 'notification',
      receivedAt: new Date('2026-11-24T10:00:00Z'),
      zuoraRequestId: 'req-1',
      zuoraNotificationId: 'notif-1',
    });
    const body = serializeSyncRequest(request);
    expect(JSON.parse(body)).toEqual({
      v: 1,
      subscriptionId: 'A-S00000271',
      source: 'notification',
      receivedAt: '2026-11-24T10:00:00.000Z',
      zuoraRequestId: 'req-1',
      zuoraNotificationId: 'notif-1',
    });
    expect(parseSyncRequest(body)).toEqual({ ok: true, request });
  });

  it('carries the replay run that sent it, and the sweep as a source', () => {
    const body = JSON.stringify({
      v: 1,
      subscriptionId: 'A-S1',
      source: 'sweep',
      receivedAt: '2026-01-01T00:00:00Z',
      replayCount: 2,
      replayRunId: 'r-20261130-abc',
    });
    expect(parseSyncRequest(body)).toMatchObject({
      ok: true,
      request: { source: 'sweep', replayCount: 2, replayRunId: 'r-20261130-abc' },
    });
    const named = JSON.stringify({
      v: 1,
      subscriptionId: 'A-S1',
      source: 'sweep',
      receivedAt: '2026-01-01T00:00:00Z',
      zuoraUpdatedAt: '2025-12-31T16:59:58.000-08:00',
    });
    expect(parseSyncRequest(named)).toMatchObject({
      ok: true,
      request: { zuoraUpdatedAt: '2025-12-31T16:59:58.000-08:00' },
    });
  });

  it('stamps receivedAt when the producer does not', () => {
    const before = Date.now();
    const request = createSyncRequest({ subscriptionId: 'A-S1', source: 'backfill' });
    expect(Date.parse(request.receivedAt)).toBeGreaterThanOrEqual(before);
  });

  it('drops unknown fields instead of passing them on', () => {
    const parsed = parseSyncRequest(
      JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', extra: 'x' }),
    );
    expect(parsed.ok && 'extra' in parsed.request).toBe(false);
  });

  it.each([
    ['not json', /not JSON/],
    ['[]', /not a JSON object/],
    ['null', /not a JSON object/],
    [JSON.stringify({ v: 2, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z' }), /version 2/],
    [
      JSON.stringify({ v: 1, subscriptionId: '../x', source: 'test', receivedAt: '2026-01-01T00:00:00Z' }),
      /invalid subscriptionId/,
    ],
    [
      JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'email', receivedAt: '2026-01-01T00:00:00Z' }),
      /invalid source/,
    ],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: 'yesterday' }), /receivedAt/],
    [
      JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'test',
        receivedAt: '2026-01-01T00:00:00Z',
        replayCount: -1,
      }),
      /replayCount/,
    ],
    [
      JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'test',
        receivedAt: '2026-01-01T00:00:00Z',
        zuoraRequestId: 7,
      }),
      /zuoraRequestId/,
    ],
    [
      JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'test',
        receivedAt: '2026-01-01T00:00:00Z',
        replayRunId: 'r 1\n',
      }),
      /replayRunId/,
    ],
    [
      JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'test',
        receivedAt: '2026-01-01T00:00:00Z',
        replayRunId: 'r'.repeat(65),
      }),
      /replayRunId/,
    ],
    [
      JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'test',
        receivedAt: '2026-01-01T00:00:00Z',
        zuoraUpdatedAt: 'yesterday',
      }),
      /zuoraUpdatedAt/,
    ],
  ])('refuses %s', (body, reason) => {
    const parsed = parseSyncRequest(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('createSyncRequest throws on an invalid id rather than queue it', () => {
    expect(() => createSyncRequest({ subscriptionId: 'A-S1/../x', source: 'backfill' })).toThrow(
      /invalid subscriptionId/,
    );
  });

  describe('refusing a hostile body (issue #20 item 1)', () => {
    const refusalOf = (body: string) => {
      const parsed = parseSyncRequest(body);
      if (parsed.ok) throw new Error('expected a refusal');
      return parsed.reason;
    };

    it('refuses a body nested 5,000 deep with a short reason naming its type, instead of throwing', () => {
      const reason = refusalOf(deeplyNestedBody());
      expect(reason).toMatch(/^unsupported message version \[\[\[\[.*… \(array\); expected 1$/);
      expect(reason.length).toBeLessThanOrEqual(MAX_REFUSAL_LENGTH);
    });

    it('refuses a source nested 5,000 deep the same way', () => {
      const body = `{"v":1,"subscriptionId":"A-S1","source":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
      expect(refusalOf(body)).toMatch(/^invalid source \{"a":\{"a":.*… \(object\); expected one of notification/);
    });

    it('quotes only a clip of a 250 KB field, with its type and length', () => {
      const reason = refusalOf(longVersionBody());
      expect(reason).toMatch(/^unsupported message version "x+… \(string, 250,000 characters\); expected 1$/);
      expect(reason.length).toBeLessThanOrEqual(MAX_REFUSAL_LENGTH);
    });

    it('still names a short wrong value as it is', () => {
      expect(
        refusalOf(JSON.stringify({ v: 2, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z' })),
      ).toBe('unsupported message version 2 (number); expected 1');
      expect(refusalOf(JSON.stringify({ v: 1, subscriptionId: 'A-S1', receivedAt: '2026-01-01T00:00:00Z' }))).toMatch(
        /^invalid source \(missing\); expected one of/,
      );
    });
  });

  describe('the subscription message carries the change it names (issue #22)', () => {
    it('round-trips zuoraUpdatedAt and the fan-out source', () => {
      const request = createSyncRequest({
        subscriptionId: 'A-S1',
        source: 'account',
        receivedAt: '2026-11-24T18:03:20.000Z',
        zuoraUpdatedAt: '2026-11-24T18:03:12.000Z',
      });
      expect(parseSyncRequest(serializeSyncRequest(request))).toEqual({ ok: true, request });
      expect(request).toMatchObject({ source: 'account', zuoraUpdatedAt: '2026-11-24T18:03:12.000Z' });
    });

    it.each([['2026-11-24 10:03:12'], ['2026-11-24T10:03:12'], ['yesterday'], [1764000000000], [{ at: 'now' }]])(
      'refuses zuoraUpdatedAt %j',
      (updatedAt) => {
        const parsed = parseSyncRequest(
          JSON.stringify({
            v: 1,
            subscriptionId: 'A-S1',
            source: 'test',
            receivedAt: '2026-01-01T00:00:00Z',
            zuoraUpdatedAt: updatedAt,
          }),
        );
        expect(parsed).toMatchObject({
          ok: false,
          reason: expect.stringMatching(/^zuoraUpdatedAt must be an ISO-8601 time with an offset/),
        });
      },
    );

    it("accepts Zuora's offset form as it is", () => {
      const parsed = parseSyncRequest(
        JSON.stringify({
          v: 1,
          subscriptionId: 'A-S1',
          source: 'test',
          receivedAt: '2026-01-01T00:00:00Z',
          zuoraUpdatedAt: '2026-11-24T10:03:12.000-08:00',
        }),
      );
      expect(parsed).toMatchObject({ ok: true, request: { zuoraUpdatedAt: '2026-11-24T10:03:12.000-08:00' } });
    });
  });

  describe('account messages (issue #22)', () => {
    const account = {
      v: 1,
      kind: 'account',
      accountKey: 'A00001234',
      source: 'notification',
      receivedAt: '2026-11-24T18:03:20.000Z',
    };

    it('round-trip through parseQueueMessage, with a fan-out continuation', () => {
      const message = createAccountRequest({
        accountKey: 'A00001234',
        source: 'notification',
        receivedAt: new Date('2026-11-24T18:03:20Z'),
        zuoraNotificationId: 'zn-1',
        fanOut: { queryLocator: '2c92c0f9-500', accountId: '2c92a0fd55822b4d015590d5d7c0418d' },
      });
      expect(JSON.parse(serializeQueueMessage(message))).toEqual({
        v: 1,
        kind: 'account',
        accountKey: 'A00001234',
        source: 'notification',
        receivedAt: '2026-11-24T18:03:20.000Z',
        zuoraNotificationId: 'zn-1',
        fanOut: { queryLocator: '2c92c0f9-500', accountId: '2c92a0fd55822b4d015590d5d7c0418d' },
      });
      expect(parseQueueMessage(serializeQueueMessage(message))).toEqual({ ok: true, message });
      expect(messageKey(message)).toBe('A00001234');
    });

    it('parseQueueMessage reads a message without kind as a subscription message, as every message queued before', () => {
      const body = JSON.stringify({
        v: 1,
        subscriptionId: 'A-S1',
        source: 'callout',
        receivedAt: '2026-01-01T00:00:00Z',
      });
      expect(parseQueueMessage(body)).toEqual({
        ok: true,
        message: { v: 1, subscriptionId: 'A-S1', source: 'callout', receivedAt: '2026-01-01T00:00:00Z' },
      });
    });

    it('applies the configured account number rule', () => {
      const body = JSON.stringify({ ...account, accountKey: 'CUST-X-0042' });
      expect(parseQueueMessage(body)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^invalid accountKey: /),
      });
      expect(parseQueueMessage(body, { accountKeyRule: accountKeyRuleFrom('CUST-X-[0-9]{4}') })).toMatchObject({
        ok: true,
        message: { accountKey: 'CUST-X-0042' },
      });
    });

    it.each([
      [{ ...account, kind: 'contact' }, /^unknown message kind "contact" \(string\); expected "account"/],
      [{ ...account, kind: 'x'.repeat(100_000) }, /^unknown message kind "x+… \(string, 100,000 characters\)/],
      [{ ...account, accountKey: '../admin' }, /^invalid accountKey: .*characters other than/],
      [{ ...account, accountKey: undefined }, /^invalid accountKey: expected a string, got \(missing\)/],
      [{ ...account, source: 'email' }, /^invalid source/],
      [{ ...account, fanOut: 'next' }, /^fanOut must be an object/],
      [
        { ...account, fanOut: { queryLocator: 'q 1', accountId: '2c92a0fd55822b4d015590d5d7c0418d' } },
        /^fanOut.queryLocator/,
      ],
      [{ ...account, fanOut: { queryLocator: 'q1', accountId: "x' or 1=1" } }, /^fanOut.accountId must be a 32-hex/],
    ])('refuses %#', (message, reason) => {
      const parsed = parseQueueMessage(JSON.stringify(message));
      expect(parsed).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
      if (!parsed.ok) expect(parsed.reason.length).toBeLessThanOrEqual(MAX_REFUSAL_LENGTH);
    });

    it('refuses a kind nested 5,000 deep without stringifying it', () => {
      const body = `{"v":1,"kind":${'['.repeat(5000)}${']'.repeat(5000)},"accountKey":"A1"}`;
      expect(parseQueueMessage(body)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^unknown message kind \[\[\[\[.*… \(array\)/),
      });
    });

    it('the sync reader refuses an account message as poison, saying where it belongs, whatever its account number rule', () => {
      expect(parseSyncRequest(JSON.stringify(account))).toEqual({
        ok: false,
        reason:
          'account message for A00001234 on the sync queue: account messages belong on the fan-out queue (ACCOUNT_QUEUE_URL), which turns them into subscription messages',
      });
      // A tenant-specific number this Lambda's default rule would refuse is still called an account message.
      expect(parseSyncRequest(JSON.stringify({ ...account, accountKey: 'CUST-X-0042' }))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^account message for CUST-X-0042 on the sync queue/),
      });
      // An unsafe key is not put in the reason.
      expect(parseSyncRequest(JSON.stringify({ ...account, accountKey: 'A1\u001b[2J' }))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^account message on the sync queue/),
      });
      expect(parseSyncRequest(JSON.stringify({ ...account, accountKey: { deep: [1] } }))).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^account message on the sync queue/),
      });
    });

    it('createAccountRequest throws on an invalid key rather than queue it', () => {
      expect(() => createAccountRequest({ accountKey: 'A1/../x', source: 'backfill' })).toThrow(/invalid accountKey/);
    });
  });
});

describe("the largest account continuation against SQS's own payload limit (the emulator does not enforce it)", () => {
  /** SQS's limit for one message and for the sum of one SendMessageBatch, as the fan-out's queue was created with. */
  const SQS_MAX_PAYLOAD_BYTES = 256 * 1024;

  it('fits one message, and ten in one SendMessageBatch, with every field at its longest', () => {
    const longest = createAccountRequest({
      accountKey: `A${'9'.repeat(19)}`,
      source: 'notification',
      receivedAt: new Date('2026-12-07T00:00:00Z'),
      zuoraRequestId: 'r'.repeat(128),
      zuoraNotificationId: 'n'.repeat(128),
      replayCount: Number.MAX_SAFE_INTEGER,
      replayRunId: 'x'.repeat(64),
      fanOut: { queryLocator: '~'.repeat(512), accountId: 'f'.repeat(32) },
    });
    const bytes = Buffer.byteLength(serializeQueueMessage(longest), 'utf8');
    expect(bytes).toBeLessThan(2_048);
    expect(10 * bytes).toBeLessThan(SQS_MAX_PAYLOAD_BYTES);
  });
});
