import fc from 'fast-check';
import {
  accountKeyRuleFrom,
  checkAccountKey,
  isValidAccountKey,
  MAX_ACCOUNT_KEY_LENGTH,
} from '../../functions/shared/account-key';
import { ConfigError } from '../../functions/shared/config-error';

describe('account key rule', () => {
  it.each(['A00001234', 'A00000001', 'A-00001234', 'ACC1', '1234', '2c92a0fd55822b4d015590d5d7c0418d'])(
    'accepts %s',
    (key) => {
      expect(isValidAccountKey(key)).toBe(true);
    },
  );

  it.each([
    ['', /empty/],
    ['A0000/1234', /characters other than/],
    ['../admin', /characters other than/],
    ['A00001234.', /characters other than/],
    ['A%2F1', /characters other than/],
    ['A0001 ', /characters other than/],
    ['A0001\n', /characters other than/],
    ['A-S00000271', /neither an account number/], // a subscription number is not an account key
    ['Acme', /neither/],
    ['2C92A0FD55822B4D015590D5D7C0418D', /neither/], // ids are lowercase hex
    ['2c92a0fd55822b4d015590d5d7c0418', /neither/], // 31 hex
    ['A'.padEnd(MAX_ACCOUNT_KEY_LENGTH + 1, '1'), /longer than 64/],
  ])('refuses %j', (key, reason) => {
    const check = checkAccountKey(key);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it('names what a non-string was without stringifying it whole', () => {
    expect(checkAccountKey(1234)).toEqual({ ok: false, reason: 'expected a string, got 1234 (number)' });
    expect(checkAccountKey(null)).toEqual({ ok: false, reason: 'expected a string, got null' });
    const deep = JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) as unknown;
    const check = checkAccountKey(deep);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason.length).toBeLessThan(120);
  });

  it('a configured pattern replaces the number pattern but never the path-safety rule or the 32-hex id', () => {
    const rule = accountKeyRuleFrom('CUST[0-9]+|.*');
    expect(isValidAccountKey('CUST42', rule)).toBe(true);
    expect(isValidAccountKey('a/b', rule)).toBe(false);
    expect(isValidAccountKey('..', rule)).toBe(false);
    expect(isValidAccountKey('2c92a0fd55822b4d015590d5d7c0418d', accountKeyRuleFrom('CUST[0-9]+'))).toBe(true);
    expect(isValidAccountKey('A00001234', accountKeyRuleFrom('CUST[0-9]+'))).toBe(false);
    // Anchored when it is not already: a pattern that matches part of the key does not pass it.
    expect(isValidAccountKey('XCUST1', accountKeyRuleFrom('CUST[0-9]+'))).toBe(false);
  });

  it('a broken pattern is a ConfigError naming the variable', () => {
    expect(() => accountKeyRuleFrom('A[0-9')).toThrow(ConfigError);
    expect(() => accountKeyRuleFrom('A[0-9')).toThrow(/^ACCOUNT_NUMBER_PATTERN: /);
  });

  it('nothing it accepts can change a URL path', () => {
    const permissive = accountKeyRuleFrom('.*');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (value) => {
        if (!isValidAccountKey(value, permissive)) return;
        expect(encodeURIComponent(value)).toBe(value);
        expect(value.length).toBeLessThanOrEqual(MAX_ACCOUNT_KEY_LENGTH);
      }),
      { numRuns: 2000 },
    );
  });
});
