import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiGatewayEvent, IncomingRequest } from '../../local/api-gateway';
import { createApiGatewayListener, toApiGatewayEvent, type ApiGatewayAdapterOptions } from '../../local/api-gateway-adapter';
import { isTextContentType } from '../../local/http-api-event';
import { closeServer, listen } from '../../local/listen';

const PATH = '/zuora/callout';

function incoming(overrides: Partial<IncomingRequest> = {}): IncomingRequest {
  return {
    method: 'POST',
    url: PATH,
    rawHeaders: [],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    requestId: 'req-1',
    receivedAt: new Date('2026-11-25T18:12:45.000Z'),
    ...overrides,
  };
}

describe('API Gateway events', () => {
  it('REST (payload 1.0) keeps header case, lists repeated headers and query values, and passes the body as text', () => {
    const event = toApiGatewayEvent(
      'rest',
      incoming({
        url: `${PATH}?subscriptionNumber=A-S1&subscriptionNumber=A-S2&eventType=x`,
        rawHeaders: ['Content-Type', 'application/x-www-form-urlencoded', 'X-Tag', 'a', 'X-Tag', 'b', 'Zuora-Request-Id', 'r1'],
        body: Buffer.from('subscriptionNumber=A-S00000271'),
      }),
      { path: PATH },
    ) as APIGatewayProxyEvent;
    expect(event.headers['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(event.headers['Zuora-Request-Id']).toBe('r1');
    expect(event.headers['X-Tag']).toBe('b');
    expect(event.multiValueHeaders['X-Tag']).toEqual(['a', 'b']);
    expect(event.queryStringParameters).toEqual({ subscriptionNumber: 'A-S2', eventType: 'x' });
    expect(event.multiValueQueryStringParameters).toEqual({ subscriptionNumber: ['A-S1', 'A-S2'], eventType: ['x'] });
    expect(event.body).toBe('subscriptionNumber=A-S00000271');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.httpMethod).toBe('POST');
    expect(event.requestContext.requestId).toBe('req-1');
    expect(event.requestContext.requestTime).toBe('25/Nov/2026:18:12:45 +0000');
    expect(event.requestContext.identity.sourceIp).toBe('127.0.0.1');
  });

  it('REST gives null body and null query maps when there are none', () => {
    const event = toApiGatewayEvent('rest', incoming({ method: 'GET' }), { path: PATH }) as APIGatewayProxyEvent;
    expect(event.body).toBeNull();
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('HTTP API (payload 2.0) lower-cases and comma-joins headers, splits cookies out and joins repeated query values', () => {
    const event = toApiGatewayEvent(
      'http',
      incoming({
        url: `${PATH}?id=A-S1&id=A-S2`,
        rawHeaders: ['Content-Type', 'application/json', 'X-Tag', 'a', 'X-Tag', 'b', 'Cookie', 'one=1; two=2'],
        body: Buffer.from('{"subscriptionNumber":"A-S1"}'),
      }),
      { path: PATH },
    ) as APIGatewayProxyEventV2;
    expect(event.version).toBe('2.0');
    expect(event.headers).toEqual({ 'content-type': 'application/json', 'x-tag': 'a,b' });
    expect(event.cookies).toEqual(['one=1', 'two=2']);
    expect(event.rawQueryString).toBe('id=A-S1&id=A-S2');
    expect(event.queryStringParameters).toEqual({ id: 'A-S1,A-S2' });
    expect(event.body).toBe('{"subscriptionNumber":"A-S1"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.http).toMatchObject({ method: 'POST', path: PATH, sourceIp: '127.0.0.1' });
    expect(event.requestContext.time).toBe('25/Nov/2026:18:12:45 +0000');
    expect(event.routeKey).toBe(`POST ${PATH}`);
  });

  // Names that are inherited members of a plain object. API Gateway sends them as JSON keys and the Lambda runtime
  // parses them into own properties, so the handler must see them as ordinary input.
  const INHERITED_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'] as const;
  const inheritedNameRequest = () =>
    incoming({
      url: `${PATH}?${INHERITED_NAMES.map((name, i) => `${name}=q${i}`).join('&')}&constructor=again`,
      rawHeaders: INHERITED_NAMES.flatMap((name, i) => [name, `h${i}`]),
    });
  const ownValue = (record: unknown, name: string): unknown =>
    Object.getOwnPropertyDescriptor(record as object, name)?.value;

  it('REST passes query parameters and headers named constructor, __proto__, toString and hasOwnProperty as own properties', () => {
    const event = toApiGatewayEvent('rest', inheritedNameRequest(), { path: PATH }) as APIGatewayProxyEvent;
    INHERITED_NAMES.forEach((name, i) => {
      expect(ownValue(event.headers, name)).toBe(`h${i}`);
      expect(ownValue(event.multiValueHeaders, name)).toEqual([`h${i}`]);
      expect(ownValue(event.queryStringParameters, name)).toBe(name === 'constructor' ? 'again' : `q${i}`);
      expect(ownValue(event.multiValueQueryStringParameters, name)).toEqual(name === 'constructor' ? ['q0', 'again'] : [`q${i}`]);
    });
    // Ordinary objects, as JSON.parse in the Lambda runtime makes them.
    for (const map of [event.headers, event.multiValueHeaders, event.queryStringParameters, event.multiValueQueryStringParameters]) {
      expect(Object.getPrototypeOf(map)).toBe(Object.prototype);
    }
  });

  it('HTTP API passes query parameters and headers named constructor, __proto__, toString and hasOwnProperty as own properties', () => {
    const event = toApiGatewayEvent('http', inheritedNameRequest(), { path: PATH }) as APIGatewayProxyEventV2;
    INHERITED_NAMES.forEach((name, i) => {
      expect(ownValue(event.headers, name.toLowerCase())).toBe(`h${i}`);
      expect(ownValue(event.queryStringParameters, name)).toBe(name === 'constructor' ? 'q0,again' : `q${i}`);
    });
    expect(Object.getPrototypeOf(event.headers)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(event.queryStringParameters)).toBe(Object.prototype);
  });

  it.each([
    ['application/x-www-form-urlencoded', true],
    [undefined, true],
    ['application/octet-stream', true],
    ['text/plain; charset=utf-8', false],
    ['application/json; charset=utf-8', false],
    ['application/xml', false],
    ['application/javascript', false],
  ])('HTTP API base64-encodes a %s body: %s', (contentType, base64) => {
    const body = 'subscriptionNumber=A-S00000271';
    const event = toApiGatewayEvent(
      'http',
      incoming({ rawHeaders: contentType === undefined ? [] : ['Content-Type', contentType], body: Buffer.from(body) }),
      { path: PATH },
    ) as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(base64);
    expect(base64 ? Buffer.from(event.body!, 'base64').toString() : event.body).toBe(body);
    expect(isTextContentType(contentType)).toBe(!base64);
  });
});

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
    const challenged = await fetch(`${base}${PATH}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe('Basic realm="zuora-callout"');
    expect(await challenged.json()).toEqual({ success: false, message: 'authentication required' });
    expect(events).toHaveLength(0);

    const authorization = `Basic ${Buffer.from('zuora:secret').toString('base64')}`;
    const accepted = await fetch(`${base}${PATH}`, { method: 'POST', body: '{}', headers: { authorization, 'content-type': 'application/json' } });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ success: true });
    expect(events).toHaveLength(1);
    expect((events[0] as APIGatewayProxyEvent).headers.authorization).toBe(authorization);
  });

  it.each(['rest', 'http'] as const)('%s renames a Lambda WWW-Authenticate header, as API Gateway does', async (kind) => {
    const base = await serve({
      kind,
      handler: async () => ({ statusCode: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"', 'Content-Type': 'application/json' }, body: '{}' }),
    });
    const response = await fetch(`${base}${PATH}`, { method: 'POST' });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(response.headers.get('x-amzn-remapped-www-authenticate')).toBe('Basic realm="x"');
  });

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

  it.each(['rest', 'http'] as const)('%s calls the Lambda for a request with headers and parameters named after Object members', async (kind) => {
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
        { method: 'POST', headers: ['Host', '127.0.0.1', 'constructor', 'a', 'toString', 'b', 'hasOwnProperty', 'c', '__proto__', 'd'] },
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
    expect(Object.keys(events[0].queryStringParameters ?? {})).toEqual(['constructor', 'toString', 'hasOwnProperty', '__proto__']);
  });

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
      const req = httpRequest(`${base}${PATH}`, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
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
