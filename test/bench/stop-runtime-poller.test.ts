import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { REPLACED_POLLER_WAIT_SECONDS, stopRuntimePoller } from '../../bench/chaos-worker';
import { createQueuePair } from '../../local/sqs-emulator';
import { startSqsPoller } from '../../local/sqs-poller';
import { useSqsEmulator } from '../support/sqs-emulator';

// The bench's stop of the runtime's sync poller, against a real poller on the SQS emulator whose handler is held
// mid-invocation: its stop waits for that invocation, so only stopRuntimePoller's own timeout can end the wait.
describe('stopRuntimePoller', () => {
  const emulator = useSqsEmulator();
  let queueNumber = 0;

  async function pollerWithHeldInvocation() {
    queueNumber += 1;
    const queues = await createQueuePair(emulator.sqs, {
      mainQueueName: `stop-poller-${queueNumber}`,
      deadLetterQueueName: `stop-poller-${queueNumber}-dlq`,
      visibilityTimeoutSeconds: 60,
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const invoked = new Promise<void>((resolve) => (started = resolve));
    const poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchingWindowSeconds: 0,
      waitTimeSeconds: REPLACED_POLLER_WAIT_SECONDS,
      functionTimeoutSeconds: 60,
      handler: async () => {
        started();
        await released;
      },
    });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: '{}' }));
    await invoked;
    return { poller, release };
  }

  it('fails, saying so, when the poller has not stopped within its timeout (an invocation still under way)', async () => {
    const { poller, release } = await pollerWithHeldInvocation();
    const startedAt = Date.now();
    try {
      await expect(stopRuntimePoller({ poller }, 300)).rejects.toThrow(
        "the runtime's sync poller did not stop within 300 ms: an invocation is still under way",
      );
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      release();
      await poller.stop();
    }
  }, 10_000);

  it('stops a poller whose invocation ends in time, then waits out its long polls', async () => {
    const { poller, release } = await pollerWithHeldInvocation();
    setTimeout(release, 200);
    const startedAt = Date.now();
    await stopRuntimePoller({ poller }, 5_000);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(REPLACED_POLLER_WAIT_SECONDS * 1000 + 500);
    expect(poller.stats.invocations).toBe(1);
  }, 10_000);
});
