import { extractSubscriptionIds, zuoraTime, type ExtractOptions } from '../../functions/callout/extract-ids';
import { accountKeyRuleFrom } from '../../functions/shared/account-key';
import { normaliseEvent } from '../../functions/callout/request';
import { subscriptionIdRuleFrom } from '../../functions/shared/subscription-id';
import { httpApiEvent, restApiEvent, type CalloutShape } from './events';

const OBJECT_ID = '8a8082c45a1b2c3d4e5f60718293a4b5';
const options: ExtractOptions = { maxIds: 100 };
const extract = (shape: CalloutShape, extra: Partial<ExtractOptions> = {}) =>
  extractSubscriptionIds(normaliseEvent(httpApiEvent(shape)), { ...options, ...extra });
const json = (body: unknown, headers: Record<string, string> = {}) =>
  extract({ headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const ids = (result: ReturnType<typeof extract>) => (result.ok ? result.ids : result);

describe('extractSubscriptionIds: JSON', () => {
  it.each([
    [{ subscriptionNumber: 'A-S00000271', eventType: 'SubscriptionCreated', accountNumber: 'A00000101' }],
    [{ SubscriptionNumber: 'A-S00000271' }],
    [{ subscription_number: 'A-S00000271' }],
    [{ subscriptionName: 'A-S00000271' }],
    [{ Subscription: { Name: 'A-S00000271', Id: OBJECT_ID } }],
    [{ 'Subscription.Name': 'A-S00000271' }],
    [{ Data: { Subscription: { Name: 'A-S00000271' } } }],
    [{ subscription: 'A-S00000271' }],
  ])('finds the number in %j', (body) => {
    expect(ids(json(body))).toEqual(['A-S00000271']);
  });

  it('reads arrays, arrays of objects and top-level lists, keeping order and dropping repeats', () => {
    expect(ids(json({ subscriptionNumbers: ['A-S1', 'A-S2', 'A-S1'] }))).toEqual(['A-S1', 'A-S2']);
    expect(
      ids(json({ subscriptions: [{ subscriptionNumber: 'A-S00000271' }, { subscriptionNumber: 'A-S00000272' }] })),
    ).toEqual(['A-S00000271', 'A-S00000272']);
    expect(ids(json({ subscriptions: [{ name: 'A-S1' }, { number: 'A-S2' }, 'A-S3'] }))).toEqual([
      'A-S1',
      'A-S2',
      'A-S3',
    ]);
    expect(ids(json(['A-S1', 'A-S2']))).toEqual(['A-S1', 'A-S2']);
    expect(ids(json([{ subscriptionNumber: 'A-S1' }, { SubscriptionNumber: 'A-S2' }]))).toEqual(['A-S1', 'A-S2']);
  });

  it('prefers subscription numbers over object ids, and takes object ids when there is no number', () => {
    expect(ids(json({ subscriptionId: OBJECT_ID, subscriptionNumber: 'A-S00000271' }))).toEqual(['A-S00000271']);
    expect(ids(json({ subscriptionId: OBJECT_ID }))).toEqual([OBJECT_ID]);
    expect(ids(json({ subscription: { id: OBJECT_ID } }))).toEqual([OBJECT_ID]);
  });

  it('looks at the configured field first (a dot path through objects and arrays)', () => {
    const body = { subscriptionNumber: 'A-S9', Data: { Subs: [{ Name: 'A-S1' }, { Name: 'A-S2' }] } };
    expect(
      ids(
        extract(
          { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
          { idField: 'Data.Subs.Name' },
        ),
      ),
    ).toEqual(['A-S1', 'A-S2']);
    // Falls back to the usual names when the configured field is absent.
    expect(
      ids(
        extract(
          { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscriptionNumber: 'A-S9' }) },
          { idField: 'ref' },
        ),
      ),
    ).toEqual(['A-S9']);
    // A custom name works in query and form parameters too.
    expect(ids(extract({ method: 'GET', query: 'ref=A-S7' }, { idField: 'ref' }))).toEqual(['A-S7']);
  });

  it('skips empty merge fields but refuses anything that is not a valid id', () => {
    // Whitespace around a merge field (a Liquid template's line break) is not part of the id.
    expect(ids(json({ subscriptionNumber: ' A-S1\n' }))).toEqual(['A-S1']);
    expect(ids(json({ subscriptionNumber: 'A-S1', subscriptionName: '', subscriptionNumbers: [null] }))).toEqual([
      'A-S1',
    ]);
    for (const bad of [
      '../admin',
      'A-S1/x',
      'A-S1%2F',
      'A S1',
      'A-\nS1',
      'A-S1\u0000',
      'A-S1?x=1',
      'hello',
      42,
      true,
      { Name: 'A-S1' },
      [['A-S1']],
    ]) {
      const result = json({ subscriptionNumber: bad });
      expect(result).toMatchObject({ ok: false, status: 400, refusal: 'invalid-id' });
    }
  });

  it('applies the configured subscription number pattern', () => {
    const rule = subscriptionIdRuleFrom('SUB[0-9]{4}');
    expect(
      ids(
        extract(
          { headers: { 'content-type': 'application/json' }, body: '{"subscriptionNumber":"SUB0001"}' },
          { rule },
        ),
      ),
    ).toEqual(['SUB0001']);
    expect(
      extract(
        { headers: { 'content-type': 'application/json' }, body: '{"subscriptionNumber":"A-S00000271"}' },
        { rule },
      ),
    ).toMatchObject({ ok: false, refusal: 'invalid-id' });
  });

  it('refuses JSON that does not parse', () => {
    expect(extract({ headers: { 'content-type': 'application/json' }, body: '{"subscriptionNumber":' })).toMatchObject({
      ok: false,
      status: 400,
      refusal: 'malformed-body',
    });
  });

  it('names the fields it looked at when it finds no id', () => {
    const result = extract(
      { headers: { 'content-type': 'application/json' }, body: '{"eventType":"OrderProcessed"}' },
      { idField: 'Data.Ref' },
    );
    expect(result).toMatchObject({ ok: false, status: 400, refusal: 'no-ids' });
    if (!result.ok) {
      expect(result.message).toContain('Data.Ref');
      expect(result.message).toContain('subscriptionNumber');
      expect(result.message).toContain('Subscription.Name');
    }
  });

  it('refuses more ids than the limit with 413', () => {
    const many = Array.from({ length: 11 }, (_, index) => `A-S${index}`);
    expect(
      extract(
        { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subscriptionNumbers: many }) },
        { maxIds: 10 },
      ),
    ).toMatchObject({
      ok: false,
      status: 413,
      refusal: 'too-many-ids',
    });
    // Repeats do not count against the limit.
    expect(
      ids(
        extract(
          {
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ subscriptionNumbers: [...many.slice(0, 10), 'A-S0'] }),
          },
          { maxIds: 10 },
        ),
      ),
    ).toHaveLength(10);
  });

  it('stays within bounds on a deeply nested body', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(extract({ headers: { 'content-type': 'application/json' }, body: deep })).toMatchObject({
      ok: false,
      refusal: 'no-ids',
    });
  });
});

