import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';

// The sandbox is the yardstick of every sync test, benchmark and chaos run, so it is held to the Limio contract
// (limio-zuora-sync.openapi.json, limio-auth.md) here, over real HTTP.

async function requestToken(
  sandbox: LimioSandbox,
  form: Record<string, string>,
  contentType = 'application/x-www-form-urlencoded',
) {
  const response = await fetch(`${sandbox.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function tokenFor(sandbox: LimioSandbox): Promise<string> {
  const { body } = await requestToken(sandbox, {
    grant_type: 'client_credentials',
    client_id: sandbox.clientId,
    client_secret: sandbox.clientSecret,
  });
  return body.access_token as string;
}

async function sync(sandbox: LimioSandbox, id: string, token?: string, signal?: AbortSignal) {
  const response = await fetch(`${sandbox.baseUrl}/api/plugins/zuora/sync/subscription/${encodeURIComponent(id)}`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('Limio sandbox', () => {
  let sandbox: LimioSandbox;
  let draws: number[];
  beforeEach(async () => {
    draws = [];
    sandbox = await startLimioSandbox({ random: () => draws.shift() ?? 0.99 });
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  it('issues bearer tokens by the client-credentials grant and counts the requests', async () => {
    const { status, body } = await requestToken(sandbox, {
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    });
    expect(status).toBe(200);
    expect(body).toEqual({
      access_token: expect.any(String),
      id_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
    });
    expect(sandbox.stats.tokenRequests).toBe(1);
  });

  it('refuses a wrong client, a wrong grant and a body that is not a form', async () => {
    const good = { grant_type: 'client_credentials', client_id: sandbox.clientId, client_secret: sandbox.clientSecret };
    expect((await requestToken(sandbox, { ...good, client_secret: 'wrong' })).status).toBe(401);
    expect((await requestToken(sandbox, { ...good, client_id: 'someone-else' })).status).toBe(401);
    expect((await requestToken(sandbox, { ...good, grant_type: 'password' })).status).toBe(400);
    expect((await requestToken(sandbox, good, 'application/json')).status).toBe(400);
    expect(sandbox.stats.tokenRequests).toBe(4);
  });

  it('syncs with a valid token, with id and owner stable per subscription', async () => {
    const token = await tokenFor(sandbox);
    const first = await sync(sandbox, 'A-S00000271', token);
    const again = await sync(sandbox, 'A-S00000271', token);
    const other = await sync(sandbox, 'A-S00000272', token);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ success: true, id: expect.any(String), owner: expect.any(String) });
    expect(again.body).toEqual(first.body);
    expect(other.body.id).not.toBe(first.body.id);
    expect(sandbox.stats.syncCalls).toBe(3);
    expect(sandbox.stats.syncCallsById.get('A-S00000271')).toBe(2);
    expect([...sandbox.stats.synced].sort()).toEqual(['A-S00000271', 'A-S00000272']);
  });

  it('answers 401 {message} without a token, with an unknown one, an expired one or a revoked one', async () => {
    expect(await sync(sandbox, 'A-S1')).toMatchObject({ status: 401, body: { message: expect.any(String) } });
    expect((await sync(sandbox, 'A-S1', 'made-up')).status).toBe(401);

    const token = await tokenFor(sandbox);
    expect((await sync(sandbox, 'A-S1', token)).status).toBe(200);
    sandbox.revokeTokens();
    expect((await sync(sandbox, 'A-S1', token)).status).toBe(401);

    sandbox.setFaults({ tokenTtlSeconds: 0 });
    const expired = await tokenFor(sandbox);
    expect((await sync(sandbox, 'A-S1', expired)).status).toBe(401);
    expect(sandbox.stats.synced.size).toBe(1);
  });

  it('gives a canned answer to one subscription and reports every answer to onSync', async () => {
    const seen: Array<{ subscriptionId: string; status: number }> = [];
    sandbox.onSync = ({ subscriptionId, status, latencyMs }) => {
      expect(latencyMs).toBeGreaterThanOrEqual(0);
      seen.push({ subscriptionId, status });
    };
    sandbox.respondWith('A-S404', 404, { message: 'Subscription not found in Zuora' });
    sandbox.respondWith('A-S200', 200, { success: false });
    const token = await tokenFor(sandbox);
    expect(await sync(sandbox, 'A-S404', token)).toMatchObject({
      status: 404,
      body: { message: 'Subscription not found in Zuora' },
    });
    expect(await sync(sandbox, 'A-S200', token)).toMatchObject({ status: 200, body: { success: false } });
    expect((await sync(sandbox, 'A-S1', token)).status).toBe(200);
    expect(seen).toEqual([
      { subscriptionId: 'A-S404', status: 404 },
      { subscriptionId: 'A-S200', status: 200 },
      { subscriptionId: 'A-S1', status: 200 },
    ]);
    expect([...sandbox.stats.synced]).toEqual(['A-S1']);
  });

  it('injects 502 and 429 with Retry-After by the configured shares', async () => {
    sandbox.setFaults({ rate429: 0.2, rate502: 0.3, retryAfterSeconds: 7 });
    const token = await tokenFor(sandbox);
    draws.push(0.1, 0.3, 0.6);
    const tooMany = await sync(sandbox, 'A-S1', token);
    const badGateway = await sync(sandbox, 'A-S1', token);
    const fine = await sync(sandbox, 'A-S1', token);
    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get('retry-after')).toBe('7');
    expect(badGateway).toMatchObject({ status: 502, body: { message: expect.any(String) } });
    expect(fine.status).toBe(200);
  });

  it('lets a hanging call hang until the client gives up, counting it in flight meanwhile', async () => {
    sandbox.setFaults({ hangRate: 0.5 });
    const token = await tokenFor(sandbox);
    draws.push(0.1, 0.2, 0.3);
    const giveUp = new AbortController();
    const hanging = [1, 2, 3].map((n) => sync(sandbox, `A-S${n}`, token, giveUp.signal));
    await until(() => sandbox.stats.inFlight === 3);
    expect(sandbox.stats.maxInFlight).toBe(3);
    giveUp.abort();
    for (const call of hanging) await expect(call).rejects.toThrow();
    await until(() => sandbox.stats.inFlight === 0);
    expect(sandbox.stats.maxInFlight).toBe(3);
    expect(sandbox.stats.synced.size).toBe(0);
  });

  it('stop() closes hanging connections', async () => {
    sandbox.setFaults({ hangRate: 1 });
    const token = await tokenFor(sandbox);
    const hanging = sync(sandbox, 'A-S1', token);
    await until(() => sandbox.stats.inFlight === 1);
    await sandbox.stop();
    await expect(hanging).rejects.toThrow();
  });

  it('refuses fault shares outside 0..1 or adding up to more than 1', () => {
    expect(() => sandbox.setFaults({ rate502: 1.5 })).toThrow(RangeError);
    expect(() => sandbox.setFaults({ rate502: 0.6, rate429: 0.6 })).toThrow(RangeError);
  });

  describe('capacity model', () => {
    // Concurrent calls, each timed from the client: what an adaptive limiter sees.
    async function concurrentSyncs(count: number, token: string) {
      return Promise.all(
        Array.from({ length: count }, async (_, n) => {
          const started = performance.now();
          const { status, body } = await sync(sandbox, `A-S${n}`, token);
          return { status, body, ms: performance.now() - started };
        }),
      );
    }
    const served = (calls: Array<{ status: number; ms: number }>) => calls.filter((call) => call.status === 200);
    const slowest = (calls: Array<{ ms: number }>) => Math.max(...calls.map((call) => call.ms));

    it('serves calls within capacity at its latency, slows every call beyond it, and refuses beyond 1.5 × capacity with 502 {message}', async () => {
      sandbox.setFaults({ latencyMs: 100 });
      sandbox.setCapacity(4);
      const token = await tokenFor(sandbox);

      const four = await concurrentSyncs(4, token);
      expect(four.map((call) => call.status)).toEqual([200, 200, 200, 200]);
      // The 5th and 6th arrivals take 125 and 150 ms; timers never fire early, so the lower bound is safe.
      const six = await concurrentSyncs(6, token);
      expect(served(six)).toHaveLength(6);
      expect(slowest(six)).toBeGreaterThanOrEqual(145);
      expect(slowest(six)).toBeGreaterThan(slowest(four));
      expect(sandbox.stats.overloadRefused).toBe(0);

      const nine = await concurrentSyncs(9, token);
      const refused = nine.filter((call) => call.status === 502);
      expect(served(nine)).toHaveLength(6);
      expect(refused).toHaveLength(3);
      expect(refused[0].body).toEqual({ message: expect.stringContaining('over capacity') });
      // Refused at once, not after the latency.
      expect(Math.max(...refused.map((call) => call.ms))).toBeLessThan(
        Math.min(...served(nine).map((call) => call.ms)),
      );
      expect(sandbox.stats.overloadRefused).toBe(3);
      expect(sandbox.stats.synced.size).toBe(6);
    });

    it('counts overload refusals apart from injected 502s', async () => {
      sandbox.setFaults({ rate502: 1, latencyMs: 100 });
      sandbox.setCapacity(1);
      const token = await tokenFor(sandbox);
      const calls = await concurrentSyncs(3, token);
      expect(calls.map((call) => call.status)).toEqual([502, 502, 502]);
      expect(sandbox.stats.overloadRefused).toBe(2);
    });

    it('takes a new capacity and latency while it runs, for the calls that arrive after', async () => {
      sandbox.setFaults({ latencyMs: 300 });
      sandbox.setCapacity(4);
      const token = await tokenFor(sandbox);
      expect(sandbox.serviceModel()).toEqual({ capacity: 4, latencyMs: 300 });
      expect(served(await concurrentSyncs(8, token))).toHaveLength(6);

      sandbox.setCapacity(8);
      expect(served(await concurrentSyncs(8, token))).toHaveLength(8);

      sandbox.setCapacity(2);
      sandbox.setFaults({ latencyMs: 100 });
      expect(sandbox.serviceModel()).toEqual({ capacity: 2, latencyMs: 100 });
      expect(served(await concurrentSyncs(5, token))).toHaveLength(3);

      sandbox.setCapacity(undefined);
      expect(served(await concurrentSyncs(12, token))).toHaveLength(12);
      expect(sandbox.stats.overloadRefused).toBe(2 + 2);
    });

    it('refuses a capacity that is not a positive whole number', () => {
      expect(() => sandbox.setCapacity(0)).toThrow(RangeError);
      expect(() => sandbox.setCapacity(2.5)).toThrow(RangeError);
      expect(sandbox.serviceModel().capacity).toBeUndefined();
    });
  });

  it('answers 404 for paths that are not Limio endpoints', async () => {
    const response = await fetch(`${sandbox.baseUrl}/api/other`, { method: 'POST' });
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });
});
