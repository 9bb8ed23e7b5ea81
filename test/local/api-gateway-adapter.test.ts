import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiGatewayEvent } from '../../local/api-gateway';
import { createApiGatewayListener, type ApiGatewayAdapterOptions } from '../../local/api-gateway-adapter';
import { closeServer, listen } from '../../local/listen';

const PATH = '/zuora/callout';

describe('API Gateway adapter over HTTP', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  async function serve(options: Omit<ApiGatewayAdapterOptions, 'path'>): Promise<string> {
    server = createServer(createApiGatewayListener({ path: PATH, ...options }));
    const port = await listen(server, 0, '127.0.0.1', 'PORT');
    return `http://127.0.0.1:${port}`;
  }

  it('REST in Basic mode answers a request without credentials with the gateway challenge and never calls the Lambda', async () => {
    const events: ApiGatewayEvent[] = [];
    const base = await serve({
      kind: 'rest',
      basicChallengeRealm: 'zuora-callout',
      handler: async (event) => {
        events.push(event);
        return { statusCode: 200, body: '{"success":true}' };
      },
    });
    const challenged = await fetch(`${base}${PATH}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe('Basic realm="zuora-callout"');
    expect(await challenged.json()).toEqual({ success: false, message: 'authentication required' });
    expect(events).toHaveLength(0);

    const authorization = `Basic ${Buffer.from('zuora:secret').toString('base64')}`;
    const accepted = await fetch(`${base}${PATH}`, {
      method: 'POST',
      body: '{}',
      headers: { authorization, 'content-type': 'application/json' },
    });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ success: true });
    expect(events).toHaveLength(1);
    expect((events[0] as APIGatewayProxyEvent).headers.authorization).toBe(authorization);
  });

  it.each(['rest', 'http'] as const)(
    '%s renames a Lambda WWW-Authenticate header, as API Gateway does',
    async (kind) => {
      const base = await serve({
        kind,
        handler: async () => ({
          statusCode: 401,
          headers: { 'WWW-Authenticate': 'Basic realm="x"', 'Content-Type': 'application/json' },
          body: '{}',
        }),
      });
      const response = await fetch(`${base}${PATH}`, { method: 'POST' });
      await response.arrayBuffer();
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(response.headers.get('x-amzn-remapped-www-authenticate')).toBe('Basic realm="x"');
    },
  );

  it('HTTP API delivers a form body to the Lambda base64-encoded', async () => {
    const events: APIGatewayProxyEventV2[] = [];
    const base = await serve({
      kind: 'http',
      handler: async (event) => {
        events.push(event as APIGatewayProxyEventV2);
        return { statusCode: 200, body: 'ok' };
      },
    });
    const response = await fetch(`${base}${PATH}`, {
      method: 'POST',
      body: 'subscriptionNumber=A-S00000271',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await response.text()).toBe('ok');
    expect(events[0].isBase64Encoded).toBe(true);
    expect(Buffer.from(events[0].body!, 'base64').toString()).toBe('subscriptionNumber=A-S00000271');
  });

  it.each([
    ['rest', 502],
    ['http', 500],
  ] as const)('%s answers %i when the Lambda throws or answers a malformed result', async (kind, status) => {
    const errors: unknown[] = [];
    let call = 0;
    const base = await serve({
      kind,
      onIntegrationError: (error) => errors.push(error),
      handler: async () => {
        call += 1;
        if (call === 1) throw new Error('boom');
        return { statusCode: 'two hundred' };
      },
    });
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}${PATH}`, { method: 'POST' });
      await response.arrayBuffer();
      expect(response.status).toBe(status);
    }
    expect(errors).toHaveLength(2);
  });

  it.each(['rest', 'http'] as const)(
    '%s calls the Lambda for a request with headers and parameters named after Object members',
    async (kind) => {
      const events: ApiGatewayEvent[] = [];
      const base = await serve({
        kind,
        handler: async (event) => {
          events.push(event);
          return { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: 'ok' };
        },
      });
      // node:http with raw header pairs: fetch's Headers drops a header named __proto__.
      const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${base}${PATH}?constructor=1&toString=2&hasOwnProperty=3&__proto__=4`,
          {
            method: 'POST',
            headers: [
              'Host',
              '127.0.0.1',
              'constructor',
              'a',
              'toString',
              'b',
              'hasOwnProperty',
              'c',
              '__proto__',
              'd',
            ],
          },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(response).toEqual({ status: 200, body: 'ok' });
      expect(events).toHaveLength(1);
      const headerNames = Object.keys(events[0].headers).map((name) => name.toLowerCase());
      expect(headerNames).toEqual(expect.arrayContaining(['constructor', 'tostring', 'hasownproperty', '__proto__']));
      expect(Object.keys(events[0].queryStringParameters ?? {})).toEqual([
        'constructor',
        'toString',
        'hasOwnProperty',
        '__proto__',
      ]);
    },
  );

  it.each([
    ['rest', 403],
    ['http', 404],
  ] as const)('%s answers %i for a route the API does not have', async (kind, status) => {
    const base = await serve({ kind, handler: async () => ({ statusCode: 200, body: '' }) });
    const response = await fetch(`${base}/elsewhere`, { method: 'POST' });
    await response.arrayBuffer();
    expect(response.status).toBe(status);
  });

  it('refuses a body over the payload limit with 413 without calling the Lambda', async () => {
    let calls = 0;
    const base = await serve({
      kind: 'rest',
      maxBodyBytes: 1024,
      handler: async () => {
        calls += 1;
        return { statusCode: 200, body: '' };
      },
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${base}${PATH}`,
        { method: 'POST', headers: { 'content-type': 'text/plain' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(Buffer.alloc(4096, 'a'));
    });
    expect(status).toBe(413);
    expect(calls).toBe(0);
  });

  it('names the variable to change when the port is taken', async () => {
    await serve({ kind: 'rest', handler: async () => ({ statusCode: 200, body: '' }) });
    const { port } = server!.address() as AddressInfo;
    const second = createServer();
    await expect(listen(second, port, '127.0.0.1', 'PORT')).rejects.toThrow(/port \d+ is already in use.*set PORT/);
  });
});
