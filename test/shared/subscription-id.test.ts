import fc from 'fast-check';
import {
  checkSubscriptionId,
  isValidSubscriptionId,
  subscriptionIdRuleFrom,
} from '../../functions/shared/subscription-id';
import { ConfigError } from '../../functions/shared/config-error';

describe('subscription id rule', () => {
  it.each(['A-S00000271', 'A-S1', 'SUB-00001', 'S00000271', 'ABC-DEF-12', '8a8082c45a1b2c3d4e5f60718293a4b5'])(
    'accepts %s',
    (id) => expect(isValidSubscriptionId(id)).toBe(true),
  );

  it.each([
    ['', /empty/],
    ['A-S0000/271', /characters other than/],
    ['../admin', /characters other than/],
    ['A-S%2F271', /characters other than/],
    ['A-S 271', /characters other than/],
    ['A-S271\n', /characters other than/],
    ['A-S271\u0000', /characters other than/],
    ['A-S', /neither/],
    ['271', /neither/],
    ['8A8082C45A1B2C3D4E5F60718293A4B5', /neither/], // object ids are lowercase hex
    ['8a8082c45a1b2c3d4e5f60718293a4b', /neither/], // 31 hex
    ['A-S'.padEnd(70, '1'), /longer than/],
  ])('refuses %j', (id, reason) => {
    const check = checkSubscriptionId(id);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(reason);
  });

  it('refuses non-strings with the type in the reason', () => {
    expect(checkSubscriptionId(271)).toEqual({ ok: false, reason: 'expected a string, got number' });
    expect(checkSubscriptionId(null)).toEqual({ ok: false, reason: 'expected a string, got null' });
  });

  it('a configured pattern replaces the number pattern but never the path-safety rule', () => {
    const rule = subscriptionIdRuleFrom('SUB[0-9]+|.*');
    expect(isValidSubscriptionId('SUB42', rule)).toBe(true);
    expect(isValidSubscriptionId('A-S00000271', rule)).toBe(true); // `.*` allows it
    expect(isValidSubscriptionId('a/b', rule)).toBe(false);
    expect(isValidSubscriptionId('..', rule)).toBe(false);
    expect(isValidSubscriptionId('8a8082c45a1b2c3d4e5f60718293a4b5', subscriptionIdRuleFrom('SUB[0-9]+'))).toBe(true);
    expect(isValidSubscriptionId('A-S00000271', subscriptionIdRuleFrom('SUB[0-9]+'))).toBe(false);
  });

  it('a broken pattern is a ConfigError naming the variable', () => {
    expect(() => subscriptionIdRuleFrom('A-S[0-9')).toThrow(ConfigError);
    expect(() => subscriptionIdRuleFrom('A-S[0-9')).toThrow(/^SUBSCRIPTION_ID_PATTERN: /);
  });

  it('nothing it accepts can change a URL path', () => {
    const permissive = subscriptionIdRuleFrom('.*');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (value) => {
        if (!isValidSubscriptionId(value, permissive)) return;
        expect(encodeURIComponent(value)).toBe(value);
        expect(value).not.toContain('..');
      }),
      { numRuns: 2000 },
    );
  });
});
