import { parseQueryPage, parseRetryAfterMs, ZuoraApiError } from '../../functions/sweep/zuora-answers';

const at = (iso: string) => Date.parse(iso);

describe('query answers', () => {
  it("accepts Zuora's shapes, an empty result without records included", () => {
    expect(parseQueryPage({ records: [{ Name: 'A-S1' }], size: 3, done: false, queryLocator: 'abc-1' })).toEqual({
      records: [{ Name: 'A-S1' }],
      done: false,
      queryLocator: 'abc-1',
    });
    expect(parseQueryPage({ size: 0, done: true })).toEqual({ records: [], done: true });
  });

  it('refuses what would page wrongly', () => {
    expect(() => parseQueryPage({ records: [], done: false })).toThrow(/no queryLocator/);
    expect(() => parseQueryPage({ records: [] })).toThrow(/boolean "done"/);
    expect(() => parseQueryPage({ records: ['A-S1'], done: true })).toThrow(/not a list of objects/);
    expect(() => parseQueryPage('oops')).toThrow(ZuoraApiError);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = at('2026-11-24T18:00:00Z');
    expect(parseRetryAfterMs('5', now)).toBe(5000);
    expect(parseRetryAfterMs('Tue, 24 Nov 2026 18:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
  });
});