describe('extractSubscriptionIds: form, query and XML', () => {
  it('reads a form body (base64-encoded by API Gateway) and a +json / charset content type', () => {
    expect(
      ids(
        extract({
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'subscriptionNumber=A-S00000271&eventType=OrderProcessed',
        }),
      ),
    ).toEqual(['A-S00000271']);
    expect(
      ids(
        extract({
          headers: { 'content-type': 'application/vnd.zuora+json; charset=utf-8' },
          body: '{"subscriptionNumber":"A-S1"}',
        }),
      ),
    ).toEqual(['A-S1']);
  });

  it('reads query parameters, repeated or comma-separated, on GET and alongside a body', () => {
    expect(ids(extract({ method: 'GET', query: 'subscriptionNumber=A-S00000271&eventType=OrderProcessed' }))).toEqual([
      'A-S00000271',
    ]);
    expect(ids(extract({ method: 'GET', query: 'subscriptionNumber=A-S1&subscriptionNumber=A-S2' }))).toEqual([
      'A-S1',
      'A-S2',
    ]);
    expect(ids(extract({ method: 'GET', query: 'SubscriptionNumbers=A-S1,A-S2' }))).toEqual(['A-S1', 'A-S2']);
    expect(
      ids(
        extract({
          query: 'subscriptionNumber=A-S1',
          headers: { 'content-type': 'application/json' },
          body: '{"subscriptionNumber":"A-S2"}',
        }),
      ),
    ).toEqual(['A-S1', 'A-S2']);
    expect(
      ids(
        extractSubscriptionIds(
          normaliseEvent(restApiEvent({ method: 'GET', query: 'subscriptionNumber=A-S1&subscriptionNumber=A-S2' })),
          options,
        ),
      ),
    ).toEqual(['A-S1', 'A-S2']);
  });

  it("reads Zuora's <parameter name=...> XML and plain elements, namespaced or not", () => {
    const zuora = `<?xml version="1.0" encoding="UTF-8"?>
<callout>
  <parameter name="SubscriptionNumber">A-S00000271</parameter>
  <parameter name="EventType">Amendment</parameter>
</callout>`;
    expect(ids(extract({ headers: { 'content-type': 'application/xml' }, body: zuora }))).toEqual(['A-S00000271']);
    expect(
      ids(
        extract({
          headers: { 'content-type': 'text/xml' },
          body: '<z:event xmlns:z="urn:z"><z:SubscriptionNumber>A-S0001</z:SubscriptionNumber></z:event>',
        }),
      ),
    ).toEqual(['A-S0001']);
    expect(
      ids(
        extract({
          headers: { 'content-type': 'application/xml' },
          body: '<e><Subscription><Name>A-S1</Name></Subscription><Subscription><Name>A-S2</Name></Subscription></e>',
        }),
      ),
    ).toEqual(['A-S1', 'A-S2']);
  });

  it('does not expand XML entities and refuses malformed XML', () => {
    const entity = '<!DOCTYPE c [<!ENTITY x "A-S00000271">]><c><SubscriptionNumber>&x;</SubscriptionNumber></c>';
    expect(extract({ headers: { 'content-type': 'application/xml' }, body: entity })).toMatchObject({ ok: false });
    expect(
      extract({ headers: { 'content-type': 'application/xml' }, body: '<c><SubscriptionNumber>A-S1</c>' }),
    ).toMatchObject({ ok: false, status: 400, refusal: 'malformed-body' });
  });

  it('sniffs bodies sent without a Content-Type or as text/plain', () => {
    expect(ids(extract({ body: '{"subscriptionNumber":"A-S1"}' }))).toEqual(['A-S1']);
    expect(ids(extract({ body: 'subscriptionNumber=A-S2' }))).toEqual(['A-S2']);
    expect(
      ids(
        extract({
          headers: { 'content-type': 'text/plain' },
          body: '<c><parameter name="SubscriptionNumber">A-S3</parameter></c>',
        }),
      ),
    ).toEqual(['A-S3']);
  });

  it('refuses other content types with 415, unless the ids are in the query and there is no body', () => {
    expect(extract({ headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' })).toMatchObject({
      ok: false,
      status: 415,
    });
    expect(
      extract({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2]) }),
    ).toMatchObject({ ok: false, status: 415 });
    expect(
      ids(extract({ headers: { 'content-type': 'application/octet-stream' }, query: 'subscriptionNumber=A-S1' })),
    ).toEqual(['A-S1']);
  });

  it('treats parameter names an object prototype has (toString, __proto__, constructor) as plain names', () => {
    expect(extract({ method: 'POST', query: 'toString=&__proto__=x&constructor=y' })).toMatchObject({
      ok: false,
      refusal: 'no-ids',
    });
    expect(
      ids(
        extract({
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'toString=1&subscriptionNumber=A-S1&__proto__=2',
        }),
      ),
    ).toEqual(['A-S1']);
    expect(
      ids(
        extract({
          headers: { 'content-type': 'application/xml' },
          body: '<c><parameter name="__proto__">x</parameter><parameter name="SubscriptionNumber">A-S1</parameter></c>',
        }),
      ),
    ).toEqual(['A-S1']);
    expect(
      extract({ headers: { 'content-type': 'application/json' }, body: '{"a":1}' }, { idField: 'constructor' }),
    ).toMatchObject({ ok: false, refusal: 'no-ids' });
  });

  it('ignores a GET body', () => {
    expect(
      extract({
        method: 'GET',
        headers: { 'content-type': 'application/json' },
        body: '{"subscriptionNumber":"A-S1"}',
      }),
    ).toMatchObject({ ok: false, refusal: 'no-ids' });
  });
});

