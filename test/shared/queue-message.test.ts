import { createSyncRequest, MAX_REFUSAL_LENGTH, parseSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
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
    const body = JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'sweep', receivedAt: '2026-01-01T00:00:00Z', replayCount: 2, replayRunId: 'r-20261130-abc' });
    expect(parseSyncRequest(body)).toMatchObject({ ok: true, request: { source: 'sweep', replayCount: 2, replayRunId: 'r-20261130-abc' } });
    const named = JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'sweep', receivedAt: '2026-01-01T00:00:00Z', zuoraUpdatedAt: '2025-12-31T16:59:58.000-08:00' });
    expect(parseSyncRequest(named)).toMatchObject({ ok: true, request: { zuoraUpdatedAt: '2025-12-31T16:59:58.000-08:00' } });
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
    [JSON.stringify({ v: 1, subscriptionId: '../x', source: 'test', receivedAt: '2026-01-01T00:00:00Z' }), /invalid subscriptionId/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'email', receivedAt: '2026-01-01T00:00:00Z' }), /invalid source/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: 'yesterday' }), /receivedAt/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', replayCount: -1 }), /replayCount/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', zuoraRequestId: 7 }), /zuoraRequestId/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', replayRunId: 'r 1\n' }), /replayRunId/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', replayRunId: 'r'.repeat(65) }), /replayRunId/],
    [JSON.stringify({ v: 1, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z', zuoraUpdatedAt: 'yesterday' }), /zuoraUpdatedAt/],
  ])('refuses %s', (body, reason) => {
    const parsed = parseSyncRequest(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('createSyncRequest throws on an invalid id rather than queue it', () => {
    expect(() => createSyncRequest({ subscriptionId: 'A-S1/../x', source: 'backfill' })).toThrow(/invalid subscriptionId/);
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
      expect(refusalOf(JSON.stringify({ v: 2, subscriptionId: 'A-S1', source: 'test', receivedAt: '2026-01-01T00:00:00Z' }))).toBe(
        'unsupported message version 2 (number); expected 1',
      );
      expect(refusalOf(JSON.stringify({ v: 1, subscriptionId: 'A-S1', receivedAt: '2026-01-01T00:00:00Z' }))).toMatch(/^invalid source \(missing\); expected one of/);
    });
  });
});
