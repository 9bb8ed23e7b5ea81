/**
 * The callout API's access log lines, as JSON. Only $context fields, never headers: the Authorization header (and
 * any signature header) must not reach a log. `status` and `apiId` feed the CalloutThrottled metric filter.
 */
export const REST_ACCESS_LOG_FORMAT = JSON.stringify({
  apiId: '$context.apiId',
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  errorMessage: '$context.error.message',
  errorResponseType: '$context.error.responseType',
});

export const HTTP_ACCESS_LOG_FORMAT = JSON.stringify({
  apiId: '$context.apiId',
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  errorMessage: '$context.error.message',
  integrationErrorMessage: '$context.integrationErrorMessage',
});