describe('extractSubscriptionIds: account keys (issue #22)', () => {
  const ACCOUNT_ID = '2c92a0fd55822b4d015590d5d7c0418d';
  const accounts = (result: ReturnType<typeof extract>) =>
    result.ok ? { ids: result.ids, accountKeys: result.accountKeys } : result;

  it.each([
    [{ AccountNumber: 'A00001234' }],
    [{ accountNumber: 'A00001234' }],
    [{ account_number: 'A00001234' }],
    [{ 'Account.AccountNumber': 'A00001234' }],
    [{ 'Account.Number': 'A00001234' }],
    [{ Account: { AccountNumber: 'A00001234', Name: 'Acme Ltd', Id: ACCOUNT_ID } }],
    [{ Account: { Number: 'A00001234' } }],
    [{ Data: { Account: { AccountNumber: 'A00001234' } } }],
    [{ accounts: [{ number: 'A00001234' }, 'A00001234'] }],
    [{ accountNumbers: ['A00001234', 'A00001234'] }],
    [{ account: 'A00001234' }],
  ])('finds the account number in %j', (body) => {
    expect(accounts(json(body))).toEqual({ ids: [], accountKeys: ['A00001234'] });
  });

  it.each([
    [{ AccountId: ACCOUNT_ID }],
    [{ accountId: ACCOUNT_ID }],
    [{ 'Account.Id': ACCOUNT_ID }],
    [{ Account: { Id: ACCOUNT_ID, Name: 'Acme Ltd' } }],
    [{ accountIds: [ACCOUNT_ID] }],
  ])('finds the account id in %j', (body) => {
    expect(accounts(json(body))).toEqual({ ids: [], accountKeys: [ACCOUNT_ID] });
  });

  it('prefers the account number over the account id (one account, fanned out once)', () => {
    expect(accounts(json({ AccountId: ACCOUNT_ID, AccountNumber: 'A00001234' }))).toEqual({
      ids: [],
      accountKeys: ['A00001234'],
    });
  });

  it("never reads an account's name as its number", () => {
    expect(json({ Account: { Name: 'A00001234' } })).toMatchObject({ ok: false, refusal: 'no-ids' });
  });

  it('reads form, query and XML shapes', () => {
    expect(
      accounts(
        extract({
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'AccountNumber=A00001234&EventType=AccountUpdate',
        }),
      ),
    ).toEqual({
      ids: [],
      accountKeys: ['A00001234'],
    });
    expect(accounts(extract({ method: 'GET', query: 'accountNumber=A1,A2&Account.Id=' + ACCOUNT_ID }))).toEqual({
      ids: [],
      accountKeys: ['A1', 'A2'],
    });
    const zuora =
      '<callout><parameter name="AccountNumber">A00001234</parameter><parameter name="EventType">ContactUpdate</parameter></callout>';
    expect(accounts(extract({ headers: { 'content-type': 'application/xml' }, body: zuora }))).toEqual({
      ids: [],
      accountKeys: ['A00001234'],
    });
    expect(
      accounts(
        extract({ headers: { 'content-type': 'text/xml' }, body: `<e><Account><Id>${ACCOUNT_ID}</Id></Account></e>` }),
      ),
    ).toEqual({ ids: [], accountKeys: [ACCOUNT_ID] });
  });

  it('finds both kinds in a callout that mixes them', () => {
    expect(accounts(json({ SubscriptionNumber: 'A-S00000271', AccountNumber: 'A00001234' }))).toEqual({
      ids: ['A-S00000271'],
      accountKeys: ['A00001234'],
    });
  });

  it('refuses the whole callout for an invalid account key, with the rule it broke', () => {
    expect(json({ AccountNumber: '../admin' })).toMatchObject({
      ok: false,
      status: 400,
      refusal: 'invalid-id',
      message: expect.stringContaining('characters other than'),
    });
    expect(json({ SubscriptionNumber: 'A-S1', AccountId: 'ABC' })).toMatchObject({
      ok: false,
      status: 400,
      refusal: 'invalid-id',
    });
    expect(json({ AccountNumber: { deep: [[[1]]] } })).toMatchObject({
      ok: false,
      refusal: 'invalid-id',
      message: expect.stringContaining('(object)'),
    });
  });

  it('applies the configured account number pattern', () => {
    const accountRule = accountKeyRuleFrom('CUST-X-[0-9]{4}');
    const body = (key: string) => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ AccountNumber: key }),
    });
    expect(accounts(extract(body('CUST-X-0042'), { accountRule }))).toEqual({ ids: [], accountKeys: ['CUST-X-0042'] });
    expect(extract(body('A00001234'), { accountRule })).toMatchObject({ ok: false, refusal: 'invalid-id' });
  });

  it('counts account keys and subscription ids together against CALLOUT_MAX_IDS', () => {
    const body = {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscriptionNumbers: ['A-S1', 'A-S2'], accountNumbers: ['A1', 'A2'] }),
    };
    expect(extract(body, { maxIds: 3 })).toMatchObject({
      ok: false,
      status: 413,
      refusal: 'too-many-ids',
      message: expect.stringContaining('4 subscription ids and account keys'),
    });
    expect(extract(body, { maxIds: 4 })).toMatchObject({ ok: true });
  });

  it('names the account fields it looked at when it finds nothing', () => {
    expect(json({ EventType: 'ContactUpdate' })).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /no subscription id or account key found; looked at .*accountNumber\(s\).*Account\.Id/,
      ),
    });
  });
});

