import { batchOutcomesOf, breakerOutcomeOf } from '../../functions/breaker/sync-outcome';
import { classifySyncOutcome, type LimioAnswer } from '../../functions/limio';

const context = { tokenRefreshed: false, nowMs: Date.parse('2026-11-24T10:00:00.000Z') };
const response = (status: number, body: unknown = {}, retryAfter?: string): LimioAnswer => ({
  kind: 'response',
  status,
  body,
  ...(retryAfter && { retryAfter }),
});

describe('the retry table in the breaker terms', () => {
  it.each([
    ['200 success', response(200, { success: true, id: 'x', owner: 'y' }), 'synced'],
    ['200 without success', response(200, { success: false }), 'limio-failure'],
    ['401 (refresh)', response(401), 'limio-failure'],
    ['403', response(403, { message: 'Forbidden' }), 'limio-failure'],
    ['409', response(409), 'limio-failure'],
    ['423', response(423), 'limio-failure'],
    ['429', response(429, {}, '30'), 'limio-failure'],
    ['500', response(500), 'limio-failure'],
    ['502', response(502), 'limio-failure'],
    ['503', response(503), 'limio-failure'],
    ['504', response(504), 'limio-failure'],
    ['timeout', { kind: 'timeout', timeoutMs: 8000 } as LimioAnswer, 'limio-failure'],
    ['network error', { kind: 'network-error', message: 'ECONNRESET' } as LimioAnswer, 'limio-failure'],
    ['400', response(400), 'refused'],
    ['404', response(404), 'refused'],
    ['422', response(422), 'refused'],
  ])('%s -> %s', (_, answer, expected) => {
    expect(breakerOutcomeOf(classifySyncOutcome(answer, context))).toBe(expected);
  });
});

describe('batchOutcomesOf', () => {
  it('makes one entry per sync and one token failure per batch that found no token', () => {
    const noToken = {
      class: 'retryable',
      error: 'no Limio token: no answer within 8000 ms',
      tokenUnavailable: true,
    } as const;
    expect(
      batchOutcomesOf([
        { subscriptionId: 'A-S1', outcome: noToken },
        { subscriptionId: 'A-S2', outcome: noToken },
        { subscriptionId: 'A-S3', outcome: classifySyncOutcome(response(404), context) },
      ]),
    ).toEqual({
      syncs: [
        { subscriptionId: 'A-S1', outcome: 'limio-failure' },
        { subscriptionId: 'A-S2', outcome: 'limio-failure' },
        { subscriptionId: 'A-S3', outcome: 'refused' },
      ],
      tokenFailures: 1,
    });
    expect(
      batchOutcomesOf([{ subscriptionId: 'A-S1', outcome: classifySyncOutcome(response(502), context) }]).tokenFailures,
    ).toBe(0);
  });
});
