import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  environmentCredentials,
  LimioClient,
  LimioTokenCache,
  secretsManagerCredentials,
  type CredentialsSource,
} from '../../functions/limio';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import { LIMIO_SECRET_ID, mockLimioSecret } from '../sync/harness';

// The Limio client and its token cache on their own, against the sandbox and, for misbehaving token endpoints,
// small real HTTP servers.

function clientFor(
  baseUrl: string,
  credentials: CredentialsSource,
  options: { now?: () => number; timeoutMs?: number } = {},
) {
  let tokenFetches = 0;
  const tokens = new LimioTokenCache({
    baseUrl,
    credentials,
    timeoutMs: options.timeoutMs ?? 2000,
    expiryMarginSeconds: 60,
    now: options.now,
    onTokenFetch: () => (tokenFetches += 1),
  });
  return {
    tokens,
    client: new LimioClient({ baseUrl, tokens, timeoutMs: options.timeoutMs ?? 2000 }),
    fetches: () => tokenFetches,
  };
}

/** A token endpoint that answers as told (or never), for what the sandbox does not do. */
async function startTokenEndpoint(answer: ((respond: (status: number, body: unknown) => void) => void) | 'hang') {
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    request.resume();
    if (answer === 'hang') return;
    answer((status, body) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stop: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

describe('Limio client', () => {
  let sandbox: LimioSandbox;
  beforeEach(async () => {
    sandbox = await startLimioSandbox();
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  it('syncs with the ID URL-encoded in the path', async () => {
    const { client } = clientFor(sandbox.baseUrl, environmentCredentials(sandbox.clientId, sandbox.clientSecret));
    const result = await client.sync('A-S00000271');
    expect(result.outcome).toMatchObject({ class: 'synced', httpStatus: 200, limioId: expect.any(String) });
    const odd = await client.sync('id with/slash');
    expect(odd.outcome.class).toBe('synced');
    expect(sandbox.stats.syncCallsById.get('id with/slash')).toBe(1);
  });

  it('keeps connections alive: eleven requests in a row need at most two TCP connections', async () => {
    const { client } = clientFor(sandbox.baseUrl, environmentCredentials(sandbox.clientId, sandbox.clientSecret));
    for (let n = 0; n < 10; n++) expect((await client.sync(`A-S${n}`)).outcome.class).toBe('synced');
    expect(sandbox.stats.tokenRequests + sandbox.stats.syncCalls).toBe(11);
    // undici hands a socket back to its pool a tick after the body is read, so a request sent at once may open a
    // second connection; without keep-alive it would be one per request.
    expect(sandbox.stats.connections).toBeLessThanOrEqual(2);
  });

  it('refreshes a token at half its life when the life is shorter than twice the margin', async () => {
    let now = Date.now();
    sandbox.setFaults({ tokenTtlSeconds: 60 });
    const { client, fetches } = clientFor(
      sandbox.baseUrl,
      environmentCredentials(sandbox.clientId, sandbox.clientSecret),
      { now: () => now },
    );
    await client.sync('A-S1');
    now += 29_000;
    await client.sync('A-S1');
    expect(fetches()).toBe(1);
    now += 2_000;
    await client.sync('A-S1');
    expect(fetches()).toBe(2);
    expect(sandbox.stats.tokenRequests).toBe(2);
  });

  it('does not forget a newer token when an older one is refused', async () => {
    const { tokens } = clientFor(sandbox.baseUrl, environmentCredentials(sandbox.clientId, sandbox.clientSecret));
    const first = await tokens.token();
    tokens.invalidate(first);
    const second = await tokens.token();
    expect(second).not.toBe(first);
    tokens.invalidate(first);
    expect(await tokens.token()).toBe(second);
    expect(sandbox.stats.tokenRequests).toBe(2);
  });

  it('with environment credentials, a refusal is not retried against the same credentials', async () => {
    const { client, fetches } = clientFor(sandbox.baseUrl, environmentCredentials(sandbox.clientId, 'wrong'));
    const result = await client.sync('A-S1');
    expect(result.outcome).toEqual({
      class: 'retryable',
      error: 'no Limio token: the Limio token endpoint refused the client credentials (401)',
      tokenUnavailable: true,
    });
    expect(fetches()).toBe(1);
    expect(sandbox.stats.syncCalls).toBe(0);
  });

  it('a network error is retryable and says what happened', async () => {
    const closed = await startTokenEndpoint('hang');
    await closed.stop();
    const { client } = clientFor(closed.baseUrl, environmentCredentials('id', 'secret'));
    const result = await client.sync('A-S1');
    expect(result.outcome).toMatchObject({ class: 'retryable', error: expect.stringContaining('ECONNREFUSED') });
  });

  it('a hung token endpoint costs one LIMIO_TIMEOUT_MS, then the sync is retryable', async () => {
    const hung = await startTokenEndpoint('hang');
    try {
      const { client } = clientFor(hung.baseUrl, environmentCredentials('id', 'secret'), { timeoutMs: 200 });
      const result = await client.sync('A-S1');
      expect(result.outcome).toEqual({
        class: 'retryable',
        error: 'no Limio token: no answer within 200 ms',
        tokenUnavailable: true,
      });
    } finally {
      await hung.stop();
    }
  });

  it.each([
    [503, { message: 'maintenance' }, 'the Limio token endpoint answered 503 without an access_token'],
    [200, { token_type: 'Bearer' }, 'the Limio token endpoint answered 200 without an access_token'],
  ])('a token endpoint answering %i %j makes the sync retryable', async (status, answerBody, error) => {
    const endpoint = await startTokenEndpoint((respond) => respond(status, answerBody));
    try {
      const { client } = clientFor(endpoint.baseUrl, environmentCredentials('id', 'secret'));
      expect((await client.sync('A-S1')).outcome).toEqual({
        class: 'retryable',
        error: `no Limio token: ${error}`,
        tokenUnavailable: true,
      });
    } finally {
      await endpoint.stop();
    }
  });

  it('treats RFC 6749 invalid_client (400) as refused credentials and re-reads the secret', async () => {
    const endpoint = await startTokenEndpoint((respond) => respond(400, { error: 'invalid_client' }));
    const secret = mockLimioSecret(sandbox);
    try {
      const { client, fetches } = clientFor(
        endpoint.baseUrl,
        secretsManagerCredentials(LIMIO_SECRET_ID, secret.client),
      );
      expect((await client.sync('A-S1')).outcome).toMatchObject({
        class: 'retryable',
        error: expect.stringContaining('refused'),
      });
      expect(fetches()).toBe(2);
      expect(secret.reads()).toBe(2);
    } finally {
      secret.mock.restore();
      await endpoint.stop();
    }
  });
});

describe('Secrets Manager credentials', () => {
  let sandbox: LimioSandbox;
  let secret: ReturnType<typeof mockLimioSecret>;
  beforeEach(async () => {
    sandbox = await startLimioSandbox();
    secret = mockLimioSecret(sandbox);
  });
  afterEach(async () => {
    secret.mock.restore();
    await sandbox.stop();
  });

  it('reads the secret once, and again only on refresh', async () => {
    const source = secretsManagerCredentials(LIMIO_SECRET_ID, secret.client);
    await source.read();
    await source.read();
    expect(secret.reads()).toBe(1);
    expect(await source.read({ refresh: true })).toEqual({
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
    });
    expect(secret.reads()).toBe(2);
  });

  it.each([
    ['not JSON', 'clientSecret=s3cr3t-value'],
    ['JSON of the wrong shape', JSON.stringify({ client_id: 'x', client_secret: 's3cr3t-value' })],
  ])('refuses a secret that is %s without quoting its value', async (_, value) => {
    secret.mock.on(GetSecretValueCommand).resolves({ SecretString: value });
    const source = secretsManagerCredentials(LIMIO_SECRET_ID, secret.client);
    const error = await source.read().catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(LIMIO_SECRET_ID);
    expect((error as Error).message).not.toContain('s3cr3t-value');
  });

  it('a secret that cannot be read makes the sync retryable, naming the secret', async () => {
    secret.mock.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not allowed'));
    const { client } = clientFor(sandbox.baseUrl, secretsManagerCredentials(LIMIO_SECRET_ID, secret.client));
    const result = await client.sync('A-S1');
    expect(result.outcome).toMatchObject({
      class: 'retryable',
      error: expect.stringContaining(`cannot read the Limio credentials secret ${LIMIO_SECRET_ID}`),
    });
    expect(sandbox.stats.tokenRequests).toBe(0);
  });
});
