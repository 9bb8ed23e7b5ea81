import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadRuntimeConfig } from '../../local/config';
import {
  faultsChange,
  handleLocalLimioRequest,
  LOCAL_LIMIO_FAULTS_PATH,
  type LimioControlView,
  type LocalLimioControlOptions,
} from '../../local/limio-control';
import { withFaultDefaults } from '../../local/limio-faults';
import { describeLimioFaults, limioFaultsLine } from '../../local/output';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';

// Every Limio failure set while the sandbox runs, through the route the runtime's front door serves, and then seen
// where the bridge sees it: a real sync call to the sandbox over HTTP.

async function serve(
  options: LocalLimioControlOptions,
  remoteAddress?: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (remoteAddress !== undefined)
      Object.defineProperty(request.socket, 'remoteAddress', { value: remoteAddress, configurable: true });
    if (!handleLocalLimioRequest(request, response, options)) response.writeHead(418).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${LOCAL_LIMIO_FAULTS_PATH}` };
}

const json = { 'content-type': 'application/json' };

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const post = (url: string, body: unknown) => call(url, { method: 'POST', headers: json, body: JSON.stringify(body) });

async function token(sandbox: LimioSandbox): Promise<{ status: number; token?: string }> {
  const response = await fetch(`${sandbox.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  return { status: response.status, ...(body.access_token !== undefined && { token: body.access_token }) };
}

async function sync(sandbox: LimioSandbox, id: string, bearer: string, signal?: AbortSignal) {
  const response = await fetch(`${sandbox.baseUrl}/api/plugins/zuora/sync/subscription/${encodeURIComponent(id)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}` },
    ...(signal && { signal }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

const NO_FAULTS: LimioControlView = {
  rate502: 0,
  rate429: 0,
  retryAfterSeconds: 1,
  hangRate: 0,
  down: false,
  notFoundIds: [],
  capacity: null,
  latencyMs: 0,
};

describe('the Limio sandbox faults route', () => {
  let sandbox: LimioSandbox;
  let server: Server;
  let url: string;
  let bearer: string;
  let changes: LimioControlView[];

  beforeEach(async () => {
    changes = [];
    sandbox = await startLimioSandbox();
    ({ server, url } = await serve({ sandbox, onFaultsChanged: (view) => changes.push(view) }));
    bearer = (await token(sandbox)).token!;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await sandbox.stop();
  });

  it('reports every fault and the capacity model', async () => {
    expect(await call(url)).toEqual({ status: 200, body: NO_FAULTS });
  });

  it('404 for chosen subscriptions, the others synced; an empty list clears it', async () => {
    expect(await post(url, { notFoundIds: ['A-S00000500', 'A-S00000501'] })).toEqual({
      status: 200,
      body: { ...NO_FAULTS, notFoundIds: ['A-S00000500', 'A-S00000501'] },
    });
    expect(await sync(sandbox, 'A-S00000500', bearer)).toMatchObject({
      status: 404,
      body: { message: expect.stringContaining('Not Found') },
    });
    expect((await sync(sandbox, 'A-S00000271', bearer)).status).toBe(200);
    expect((await post(url, { notFoundIds: [] })).body.notFoundIds).toEqual([]);
    expect((await sync(sandbox, 'A-S00000500', bearer)).status).toBe(200);
    expect(changes.map((view) => view.notFoundIds)).toEqual([['A-S00000500', 'A-S00000501'], []]);
  });

  it('down: 503 for the token endpoint and every sync, at once; back up when cleared', async () => {
    await post(url, { down: true });
    expect(await token(sandbox)).toEqual({ status: 503 });
    expect(await sync(sandbox, 'A-S00000271', bearer)).toMatchObject({
      status: 503,
      body: { message: expect.stringContaining('Limio is down') },
    });
    await post(url, { down: false });
    expect((await token(sandbox)).status).toBe(200);
    expect((await sync(sandbox, 'A-S00000271', bearer)).status).toBe(200);
  });

  it('502 rate and 429 rate with the Retry-After set', async () => {
    await post(url, { rate502: 1 });
    expect((await sync(sandbox, 'A-S1', bearer)).status).toBe(502);
    // The rates not given are kept: 502 must go to 0 for 429 to take all of it.
    expect((await post(url, { rate429: 1 })).status).toBe(400);
    expect((await post(url, { rate502: 0, rate429: 1, retryAfterSeconds: 7 })).body).toMatchObject({
      rate502: 0,
      rate429: 1,
      retryAfterSeconds: 7,
    });
    expect(await sync(sandbox, 'A-S1', bearer)).toMatchObject({ status: 429, retryAfter: '7' });
  });

  it('hang rate: the call is never answered', async () => {
    await post(url, { hangRate: 1 });
    await expect(sync(sandbox, 'A-S1', bearer, AbortSignal.timeout(300))).rejects.toThrow(/abort|timeout/i);
    await post(url, { hangRate: 0 });
    expect((await sync(sandbox, 'A-S1', bearer)).status).toBe(200);
  });

  it('the capacity model and latency, null capacity being unlimited', async () => {
    expect((await post(url, { capacity: 2, latencyMs: 20 })).body).toMatchObject({ capacity: 2, latencyMs: 20 });
    expect(sandbox.serviceModel()).toEqual({ capacity: 2, latencyMs: 20 });
    expect((await post(url, { capacity: null })).body).toMatchObject({ capacity: null, latencyMs: 20 });
    expect(sandbox.serviceModel()).toEqual({ capacity: undefined, latencyMs: 20 });
  });

  it('refuses a web page (Origin), a body that is not JSON and a caller off this machine, changing nothing', async () => {
    expect(
      (
        await call(url, {
          method: 'POST',
          headers: { ...json, origin: 'https://evil.example' },
          body: '{"down": true}',
        })
      ).status,
    ).toBe(403);
    expect((await call(url, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect(
      (await call(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"down": true}' })).status,
    ).toBe(415);
    expect(
      (
        await call(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'down=true',
        })
      ).status,
    ).toBe(415);
    const exposed = await serve({ sandbox }, '10.0.0.5');
    try {
      expect(await post(exposed.url, { down: true })).toEqual({
        status: 403,
        body: { message: expect.stringContaining('from this machine only') },
      });
    } finally {
      await new Promise((resolve) => exposed.server.close(resolve));
    }
    expect((await call(url)).body).toEqual(NO_FAULTS);
    expect(changes).toEqual([]);
  });

  it.each([
    ['a rate over 1', { rate502: 1.5 }],
    ['a rate as text', { rate429: '0.5' }],
    ['down as text', { down: 'yes' }],
    ['ids that are not a list', { notFoundIds: 'A-S1' }],
    ['an empty id', { notFoundIds: [''] }],
    ['a fractional Retry-After', { retryAfterSeconds: 1.5 }],
    ['a capacity of 0', { capacity: 0 }],
    ['an unknown field', { rate503: 1 }],
    ['nothing to change', {}],
  ])('answers 400 for %s, changing nothing', async (_, body) => {
    expect(await post(url, body)).toEqual({
      status: 400,
      body: { message: expect.stringContaining('expected any of') },
    });
    expect((await call(url)).body).toEqual(NO_FAULTS);
  });

  it('answers 409 when the runtime syncs to a real Limio tenant', async () => {
    const tenant = await serve({});
    try {
      expect((await post(tenant.url, { down: true })).status).toBe(409);
    } finally {
      await new Promise((resolve) => tenant.server.close(resolve));
    }
  });
});

describe('faultsChange', () => {
  it('accepts shares adding up to 1 despite floating point, and judges them with the ones kept', () => {
    const none = withFaultDefaults({});
    expect(faultsChange({ rate502: 0.1, rate429: 0.2, hangRate: 0.7 }, none)).toEqual({
      rate502: 0.1,
      rate429: 0.2,
      hangRate: 0.7,
    });
    expect(faultsChange({ rate429: 0.5 }, withFaultDefaults({ rate502: 0.6 }))).toEqual(
      expect.stringContaining('more than 1'),
    );
  });
});

describe('Limio sandbox faults from the environment (npm start)', () => {
  it('LIMIO_SANDBOX_DOWN and LIMIO_SANDBOX_NOT_FOUND_IDS', () => {
    const config = loadRuntimeConfig({
      LIMIO_SANDBOX_DOWN: 'true',
      LIMIO_SANDBOX_NOT_FOUND_IDS: 'A-S00000500, A-S00000501,',
    });
    expect(config.limio).toMatchObject({
      kind: 'sandbox',
      faults: { down: true, notFoundIds: ['A-S00000500', 'A-S00000501'] },
    });
    expect(loadRuntimeConfig({}).limio).toMatchObject({ faults: { down: false, notFoundIds: [] } });
    expect(() => loadRuntimeConfig({ LIMIO_SANDBOX_DOWN: 'yes' })).toThrow(
      /LIMIO_SANDBOX_DOWN: must be one of true, false/,
    );
    expect(() => loadRuntimeConfig({ LIMIO_SANDBOX_NOT_FOUND_IDS: 'A-S1 A-S2' })).toThrow(
      /LIMIO_SANDBOX_NOT_FOUND_IDS: must be subscription ids separated by commas/,
    );
    const tenant = { LIMIO_BASE_URL: 'https://tenant.example', LIMIO_CLIENT_ID: 'a', LIMIO_CLIENT_SECRET: 'b' };
    expect(() => loadRuntimeConfig({ ...tenant, LIMIO_SANDBOX_NOT_FOUND_IDS: 'A-S1' })).toThrow(
      /LIMIO_SANDBOX_NOT_FOUND_IDS: applies to the local Limio sandbox only/,
    );
  });

  it('a sandbox started with them answers so from the first call', async () => {
    const config = loadRuntimeConfig({ LIMIO_SANDBOX_NOT_FOUND_IDS: 'A-S00000500', LIMIO_SANDBOX_PORT: '0' });
    if (config.limio.kind !== 'sandbox') throw new Error('expected the sandbox');
    const sandbox = await startLimioSandbox({ port: 0, ...config.limio.faults });
    try {
      const bearer = (await token(sandbox)).token!;
      expect((await sync(sandbox, 'A-S00000500', bearer)).status).toBe(404);
      sandbox.setFaults({ down: true });
      expect((await sync(sandbox, 'A-S00000271', bearer)).status).toBe(503);
    } finally {
      await sandbox.stop();
    }
  });
});

describe("npm start's words for the sandbox's faults", () => {
  it('names each fault set, and "no faults" when none is', () => {
    expect(describeLimioFaults(withFaultDefaults({}))).toBe('no faults');
    expect(
      describeLimioFaults(
        withFaultDefaults({
          down: true,
          notFoundIds: ['A-S1', 'A-S2'],
          rate502: 0.2,
          rate429: 0.1,
          retryAfterSeconds: 7,
          hangRate: 0.05,
          latencyMs: 40,
          tokenTtlSeconds: 5,
        }),
      ),
    ).toBe(
      'DOWN: 503 for every request, 404 for A-S1, A-S2, 502 for 20%, 429 for 10% (Retry-After 7 s), no answer for 5%, latency 40 ms, tokens live 5 s',
    );
    expect(limioFaultsLine({ ...NO_FAULTS, notFoundIds: ['A-S00000500'], capacity: 8 })).toBe(
      'limio         sandbox now: 404 for A-S00000500, capacity 8 in flight',
    );
  });
});
