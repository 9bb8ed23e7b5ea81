import type { SQSClient } from '@aws-sdk/client-sqs';
import { startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';

export interface SqsEmulatorFixture {
  /** A client for the emulator (destroyed when it stops). */
  readonly sqs: SQSClient;
  readonly endpoint: string;
  readonly port: number;
}

/**
 * One SQS emulator for the enclosing describe block: started in beforeAll, stopped in afterAll. Read its fields
 * in hooks and tests only. jest runs afterAll hooks in the order they are declared, so a block whose own
 * afterAll still needs the emulator (a poller to stop) should not use this.
 */
export function useSqsEmulator(): SqsEmulatorFixture {
  let emulator: SqsEmulator | undefined;
  let sqs: SQSClient | undefined;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
    sqs = emulator.client();
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  const started = (): { emulator: SqsEmulator; sqs: SQSClient } => {
    if (emulator === undefined || sqs === undefined)
      throw new Error('the SQS emulator is read outside a hook or test, or did not start');
    return { emulator, sqs };
  };
  return {
    get sqs() {
      return started().sqs;
    },
    get endpoint() {
      return started().emulator.endpoint;
    },
    get port() {
      return started().emulator.port;
    },
  };
}
