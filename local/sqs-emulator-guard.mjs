// What the local SQS emulator answers, and to whom. fauxqs serves SQS, SNS and S3 in both the JSON and the
// form-encoded Query protocol, and a web page in a browser on this machine can send form-encoded POSTs without
// a CORS preflight: one did create an SNS topic, subscribe the main queue to it and get a subscription synced,
// past callout authentication. So the emulator serves only what the bridge's own AWS SDK clients send: SQS
// JSON-protocol POSTs to "/" for the actions the project uses, addressed to a loopback name, without an
// Origin header (browsers send one on every cross-site POST and preflight; the AWS SDK never does).

/**
 * Every SQS action the runtime, the CLI, the bench, chaos runs and the tests send (grep for `Command` from
 * @aws-sdk/client-sqs). StartMessageMoveTask and ListMessageMoveTasks are passed on to fauxqs, which does not
 * implement them: `dlq replay --native` then falls back to message-by-message replay, as against any SQS
 * endpoint without native redrive.
 */
const SQS_ACTIONS_THE_BRIDGE_USES = new Set([
  'CreateQueue',
  'GetQueueUrl',
  'GetQueueAttributes',
  'SetQueueAttributes',
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'StartMessageMoveTask',
  'ListMessageMoveTasks',
]);

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostnameOf(host) {
  if (typeof host !== 'string') return undefined;
  // "[::1]:4566" keeps its brackets; "127.0.0.1:4566" loses the port.
  const match = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(host.trim().toLowerCase());
  return match?.[1];
}

function mediaTypeOf(contentType) {
  return typeof contentType === 'string' ? contentType.split(';')[0].trim().toLowerCase() : '';
}

/**
 * Why a request is refused, or undefined when it is one the bridge sends. Plain data in, plain data out, so the
 * decision does not depend on fastify. `headers` are node's lower-cased request headers.
 */
function emulatorRefusal({ method, url, headers }) {
  if (headers.origin !== undefined) {
    return {
      statusCode: 403,
      type: 'AccessDeniedException',
      message:
        'cross-site requests are refused: the local SQS emulator serves only AWS SDK clients, which send no Origin header',
    };
  }
  const hostname = hostnameOf(headers.host);
  if (hostname === undefined || !LOOPBACK_HOSTNAMES.has(hostname)) {
    // A page on a rebinding DNS name reaches 127.0.0.1 under its own name; the SDK uses the endpoint's.
    return {
      statusCode: 403,
      type: 'AccessDeniedException',
      message: `requests must address the emulator as 127.0.0.1 or localhost, not ${headers.host ?? 'no Host'}`,
    };
  }
  if (method !== 'POST' || url !== '/' || mediaTypeOf(headers['content-type']) !== 'application/x-amz-json-1.0') {
    return {
      statusCode: 403,
      type: 'AccessDeniedException',
      message:
        'the local SQS emulator serves only the SQS JSON protocol (POST / with application/x-amz-json-1.0); SNS, S3 and the Query protocol are off',
    };
  }
  const target = typeof headers['x-amz-target'] === 'string' ? headers['x-amz-target'] : '';
  const action = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
  if (!SQS_ACTIONS_THE_BRIDGE_USES.has(action)) {
    return {
      statusCode: 400,
      type: 'com.amazonaws.sqs#InvalidAction',
      message: `Unknown action: ${action || target || 'none'} (the local SQS emulator serves only the actions the bridge uses)`,
    };
  }
  return undefined;
}

/** Answers refused requests before fastify parses a body or routes them. */
export function refuseWhatTheBridgeDoesNotSend(app) {
  app.addHook('onRequest', async (request, reply) => {
    const refusal = emulatorRefusal({ method: request.raw.method, url: request.raw.url, headers: request.headers });
    if (refusal === undefined) return;
    reply
      .code(refusal.statusCode)
      .header('content-type', 'application/x-amz-json-1.0')
      .header('x-amzn-query-error', `${refusal.type.split('#').pop()};Sender`)
      .send(JSON.stringify({ __type: refusal.type, message: refusal.message }));
    return reply;
  });
}