describe("extractSubscriptionIds: the subscription's UpdatedDate (issue #22)", () => {
  const updatedAt = (result: ReturnType<typeof extract>) => (result.ok ? result.zuoraUpdatedAt : result);

  it.each([
    [{ SubscriptionNumber: 'A-S1', UpdatedDate: '2026-11-24T10:03:12.000-08:00' }],
    [{ SubscriptionNumber: 'A-S1', 'Subscription.UpdatedDate': '2026-11-24T10:03:12-08:00' }],
    [{ Subscription: { Name: 'A-S1', UpdatedDate: '2026-11-24T10:03:12.000-0800' } }],
    [
      {
        SubscriptionNumber: 'A-S1',
        UpdatedDate: '2026-11-24T18:03:12Z',
        Subscription: { UpdatedDate: '2026-11-24T10:03:12.000-08:00' },
      },
    ],
  ])("reads Zuora's offset form in %j as UTC", (body) => {
    expect(updatedAt(json(body))).toBe('2026-11-24T18:03:12.000Z');
  });

  it('reads it from form, query and XML shapes', () => {
    expect(
      updatedAt(
        extract({
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'SubscriptionNumber=A-S1&UpdatedDate=2026-11-24T10%3A03%3A12.000-08%3A00',
        }),
      ),
    ).toBe('2026-11-24T18:03:12.000Z');
    expect(
      updatedAt(
        extract({ method: 'GET', query: 'subscriptionNumber=A-S1&Subscription.UpdatedDate=2026-11-24T18:03:12Z' }),
      ),
    ).toBe('2026-11-24T18:03:12.000Z');
    const xml =
      '<c><parameter name="SubscriptionNumber">A-S1</parameter><parameter name="UpdatedDate">2026-11-24T10:03:12.000-08:00</parameter></c>';
    expect(updatedAt(extract({ headers: { 'content-type': 'application/xml' }, body: xml }))).toBe(
      '2026-11-24T18:03:12.000Z',
    );
  });

  it('leaves it out, without refusing the callout, when it is unreadable, has no offset, or is ambiguous', () => {
    for (const body of [
      { SubscriptionNumber: 'A-S1', UpdatedDate: 'last Tuesday' },
      { SubscriptionNumber: 'A-S1', UpdatedDate: '2026-11-24 10:03:12' },
      { SubscriptionNumber: 'A-S1', UpdatedDate: '2026-11-24T10:03:12' },
      { SubscriptionNumber: 'A-S1', UpdatedDate: 1764007392000 },
      { SubscriptionNumber: 'A-S1', UpdatedDate: '2026-13-45T99:03:12Z' },
      { SubscriptionNumber: 'A-S1', UpdatedDate: ['2026-11-24T18:03:12Z', '2026-11-24T18:04:12Z'] },
    ]) {
      const result = json(body);
      expect(result).toMatchObject({ ok: true, ids: ['A-S1'] });
      expect(updatedAt(result)).toBeUndefined();
    }
  });

  it('leaves it out unless the callout names exactly one subscription', () => {
    expect(
      updatedAt(json({ subscriptionNumbers: ['A-S1', 'A-S2'], UpdatedDate: '2026-11-24T18:03:12Z' })),
    ).toBeUndefined();
    expect(updatedAt(json({ AccountNumber: 'A1', UpdatedDate: '2026-11-24T18:03:12Z' }))).toBeUndefined();
  });

  it("does not take the account's UpdatedDate for the subscription's", () => {
    expect(
      updatedAt(
        json({ SubscriptionNumber: 'A-S1', Account: { AccountNumber: 'A1', UpdatedDate: '2026-11-24T18:03:12Z' } }),
      ),
    ).toBeUndefined();
    expect(
      updatedAt(json({ SubscriptionNumber: 'A-S1', 'Account.UpdatedDate': '2026-11-24T18:03:12Z' })),
    ).toBeUndefined();
  });

  it('zuoraTime reads fractions of any length and both offset forms', () => {
    expect(zuoraTime('2026-11-24T10:03:12.123456-08:00')).toBe('2026-11-24T18:03:12.123Z');
    expect(zuoraTime('2026-11-24T10:03:12.5+0100')).toBe('2026-11-24T09:03:12.500Z');
    expect(zuoraTime(' 2026-11-24T10:03:12Z ')).toBe('2026-11-24T10:03:12.000Z');
    expect(zuoraTime('2026-11-24T10:03Z')).toBeUndefined();
  });
});
