import { AccountSubscriptions, ChangedAccounts, groupsOf } from '../../functions/sweep/account-changes';
import { classifyAccountChange, classifyChange, type CoverageRules } from '../../functions/sweep/coverage';
import {
  ACCOUNT_IDS_PER_QUERY,
  changedAccountsZoql,
  changedContactsZoql,
  subscriptionsOfAccountsZoql,
} from '../../functions/sweep/window';

// Issue #22 item 3: the sweep's account changes as plain functions.

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const RULES: CoverageRules = { commitLagMs: 60_000, clockMarginMs: 1_000 };
const U = Date.parse('2026-11-24T17:30:00Z');

describe('account change queries', () => {
  const slice = { startMs: Date.parse('2026-11-24T17:00:00Z'), endMs: Date.parse('2026-11-24T18:00:00Z') };

  it('reads accounts and contacts by the same slice bounds and offsets as subscriptions, in lower-case keywords', () => {
    expect(changedAccountsZoql(slice)).toBe(
      "select Id, UpdatedDate from Account where UpdatedDate >= '2026-11-24T17:00:00+00:00' and UpdatedDate < '2026-11-24T18:00:00+00:00'",
    );
    expect(changedContactsZoql(slice, 'Z')).toBe(
      "select AccountId, UpdatedDate from Contact where UpdatedDate >= '2026-11-24T17:00:00Z' and UpdatedDate < '2026-11-24T18:00:00Z'",
    );
  });

  it('asks for the subscriptions of up to 199 accounts in one "or" query, and puts nothing but 32-hex ids in quotes', () => {
    expect(subscriptionsOfAccountsZoql([A, B])).toBe(
      `select Name, AccountId from Subscription where AccountId = '${A}' or AccountId = '${B}'`,
    );
    expect(subscriptionsOfAccountsZoql(Array(ACCOUNT_IDS_PER_QUERY).fill(A)).split(' or ')).toHaveLength(199);
    expect(() => subscriptionsOfAccountsZoql(Array(200).fill(A))).toThrow(RangeError);
    expect(() => subscriptionsOfAccountsZoql([])).toThrow(RangeError);
    expect(() => subscriptionsOfAccountsZoql([`${A.slice(1)}'`])).toThrow(/not a Zuora account id/);
  });

  it('groups ids in order, the last group holding the rest', () => {
    expect(groupsOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(groupsOf([], 199)).toEqual([]);
  });
});

describe('ChangedAccounts and AccountSubscriptions', () => {
  it('takes the latest change of an account or its contacts, refuses ids that are not Zuora ids, and resolves subscriptions by Name', () => {
    const changed = new ChangedAccounts()
      .addAccounts([
        { Id: A, UpdatedDate: '2026-11-24T09:10:00.000-08:00' },
        { Id: "x' or '1'='1", UpdatedDate: '2026-11-24T09:10:00.000-08:00' },
        {},
      ])
      .addContacts([
        { AccountId: A, UpdatedDate: '2026-11-24T09:20:00.000-08:00' },
        { AccountId: B, UpdatedDate: 'yesterday' },
      ]);
    expect([...changed.changeMsById]).toEqual([
      [A, Date.parse('2026-11-24T17:20:00Z')],
      [B, undefined],
    ]);
    expect([...changed.invalidIds]).toEqual(["x' or '1'='1"]);
    expect(changed.withoutId).toBe(1);
    expect(changed.lookupGroups()).toEqual([[A, B]]);

    const subscriptions = new AccountSubscriptions(changed).add([
      { Name: 'A-S1', AccountId: A },
      { Name: 'A-S1', AccountId: A },
      { Name: 'A-S2', AccountId: B },
      { Name: 'A-S3', AccountId: 'c'.repeat(32) },
      { AccountId: A },
    ]);
    expect([...subscriptions.changeMsByName]).toEqual([
      ['A-S1', Date.parse('2026-11-24T17:20:00Z')],
      ['A-S2', undefined],
    ]);
    expect(subscriptions.withoutName).toBe(1);
  });
});

describe('classifyAccountChange', () => {
  const sighted = U + 10 * 60_000;

  it('is covered by a success that started after U + L, or after the sweep sighted U', () => {
    expect(classifyAccountChange(U, { lastSuccessStartedAt: U + 61_500 }, sighted, RULES)).toBe('covered');
    expect(classifyAccountChange(U, { lastSuccessStartedAt: sighted + 1_500 }, sighted, RULES)).toBe('covered');
  });

  it('does not take provenThrough for proof, as a subscription change does: it names a Subscription UpdatedDate', () => {
    const facts = { lastQueuedAt: U + 1_000, lastSuccessStartedAt: U + 2_000, provenThrough: U };
    expect(classifyChange(U, facts, sighted, RULES)).toBe('covered');
    expect(classifyAccountChange(U, facts, sighted, RULES)).toBe('unproven');
    expect(classifyAccountChange(U, { provenThrough: U + 120_000 }, sighted, RULES)).toBe('missing');
  });

  it("is pending while the fan-out's mark (or any message queued after U) waits for its sync, missing with nothing queued after U", () => {
    expect(classifyAccountChange(U, { lastQueuedAt: U + 3_000 }, sighted, RULES)).toBe('pending');
    expect(classifyAccountChange(U, { lastQueuedAt: U - 1_000 }, sighted, RULES)).toBe('missing');
    expect(classifyAccountChange(U, undefined, sighted, RULES)).toBe('missing');
    expect(classifyAccountChange(undefined, { lastQueuedAt: U + 3_000 }, sighted, RULES)).toBe('unproven');
  });
});
