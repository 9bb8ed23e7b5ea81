import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  asDeliveredToLambda,
  gatewayTime,
  headerPairs,
  namedByClient,
  queryPairs,
  splitUrl,
  type IncomingRequest,
} from './api-gateway';

/**
 * An HTTP API's event (payload 2.0): header names lower-cased, repeated headers joined with commas, cookies split
 * out, and the body base64-encoded for every content type except text/*, JSON, XML and JavaScript.
 */

/** Types that reach an HTTP API Lambda as plain text; everything else arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return (
    mediaType.startsWith('text/') ||
    ['application/json', 'application/xml', 'application/javascript'].includes(mediaType)
  );
}

export function toHttpApiEvent(
  request: IncomingRequest,
  options: { path: string; stage?: string },
): APIGatewayProxyEventV2 {
  const { path, rawQuery } = splitUrl(request.url);
  const headers = namedByClient<string>();
  const cookies: string[] = [];
  for (const [rawName, value] of headerPairs(request.rawHeaders)) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter((cookie) => cookie !== ''),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const queryStringParameters = namedByClient<string>();
  for (const [name, value] of queryPairs(rawQuery)) {
    queryStringParameters[name] =
      queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }
  const routeKey = `${request.method} ${options.path}`;
  const hasBody = request.body.length > 0;
  const asText = isTextContentType(headers['content-type']);
  return asDeliveredToLambda<APIGatewayProxyEventV2>({
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: rawQuery,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 && { queryStringParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey,
      stage: options.stage ?? '$default',
      time: gatewayTime(request.receivedAt),
      timeEpoch: request.receivedAt.getTime(),
    },
    ...(hasBody && { body: asText ? request.body.toString('utf8') : request.body.toString('base64') }),
    isBase64Encoded: hasBody && !asText,
  });
}
