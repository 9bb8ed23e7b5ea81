import * as path from 'node:path';
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { startEmulatorProcess, type EmulatorExitedError } from './emulator-process';

export interface DynamoDbEmulator {
  /** http://127.0.0.1:PORT, the value for AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  readonly port: number;
  /** A DynamoDB client bound to the emulator (dummy credentials, us-east-1), destroyed by stop(). */
  client(): DynamoDBClient;
  /** Resolves if its process ends other than by stop(): its tables, and what was in them, are gone. */
  readonly unexpectedExit: Promise<EmulatorExitedError>;
  stop(): Promise<void>;
}

/** Credentials the emulator accepts; SDK clients need some, dynalite checks only that a signature is there. */
export const DYNAMODB_EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const DYNAMODB_EMULATOR_REGION = 'us-east-1';

/**
 * Starts dynalite (an in-memory DynamoDB server) in a child process on 127.0.0.1 (port 0 = any free port; see
 * dynamodb-emulator-server.js for why a process of its own, and for the requests it refuses: any with an Origin
 * header). Its tables live as long as it runs.
 *
 * Not emulated: UpdateTimeToLive (items never expire locally) and ReturnValuesOnConditionCheckFailure.
 */
export async function startDynamoDbEmulator(options: { port?: number } = {}): Promise<DynamoDbEmulator> {
  const emulator = await startEmulatorProcess(
    'DynamoDB emulator',
    path.join(__dirname, 'dynamodb-emulator-server.js'),
    {
      DYNALITE_PORT: String(options.port ?? 0),
    },
  );
  const { port } = emulator;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: DynamoDBClient[] = [];
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    port,
    unexpectedExit: emulator.unexpectedExit,
    client() {
      const client = new DynamoDBClient({
        endpoint,
        region: DYNAMODB_EMULATOR_REGION,
        credentials: DYNAMODB_EMULATOR_CREDENTIALS,
      });
      clients.push(client);
      return client;
    },
    stop() {
      stopped ??= (async () => {
        for (const client of clients) client.destroy();
        await emulator.stop();
      })();
      return stopped;
    },
  };
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
  // CreateTable answers while the table is still CREATING, in DynamoDB as in dynalite (which flips it to ACTIVE
  // on a timer and a write of its own): a request before then is refused with ResourceNotFoundException.
  await waitUntilTableExists(
    { client, maxWaitTime: TABLE_ACTIVE_WAIT_SECONDS, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: table.tableName },
  );
}

/** Long enough for a loaded machine; dynalite with createTableMs 0 is usually ACTIVE within milliseconds. */
const TABLE_ACTIVE_WAIT_SECONDS = 10;
