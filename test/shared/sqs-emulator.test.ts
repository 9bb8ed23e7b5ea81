import { request as httpRequest } from 'node:http';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { createQueuePair, startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';

// The queue behaviour the bridge relies on, checked against the real emulator the tests and `npm start` use.
describe('SQS emulator', () => {
  let emulator: SqsEmulator;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('redelivers after the visibility timeout and redrives to the DLQ after maxReceiveCount', async () => {
    const sqs = emulator.client();
    const queues = await createQueuePair(sqs, {
      mainQueueName: 'redrive-main',
      deadLetterQueueName: 'redrive-dlq',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: 'hello' }));

    const counts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.mainQueueUrl,
          WaitTimeSeconds: 3,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      expect(received.Messages).toHaveLength(1);
      counts.push(received.Messages![0].Attributes!.ApproximateReceiveCount!);
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queues.mainQueueUrl,
          ReceiptHandle: received.Messages![0].ReceiptHandle!,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(counts).toEqual(['1', '2']);

    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 1 }));
    expect(third.Messages ?? []).toHaveLength(0);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, WaitTimeSeconds: 2 }));
    expect(dead.Messages?.[0].Body).toBe('hello');
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: queues.deadLetterQueueUrl,
        ReceiptHandle: dead.Messages![0].ReceiptHandle!,
      }),
    );
  });
});

/** One raw HTTP request, every header as given (Host included), so a test can send what a browser would. */
function rawRequest(
  port: number,
  options: { method?: string; path?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function sqsJson(action: string, input: unknown, headers: Record<string, string> = {}) {
  return {
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}`, ...headers },
    body: JSON.stringify(input),
  };
}

// A web page in a browser on this machine can POST form-encoded SQS and SNS actions to the emulator without a
// CORS preflight; the emulator must serve only what the bridge's own SDK clients send.
describe('SQS emulator, as reached from anything but the bridge', () => {
  let emulator: SqsEmulator;
  let queueUrl: string;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
    queueUrl = (await emulator.client().send(new CreateQueueCommand({ QueueName: 'guarded' }))).QueueUrl!;
  });
  afterAll(async () => {
    await emulator.stop();
  });

  async function queueIsEmpty(): Promise<boolean> {
    const received = await emulator
      .client()
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    return (received.Messages ?? []).length === 0;
  }

  it('refuses the attack that was reported: SNS CreateTopic and Subscribe, form-encoded, from a web page', async () => {
    const origin = { origin: 'http://attacker.example', 'content-type': 'application/x-www-form-urlencoded' };
    const topic = await rawRequest(emulator.port, { headers: origin, body: 'Action=CreateTopic&Name=evil' });
    expect(topic.status).toBe(403);
    const subscribe = await rawRequest(emulator.port, {
      headers: origin,
      body: `Action=Subscribe&TopicArn=arn:aws:sns:us-east-1:000000000000:evil&Protocol=sqs&Endpoint=${encodeURIComponent(queueUrl)}`,
    });
    expect(subscribe.status).toBe(403);
  });

  it('refuses the form-encoded Query protocol (SNS, SQS, STS) even without an Origin header', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    for (const body of [
      'Action=CreateTopic&Name=evil',
      `Action=SendMessage&QueueUrl=${encodeURIComponent(queueUrl)}&MessageBody=${encodeURIComponent('{"v":1,"subscriptionId":"A-S1"}')}`,
      'Action=GetCallerIdentity',
    ]) {
      const response = await rawRequest(emulator.port, { headers: form, body });
      expect({ body, status: response.status }).toEqual({ body, status: 403 });
    }
    expect(await queueIsEmpty()).toBe(true);
  });

  it('refuses an SQS JSON request that carries an Origin header, and the same request without one goes through', async () => {
    const send = (headers: Record<string, string>) =>
      rawRequest(emulator.port, sqsJson('SendMessage', { QueueUrl: queueUrl, MessageBody: 'from a page' }, headers));
    const crossSite = await send({ origin: 'http://attacker.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body)).toMatchObject({
      __type: 'AccessDeniedException',
      message: expect.stringMatching(/cross-site/),
    });
    // Even a page served from the emulator's own origin sends Origin on a POST.
    expect((await send({ origin: `http://127.0.0.1:${emulator.port}` })).status).toBe(403);
    // A preflight is refused too, so no browser is ever allowed to send the real request.
    const preflight = await rawRequest(emulator.port, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://attacker.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-amz-target',
      },
    });
    expect(preflight.status).toBe(403);
    expect(await queueIsEmpty()).toBe(true);

    expect((await send({})).status).toBe(200);
    const received = await emulator
      .client()
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(received.Messages?.[0].Body).toBe('from a page');
    await emulator
      .client()
      .send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: received.Messages![0].ReceiptHandle! }));
  });

  it('refuses a request addressed to another host name (DNS rebinding)', async () => {
    const response = await rawRequest(
      emulator.port,
      sqsJson(
        'SendMessage',
        { QueueUrl: queueUrl, MessageBody: 'rebound' },
        { host: `rebind.attacker.example:${emulator.port}` },
      ),
    );
    expect(response.status).toBe(403);
    expect(await queueIsEmpty()).toBe(true);
    // localhost is as good as 127.0.0.1.
    const local = await rawRequest(
      emulator.port,
      sqsJson('GetQueueUrl', { QueueName: 'guarded' }, { host: `localhost:${emulator.port}` }),
    );
    expect(local.status).toBe(200);
  });

  it.each([
    ['PUT', '/evil-bucket'],
    ['PUT', '/evil-bucket/key'],
    ['GET', '/health'],
    ['GET', '/_fauxqs/queues'],
    ['GET', '/_fauxqs/queues/guarded'],
  ])('refuses %s %s (S3 and the inspection endpoints)', async (method, path) => {
    const response = await rawRequest(emulator.port, {
      method,
      path,
      headers: { 'content-type': 'application/octet-stream' },
      body: method === 'PUT' ? 'x' : undefined,
    });
    expect(response.status).toBe(403);
  });

  it.each(['DeleteQueue', 'PurgeQueue', 'ListQueues', 'TagQueue', 'ListQueueTags', 'UntagQueue'])(
    'answers %s, which the bridge never sends, with InvalidAction and leaves the queue alone',
    async (action) => {
      const response = await rawRequest(
        emulator.port,
        sqsJson(action, { QueueUrl: queueUrl, Tags: { a: 'b' }, TagKeys: ['a'] }),
      );
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ __type: 'com.amazonaws.sqs#InvalidAction' });
      const still = await emulator.client().send(new GetQueueUrlCommand({ QueueName: 'guarded' }));
      expect(still.QueueUrl).toBe(queueUrl);
    },
  );

  it('serves every SQS action the bridge sends through the AWS SDK', async () => {
    const sqs = emulator.client();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'guarded-sdk' }));
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'guarded-sdk' }))).QueueUrl).toBe(QueueUrl);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '30' } }));
    expect(
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout'] }))).Attributes,
    ).toEqual({ VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'two' },
          { Id: 'b', MessageBody: 'three' },
        ],
      }),
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const [first, ...rest] = received.Messages ?? [];
    expect(rest).toHaveLength(2);
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle!, VisibilityTimeout: 60 }),
    );
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: rest.map((m, i) => ({ Id: `v${i}`, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 60 })),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle! }));
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: rest.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    expect(deleted.Failed ?? []).toEqual([]);
    // Not implemented by fauxqs: refused the way `dlq replay --native` recognises, so it falls back.
    await expect(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:guarded-sdk' })),
    ).rejects.toMatchObject({ name: 'InvalidAction' });
  });
});
