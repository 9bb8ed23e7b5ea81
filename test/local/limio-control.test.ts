import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackAddress } from '../../local/control-request';
import {
  capacityChange,
  handleLocalLimioRequest,
  LOCAL_LIMIO_CAPACITY_PATH,
  type LocalLimioControlOptions,
} from '../../local/limio-control';
import type { LimioServiceModel } from '../../local/limio-sandbox';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';

// The route as the runtime's front door serves it, on a real server on 127.0.0.1, over a real Limio sandbox.

/** `remoteAddress`: what the route is shown as the caller's address (the connection itself stays on loopback). */
async function serve(
  options: LocalLimioControlOptions,
  remoteAddress?: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (remoteAddress !== undefined)
      Object.defineProperty(request.socket, 'remoteAddress', { value: remoteAddress, configurable: true });
    if (!handleLocalLimioRequest(request, response, options)) {
      response.writeHead(418).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${LOCAL_LIMIO_CAPACITY_PATH}` };
}

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const json = { 'content-type': 'application/json' };

describe('the Limio sandbox control route', () => {
  let sandbox: LimioSandbox;
  let server: Server;
  let url: string;
  let changes: LimioServiceModel[];

  beforeEach(async () => {
    changes = [];
    sandbox = await startLimioSandbox({ latencyMs: 200, capacity: 8 });
    ({ server, url } = await serve({ sandbox, onChanged: (model) => changes.push(model) }));
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    await sandbox.stop();
  });

  it('reports the capacity and latency the sandbox serves at', async () => {
    expect(await call(url)).toEqual({ status: 200, body: { capacity: 8, latencyMs: 200 } });
  });

  it('changes the capacity and the latency while the sandbox runs, null being unlimited', async () => {
    expect(
      await call(url, { method: 'POST', headers: json, body: JSON.stringify({ capacity: 4, latencyMs: 100 }) }),
    ).toEqual({ status: 200, body: { capacity: 4, latencyMs: 100 } });
    expect(sandbox.serviceModel()).toEqual({ capacity: 4, latencyMs: 100 });
    expect(
      await call(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: '{"capacity": null}',
      }),
    ).toEqual({ status: 200, body: { capacity: null, latencyMs: 100 } });
    expect(sandbox.serviceModel()).toEqual({ capacity: undefined, latencyMs: 100 });
    expect(changes).toEqual([
      { capacity: 4, latencyMs: 100 },
      { capacity: undefined, latencyMs: 100 },
    ]);
  });

  it('refuses a request from a web page (Origin header) and a body that is not JSON, changing nothing', async () => {
    const fromPage = await call(url, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
      body: '{"capacity": 1}',
    });
    expect(fromPage.status).toBe(403);
    expect((await call(url, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const form = await call(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'capacity=1',
    });
    expect(form.status).toBe(415);
    const textPlain = await call(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"capacity": 1}',
    });
    expect(textPlain.status).toBe(415);
    expect(sandbox.serviceModel()).toEqual({ capacity: 8, latencyMs: 200 });
    expect(changes).toEqual([]);
  });

  // The runtime listens on 127.0.0.1 only; should it ever listen wider, a caller from elsewhere is still refused.
  // Tests send traffic to loopback only: the server shows the route a private-range caller instead.
  it('refuses a request that does not come from loopback, changing nothing', async () => {
    const exposed = await serve({ sandbox }, '10.0.0.5');
    try {
      const answer = await call(exposed.url, { method: 'POST', headers: json, body: '{"capacity": 1}' });
      expect(answer).toEqual({ status: 403, body: { message: expect.stringContaining('from this machine only') } });
      expect(sandbox.serviceModel()).toEqual({ capacity: 8, latencyMs: 200 });
    } finally {
      await new Promise((resolve) => exposed.server.close(resolve));
    }
  });

  it.each([
    ['0 capacity', '{"capacity": 0}'],
    ['a fractional capacity', '{"capacity": 2.5}'],
    ['a capacity as text', '{"capacity": "8"}'],
    ['a negative latency', '{"latencyMs": -1}'],
    ['an unknown field', '{"capacity": 4, "rate502": 1}'],
    ['nothing to change', '{}'],
    ['not JSON', 'capacity=4'],
    ['an array', '[4]'],
  ])('answers 400 for %s, changing nothing', async (_, body) => {
    const answer = await call(url, { method: 'POST', headers: json, body });
    expect(answer).toEqual({ status: 400, body: { message: expect.stringContaining('expected {"capacity"') } });
    expect(sandbox.serviceModel()).toEqual({ capacity: 8, latencyMs: 200 });
  });

  it('answers 404 for another path under /_local/limio, 405 for another method, and leaves other paths alone', async () => {
    expect((await call(`${url.replace('/capacity', '/other')}`)).status).toBe(404);
    expect((await call(url, { method: 'DELETE' })).status).toBe(405);
    const other = await fetch(url.replace(LOCAL_LIMIO_CAPACITY_PATH, '/zuora/callout'));
    expect(other.status).toBe(418);
  });

  it('answers 409 when the runtime syncs to a real Limio tenant', async () => {
    const tenant = await serve({});
    try {
      expect((await call(tenant.url, { method: 'POST', headers: json, body: '{"capacity": 4}' })).status).toBe(409);
    } finally {
      await new Promise((resolve) => tenant.server.close(resolve));
    }
  });
});

describe('capacityChange', () => {
  it('takes a capacity, null (unlimited), a latency, or both', () => {
    expect(capacityChange({ capacity: 12 })).toEqual({ capacity: 12 });
    expect(capacityChange({ capacity: null })).toEqual({ capacity: null });
    expect(capacityChange({ latencyMs: 0 })).toEqual({ latencyMs: 0 });
    expect(capacityChange({ capacity: 1, latencyMs: 600_000 })).toEqual({ capacity: 1, latencyMs: 600_000 });
    expect(capacityChange({ capacity: 10_001 })).toEqual(expect.any(String));
    expect(capacityChange({ latencyMs: 600_001 })).toEqual(expect.any(String));
    expect(capacityChange(undefined)).toEqual(expect.any(String));
  });
});

describe('isLoopbackAddress', () => {
  it('accepts 127.0.0.0/8 and ::1, also IPv6-mapped, and nothing else', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopbackAddress(address)).toBe(true);
    for (const address of [
      '10.0.0.5',
      '192.168.1.20',
      '::ffff:10.0.0.5',
      'fe80::1',
      '0.0.0.0',
      '1127.0.0.1',
      undefined,
    ])
      expect(isLoopbackAddress(address)).toBe(false);
  });
});
