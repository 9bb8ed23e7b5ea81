import fc from 'fast-check';
import { classifySyncOutcome, parseRetryAfter, type LimioAnswer } from '../../functions/limio';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const classify = (answer: LimioAnswer, tokenRefreshed = false) =>
  classifySyncOutcome(answer, { tokenRefreshed, nowMs: NOW });
const response = (status: number, body: unknown, retryAfter?: string): LimioAnswer => ({
  kind: 'response',
  status,
  body,
  retryAfter,
});

// One test per row of the retry table (docs/how-a-subscription-is-synced.md).
describe('classifySyncOutcome: the retry table', () => {
  it('200 with success: true is synced, carrying Limio id and owner', () => {
    expect(classify(response(200, { success: true, id: 'sub-1', owner: 'idn-1' }))).toEqual({
      class: 'synced',
      httpStatus: 200,
      limioId: 'sub-1',
      owner: 'idn-1',
    });
  });

  it.each([
    ['success: false', { success: false }],
    ['no success field', { id: 'sub-1' }],
    ['success as a string', { success: 'true' }],
    ['a body that is not JSON', '<html>maintenance</html>'],
    ['an empty body', ''],
  ])('200 with %s is retryable', (_, body) => {
    expect(classify(response(200, body))).toMatchObject({ class: 'retryable', httpStatus: 200 });
  });

  it('401 asks for a fresh token first, and is retryable when the fresh token is refused too', () => {
    expect(classify(response(401, { message: 'expired' }))).toMatchObject({
      class: 'refresh',
      httpStatus: 401,
      error: expect.stringContaining('expired'),
    });
    expect(classify(response(401, { message: 'expired' }), true)).toMatchObject({
      class: 'retryable',
      httpStatus: 401,
    });
  });

  it('429 is retryable and carries Retry-After', () => {
    expect(classify(response(429, { message: 'slow down' }, '30'))).toEqual({
      class: 'retryable',
      httpStatus: 429,
      error: 'Limio answered 429: slow down',
      retryAfterSeconds: 30,
    });
    expect(classify(response(429, {}))).toEqual({ class: 'retryable', httpStatus: 429, error: 'Limio answered 429' });
  });

  it.each([500, 502, 503, 504, 599])('%i is retryable', (status) => {
    expect(classify(response(status, { message: 'upstream failed' }))).toMatchObject({
      class: 'retryable',
      httpStatus: status,
      error: `Limio answered ${status}: upstream failed`,
    });
  });

  it('a 503 with Retry-After carries it too', () => {
    expect(classify(response(503, {}, '120'))).toMatchObject({ class: 'retryable', retryAfterSeconds: 120 });
  });

  it('a network error and a timeout are retryable', () => {
    expect(classify({ kind: 'network-error', message: 'ECONNREFUSED' })).toEqual({
      class: 'retryable',
      error: 'network error: ECONNREFUSED',
    });
    expect(classify({ kind: 'timeout', timeoutMs: 8000 })).toEqual({
      class: 'retryable',
      error: 'Limio did not answer within 8000 ms',
    });
  });

  it.each([400, 404, 405, 410, 422, 451])('%i is terminal, with Limio message', (status) => {
    expect(classify(response(status, { message: 'Subscription not found' }))).toEqual({
      class: 'terminal',
      httpStatus: status,
      error: `Limio answered ${status}: Subscription not found`,
    });
  });

  it.each([408, 425])('%i (try later) is retryable, not terminal', (status) => {
    expect(classify(response(status, {}))).toMatchObject({ class: 'retryable', httpStatus: status });
  });

  // Refusals that say more about Limio's side (a permission removed from the API client, a WAF, a lock) than about
  // one subscription: if every sync gets one, retrying lets the breaker open instead of dead-lettering them all.
  it.each([403, 409, 423])('%i (Limio-side refusal) is retryable, with Limio message and Retry-After', (status) => {
    expect(classify(response(status, { message: 'Forbidden by policy' }, '60'))).toEqual({
      class: 'retryable',
      httpStatus: status,
      error: `Limio answered ${status}: Forbidden by policy`,
      retryAfterSeconds: 60,
    });
  });

  it('a redirect is not followed and is retryable', () => {
    expect(classify(response(302, ''))).toMatchObject({ class: 'retryable', httpStatus: 302 });
  });

  it('keeps a long error message to one clipped line', () => {
    const outcome = classify(response(404, { message: `line one\nline two ${'x'.repeat(1000)}` }));
    expect(outcome.class === 'terminal' && outcome.error).toMatch(/^Limio answered 404: line one line two x+…$/);
    expect(outcome.class === 'terminal' && outcome.error.length).toBeLessThan(350);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, never negative', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 45 ', NOW)).toBe(45);
    expect(parseRetryAfter('Wed, 25 Nov 2026 12:01:30 GMT', NOW)).toBe(90);
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

describe('classifySyncOutcome: properties', () => {
  it('classifies every status and any body without throwing, by the table', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.jsonValue(), fc.boolean(), (status, anyBody, refreshed) => {
        const outcome = classify(response(status, anyBody), refreshed);
        if (status >= 500 || [403, 408, 409, 423, 425, 429].includes(status)) return outcome.class === 'retryable';
        if (status === 401) return outcome.class === (refreshed ? 'retryable' : 'refresh');
        if (status >= 400) return outcome.class === 'terminal';
        const success =
          typeof anyBody === 'object' && anyBody !== null && !Array.isArray(anyBody) && anyBody.success === true;
        if (status >= 200 && status < 300 && success) return outcome.class === 'synced';
        return outcome.class === 'retryable';
      }),
    );
  });
});
