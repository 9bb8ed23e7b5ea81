import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CredentialsSource } from '../../functions/shared/credentials-source';
import { changedSubscriptionsZoql } from '../../functions/sweep/window';
import { ZuoraApiError } from '../../functions/sweep/zuora-answers';
import {
  createZuoraClient,
  ZuoraClient,
  type ZuoraClientOptions,
  type ZuoraRequestEvent,
} from '../../functions/sweep/zuora-client';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';

const at = (iso: string) => Date.parse(iso);
const WINDOW = { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') };
const QUERY = changedSubscriptionsZoql(WINDOW);

function credentialsOf(sandbox: ZuoraSandbox): CredentialsSource {
  return { canRefresh: false, read: async () => ({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }) };
}

async function readAll(client: ZuoraClient, query = QUERY, deadlineMs?: number): Promise<Record<string, unknown>[][]> {
  const pages: Record<string, unknown>[][] = [];
  for await (const page of client.query(query, deadlineMs === undefined ? {} : { deadlineMs })) pages.push([...page]);
  return pages;
}

async function failure(promise: Promise<unknown>): Promise<ZuoraApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ZuoraApiError) return error;
    throw error;
  }
  throw new Error('expected a ZuoraApiError');
}

describe('ZuoraClient against the Zuora sandbox', () => {
  let sandbox: ZuoraSandbox;
  let sleeps: number[];
  let events: ZuoraRequestEvent[];
  const client = (options: Partial<ZuoraClientOptions> = {}) =>
    new ZuoraClient({
      baseUrl: sandbox.baseUrl,
      credentials: credentialsOf(sandbox),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      onRequest: (event) => events.push(event),
      ...options,
    });

  beforeEach(() => {
    sleeps = [];
    events = [];
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  it('reads every page through query and queryMore, with one token', async () => {
    sandbox = await startZuoraSandbox({ pageSize: 2 });
    for (let i = 0; i < 5; i++) sandbox.touch(`A-S0000000${i}`, WINDOW.startMs + i * 60_000);
    sandbox.touch('A-S00000009', WINDOW.endMs);
    const pages = await readAll(client());
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(
      pages
        .flat()
        .map((record) => record.Name)
        .sort(),
    ).toEqual(['A-S00000000', 'A-S00000001', 'A-S00000002', 'A-S00000003', 'A-S00000004']);
    expect(sandbox.stats).toMatchObject({ tokenRequests: 1, queryRequests: 1, queryMoreRequests: 2 });
    expect(events.map((event) => `${event.path} ${event.status}`)).toEqual([
      '/oauth/token 200',
      '/v1/action/query 200',
      '/v1/action/queryMore 200',
      '/v1/action/queryMore 200',
    ]);
  });

  it('reuses its token across queries until shortly before it expires', async () => {
    sandbox = await startZuoraSandbox({ tokenTtlSeconds: 3599 });
    let now = Date.now();
    const zuora = client({ now: () => now });
    await readAll(zuora);
    await readAll(zuora);
    expect(sandbox.stats.tokenRequests).toBe(1);
    now += (3599 - 60) * 1000 - 1;
    await readAll(zuora);
    expect(sandbox.stats.tokenRequests).toBe(1);
    now += 1;
    await readAll(zuora);
    expect(sandbox.stats.tokenRequests).toBe(2);
  });

  it('fetches a new token once when Zuora answers 401, and carries on', async () => {
    sandbox = await startZuoraSandbox();
    const zuora = client();
    await readAll(zuora);
    sandbox.revokeTokens();
    await readAll(zuora);
    expect(sandbox.stats.tokenRequests).toBe(2);
    expect(events.filter((event) => event.status === 401)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('gives up with a credentials error when a fresh token is refused too', async () => {
    // A tenant that issues tokens but refuses every API call, as when the OAuth user lost its API permission.
    sandbox = await startZuoraSandbox();
    let tokens = 0;
    const refusing = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (request.url === '/oauth/token') {
          tokens += 1;
          response
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ access_token: `t${tokens}`, expires_in: 3599 }));
        } else {
          response
            .writeHead(401, { 'content-type': 'application/json' })
            .end(JSON.stringify({ message: 'Authentication error' }));
        }
      });
    });
    refusing.listen(0, '127.0.0.1');
    await once(refusing, 'listening');
    try {
      const { port } = refusing.address() as AddressInfo;
      const error = await failure(readAll(client({ baseUrl: `http://127.0.0.1:${port}` })));
      expect(error).toMatchObject({ kind: 'credentials', httpStatus: 401 });
      expect(error.message).toMatch(/Authentication error/);
      expect(tokens).toBe(2);
      expect(sleeps).toEqual([]);
    } finally {
      refusing.closeAllConnections();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  /**
   * A Zuora whose queryMore hands back the locators `locators` lists, in turn, each page not done: one that comes back
   * would make query() page for ever. After 20 queryMores it answers done, so a client without the check ends
   * with every page read instead of the protocol error, and the test fails rather than hanging.
   */
  async function pagingZuora(locators: readonly string[], body: (locator: string) => Promise<void>) {
    sandbox = await startZuoraSandbox();
    const asked: string[] = [];
    const server = createServer((request, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      request.on('end', () => {
        const json = (value: unknown) =>
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
        if (request.url === '/oauth/token') return json({ access_token: 't1', expires_in: 3599 });
        if (request.url === '/v1/action/query')
          return json({ records: [{ Name: 'A-S0' }], size: 99, done: false, queryLocator: locators[0] });
        asked.push((JSON.parse(text) as { queryLocator: string }).queryLocator);
        const done = asked.length >= 20;
        return json({
          records: [{ Name: `A-S${asked.length}` }],
          size: 99,
          done,
          ...(!done && { queryLocator: locators[asked.length % locators.length] }),
        });
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    return asked;
  }

  it('refuses the same queryLocator twice as a protocol error, after asking for it once', async () => {
    const asked = await pagingZuora(['L1'], async (baseUrl) => {
      const pages: unknown[] = [];
      const error = await failure(
        (async () => {
          for await (const page of client({ baseUrl }).query(QUERY)) pages.push(page);
        })(),
      );
      expect(error).toMatchObject({ kind: 'protocol' });
      expect(error.message).toBe('Zuora returned the same queryLocator twice');
      expect(pages).toHaveLength(2);
    });
    expect(asked).toEqual(['L1']);
  });

  it('refuses a locator that comes back after others (a cycle), not only one repeated at once', async () => {
    const asked = await pagingZuora(['L1', 'L2', 'L3'], async (baseUrl) => {
      expect(await failure(readAll(client({ baseUrl })))).toMatchObject({
        kind: 'protocol',
        message: 'Zuora returned the same queryLocator twice',
      });
    });
    expect(asked).toEqual(['L1', 'L2', 'L3']);
  });

  it('waits as Retry-After says on 429, then succeeds', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.touch('A-S1', WINDOW.startMs);
    sandbox.failNext(429, { retryAfter: '3' });
    const pages = await readAll(client());
    expect(pages.flat()).toHaveLength(1);
    expect(sleeps).toEqual([3000]);
    expect(sandbox.stats).toMatchObject({ injected429: 1, queryRequests: 2 });
  });

  it('retries a rate-limited token request too (the token endpoint is limited by IP address)', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.failNext(429, { endpoint: 'token', retryAfter: '1' });
    await readAll(client());
    expect(sleeps).toEqual([1000]);
    expect(sandbox.stats.tokenRequests).toBe(2);
  });

  it('does not wait for a Retry-After beyond its bound: the call fails as rate-limited', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.failNext(429, { retryAfter: '600' });
    const error = await failure(readAll(client({ maxRetryAfterMs: 60_000 })));
    expect(error.kind).toBe('rate-limited');
    expect(error.message).toMatch(/Retry-After 600 s/);
    expect(sleeps).toEqual([]);
  });

  it('retries 5xx with growing backoff and stops after maxAttempts', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.failNext(500, { count: 10 });
    const error = await failure(readAll(client({ maxAttempts: 4, backoffBaseMs: 100, backoffMaxMs: 250 })));
    expect(error).toMatchObject({ kind: 'unavailable', httpStatus: 500 });
    expect(error.message).toMatch(/after 4 attempts/);
    // random() = 0.5 puts each wait at 3/4 of its step: 100, 200, 250 (capped) ms.
    expect(sleeps).toEqual([75, 150, 188]);
    expect(sandbox.stats.queryRequests).toBe(4);
  });

  it('recovers when 5xx stop before the attempts run out', async () => {
    sandbox = await startZuoraSandbox();
    sandbox.failNext(503, { count: 2 });
    await readAll(client());
    expect(sleeps).toHaveLength(2);
    expect(sandbox.stats.queryRequests).toBe(3);
  });

  it("does not retry a malformed query, and passes on Zuora's fault text", async () => {
    sandbox = await startZuoraSandbox();
    const error = await failure(readAll(client(), 'SELECT Name from Subscription'));
    expect(error).toMatchObject({ kind: 'refused', httpStatus: 400 });
    expect(error.message).toMatch(/keyword "SELECT" must be lower case/);
    expect(sandbox.stats.queryRequests).toBe(1);
  });

  it('makes one request at a time, even for concurrent queries', async () => {
    sandbox = await startZuoraSandbox({ pageSize: 1, latencyMs: 20 });
    for (let i = 0; i < 4; i++) sandbox.touch(`A-S${i}`, WINDOW.startMs);
    const zuora = client();
    await Promise.all([readAll(zuora), readAll(zuora), readAll(zuora)]);
    expect(sandbox.stats.queryRequests + sandbox.stats.queryMoreRequests).toBe(12);
    expect(sandbox.stats.tokenRequests).toBe(1);
    expect(sandbox.stats.maxInFlight).toBe(1);
  });

  it('cuts a request off at its timeout and counts it as a failed attempt', async () => {
    sandbox = await startZuoraSandbox({ latencyMs: 2_000 });
    const error = await failure(readAll(client({ requestTimeoutMs: 100, maxAttempts: 2 })));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/no answer within 100 ms/);
    expect(events.filter((event) => event.status === 'timeout')).toHaveLength(2);
  });

  it('starts nothing after the deadline, and waits for no retry that would end past it', async () => {
    sandbox = await startZuoraSandbox();
    expect((await failure(readAll(client(), QUERY, Date.now() - 1))).kind).toBe('deadline');
    sandbox.failNext(429, { retryAfter: '30' });
    const error = await failure(readAll(client(), QUERY, Date.now() + 5_000));
    expect(error.kind).toBe('deadline');
    expect(sleeps).toEqual([]);
  });

  it('sends Zuora-Entity-Ids when configured (multi-entity tenants)', async () => {
    sandbox = await startZuoraSandbox({ entityId: '2c92c0f85f1b2d27015f1b2d3e380008' });
    expect((await failure(readAll(client()))).kind).toBe('refused');
    await readAll(client({ entityId: '2c92c0f85f1b2d27015f1b2d3e380008' }));
  });

  it('reports refused client credentials as a credentials error, re-reading a refreshable source once', async () => {
    sandbox = await startZuoraSandbox();
    const reads: boolean[] = [];
    const rotated: CredentialsSource = {
      canRefresh: true,
      read: async (options) => {
        reads.push(options?.refresh === true);
        return { clientId: sandbox.clientId, clientSecret: options?.refresh ? sandbox.clientSecret : 'old-secret' };
      },
    };
    await readAll(client({ credentials: rotated }));
    expect(reads).toEqual([false, true]);

    const wrong: CredentialsSource = {
      canRefresh: false,
      read: async () => ({ clientId: sandbox.clientId, clientSecret: 'wrong-secret' }),
    };
    const error = await failure(readAll(client({ credentials: wrong })));
    expect(error).toMatchObject({ kind: 'credentials', httpStatus: 401 });
  });

  it('puts no token and no secret in what it reports', async () => {
    sandbox = await startZuoraSandbox();
    const zuora = client();
    await readAll(zuora);
    sandbox.revokeTokens();
    sandbox.failNext(500, { count: 10 });
    const error = await failure(readAll(client({ maxAttempts: 2 })));
    const reported = JSON.stringify({ events, message: error.message, stack: error.stack });
    for (const token of sandbox.issuedTokens()) expect(reported).not.toContain(token);
    expect(reported).not.toContain(sandbox.clientSecret);
  });
});

describe('Zuora credentials from Secrets Manager', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => secrets.reset());

  it("names the Zuora secret, not Limio's, when it cannot be read or is not client credentials", async () => {
    const config = {
      zuoraBaseUrl: 'http://127.0.0.1:9',
      credentials: { source: 'secrets-manager', secretId: 'zuora-limio-sync/zuora' } as const,
      zuoraTimeoutMs: 1000,
    };
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const unreadable = createZuoraClient(config, {
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
      maxAttempts: 1,
    });
    await expect(readAll(unreadable)).rejects.toThrow(
      /cannot read the Zuora credentials secret zuora-limio-sync\/zuora/,
    );

    secrets.reset();
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: 'not client credentials' }) });
    const malformed = createZuoraClient(config, {
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
      maxAttempts: 1,
    });
    await expect(readAll(malformed)).rejects.toThrow(
      /the Zuora credentials secret zuora-limio-sync\/zuora must be JSON/,
    );
  });
});
