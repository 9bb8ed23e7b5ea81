import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';

interface DynaliteOptions {
  readonly createTableMs?: number;
  readonly deleteTableMs?: number;
  readonly updateTableMs?: number;
}
// dynalite ships no type declarations; this is the one call the emulator makes.
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

export interface DynamoDbEmulator {
  /** http://127.0.0.1:PORT, the value for AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  readonly port: number;
  /** A DynamoDB client bound to the emulator (dummy credentials, us-east-1), destroyed by stop(). */
  client(): DynamoDBClient;
  stop(): Promise<void>;
}

/** Credentials the emulator accepts; SDK clients need some, dynalite checks only that a signature is there. */
export const DYNAMODB_EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const DYNAMODB_EMULATOR_REGION = 'us-east-1';

/**
 * Starts dynalite (an in-memory DynamoDB server) in this process on 127.0.0.1 (port 0 = any free port). dynalite
 * is CommonJS, so unlike the SQS emulator it needs no child process; its tables live as long as it runs.
 *
 * dynalite answers every request with an Origin header with `Access-Control-Allow-Origin: *` and grants any CORS
 * preflight, so any web page open in a browser on the machine could read and write its tables. Such requests are
 * refused with 403 before dynalite sees them: the SDK never sends an Origin.
 *
 * Not emulated: UpdateTimeToLive (items never expire locally) and ReturnValuesOnConditionCheckFailure.
 */
export async function startDynamoDbEmulator(options: { port?: number } = {}): Promise<DynamoDbEmulator> {
  // createTableMs 0: a table is ACTIVE as soon as CreateTable answers, as tests and the local runtime expect.
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const [dynaliteHandler] = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers.origin !== undefined) {
      response.writeHead(403, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ message: 'refused: requests from a web page (with an Origin header) cannot reach the local DynamoDB' }));
      return;
    }
    void forwardWhole(request, response, dynaliteHandler);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: DynamoDBClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    client() {
      const client = new DynamoDBClient({ endpoint, region: DYNAMODB_EMULATOR_REGION, credentials: DYNAMODB_EMULATOR_CREDENTIALS });
      clients.push(client);
      return client;
    },
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        for (const client of clients) client.destroy();
        // dynalite's close waits for every connection to end; a kept-alive socket of some other client would hold it.
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

/** dynalite's own limit on a request body. */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Reads the whole request, then hands dynalite a copy of it. dynalite throws from its request's 'error' listener,
 * so a client that goes away in the middle of a request (a timed-out SDK call, Ctrl-C) would crash the process
 * that runs it: npm start, or a jest worker. The copy cannot fail.
 */
async function forwardWhole(
  request: IncomingMessage,
  response: ServerResponse,
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_REQUEST_BYTES) {
        response.writeHead(413).end();
        request.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return; // the client went away; nobody is left to answer
  }
  const copy = Object.assign(new PassThrough(), { headers: request.headers, method: request.method, url: request.url });
  handler(copy as unknown as IncomingMessage, response);
  copy.end(Buffer.concat(chunks));
}

export interface OnDemandTable {
  readonly tableName: string;
  /** The string partition key, the only key of the project's tables. */
  readonly partitionKey: string;
}

/** Creates an on-demand table keyed by one string attribute, as the CDK stack deploys them; an existing one is kept. */
export async function createOnDemandTable(client: DynamoDBClient, table: OnDemandTable): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: table.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: table.partitionKey, KeyType: 'HASH' }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
