import {
  parseZoql,
  parseZoqlDateTime,
  startZuoraSandbox,
  subscriptionRow,
  tenantDateTime,
  type ZuoraSandbox,
} from '../../local/zuora-sandbox';

// The sandbox stands for Zuora in the sweep's tests, `npm start` and the benchmark, so it is held to the facts of
// ../shared/zuora-api.md here, over real HTTP.

const at = (iso: string) => Date.parse(iso);

async function tokenFor(sandbox: ZuoraSandbox): Promise<string> {
  const response = await fetch(`${sandbox.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
      grant_type: 'client_credentials',
    }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function post(
  sandbox: ZuoraSandbox,
  path: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }), ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const WINDOW_QUERY =
  "select Name, UpdatedDate from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z' and UpdatedDate < '2026-11-24T18:00:00+00:00'";

describe('Zuora sandbox', () => {
  let sandbox: ZuoraSandbox;
  afterEach(async () => {
    await sandbox.stop();
  });

  it("issues client-credentials tokens in Zuora's shape and refuses wrong credentials", async () => {
    sandbox = await startZuoraSandbox();
    const ok = await fetch(`${sandbox.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: sandbox.clientId,
        client_secret: sandbox.clientSecret,
        grant_type: 'client_credentials',
      }).toString(),
    });
    expect(await ok.json()).toEqual({
      access_token: expect.any(String),
      token_type: 'bearer',
      expires_in: 3599,
      scope: expect.any(String),
      jti: expect.any(String),
    });
    const wrong = await fetch(`${sandbox.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: sandbox.clientId,
        client_secret: 'nope',
        grant_type: 'client_credentials',
      }).toString(),
    });
    expect(wrong.status).toBe(401);
    expect(sandbox.stats.tokenRequests).toBe(2);
  });

  it('answers a query only with a valid bearer token', async () => {
    sandbox = await startZuoraSandbox();
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY })).status).toBe(401);
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, 'made-up')).status).toBe(401);
    const token = await tokenFor(sandbox);
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(200);
    sandbox.revokeTokens();
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(401);
  });

  it('returns every version in the window with UpdatedDate in the tenant zone (-08:00), and nothing outside it', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.touch('A-S00000001', at('2026-11-24T16:59:59Z'));
    const first = sandbox.touch('A-S00000001', at('2026-11-24T17:00:00Z'));
    const second = sandbox.touch('A-S00000001', at('2026-11-24T17:30:12.700Z'));
    sandbox.touch('A-S00000002', at('2026-11-24T17:59:59Z'));
    sandbox.touch('A-S00000003', at('2026-11-24T18:00:00Z'));
    expect(first.id).not.toBe(second.id);
    const token = await tokenFor(sandbox);
    const { status, body } = await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token);
    expect(status).toBe(200);
    expect(body).toEqual({
      records: expect.arrayContaining([
        { Name: 'A-S00000001', UpdatedDate: '2026-11-24T09:00:00.000-08:00' },
        { Name: 'A-S00000001', UpdatedDate: '2026-11-24T09:30:12.000-08:00' },
        { Name: 'A-S00000002', UpdatedDate: '2026-11-24T09:59:59.000-08:00' },
      ]),
      size: 3,
      done: true,
    });
    expect(body.records).toHaveLength(3);
  });

  it('pages with queryLocator: size is the whole count, done turns true on the last page', async () => {
    sandbox = await startZuoraSandbox({ pageSize: 2 });
    for (let i = 0; i < 5; i++) sandbox.touch(`A-S0000000${i}`, at('2026-11-24T17:10:00Z') + i * 1000);
    const token = await tokenFor(sandbox);
    const pages: Record<string, unknown>[] = [];
    let page = (await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).body;
    pages.push(page);
    while (page.done === false) {
      page = (await post(sandbox, '/v1/action/queryMore', { queryLocator: page.queryLocator }, token)).body;
      pages.push(page);
    }
    expect(pages.map((p) => (p.records as unknown[]).length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.size)).toEqual([5, 5, 5]);
    expect(pages.map((p) => p.done)).toEqual([false, false, true]);
    expect(pages[0]!.queryLocator).toMatch(/^[0-9a-f]{32}-2$/);
    expect(pages[2]!.queryLocator).toBeUndefined();
    const names = pages.flatMap((p) => (p.records as { Name: string }[]).map((r) => r.Name)).sort();
    expect(names).toEqual(['A-S00000000', 'A-S00000001', 'A-S00000002', 'A-S00000003', 'A-S00000004']);
    expect(sandbox.stats).toMatchObject({ queryRequests: 1, queryMoreRequests: 2, recordsServed: 5 });
    // A finished cursor is gone, like an unknown one.
    const again = await post(sandbox, '/v1/action/queryMore', { queryLocator: pages[1]!.queryLocator }, token);
    expect(again.status).toBe(400);
    expect(again.body.faultstring).toMatch(/invalid query locator/);
  });

  it('caps the page size at 2000', async () => {
    sandbox = await startZuoraSandbox();
    expect(() => sandbox.setPageSize(2001)).toThrow(RangeError);
    for (let i = 0; i < 2001; i++) sandbox.touch(`A-S${i}`, at('2026-11-24T17:10:00Z'));
    const token = await tokenFor(sandbox);
    const { body } = await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token);
    expect((body.records as unknown[]).length).toBe(2000);
    expect(body.done).toBe(false);
  });

  it('refuses upper-case keywords like Zuora, with a MALFORMED_QUERY fault', async () => {
    sandbox = await startZuoraSandbox();
    const token = await tokenFor(sandbox);
    const { status, body } = await post(
      sandbox,
      '/v1/action/query',
      { queryString: 'SELECT Name, UpdatedDate FROM Subscription' },
      token,
    );
    expect(status).toBe(400);
    expect(body).toMatchObject({
      faultcode: 'fns:MALFORMED_QUERY',
      faultstring: 'keyword "SELECT" must be lower case',
    });
  });

  it('injects 429 with Retry-After and 500, counting them', async () => {
    const draws = [0.1, 0.6, 0.99];
    sandbox = await startZuoraSandbox({
      rate429: 0.5,
      rate500: 0.2,
      retryAfterSeconds: 7,
      random: () => draws.shift() ?? 0.99,
    });
    const token = await tokenFor(sandbox);
    const limited = await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(500);
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(200);
    sandbox.failNext(503, { count: 1 });
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(503);
    expect(sandbox.stats).toMatchObject({ injected429: 1, injected500: 2 });
  });

  it('requires Zuora-Entity-Ids when the tenant is multi-entity', async () => {
    sandbox = await startZuoraSandbox({ entityId: 'e7a1c0de-0000-4000-8000-000000000001' });
    const token = await tokenFor(sandbox);
    expect((await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token)).status).toBe(400);
    const withEntity = await post(sandbox, '/v1/action/query', { queryString: WINDOW_QUERY }, token, {
      'zuora-entity-ids': 'e7a1c0de-0000-4000-8000-000000000001',
    });
    expect(withEntity.status).toBe(200);
  });
});

describe('the sandbox ZOQL subset', () => {
  const version = { id: 'a'.repeat(32), name: 'A-S1', updatedMs: at('2026-11-24T17:30:00Z') };

  it('accepts the sweep query, fields and object in any case, and projects the asked fields only', () => {
    const parsed = parseZoql("select name, updateddate from subscription where updateddate >= '2026-11-24T17:00:00Z'");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.query.project(subscriptionRow(version), -480)).toEqual({
      Name: 'A-S1',
      UpdatedDate: '2026-11-24T09:30:00.000-08:00',
    });
    const idOnly = parseZoql('select Id from Subscription');
    expect(idOnly.ok && idOnly.query.project(subscriptionRow(version), -480)).toEqual({ Id: 'a'.repeat(32) });
  });

  const rowAt = (updatedMs: number) => subscriptionRow({ ...version, updatedMs });

  it('treats the window as the conditions say: >= includes its bound, < excludes it', () => {
    const parsed = parseZoql(
      "select Name from Subscription where UpdatedDate >= '2026-11-24T17:30:00Z' and UpdatedDate < '2026-11-24T17:30:01Z'",
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.query.matches(rowAt(at('2026-11-24T17:30:00Z')))).toBe(true);
    expect(parsed.query.matches(rowAt(at('2026-11-24T17:30:01Z')))).toBe(false);
    expect(parsed.query.matches(rowAt(at('2026-11-24T17:29:59Z')))).toBe(false);
  });

  it('reads a value without an offset in the tenant zone, one with an offset by it', () => {
    expect(parseZoqlDateTime('2026-11-24T10:00:00', -480)).toBe(at('2026-11-24T18:00:00Z'));
    expect(parseZoqlDateTime('2026-11-24T10:00:00-08:00', 0)).toBe(at('2026-11-24T18:00:00Z'));
    expect(parseZoqlDateTime('2026-11-24T18:00:00Z', -480)).toBe(at('2026-11-24T18:00:00Z'));
    expect(parseZoqlDateTime('2026-11-24T18:00:00.250+00:00', -480)).toBe(at('2026-11-24T18:00:00.250Z'));
    expect(parseZoqlDateTime('2026-02-30T00:00:00Z', 0)).toBeUndefined();
  });

  it('refuses upper-case keywords and what is beyond the subset', () => {
    const cases: [string, RegExp][] = [
      ['SELECT Name from Subscription', /"SELECT" must be lower case/],
      ['select Name FROM Subscription', /"FROM" must be lower case/],
      ["select Name from Subscription WHERE UpdatedDate >= '2026-11-24T17:00:00Z'", /"WHERE" must be lower case/],
      [
        "select Name from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z' AND UpdatedDate < '2026-11-24T18:00:00Z'",
        /"AND" must be lower case/,
      ],
      ['select * from Subscription', /unexpected text|invalid field/],
      ['select Name from Invoice', /only the Subscription, Account and Contact objects/],
      ["select Name from Subscription where Status = 'Active'", /invalid field in a condition: Subscription.Status/],
      ["select Name from Subscription where AccountId > 'a'", /AccountId with = or != only/],
      ["select Name from Subscription where UpdatedDate >= 'soon'", /invalid datetime/],
      [
        "select Name from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z' or UpdatedDate < '2026-11-24T18:00:00Z' and Name = 'A'",
        /does not mix "and" and "or"/,
      ],
      ["select Name from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z", /unexpected text/],
    ];
    for (const [query, reason] of cases) {
      const parsed = parseZoql(query);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toMatch(reason);
    }
  });

  it('writes UpdatedDate in the tenant offset with milliseconds', () => {
    expect(tenantDateTime(at('2026-11-24T18:03:12Z'), -480)).toBe('2026-11-24T10:03:12.000-08:00');
    expect(tenantDateTime(at('2026-11-24T18:03:12Z'), 330)).toBe('2026-11-24T23:33:12.000+05:30');
  });
});
