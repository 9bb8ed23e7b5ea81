import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createOnDemandTable, startDynamoDbEmulator } from '../../local/dynamodb-emulator';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';

/** A raw POST as a browser would send it cross-origin (or as the SDK does, without origin). */
function post(
  endpoint: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(`${endpoint}/`, { method: 'POST', headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    call.on('error', reject);
    call.end(body);
  });
}

describe('DynamoDB emulator', () => {
  const emulator = useDynamoDbEmulator();

  it('keeps items and enforces condition expressions like DynamoDB', async () => {
    const { dynamodb } = emulator;
    await createOnDemandTable(dynamodb, { tableName: 'emulator-basics', partitionKey: 'pk' });
    // Creating it again keeps the table and its items (the local runtime may start twice against one server).
    await dynamodb.send(new PutItemCommand({ TableName: 'emulator-basics', Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    await createOnDemandTable(dynamodb, { tableName: 'emulator-basics', partitionKey: 'pk' });
    const put = dynamodb.send(
      new PutItemCommand({
        TableName: 'emulator-basics',
        Item: { pk: { S: 'a' }, n: { N: '2' } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await expect(put).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName: 'emulator-basics', Key: { pk: { S: 'a' } }, ConsistentRead: true }),
    );
    expect(Item?.n).toEqual({ N: '1' });
  });

  it('refuses requests carrying an Origin header (a web page on the machine), preflight included', async () => {
    const listTables = {
      'X-Amz-Date': '20260101T000000Z',
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': 'DynamoDB_20120810.ListTables',
      Authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
    };
    const fromPage = await post(emulator.endpoint, { ...listTables, Origin: 'https://example.com' }, '{}');
    expect(fromPage.status).toBe(403);
    expect(fromPage.body).not.toContain('TableNames');
    const preflight = await new Promise<number>((resolve, reject) => {
      const call = request(
        `${emulator.endpoint}/`,
        { method: 'OPTIONS', headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      call.on('error', reject);
      call.end();
    });
    expect(preflight).toBe(403);
    // The same request without an Origin is served: the refusal is about the Origin, not the request.
    const fromTool = await post(emulator.endpoint, listTables, '{}');
    expect(fromTool.status).toBe(200);
    expect(JSON.parse(fromTool.body)).toHaveProperty('TableNames');
  });

  it('survives a client that goes away in the middle of a request', async () => {
    const quitter = connect(emulator.port, '127.0.0.1');
    quitter.on('error', () => undefined);
    await once(quitter, 'connect');
    quitter.write(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    quitter.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // dynalite alone throws from its request's error listener here, taking the whole process down.
    await createOnDemandTable(emulator.dynamodb, { tableName: 'emulator-after-quitter', partitionKey: 'pk' });
    await emulator.dynamodb.send(
      new PutItemCommand({ TableName: 'emulator-after-quitter', Item: { pk: { S: 'still here' } } }),
    );
  });

  it('listens on 127.0.0.1 only', async () => {
    expect(emulator.endpoint).toBe(`http://127.0.0.1:${emulator.port}`);
    // A server bound to every interface answers on 127.0.0.2 as well; one bound to 127.0.0.1 alone does not. The
    // probe stays on loopback.
    const reached = await post(`http://127.0.0.2:${emulator.port}`, {}, '').then(
      () => true,
      () => false,
    );
    expect(reached).toBe(false);
  });

  it('stops, frees its port, even while a request is half sent', async () => {
    const own = await startDynamoDbEmulator();
    const client = new DynamoDBClient({
      endpoint: own.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    await createOnDemandTable(client, { tableName: 'emulator-stop', partitionKey: 'pk' });
    // A connection in the middle of a request is not idle: closing the server alone would wait for it forever.
    const halfSent = connect(own.port, '127.0.0.1');
    halfSent.on('error', () => undefined);
    await once(halfSent, 'connect');
    halfSent.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = await Promise.race([
      own.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 3_000, 'still waiting')),
    ]);
    expect(stopped).toBe('stopped');
    await expect(post(own.endpoint, {}, '')).rejects.toThrow(/ECONNREFUSED/);
    halfSent.destroy();
    client.destroy();
  });
});
