import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/** Builders for the events API Gateway hands the callout Lambda, encoded the way API Gateway encodes them. */
export interface CalloutShape {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** Query string as sent, e.g. "subscriptionNumber=A-S1&subscriptionNumber=A-S2". */
  query?: string;
  body?: string | Buffer;
  requestId?: string;
}

/** HTTP APIs send only these as text; everything else (forms, no Content-Type) arrives base64-encoded. */
function httpApiSendsAsText(headers: Record<string, string>): boolean {
  const type = Object.entries(headers)
    .find(([name]) => name.toLowerCase() === 'content-type')?.[1]
    ?.split(';')[0]
    ?.trim()
    .toLowerCase();
  if (type === undefined) return false;
  return type.startsWith('text/') || ['application/json', 'application/xml', 'application/javascript'].includes(type);
}

export function httpApiEvent(shape: CalloutShape = {}): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(
    Object.entries(shape.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const body =
    shape.body === undefined ? undefined : Buffer.isBuffer(shape.body) ? shape.body : Buffer.from(shape.body, 'utf8');
  const asText = body !== undefined && httpApiSendsAsText(headers) && !Buffer.isBuffer(shape.body);
  const query = shape.query ?? '';
  // No prototype: a parameter called "toString" is just a name (API Gateway's own maps behave so).
  const queryStringParameters: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(query)) {
    queryStringParameters[name] = Object.hasOwn(queryStringParameters, name)
      ? `${queryStringParameters[name]},${value}`
      : value;
  }
  return {
    version: '2.0',
    routeKey: `${shape.method ?? 'POST'} /zuora/callout`,
    rawPath: shape.path ?? '/zuora/callout',
    rawQueryString: query,
    headers,
    ...(query !== '' && { queryStringParameters }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'example.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'example',
      http: {
        method: shape.method ?? 'POST',
        path: shape.path ?? '/zuora/callout',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'Zuora',
      },
      requestId: shape.requestId ?? 'req-1',
      routeKey: `${shape.method ?? 'POST'} /zuora/callout`,
      stage: '$default',
      time: '25/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795600000000,
    },
    ...(body !== undefined && { body: asText ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body !== undefined && !asText,
  };
}

/** REST API (payload 1.0): header case kept, repeats in multiValue*, body as text unless a binary media type. */
export function restApiEvent(shape: CalloutShape = {}, options: { binary?: boolean } = {}): APIGatewayProxyEvent {
  const headers = shape.headers ?? {};
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  const multiValueQueryStringParameters: Record<string, string[]> = Object.create(null);
  const queryStringParameters: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(shape.query ?? '')) {
    (multiValueQueryStringParameters[name] ??= []).push(value);
    queryStringParameters[name] = value;
  }
  const body =
    shape.body === undefined ? null : Buffer.isBuffer(shape.body) ? shape.body : Buffer.from(shape.body, 'utf8');
  const hasQuery = Object.keys(queryStringParameters).length > 0;
  return {
    resource: '/zuora/callout',
    path: shape.path ?? '/zuora/callout',
    httpMethod: shape.method ?? 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? queryStringParameters : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: shape.requestId ?? 'req-1',
      httpMethod: shape.method ?? 'POST',
      path: '/prod/zuora/callout',
    } as APIGatewayProxyEvent['requestContext'],
    body: body === null ? null : options.binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: body !== null && options.binary === true,
  };
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
