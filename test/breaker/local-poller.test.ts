import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { closeBreaker, openBreaker } from '../../functions/breaker/operator';
import { PollerController } from '../../functions/breaker/polling-controller';
import { createProbeHandler } from '../../functions/breaker/probe-handler';
import { DEFAULT_BREAKER_SETTINGS } from '../../functions/breaker/settings';
import { createQueuePair, startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';
import { startSqsPoller, type SqsPoller } from '../../local/sqs-poller';
import { captureOutput } from '../support/capture-output';

// The breaker driving the local runtime's real poller against the SQS emulator, as `npm start` will.
describe('the breaker and the local poller', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let poller: SqsPoller | undefined;

  beforeAll(async () => {
    emulator = await startSqsEmulator();
    sqs = emulator.client();
  });
  afterAll(async () => {
    await poller?.stop();
    sqs?.destroy();
    await emulator?.stop();
  });

  it('pauses the real poller when the breaker opens and resumes it when it closes; a message sent meanwhile is then delivered', async () => {
    const { mainQueueUrl } = await createQueuePair(sqs, {
      mainQueueName: 'breaker-local',
      deadLetterQueueName: 'breaker-local-dlq',
      visibilityTimeoutSeconds: 5,
      maxReceiveCount: 5,
    });
    const received: string[] = [];
    let delivered!: () => void;
    const deliveredOnce = new Promise<void>((resolve) => (delivered = resolve));
    poller = await startSqsPoller({
      client: sqs,
      queueUrl: mainQueueUrl,
      waitTimeSeconds: 1,
      batchingWindowSeconds: 0,
      handler: async (event) => {
        received.push(...event.Records.map((record) => record.body));
        delivered();
        return { batchItemFailures: [] };
      },
    });
    const store = new InMemoryBreakerStore();
    const output = captureOutput();
    try {
      const runProbe = createProbeHandler({
        store,
        controller: new PollerController(poller),
        settings: DEFAULT_BREAKER_SETTINGS,
        probe: async () => ({ result: 'unhealthy' }),
        logger: new Logger({ serviceName: 'breaker-test' }),
        metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'breaker-test' }),
      });
      await openBreaker(store, 'chaos test');
      await runProbe();
      expect(poller.paused).toBe(true);

      await sqs.send(new SendMessageCommand({ QueueUrl: mainQueueUrl, MessageBody: '{"waiting":true}' }));
      await closeBreaker(store);
      await runProbe();
      expect(poller.paused).toBe(false);
      await deliveredOnce;
      expect(received).toEqual(['{"waiting":true}']);
    } finally {
      output.restore();
    }
  });
});
