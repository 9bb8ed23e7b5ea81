import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLimioProbe } from '../../functions/breaker/limio-probe';
import { loadProbeConfig } from '../../functions/breaker/probe-config';

/** A token endpoint on 127.0.0.1 whose answer each test chooses. */
let server: Server;
let baseUrl: string;
let answer: { status: number; body: string; hang?: boolean } = { status: 200, body: '{}' };
let tokenRequests = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    tokenRequests += 1;
    request.resume();
    if (answer.hang) return; // never answers: the client's timeout must fire
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  tokenRequests = 0;
});

/** A client-credentials token request that rejects like the sync Lambda's token client (httpStatus on answers). */
async function requestToken(timeoutMs = 5000): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&client_id=probe&client_secret=not-a-real-secret',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) {
    throw Object.assign(new Error(`the Limio token endpoint answered ${response.status}`), {
      httpStatus: response.status,
    });
  }
  return body.access_token;
}

describe('the Limio probe', () => {
  it('is healthy when a token is issued, with one request to the token endpoint', async () => {
    answer = { status: 200, body: '{"access_token":"eyJ.probe","token_type":"Bearer","expires_in":3600}' };
    const outcome = await createLimioProbe({ requestToken })();
    expect(outcome.result).toBe('healthy');
    expect(outcome.detail).toMatch(/^token in \d+ ms$/);
    expect(tokenRequests).toBe(1);
    expect(JSON.stringify(outcome)).not.toContain('eyJ.probe');
  });

  it('is unhealthy when the token endpoint fails with 5xx or 429', async () => {
    for (const status of [500, 502, 503, 504, 429]) {
      answer = { status, body: '{"message":"upstream"}' };
      await expect(createLimioProbe({ requestToken })()).resolves.toEqual({
        result: 'unhealthy',
        detail: `token request failed: the Limio token endpoint answered ${status}`,
      });
    }
  });

  it('is unhealthy when the token endpoint does not answer in time', async () => {
    answer = { status: 200, body: '{}', hang: true };
    const outcome = await createLimioProbe({ requestToken: () => requestToken(300) })();
    expect(outcome.result).toBe('unhealthy');
    expect(outcome.detail).toMatch(/^token request failed: .*(timeout|aborted)/i);
  });

  it('is unhealthy when nothing listens', async () => {
    const outcome = await createLimioProbe({
      requestToken: () =>
        fetch('http://127.0.0.1:1/oauth2/token', { method: 'POST', signal: AbortSignal.timeout(1000) }),
    })();
    expect(outcome.result).toBe('unhealthy');
  });

  it('keeps the breaker open on refused credentials, saying what to fix', async () => {
    answer = { status: 401, body: '{"message":"invalid client"}' };
    await expect(createLimioProbe({ requestToken })()).resolves.toEqual({
      result: 'unhealthy',
      detail: 'token endpoint refused the client credentials (401): check the Limio secret',
    });
  });

  it('also asks for the probe subscription when one is configured', async () => {
    answer = { status: 200, body: '{"access_token":"t","expires_in":3600}' };
    const synced = await createLimioProbe({ requestToken, syncProbeSubscription: async () => 'synced' })();
    expect(synced.result).toBe('healthy');
    expect(synced.detail).toMatch(/probe subscription synced$/);
    const failing = await createLimioProbe({ requestToken, syncProbeSubscription: async () => 'limio-failure' })();
    expect(failing.result).toBe('unhealthy');
    const refused = await createLimioProbe({ requestToken, syncProbeSubscription: async () => 'refused' })();
    expect(refused.result).toBe('healthy');
  });
});

describe('loadProbeConfig', () => {
  const env = {
    BREAKER_TABLE_NAME: 'zls-breaker',
    SYNC_EVENT_SOURCE_MAPPING_ID: '14e0db71-5d35-4eb5-b481-8945cf9d10c2',
    SYNC_MAX_CONCURRENCY: '20',
    LIMIO_BASE_URL: 'https://acme.prod.limio.com/',
    LIMIO_SECRET_ID: 'limio/credentials',
  };

  it('reads the probe Lambda environment', () => {
    expect(
      loadProbeConfig({ ...env, PROBE_SUBSCRIPTION_ID: 'A-S00000001', BREAKER_HALF_OPEN_MAX_CONCURRENCY: '3' }),
    ).toMatchObject({
      tableName: 'zls-breaker',
      eventSourceMappingId: '14e0db71-5d35-4eb5-b481-8945cf9d10c2',
      fullConcurrency: 20,
      limioBaseUrl: 'https://acme.prod.limio.com',
      credentials: { source: 'secrets-manager', secretId: 'limio/credentials' },
      limioTimeoutMs: 8000,
      probeSubscriptionId: 'A-S00000001',
      settings: { halfOpenMaxConcurrency: 3 },
    });
  });

  it('names what is missing or wrong', () => {
    expect(() => loadProbeConfig({ ...env, BREAKER_TABLE_NAME: '' })).toThrow(
      'BREAKER_TABLE_NAME: is required but not set',
    );
    expect(() => loadProbeConfig({ ...env, SYNC_MAX_CONCURRENCY: undefined })).toThrow(
      'SYNC_MAX_CONCURRENCY: is required but not set',
    );
    expect(() => loadProbeConfig({ ...env, SYNC_MAX_CONCURRENCY: '1' })).toThrow(
      /SYNC_MAX_CONCURRENCY: must be between 2 and 1000/,
    );
    expect(() => loadProbeConfig({ ...env, LIMIO_SECRET_ID: undefined })).toThrow(/LIMIO_SECRET_ID: is required/);
    expect(
      loadProbeConfig({ ...env, LIMIO_SECRET_ID: undefined, LIMIO_CLIENT_ID: 'id', LIMIO_CLIENT_SECRET: 's' })
        .credentials,
    ).toEqual({
      source: 'environment',
      clientId: 'id',
      clientSecret: 's',
    });
    expect(() => loadProbeConfig({ ...env, LIMIO_CLIENT_ID: 'id' })).toThrow(/LIMIO_SECRET_ID: is set together/);
    expect(() => loadProbeConfig({ ...env, PROBE_SUBSCRIPTION_ID: '../admin' })).toThrow(/^PROBE_SUBSCRIPTION_ID: /);
  });
});
