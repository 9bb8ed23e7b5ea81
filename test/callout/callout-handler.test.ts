import { createServer } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createCalloutHandler,
  type AcceptedCallout,
  type CalloutDeps,
  type RefusedCallout,
} from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { computeSignature } from '../../functions/callout/hmac';
import {
  parseQueueMessage,
  parseSyncRequest,
  type QueueMessage,
  type SyncRequest,
} from '../../functions/shared/queue-message';
import {
  createAccountQueue,
  createQueuePair,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startSqsEmulator,
} from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { captureOutput, type CapturedOutput } from '../support/capture-output';
import { basicAuthorization, httpApiEvent, restApiEvent, type CalloutShape } from './events';
import { drainQueue, failEntriesOfFirstBatch } from './queue-reader';
import { startStalledServer } from '../support/stalled-server';

// Secrets and markers that must never appear in any log line.
const PASSWORD = 'pw-S3cr3t-Marker-4711';
const HEADER_TOKEN = 'hdr-T0ken-Marker-0815';
const HMAC_KEY = 'hmac-K3y-Marker-1234';
const BODY_MARKER = 'BodyMarker-d41d8cd9';
const NOW = new Date('2026-11-25T10:00:00.000Z');

describe('callout handler against the SQS emulator', () => {
  const emulator = useSqsEmulator();
  let queueCounter = 0;
  let output: CapturedOutput | undefined;
  let logs = '';
  const signaturesSent: string[] = [];

  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => {
    logs += output!.text();
    output!.restore();
  });

  async function newQueue(): Promise<string> {
    queueCounter++;
    const pair = await createQueuePair(emulator.sqs, {
      mainQueueName: `callout-${queueCounter}`,
      deadLetterQueueName: `callout-${queueCounter}-dlq`,
    });
    return pair.mainQueueUrl;
  }

  const basicEnv = {
    CALLOUT_AUTH_MODE: 'basic',
    CALLOUT_USERNAME: 'zuora',
    CALLOUT_PASSWORD: PASSWORD,
    CALLOUT_REALM: 'Zuora callouts',
  };
  const basic = { authorization: basicAuthorization('zuora', PASSWORD) };

  async function setup(env: Record<string, string> = basicEnv, deps: CalloutDeps = {}) {
    const queueUrl = await newQueue();
    const accepted: AcceptedCallout[] = [];
    const refused: RefusedCallout[] = [];
    const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: queueUrl, ...env }), {
      sqs: emulator.sqs,
      now: () => NOW,
      observer: { onAccepted: (callout) => accepted.push(callout), onRefused: (callout) => refused.push(callout) },
      ...deps,
    });
    const queued = async (): Promise<SyncRequest[]> =>
      (await drainQueue(emulator.sqs, queueUrl)).map((body) => {
        const parsed = parseSyncRequest(body);
        if (!parsed.ok) throw new Error(`invalid message on the queue: ${parsed.reason}`);
        return parsed.request;
      });
    const post = (shape: CalloutShape) => handler(httpApiEvent(shape));
    return { handler, queueUrl, accepted, refused, queued, post };
  }

  const jsonCallout = (body: unknown, headers: Record<string, string> = basic): CalloutShape => ({
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

  it('queues exactly the ids of a notification callout, with its Zuora correlation ids', async () => {
    const { post, queued, accepted } = await setup();
    const response = await post(
      jsonCallout(
        {
          subscriptions: [
            { subscriptionNumber: 'A-S00000271' },
            { subscriptionNumber: 'A-S00000272' },
            { subscriptionNumber: 'A-S00000271' },
          ],
          eventType: BODY_MARKER,
        },
        { ...basic, 'Zuora-Request-Id': 'zr-1', 'Zuora-Notification-Id': 'zn-1' },
      ),
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Content-Type': 'application/json' });
    expect(JSON.parse(response.body)).toEqual({
      success: true,
      accepted: ['A-S00000271', 'A-S00000272'],
      requestId: 'req-1',
    });
    const messages = await queued();
    expect(messages.sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId))).toEqual([
      {
        v: 1,
        subscriptionId: 'A-S00000271',
        source: 'notification',
        receivedAt: NOW.toISOString(),
        zuoraRequestId: 'zr-1',
        zuoraNotificationId: 'zn-1',
      },
      {
        v: 1,
        subscriptionId: 'A-S00000272',
        source: 'notification',
        receivedAt: NOW.toISOString(),
        zuoraRequestId: 'zr-1',
        zuoraNotificationId: 'zn-1',
      },
    ]);
    expect(accepted).toEqual([
      {
        requestId: 'req-1',
        ids: ['A-S00000271', 'A-S00000272'],
        source: 'notification',
        zuoraRequestId: 'zr-1',
        zuoraNotificationId: 'zn-1',
      },
    ]);
  });

  it('queues a workflow form callout delivered by a REST API (payload 1.0)', async () => {
    const { handler, queued } = await setup();
    const response = await handler(
      restApiEvent({
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic.authorization },
        body: 'subscriptionNumber=A-S00000271&eventType=OrderProcessed',
      }),
    );
    expect(response.statusCode).toBe(200);
    expect((await queued()).map((message) => [message.subscriptionId, message.source])).toEqual([
      ['A-S00000271', 'workflow'],
    ]);
  });

  it('queues a GET callout whose ids are in the query string', async () => {
    const { post, queued } = await setup();
    expect(
      (await post({ method: 'GET', headers: basic, query: 'subscriptionNumber=A-S1&subscriptionNumber=A-S2' }))
        .statusCode,
    ).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(['A-S1', 'A-S2']);
  });

  it('queues every id of a large callout, in several batches', async () => {
    const { post, queued } = await setup();
    const ids = Array.from({ length: 25 }, (_, index) => `A-S${String(index).padStart(8, '0')}`);
    expect((await post(jsonCallout({ subscriptionNumbers: ids }))).statusCode).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(ids);
  });

  it("challenges Zuora's first, credential-less Basic request, then accepts the retry with credentials", async () => {
    const { post, queued, refused } = await setup();
    const first = await post(jsonCallout({ subscriptionNumber: 'A-S00000271' }, {}));
    expect(first.statusCode).toBe(401);
    expect(first.headers).toMatchObject({ 'WWW-Authenticate': 'Basic realm="Zuora callouts", charset="UTF-8"' });
    expect(JSON.parse(first.body)).toMatchObject({ success: false });
    expect(await queued()).toEqual([]);
    expect(refused).toEqual([
      { requestId: 'req-1', status: 401, reason: 'auth-missing', message: 'no Authorization header' },
    ]);
    const second = await post(jsonCallout({ subscriptionNumber: 'A-S00000271' }));
    expect(second.statusCode).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId)).toEqual(['A-S00000271']);
  });

  it('refuses wrong Basic credentials with 403, without a challenge, and queues nothing', async () => {
    const { post, queued } = await setup();
    const response = await post(
      jsonCallout(
        { subscriptionNumber: 'A-S00000271' },
        { authorization: basicAuthorization('zuora', `${PASSWORD}x`) },
      ),
    );
    expect(response.statusCode).toBe(403);
    expect(response.headers).not.toHaveProperty('WWW-Authenticate');
    expect(JSON.parse(response.body)).toEqual({ success: false, error: 'authentication failed', requestId: 'req-1' });
    expect(await queued()).toEqual([]);
  });

  it('authenticates with a header secret: 401 (no challenge) without it, 403 when wrong, 200 when right', async () => {
    const { post, queued } = await setup({
      CALLOUT_AUTH_MODE: 'header',
      CALLOUT_HEADER_NAME: 'X-Callout-Token',
      CALLOUT_HEADER_VALUE: HEADER_TOKEN,
    });
    const missing = await post(jsonCallout({ subscriptionNumber: 'A-S1' }, {}));
    expect(missing.statusCode).toBe(401);
    expect(missing.headers).not.toHaveProperty('WWW-Authenticate');
    expect(
      (await post(jsonCallout({ subscriptionNumber: 'A-S1' }, { 'X-Callout-Token': `${HEADER_TOKEN}-nope` })))
        .statusCode,
    ).toBe(403);
    expect(await queued()).toEqual([]);
    expect(
      (await post(jsonCallout({ subscriptionNumber: 'A-S1' }, { 'X-Callout-Token': HEADER_TOKEN }))).statusCode,
    ).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId)).toEqual(['A-S1']);
  });

  it('authenticates with an HMAC signature over a signed timestamp and the body, within the tolerance', async () => {
    const { post, queued } = await setup({
      CALLOUT_AUTH_MODE: 'hmac',
      CALLOUT_HMAC_KEY: HMAC_KEY,
      CALLOUT_HMAC_HEADER: 'X-Signature',
      CALLOUT_HMAC_PREFIX: 'v1=',
      CALLOUT_HMAC_SIGNED_DATA: '{timestamp:X-Timestamp}\\n{body}\\n',
      CALLOUT_HMAC_TOLERANCE_SECONDS: '120',
    });
    const body = JSON.stringify({ subscriptionNumber: 'A-S00000271', eventType: BODY_MARKER });
    const signedAt = (seconds: number) => {
      const timestamp = String(seconds);
      const signature = computeSignature('sha256', HMAC_KEY, `${timestamp}\n${body}\n`, 'base64');
      signaturesSent.push(signature);
      return { 'X-Timestamp': timestamp, 'X-Signature': `v1=${signature}` };
    };
    const nowSeconds = NOW.getTime() / 1000;
    const stale = await post({ headers: { 'content-type': 'application/json', ...signedAt(nowSeconds - 121) }, body });
    expect(stale.statusCode).toBe(403);
    expect(await queued()).toEqual([]);
    const fresh = await post({ headers: { 'content-type': 'application/json', ...signedAt(nowSeconds - 30) }, body });
    expect(fresh.statusCode).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId)).toEqual(['A-S00000271']);
  });

  it('answers 405, 413, 415 and 400 for callouts it cannot take, naming the fields it looked at, and queues nothing', async () => {
    const { post, queued, refused } = await setup({
      ...basicEnv,
      CALLOUT_MAX_BODY_BYTES: '2048',
      CALLOUT_MAX_IDS: '3',
    });
    const deleted = await post({ method: 'DELETE', headers: basic });
    expect(deleted.statusCode).toBe(405);
    expect(deleted.headers).toMatchObject({ Allow: 'GET, POST' });
    expect((await post(jsonCallout({ subscriptionNumber: 'A-S1', padding: 'x'.repeat(2100) }))).statusCode).toBe(413);
    expect((await post(jsonCallout({ subscriptionNumbers: ['A-S1', 'A-S2', 'A-S3', 'A-S4'] }))).statusCode).toBe(413);
    expect(
      (await post({ headers: { ...basic, 'content-type': 'application/pdf' }, body: Buffer.from('%PDF') })).statusCode,
    ).toBe(415);
    const none = await post(jsonCallout({ eventType: BODY_MARKER }));
    expect(none.statusCode).toBe(400);
    expect(JSON.parse(none.body).error).toMatch(/looked at .*subscriptionNumber/);
    const invalid = await post(jsonCallout({ subscriptionNumbers: ['A-S1', '../../admin'] }));
    expect(invalid.statusCode).toBe(400);
    expect(refused.map((callout) => callout.reason)).toEqual([
      'method-not-allowed',
      'body-too-large',
      'too-many-ids',
      'unsupported-media-type',
      'no-ids',
      'invalid-id',
    ]);
    expect(await queued()).toEqual([]);
  });

  it('leaves correlation headers that are not short tokens out of the message', async () => {
    const { post, queued } = await setup();
    expect(
      (
        await post(
          jsonCallout(
            { subscriptionNumber: 'A-S1' },
            { ...basic, 'Zuora-Request-Id': 'x'.repeat(200), 'Zuora-Notification-Id': 'zn-9' },
          ),
        )
      ).statusCode,
    ).toBe(200);
    expect(await queued()).toEqual([
      {
        v: 1,
        subscriptionId: 'A-S1',
        source: 'notification',
        receivedAt: NOW.toISOString(),
        zuoraNotificationId: 'zn-9',
      },
    ]);
  });

  it('reads credentials from Secrets Manager; answers 503 while the secret cannot be read', async () => {
    // Secrets Manager has no local emulator: mocked, as the team rules allow.
    const secretsMock = mockClient(SecretsManagerClient);
    const secretsManager = new SecretsManagerClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
    try {
      secretsMock
        .on(GetSecretValueCommand, { SecretId: 'callout-auth' })
        .rejectsOnce(new Error('Rate exceeded'))
        .resolves({
          SecretString: JSON.stringify({ mode: 'header', headerName: 'X-Callout-Token', value: HEADER_TOKEN }),
        });
      const { post, queued } = await setup({ CALLOUT_AUTH_SECRET_ID: 'callout-auth' }, { secretsManager });
      const unavailable = await post(jsonCallout({ subscriptionNumber: 'A-S1' }, { 'X-Callout-Token': HEADER_TOKEN }));
      expect(unavailable.statusCode).toBe(503);
      expect(await queued()).toEqual([]);
      expect(
        (await post(jsonCallout({ subscriptionNumber: 'A-S1' }, { 'X-Callout-Token': HEADER_TOKEN }))).statusCode,
      ).toBe(200);
      expect(
        (await post(jsonCallout({ subscriptionNumber: 'A-S2' }, { 'X-Callout-Token': HEADER_TOKEN }))).statusCode,
      ).toBe(200);
      expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(['A-S1', 'A-S2']);
    } finally {
      secretsMock.restore();
      secretsManager.destroy();
    }
  });

  it('picks up a rotated callout secret at the first callout that uses the new credentials', async () => {
    const secretsMock = mockClient(SecretsManagerClient);
    const secretsManager = new SecretsManagerClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
    const secretWith = (password: string) => ({
      SecretString: JSON.stringify({ mode: 'basic', username: 'zuora', password }),
    });
    try {
      secretsMock.on(GetSecretValueCommand).resolves(secretWith(PASSWORD));
      let clock = NOW.getTime();
      const { post, queued } = await setup(
        { CALLOUT_AUTH_SECRET_ID: 'callout-auth' },
        { secretsManager, now: () => new Date(clock) },
      );
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S1' }))).statusCode).toBe(200);

      secretsMock.on(GetSecretValueCommand).resolves(secretWith(`${PASSWORD}-rotated`));
      clock += 60_000;
      const rotated = { authorization: basicAuthorization('zuora', `${PASSWORD}-rotated`) };
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S2' }, rotated))).statusCode).toBe(200);
      expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      // The old credentials are now refused, and a stream of them does not hammer Secrets Manager.
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S3' }))).statusCode).toBe(403);
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S3' }))).statusCode).toBe(403);
      expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
      expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(['A-S1', 'A-S2']);
    } finally {
      secretsMock.restore();
      secretsManager.destroy();
    }
  });

  it('delays delivery by CALLOUT_DELAY_SECONDS', async () => {
    const { post, queueUrl } = await setup({ ...basicEnv, CALLOUT_DELAY_SECONDS: '3' });
    expect((await post(jsonCallout({ subscriptionNumber: 'A-S1' }))).statusCode).toBe(200);
    expect(await drainQueue(emulator.sqs, queueUrl)).toEqual([]);
    const later = await drainQueue(emulator.sqs, queueUrl, 10);
    expect(later.map((body) => JSON.parse(body).subscriptionId)).toEqual(['A-S1']);
  });

  it('sends again the entries of a batch that SQS failed, and puts each id on the queue once', async () => {
    const failing = new Set(['A-S00000002', 'A-S00000007']);
    const decorated = failEntriesOfFirstBatch(emulator.sqs, (body) => failing.has(JSON.parse(body).subscriptionId));
    const { post, queued } = await setup(basicEnv, { sqs: decorated, sleep: async () => undefined });
    const ids = Array.from({ length: 9 }, (_, index) => `A-S${String(index).padStart(8, '0')}`);
    const response = await post(jsonCallout({ subscriptionNumbers: ids }));
    expect(response.statusCode).toBe(200);
    expect(decorated.batchCalls).toBe(2);
    expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(ids);
  });

  it('answers 503 when SQS is unreachable, so Zuora retries', async () => {
    const port = await closedPort();
    const unreachable = new SQSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const { post, refused } = await setup(basicEnv, { sqs: unreachable, sleep: async () => undefined });
      const response = await post(jsonCallout({ subscriptionNumber: 'A-S1' }));
      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body)).toMatchObject({ success: false, error: expect.stringContaining('retry') });
      expect(refused[0]).toMatchObject({
        status: 503,
        reason: 'queue-unavailable',
        message: expect.stringContaining('1 of 1 subscription ids not queued'),
      });
    } finally {
      unreachable.destroy();
    }
  });

  it('answers 503 within its queueing budget when SQS accepts connections but never answers', async () => {
    const silent = await startStalledServer();
    // No SDK timeouts at all: only the handler's own budget can end this call.
    const hanging = new SQSClient({
      endpoint: silent.url,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const { post, refused } = await setup(basicEnv, { sqs: hanging, answerBudgetMs: 300 });
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S1' }))).statusCode).toBe(503);
      expect(refused[0]).toMatchObject({ reason: 'queue-unavailable' });
    } finally {
      hanging.destroy();
      await silent.stop();
    }
  });

  it('answers 503 when the emulator has been stopped', async () => {
    const stopped = await startSqsEmulator();
    const client = stopped.client();
    const { mainQueueUrl } = await createQueuePair(client, {
      mainQueueName: 'soon-gone',
      deadLetterQueueName: 'soon-gone-dlq',
    });
    const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: mainQueueUrl, ...basicEnv }), {
      sqs: client,
      sleep: async () => undefined,
    });
    await stopped.stop();
    const fresh = new SQSClient({
      endpoint: stopped.endpoint,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const viaFreshClient = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: mainQueueUrl, ...basicEnv }), {
        sqs: fresh,
        sleep: async () => undefined,
      });
      expect((await viaFreshClient(httpApiEvent(jsonCallout({ subscriptionNumber: 'A-S1' })))).statusCode).toBe(503);
      expect((await handler(httpApiEvent(jsonCallout({ subscriptionNumber: 'A-S1' })))).statusCode).toBe(503);
    } finally {
      fresh.destroy();
    }
  });

  it('in HMAC mode, refuses a captured callout replayed with ids added to its query string, and a GET signed over "\\n"', async () => {
    const { post, queued, refused } = await setup({ CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: HMAC_KEY });
    const body = JSON.stringify({ subscriptionNumber: 'A-S00000271' });
    const signature = computeSignature('sha256', HMAC_KEY, `${body}\n`);
    const emptySignature = computeSignature('sha256', HMAC_KEY, '\n');
    signaturesSent.push(signature, emptySignature);
    const headers = { 'content-type': 'application/json', 'x-zuora-signature': signature };
    expect((await post({ headers, body })).statusCode).toBe(200);
    expect((await post({ headers, body, query: 'subscriptionNumber=A-S66666666' })).statusCode).toBe(403);
    expect(
      (
        await post({
          method: 'GET',
          headers: { 'x-zuora-signature': emptySignature },
          query: 'subscriptionNumber=A-S66666666',
        })
      ).statusCode,
    ).toBe(403);
    expect(refused.map((callout) => callout.reason)).toEqual(['auth-invalid', 'auth-invalid']);
    expect((await queued()).map((message) => message.subscriptionId)).toEqual(['A-S00000271']);
  });

  it('during a rotation accepts the previous and the current password, and logs and counts the previous one', async () => {
    const secretsMock = mockClient(SecretsManagerClient);
    const secretsManager = new SecretsManagerClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
    const previousPassword = `${PASSWORD}-previous`;
    try {
      secretsMock.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ mode: 'basic', username: 'zuora', password: PASSWORD, previousPassword }),
      });
      const { post, queued, accepted } = await setup({ CALLOUT_AUTH_SECRET_ID: 'callout-auth' }, { secretsManager });
      const before = output!.lines().length;
      const old = { authorization: basicAuthorization('zuora', previousPassword) };
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S1' }, old))).statusCode).toBe(200);
      expect((await post(jsonCallout({ subscriptionNumber: 'A-S2' }))).statusCode).toBe(200);
      expect(
        (
          await post(
            jsonCallout(
              { subscriptionNumber: 'A-S3' },
              { authorization: basicAuthorization('zuora', `${PASSWORD}-older`) },
            ),
          )
        ).statusCode,
      ).toBe(403);
      expect(accepted.map((callout) => [callout.ids[0], callout.credential])).toEqual([
        ['A-S1', 'previous'],
        ['A-S2', undefined],
      ]);
      const lines = output!.lines().slice(before);
      expect(lines.filter((line) => line.message === 'callout authenticated with the previous credential')).toEqual([
        expect.objectContaining({ level: 'INFO', requestId: 'req-1', mode: 'basic' }),
      ]);
      expect(lines.filter((line) => line.message === 'callout accepted').map((line) => line.credential)).toEqual([
        'previous',
        'current',
      ]);
      const previousUsed = lines.filter(
        (line) => (line as { CalloutPreviousCredentialUsed?: number }).CalloutPreviousCredentialUsed !== undefined,
      );
      expect(
        previousUsed.map((line) => (line as { CalloutPreviousCredentialUsed?: number }).CalloutPreviousCredentialUsed),
      ).toEqual([1]);
      expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(['A-S1', 'A-S2']);
    } finally {
      secretsMock.restore();
      secretsManager.destroy();
    }
  });

  it('with CALLOUT_EXPECTED_TENANT_ID, refuses an authenticated callout from another tenant with 403, after authentication', async () => {
    const { post, queued, refused } = await setup({ ...basicEnv, CALLOUT_EXPECTED_TENANT_ID: '12345' });
    const unauthenticated = await post(jsonCallout({ tenantId: '99999', subscriptionNumber: 'A-S1' }, {}));
    expect(unauthenticated.statusCode).toBe(401);
    const wrong = await post(jsonCallout({ tenantId: '99999', subscriptionNumber: 'A-S1' }));
    expect(wrong.statusCode).toBe(403);
    expect(JSON.parse(wrong.body)).toEqual({
      success: false,
      error: 'callout is from Zuora tenant 99999, not the tenant this endpoint serves (CALLOUT_EXPECTED_TENANT_ID)',
      requestId: 'req-1',
    });
    expect(refused.map((callout) => [callout.status, callout.reason])).toEqual([
      [401, 'auth-missing'],
      [403, 'wrong-tenant'],
    ]);
    expect(await queued()).toEqual([]);
    expect((await post(jsonCallout({ tenantId: 12345, subscriptionNumber: 'A-S2' }))).statusCode).toBe(200);
    expect((await post(jsonCallout({ subscriptionNumber: 'A-S3' }))).statusCode).toBe(200);
    expect((await queued()).map((message) => message.subscriptionId).sort()).toEqual(['A-S2', 'A-S3']);
  });

  it('counts a slow secret read against the answer budget, so the answer stays within it', async () => {
    const secretsMock = mockClient(SecretsManagerClient);
    const secretsManager = new SecretsManagerClient({ region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
    const silent = await startStalledServer();
    const hanging = new SQSClient({
      endpoint: silent.url,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      secretsMock.on(GetSecretValueCommand).callsFake(
        () =>
          new Promise((resolve) =>
            setTimeout(
              () =>
                resolve({
                  SecretString: JSON.stringify({
                    mode: 'header',
                    headerName: 'X-Callout-Token',
                    value: HEADER_TOKEN,
                  }),
                }),
              1_500,
            ),
          ),
      );
      const { post, refused } = await setup(
        { CALLOUT_AUTH_SECRET_ID: 'callout-auth' },
        { secretsManager, sqs: hanging, answerBudgetMs: 1_500 },
      );
      const started = Date.now();
      expect(
        (await post(jsonCallout({ subscriptionNumber: 'A-S1' }, { 'X-Callout-Token': HEADER_TOKEN }))).statusCode,
      ).toBe(503);
      // 1.5 s secret read + 1.5 s of queueing before; now the queueing gets what is left of the 1.5 s.
      expect(Date.now() - started).toBeLessThan(2_400);
      expect(refused[0]).toMatchObject({ reason: 'queue-unavailable' });
    } finally {
      secretsMock.restore();
      secretsManager.destroy();
      hanging.destroy();
      await silent.stop();
    }
  });

  describe('account callouts (issue #22)', () => {
    const ACCOUNT_ID = '2c92a0fd55822b4d015590d5d7c0418d';

    /** A stack with a Zuora connection: the fan-out queue, redriven to the main queue's DLQ. */
    async function setupWithAccountQueue(env: Record<string, string> = basicEnv, deps: CalloutDeps = {}) {
      queueCounter++;
      const pair = await createQueuePair(emulator.sqs, {
        mainQueueName: `callout-${queueCounter}`,
        deadLetterQueueName: `callout-${queueCounter}-dlq`,
      });
      const accountQueueUrl = await createAccountQueue(emulator.sqs, {
        deadLetterQueueUrl: pair.deadLetterQueueUrl,
        accountQueueName: `callout-${queueCounter}-accounts`,
      });
      const accepted: AcceptedCallout[] = [];
      const refused: RefusedCallout[] = [];
      const handler = createCalloutHandler(
        loadCalloutConfig({ QUEUE_URL: pair.mainQueueUrl, ACCOUNT_QUEUE_URL: accountQueueUrl, ...env }),
        {
          sqs: emulator.sqs,
          now: () => NOW,
          observer: { onAccepted: (callout) => accepted.push(callout), onRefused: (callout) => refused.push(callout) },
          ...deps,
        },
      );
      const read = async (queueUrl: string): Promise<QueueMessage[]> =>
        (await drainQueue(emulator.sqs, queueUrl)).map((body) => {
          const parsed = parseQueueMessage(body);
          if (!parsed.ok) throw new Error(`invalid message on the queue: ${parsed.reason}`);
          return parsed.message;
        });
      return {
        post: (shape: CalloutShape) => handler(httpApiEvent(shape)),
        accepted,
        refused,
        mainQueue: () => read(pair.mainQueueUrl),
        accountQueue: () => read(accountQueueUrl),
      };
    }

    it('queues one account message per distinct key on the fan-out queue, and nothing on the main queue', async () => {
      const { post, mainQueue, accountQueue, accepted } = await setupWithAccountQueue();
      const response = await post(
        jsonCallout(
          { Account: { AccountNumber: 'A00001234' }, accountNumbers: ['A00001234', 'A00005678'] },
          { ...basic, 'Zuora-Notification-Id': 'zn-7' },
        ),
      );
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toEqual({
        success: true,
        accepted: [],
        acceptedAccounts: ['A00001234', 'A00005678'],
        requestId: 'req-1',
      });
      expect((await accountQueue()).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
        {
          v: 1,
          kind: 'account',
          accountKey: 'A00001234',
          source: 'notification',
          receivedAt: NOW.toISOString(),
          zuoraNotificationId: 'zn-7',
        },
        {
          v: 1,
          kind: 'account',
          accountKey: 'A00005678',
          source: 'notification',
          receivedAt: NOW.toISOString(),
          zuoraNotificationId: 'zn-7',
        },
      ]);
      expect(await mainQueue()).toEqual([]);
      expect(accepted).toEqual([expect.objectContaining({ ids: [], accountKeys: ['A00001234', 'A00005678'] })]);
    });

    it('queues both kinds of a mixed callout, each on its queue, with the subscription change time', async () => {
      const { post, mainQueue, accountQueue } = await setupWithAccountQueue();
      const response = await post(
        jsonCallout({
          SubscriptionNumber: 'A-S00000271',
          UpdatedDate: '2026-11-25T01:59:58.000-08:00',
          AccountId: ACCOUNT_ID,
        }),
      );
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ accepted: ['A-S00000271'], acceptedAccounts: [ACCOUNT_ID] });
      expect(await mainQueue()).toEqual([
        {
          v: 1,
          subscriptionId: 'A-S00000271',
          source: 'workflow',
          receivedAt: NOW.toISOString(),
          zuoraUpdatedAt: '2026-11-25T09:59:58.000Z',
        },
      ]);
      expect(await accountQueue()).toEqual([
        { v: 1, kind: 'account', accountKey: ACCOUNT_ID, source: 'workflow', receivedAt: NOW.toISOString() },
      ]);
    });

    it("with CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS=ignore, queues a mixed callout's subscriptions only (the account number is the template's context), and still fans out a callout of accounts only", async () => {
      const { post, mainQueue, accountQueue } = await setupWithAccountQueue({
        ...basicEnv,
        CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: 'ignore',
      });
      const mixed = await post(jsonCallout({ SubscriptionNumber: 'A-S00000271', AccountNumber: 'A00001234' }));
      expect(mixed.statusCode).toBe(200);
      expect(JSON.parse(mixed.body)).toEqual({ success: true, accepted: ['A-S00000271'], requestId: 'req-1' });
      expect((await mainQueue()).map((message) => (message as SyncRequest).subscriptionId)).toEqual(['A-S00000271']);
      expect(await accountQueue()).toEqual([]);
      expect((await post(jsonCallout({ AccountNumber: 'A00001234' }))).statusCode).toBe(200);
      expect((await accountQueue()).map((message) => (message as { accountKey: string }).accountKey)).toEqual([
        'A00001234',
      ]);
    });

    it('leaves out an UpdatedDate later than the callout, and one it cannot read, but queues the subscription', async () => {
      const { post, mainQueue } = await setupWithAccountQueue();
      expect(
        (await post(jsonCallout({ SubscriptionNumber: 'A-S1', UpdatedDate: '2026-11-25T10:00:01Z' }))).statusCode,
      ).toBe(200);
      expect((await post(jsonCallout({ SubscriptionNumber: 'A-S2', UpdatedDate: 'not a time' }))).statusCode).toBe(200);
      expect(
        (await mainQueue())
          .map((message) => [(message as SyncRequest).subscriptionId, (message as SyncRequest).zuoraUpdatedAt])
          .sort(),
      ).toEqual([
        ['A-S1', undefined],
        ['A-S2', undefined],
      ]);
    });

    it('answers 503 when the fan-out queue cannot be written, though the subscriptions were queued, so Zuora retries', async () => {
      const refused: RefusedCallout[] = [];
      const mainQueueUrl = await newQueue();
      // A fan-out queue URL that names no queue: SendMessageBatch fails as it would for a deleted queue.
      const handler = createCalloutHandler(
        loadCalloutConfig({
          QUEUE_URL: mainQueueUrl,
          ACCOUNT_QUEUE_URL: `${emulator.endpoint}/000000000000/no-such-queue`,
          ...basicEnv,
        }),
        {
          sqs: emulator.sqs,
          now: () => NOW,
          sleep: async () => undefined,
          observer: { onRefused: (callout) => refused.push(callout) },
        },
      );
      const response = await handler(
        httpApiEvent(jsonCallout({ SubscriptionNumber: 'A-S1', AccountNumber: 'A00001234' })),
      );
      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body)).toMatchObject({ success: false, error: expect.stringContaining('retry') });
      expect(refused).toEqual([
        expect.objectContaining({
          status: 503,
          reason: 'queue-unavailable',
          message: expect.stringContaining('1 of 1 account keys not queued on the fan-out queue'),
        }),
      ]);
      // The subscription is on the main queue; Zuora's retry queues it again, which the ledger folds.
      expect((await drainQueue(emulator.sqs, mainQueueUrl)).map((body) => JSON.parse(body).subscriptionId)).toEqual([
        'A-S1',
      ]);
    });

    it('without a fan-out queue, refuses a callout of accounts only with 422 saying why, and queues nothing', async () => {
      const { post, queued, refused } = await setup();
      const response = await post(jsonCallout({ AccountNumber: 'A00001234', EventType: 'ContactUpdate' }));
      expect(response.statusCode).toBe(422);
      expect(JSON.parse(response.body)).toEqual({
        success: false,
        error:
          'callout names only accounts (A00001234): this bridge has no Zuora connection to fan accounts out to their subscriptions (ACCOUNT_QUEUE_URL is not set; deploy the stack with a Zuora connection)',
        requestId: 'req-1',
      });
      expect(refused).toEqual([expect.objectContaining({ status: 422, reason: 'no-account-queue' })]);
      expect(await queued()).toEqual([]);
    });

    it('without a fan-out queue, queues the subscriptions of a mixed callout and answers 202 naming the accounts it ignored, with a log line and a metric', async () => {
      const { post, queued, accepted } = await setup();
      const before = output!.lines().length;
      const response = await post(jsonCallout({ SubscriptionNumber: 'A-S00000271', AccountNumber: 'A00001234' }));
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body)).toEqual({
        success: true,
        accepted: ['A-S00000271'],
        ignoredAccounts: ['A00001234'],
        warning:
          'account keys ignored: this bridge has no Zuora connection to fan accounts out to their subscriptions (ACCOUNT_QUEUE_URL is not set; deploy the stack with a Zuora connection)',
        requestId: 'req-1',
      });
      expect((await queued()).map((message) => message.subscriptionId)).toEqual(['A-S00000271']);
      expect(accepted).toEqual([expect.objectContaining({ ids: ['A-S00000271'], ignoredAccountKeys: ['A00001234'] })]);
      const lines = output!.lines().slice(before);
      expect(lines.filter((line) => line.message === 'callout account keys ignored')).toEqual([
        expect.objectContaining({
          level: 'WARN',
          requestId: 'req-1',
          accountKeys: ['A00001234'],
          reason: expect.stringContaining('no Zuora connection'),
        }),
      ]);
      const ignored = lines.filter(
        (line) => (line as { CalloutAccountsIgnored?: number }).CalloutAccountsIgnored !== undefined,
      );
      expect(ignored.map((line) => (line as { CalloutAccountsIgnored?: number }).CalloutAccountsIgnored)).toEqual([1]);
    });

    it('refuses an invalid account key with 400, queueing neither kind', async () => {
      const { post, mainQueue, accountQueue, refused } = await setupWithAccountQueue();
      expect((await post(jsonCallout({ SubscriptionNumber: 'A-S1', AccountNumber: 'A0001/../x' }))).statusCode).toBe(
        400,
      );
      expect(refused.map((callout) => callout.reason)).toEqual(['invalid-id']);
      expect(await mainQueue()).toEqual([]);
      expect(await accountQueue()).toEqual([]);
    });
  });

  // These run last: everything the tests above wrote, checked for what must and must never be there.
  it('never logged a credential, a signature or a body', () => {
    expect(logs).toContain('callout accepted');
    expect(logs).toContain('callout refused');
    expect(signaturesSent.length).toBeGreaterThan(0);
    for (const secret of [
      PASSWORD,
      HEADER_TOKEN,
      HMAC_KEY,
      BODY_MARKER,
      basic.authorization,
      Buffer.from(`zuora:${PASSWORD}`).toString('base64'),
      ...signaturesSent,
      'padding',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });

  it('published EMF metrics: accepted, ids queued, and refusals in total and by reason', () => {
    const emf = logs
      .split('\n')
      .filter((line) => line.startsWith('{"_aws"'))
      .map(
        (line) =>
          JSON.parse(line) as {
            _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
            reason?: string;
          },
      );
    const published = (name: string, dimensions: string[]) =>
      emf.filter((entry) =>
        entry._aws.CloudWatchMetrics.some(
          (set) =>
            set.Metrics.some((metric) => metric.Name === name) &&
            set.Dimensions.some((d) => d.join() === dimensions.join()),
        ),
      );
    expect(published('CalloutAccepted', ['service']).length).toBeGreaterThan(0);
    expect(published('SubscriptionIdsQueued', ['service']).length).toBeGreaterThan(0);
    expect(published('CalloutRefused', ['service']).length).toBeGreaterThan(0);
    const reasons = new Set(published('CalloutRefused', ['service', 'reason']).map((entry) => entry.reason));
    expect([...reasons]).toEqual(
      expect.arrayContaining(['auth-missing', 'auth-invalid', 'no-ids', 'queue-unavailable', 'wrong-tenant']),
    );
    expect(published('CalloutPreviousCredentialUsed', ['service']).length).toBe(1);
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
