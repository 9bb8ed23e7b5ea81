import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';

// Issue #22: the sandbox's accounts, their bill-to / sold-to contacts and their subscriptions, read by ZOQL over
// real HTTP as ../shared/zuora-api.md says Zuora serves them.

const at = (iso: string) => Date.parse(iso);

async function query(
  sandbox: ZuoraSandbox,
  queryString: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const tokenResponse = await fetch(`${sandbox.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
      grant_type: 'client_credentials',
    }).toString(),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const response = await fetch(`${sandbox.baseUrl}/v1/action/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ queryString }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('Zuora sandbox: accounts, contacts and their subscriptions (issue #22)', () => {
  let sandbox: ZuoraSandbox;
  beforeEach(async () => {
    sandbox = await startZuoraSandbox();
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  it('creates an account with one contact as bill-to and sold-to, read by AccountNumber and by UpdatedDate', async () => {
    const account = sandbox.account('A00000001', at('2026-11-24T17:00:00Z'));
    expect(account).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), accountNumber: 'A00000001' });
    expect(account.billToId).toBe(account.soldToId);
    expect(sandbox.account(account.id)).toEqual(account);
    const byNumber = await query(
      sandbox,
      "select Id, AccountNumber, BillToId, SoldToId, UpdatedDate from Account where AccountNumber = 'A00000001'",
    );
    expect(byNumber.body.records).toEqual([
      {
        Id: account.id,
        AccountNumber: 'A00000001',
        BillToId: account.billToId,
        SoldToId: account.soldToId,
        UpdatedDate: '2026-11-24T09:00:00.000-08:00',
      },
    ]);
    expect((await query(sandbox, "select Id from Account where AccountNumber = 'A404'")).body).toMatchObject({
      records: [],
      size: 0,
      done: true,
    });
  });

  it('changes a contact in place (no new Subscription version, no Subscription UpdatedDate moved), read by UpdatedDate', async () => {
    const account = sandbox.account('A00000002', at('2026-11-24T16:00:00Z'));
    sandbox.touch('A-S1', at('2026-11-24T16:00:00Z'), { account: 'A00000002' });
    const contact = sandbox.touchContact(
      'A00000002',
      { address1: '2 New Street', workEmail: 'new@example.com' },
      { at: at('2026-11-24T17:30:00Z') },
    );
    expect(contact).toMatchObject({
      id: account.billToId,
      accountId: account.id,
      address1: '2 New Street',
      city: 'London',
    });
    expect(sandbox.contacts()).toHaveLength(1);
    const changed = await query(
      sandbox,
      "select Id, AccountId, WorkEmail, Address1, UpdatedDate from Contact where UpdatedDate >= '2026-11-24T17:00:00Z'",
    );
    expect(changed.body.records).toEqual([
      {
        Id: account.billToId,
        AccountId: account.id,
        WorkEmail: 'new@example.com',
        Address1: '2 New Street',
        UpdatedDate: '2026-11-24T09:30:00.000-08:00',
      },
    ]);
    expect(
      (await query(sandbox, "select Name from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z'")).body.records,
    ).toEqual([]);
    const touched = sandbox.touchAccount('A00000002', at('2026-11-24T17:45:00Z'));
    expect(
      (await query(sandbox, "select Id from Account where UpdatedDate >= '2026-11-24T17:40:00Z'")).body.records,
    ).toEqual([{ Id: touched.id }]);
  });

  it('gives each subscription version its account: every version by AccountId, a new version staying on it', async () => {
    const account = sandbox.account('A00000003');
    sandbox.touch('A-S1', undefined, { account: 'A00000003' });
    sandbox.touch('A-S1');
    sandbox.touch('A-S2', undefined, { account: account.id });
    sandbox.touch('A-S3');
    const answer = await query(sandbox, `select Name, AccountId from Subscription where AccountId = '${account.id}'`);
    expect(answer.body.records).toEqual([
      { Name: 'A-S1', AccountId: account.id },
      { Name: 'A-S1', AccountId: account.id },
      { Name: 'A-S2', AccountId: account.id },
    ]);
    // A field with no value is left out of the record, as Zuora does.
    expect((await query(sandbox, "select Name, AccountId from Subscription where Name = 'A-S3'")).body.records).toEqual(
      [{ Name: 'A-S3' }],
    );
  });

  it('reads several accounts\' subscriptions in one "or" query, and refuses more than 200 conditions as Zuora does', async () => {
    const first = sandbox.account('A00000011');
    const second = sandbox.account('A00000012');
    sandbox.account('A00000013');
    sandbox.touch('A-S11', undefined, { account: 'A00000011' });
    sandbox.touch('A-S12', undefined, { account: 'A00000012' });
    sandbox.touch('A-S13', undefined, { account: 'A00000013' });
    const answer = await query(
      sandbox,
      `select Name, AccountId from Subscription where AccountId = '${first.id}' or AccountId = '${second.id}'`,
    );
    expect(answer.body.records).toEqual([
      { Name: 'A-S11', AccountId: first.id },
      { Name: 'A-S12', AccountId: second.id },
    ]);
    const conditions = (count: number) => Array.from({ length: count }, () => `AccountId = '${first.id}'`).join(' or ');
    expect((await query(sandbox, `select Name from Subscription where ${conditions(200)}`)).status).toBe(200);
    const tooMany = await query(sandbox, `select Name from Subscription where ${conditions(201)}`);
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toMatch(/at most 200 conditions/);
  });

  it('reads a quoted value with an escaped quote as text, never as more query', async () => {
    const answer = await query(sandbox, "select Id from Account where AccountNumber = 'A\\' or 1 = 1'");
    expect(answer).toMatchObject({ status: 200, body: { records: [] } });
  });
});
