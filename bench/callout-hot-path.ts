import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createCalloutHandler } from '../functions/callout/callout-handler';
import { loadCalloutConfig } from '../functions/callout/config';
import type { SqsSender } from '../functions/shared/enqueue';

/**
 * The callout Lambda's own work per callout (normalise the event, check Basic credentials, find and validate
 * the subscription ids, build and serialise the queue messages, answer), with SQS replaced by a client that
 * accepts every entry at once, against the cheapest thing any handler must do with the same bodies: JSON.parse.
 */
export interface HotPathResult {
  readonly callouts: number;
  readonly accepted: number;
  readonly messagesBuilt: number;
  readonly calloutsPerSecond: number;
  readonly jsonParsePerSecond: number;
  /** calloutsPerSecond ÷ jsonParsePerSecond. */
  readonly ratio: number;
}

const USERNAME = 'zuora';
const PASSWORD = 'bench-password-not-a-secret';

/**
 * A Zuora Events & Notifications callout as a subscription template sends it (JSON, a handful of merge fields),
 * without the account's number or id: beside a subscription those ask for the whole account's fan-out
 * (docs/connecting-zuora.md).
 */
function zuoraCalloutBody(subscriptionNumber: string, index: number): string {
  return JSON.stringify({
    eventType: 'SubscriptionCreated',
    eventTime: new Date(Date.UTC(2026, 10, 25, 10, 0, index % 60)).toISOString(),
    tenantId: '10000123',
    subscriptionNumber,
    subscriptionId: '8ad09be48db5aed4018db7e5b5a73c5a',
    subscriptionVersion: String(1 + (index % 7)),
    termType: 'TERMED',
    status: 'Active',
  });
}

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function restEvent(body: string, index: number): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Authorization: basicAuthorization(USERNAME, PASSWORD),
    'Content-Type': 'application/json',
    'Zuora-Request-Id': `req-${index}`,
    'Zuora-Notification-Id': `notif-${index}`,
  };
  return {
    resource: '/zuora/callout',
    path: '/zuora/callout',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: { requestId: `bench-${index}` } as APIGatewayProxyEvent['requestContext'],
  };
}

/** Answers every SendMessageBatch entry as queued, without a network or an SDK round trip. */
function acceptingSqs(): SqsSender & { messages: number } {
  const sqs = {
    messages: 0,
    async send(command: SendMessageBatchCommand) {
      const entries = command.input.Entries ?? [];
      sqs.messages += entries.length;
      return {
        Successful: entries.map((entry) => ({ Id: entry.Id!, MessageId: entry.Id!, MD5OfMessageBody: '' })),
        Failed: [],
      };
    },
  };
  return sqs as unknown as SqsSender & { messages: number };
}

export async function measureCalloutHotPath(options: { callouts: number }): Promise<HotPathResult> {
  const sqs = acceptingSqs();
  // Metrics would be printed to stdout per callout; Powertools reads this switch when the Metrics is built.
  const previousSwitch = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const metrics = new Metrics({ namespace: 'bench', serviceName: 'bench' });
  if (previousSwitch === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = previousSwitch;
  const handler = createCalloutHandler(
    loadCalloutConfig({
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench',
      CALLOUT_AUTH_MODE: 'basic',
      CALLOUT_USERNAME: USERNAME,
      CALLOUT_PASSWORD: PASSWORD,
    }),
    {
      sqs,
      logger: new Logger({ serviceName: 'bench', logLevel: 'SILENT' }),
      metrics,
    },
  );
  const bodies = Array.from({ length: options.callouts }, (_, index) =>
    zuoraCalloutBody(`A-S${String(index).padStart(8, '0')}`, index),
  );
  const events = bodies.map(restEvent);

  // Warm both paths so the JIT has compiled them before the clock starts.
  for (let index = 0; index < Math.min(2_000, events.length); index++) await handler(events[index]!);
  let sink = 0;
  for (let index = 0; index < Math.min(2_000, bodies.length); index++)
    sink += (JSON.parse(bodies[index]!) as { status: string }).status.length;
  sqs.messages = 0;

  let accepted = 0;
  const handlerStarted = process.hrtime.bigint();
  for (const event of events) {
    const result = await handler(event);
    // 202: accepted with the account keys ignored, the answer to a callout naming both kinds on a stack without a
    // fan-out queue (issue #22), as this typical template does (accountNumber and accountId beside the subscription).
    if (result.statusCode === 200 || result.statusCode === 202) accepted++;
  }
  const handlerSeconds = Number(process.hrtime.bigint() - handlerStarted) / 1e9;

  // Several passes, as one pass of a few thousand parses is too short to time well.
  const parsePasses = 10;
  const parseStarted = process.hrtime.bigint();
  for (let pass = 0; pass < parsePasses; pass++) {
    for (const body of bodies) sink += (JSON.parse(body) as { status: string }).status.length;
  }
  const parseSeconds = Number(process.hrtime.bigint() - parseStarted) / 1e9;
  if (sink === 0) throw new Error('unreachable: keeps JSON.parse from being optimised away');

  const calloutsPerSecond = options.callouts / handlerSeconds;
  const jsonParsePerSecond = (options.callouts * parsePasses) / parseSeconds;
  return {
    callouts: options.callouts,
    accepted,
    messagesBuilt: sqs.messages,
    calloutsPerSecond,
    jsonParsePerSecond,
    ratio: calloutsPerSecond / jsonParsePerSecond,
  };
}
