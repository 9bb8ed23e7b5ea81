import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbEmulator, type DynamoDbEmulator } from '../../local/dynamodb-emulator';

export interface DynamoDbEmulatorFixture {
  /** A client for the emulator (destroyed when it stops). */
  readonly dynamodb: DynamoDBClient;
  readonly endpoint: string;
  readonly port: number;
}

/**
 * One DynamoDB emulator (dynalite) for the enclosing describe block: started in beforeAll, stopped in afterAll.
 * Read its fields in hooks and tests only. Tables outlive a test: give each test its own table name.
 */
export function useDynamoDbEmulator(): DynamoDbEmulatorFixture {
  let emulator: DynamoDbEmulator | undefined;
  let dynamodb: DynamoDBClient | undefined;
  beforeAll(async () => {
    emulator = await startDynamoDbEmulator();
    dynamodb = emulator.client();
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  const started = (): { emulator: DynamoDbEmulator; dynamodb: DynamoDBClient } => {
    if (emulator === undefined || dynamodb === undefined)
      throw new Error('the DynamoDB emulator is read outside a hook or test, or did not start');
    return { emulator, dynamodb };
  };
  return {
    get dynamodb() {
      return started().dynamodb;
    },
    get endpoint() {
      return started().emulator.endpoint;
    },
    get port() {
      return started().emulator.port;
    },
  };
}
