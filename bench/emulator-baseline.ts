import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createQueuePair, startSqsEmulator } from '../local/sqs-emulator';
import { forEachLimited } from './figures';

/**
 * The SQS emulator on its own: one-message SendMessageBatch calls (what the callout handler makes per
 * single-id callout) at the bench's callout parallelism. The local end-to-end run cannot accept callouts
 * faster than this, so it is that run's baseline.
 */
export async function measureEmulatorSends(options: {
  sends: number;
  parallel: number;
}): Promise<{ sendsPerSecond: number }> {
  const emulator = await startSqsEmulator();
  try {
    const sqs = emulator.client();
    const { mainQueueUrl } = await createQueuePair(sqs, {
      mainQueueName: 'bench-baseline',
      deadLetterQueueName: 'bench-baseline-dlq',
    });
    const body = JSON.stringify({
      v: 1,
      subscriptionId: 'A-S00000001',
      source: 'test',
      receivedAt: new Date().toISOString(),
    });
    const started = process.hrtime.bigint();
    await forEachLimited(
      Array.from({ length: options.sends }, (_, index) => index),
      options.parallel,
      async (index) => {
        await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: mainQueueUrl, Entries: [{ Id: `m${index}`, MessageBody: body }] }),
        );
      },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { sendsPerSecond: options.sends / seconds };
  } finally {
    await emulator.stop();
  }
}
