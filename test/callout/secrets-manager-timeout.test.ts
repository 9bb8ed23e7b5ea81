import { createCalloutHandler, type RefusedCallout } from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { createQueuePair } from '../../local/sqs-emulator';
import { captureOutput, type CapturedOutput } from '../support/capture-output';
import { useSqsEmulator } from '../support/sqs-emulator';
import { httpApiEvent } from './events';
import { startStalledServer } from '../support/stalled-server';

// The callout Lambda's own Secrets Manager client (the one it builds when none is given) against a server
// that accepts connections and never answers. Without request timeouts the read would hold the callout until
// the Lambda timeout, and Zuora would get API Gateway's 502 instead of the 503 that asks it to retry; this
// test would then hang until jest gives up.

const AWS_ENV = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
] as const;

describe("callout Lambda's Secrets Manager client times out", () => {
  const emulator = useSqsEmulator();
  let stalled: Awaited<ReturnType<typeof startStalledServer>>;
  let output: CapturedOutput;
  const saved: Partial<Record<(typeof AWS_ENV)[number], string>> = {};

  beforeEach(async () => {
    for (const name of AWS_ENV) saved[name] = process.env[name];
    stalled = await startStalledServer();
    output = captureOutput();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stalled.url,
    });
  });
  afterEach(async () => {
    for (const name of AWS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    output.restore();
    await stalled.stop();
  });

  it('a stalled Secrets Manager: the callout gets the documented 503 within seconds, well inside the 10 s Lambda timeout', async () => {
    const { mainQueueUrl } = await createQueuePair(emulator.sqs, {
      mainQueueName: 'stalled-secret',
      deadLetterQueueName: 'stalled-secret-dlq',
    });
    const refused: RefusedCallout[] = [];
    const handler = createCalloutHandler(
      loadCalloutConfig({ QUEUE_URL: mainQueueUrl, CALLOUT_AUTH_SECRET_ID: 'callout-auth' }),
      {
        sqs: emulator.sqs,
        observer: { onRefused: (callout) => refused.push(callout) },
      },
    );
    const started = Date.now();
    const response = await handler(
      httpApiEvent({
        headers: { 'content-type': 'application/json', 'x-callout-token': 'anything' },
        body: '{"subscriptionNumber":"A-S1"}',
      }),
    );
    const elapsedMs = Date.now() - started;
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ success: false, error: expect.stringContaining('retry') });
    expect(refused).toEqual([expect.objectContaining({ status: 503, reason: 'auth-unavailable' })]);
    // Two tries of at most 1 s to connect plus 1.5 s of silence each.
    expect(stalled.requests()).toBe(2);
    expect(elapsedMs).toBeLessThan(6_000);
  }, 20_000);
});
