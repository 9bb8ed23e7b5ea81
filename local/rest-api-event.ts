import type { APIGatewayProxyEvent } from 'aws-lambda';
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
 * A REST API's event (payload 1.0), as deployed: headers keep their case, repeated ones sit in
 * multiValueHeaders, and the body stays text (no binary media types are configured).
 */
export function toRestEvent(request: IncomingRequest, options: { path: string; stage?: string }): APIGatewayProxyEvent {
  const { path, rawQuery } = splitUrl(request.url);
  const headers = namedByClient<string>();
  const multiValueHeaders = namedByClient<string[]>();
  for (const [name, value] of headerPairs(request.rawHeaders)) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query = queryPairs(rawQuery);
  const queryStringParameters = namedByClient<string>();
  const multiValueQueryStringParameters = namedByClient<string[]>();
  for (const [name, value] of query) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  // The stage the CDK construct deploys the REST API to.
  const stage = options.stage ?? 'live';
  const userAgent = headers[Object.keys(headers).find((name) => name.toLowerCase() === 'user-agent') ?? ''] ?? null;
  return asDeliveredToLambda<APIGatewayProxyEvent>({
    resource: options.path,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.length > 0 ? queryStringParameters : null,
    multiValueQueryStringParameters: query.length > 0 ? multiValueQueryStringParameters : null,
    pathParameters: null,
    stageVariables: null,
    // No binary media types are configured on the deployed API, so every body reaches the Lambda as text.
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      domainName: 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: request.requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${stage}${path}`,
      protocol: 'HTTP/1.1',
      requestId: request.requestId,
      requestTime: gatewayTime(request.receivedAt),
      requestTimeEpoch: request.receivedAt.getTime(),
      resourceId: 'local',
      resourcePath: options.path,
      stage,
    },
  });
}
