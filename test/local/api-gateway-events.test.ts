import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { IncomingRequest } from '../../local/api-gateway';
import { toApiGatewayEvent } from '../../local/api-gateway-adapter';
import { isTextContentType } from '../../local/http-api-event';

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
        rawHeaders: [
          'Content-Type',
          'application/x-www-form-urlencoded',
          'X-Tag',
          'a',
          'X-Tag',
          'b',
          'Zuora-Request-Id',
          'r1',
        ],
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
      expect(ownValue(event.multiValueQueryStringParameters, name)).toEqual(
        name === 'constructor' ? ['q0', 'again'] : [`q${i}`],
      );
    });
    // Ordinary objects, as JSON.parse in the Lambda runtime makes them.
    for (const map of [
      event.headers,
      event.multiValueHeaders,
      event.queryStringParameters,
      event.multiValueQueryStringParameters,
    ]) {
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
