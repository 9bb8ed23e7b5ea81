import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SqsEmulator } from '../../local/sqs-emulator';
import { startSqsEmulatorWithVisibilityCeiling as emulatorWithCeiling } from '../sync/harness';

// The local SQS emulator refuses, as real SQS does, a ChangeMessageVisibility whose timeout plus the time since
// the receive exceeds 12 hours (local/sqs-visibility-ceiling.mjs, registered by local/sqs-emulator-server.mjs).
// fauxqs alone accepts any timeout up to 43,200 s however long ago the message was received.

const SQS_REFUSAL =
  'Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]';

async function queueWith(sqs: SQSClient, bodies: string[]): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `ceiling-${randomUUID().slice(0, 8)}` }));
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
  return QueueUrl!;
}

async function receiveAll(sqs: SQSClient, queueUrl: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let round = 0; round < 10 && messages.length < count; round++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    messages.push(...(answer.Messages ?? []));
  }
  expect(messages).toHaveLength(count);
  return messages;
}

const changeVisibility = (sqs: SQSClient, queueUrl: string, message: Message, seconds: number) =>
  sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl,
      ReceiptHandle: message.ReceiptHandle!,
      VisibilityTimeout: seconds,
    }),
  );

describe('SQS emulator: 12-hour visibility ceiling counted from the receive', () => {
  describe('with the ceiling of SQS (the local runtime)', () => {
    let emulator: SqsEmulator;
    let sqs: SQSClient;
    beforeAll(async () => {
      emulator = await emulatorWithCeiling(undefined);
      sqs = emulator.client();
    });
    afterAll(() => emulator.stop());

    it('refuses 43,200 s any time after the receive, with the error code, HTTP status and text of SQS', async () => {
      const queueUrl = await queueWith(sqs, ['a']);
      const [message] = await receiveAll(sqs, queueUrl, 1);

      const refusal = await changeVisibility(sqs, queueUrl, message, 43_200).catch((error: unknown) => error);
      expect(refusal).toMatchObject({
        name: 'InvalidParameterValue',
        Code: 'InvalidParameterValue',
        message: SQS_REFUSAL,
        $fault: 'client',
        $metadata: expect.objectContaining({ httpStatusCode: 400 }),
      });
      // Within the ceiling it is taken, and the message stays hidden.
      await expect(changeVisibility(sqs, queueUrl, message, 43_000)).resolves.toBeDefined();
      const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
      expect(again.Messages ?? []).toEqual([]);
    });
  });

  describe('with a 3-second ceiling (FAUXQS_VISIBILITY_CEILING_SECONDS, test-only)', () => {
    let emulator: SqsEmulator;
    let sqs: SQSClient;
    beforeAll(async () => {
      emulator = await emulatorWithCeiling(3);
      sqs = emulator.client();
    });
    afterAll(() => emulator.stop());

    it('counts the time since the receive, which an accepted change does not reset', async () => {
      const queueUrl = await queueWith(sqs, ['a']);
      const [message] = await receiveAll(sqs, queueUrl, 1);
      await expect(changeVisibility(sqs, queueUrl, message, 2)).resolves.toBeDefined();

      await sleep(1_500);
      // 2 s more would end 3.5 s after the receive; 1 s more ends at 2.5 s.
      await expect(changeVisibility(sqs, queueUrl, message, 2)).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message:
          'Value 2 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [3 seconds]',
      });
      await expect(changeVisibility(sqs, queueUrl, message, 1)).resolves.toBeDefined();
    });

    it('still refuses a change once the whole ceiling has passed while the queue keeps the message hidden', async () => {
      // The queue's own visibility timeout (30 s, the SQS default) outlasts the lowered ceiling.
      const queueUrl = await queueWith(sqs, ['a']);
      const [message] = await receiveAll(sqs, queueUrl, 1);
      await sleep(3_200);
      // Another receive, which lets the guard forget handles it no longer needs.
      await receiveAll(sqs, await queueWith(sqs, ['b']), 1);

      await expect(changeVisibility(sqs, queueUrl, message, 0)).rejects.toMatchObject({
        name: 'InvalidParameterValue',
      });
    });

    it('starts a new count at each receive of the same message', async () => {
      const queueUrl = await queueWith(sqs, ['a']);
      const [first] = await receiveAll(sqs, queueUrl, 1);
      await sleep(1_500);
      await changeVisibility(sqs, queueUrl, first, 0);
      const [second] = await receiveAll(sqs, queueUrl, 1);
      expect(second.MessageId).toBe(first.MessageId);

      await expect(changeVisibility(sqs, queueUrl, second, 2)).resolves.toBeDefined();
    });

    it('refuses only the entries of a ChangeMessageVisibilityBatch beyond the ceiling, as Failed entries, and changes the others', async () => {
      const queueUrl = await queueWith(sqs, ['a', 'b']);
      const [a, b] = await receiveAll(sqs, queueUrl, 2);

      const answer = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: [
            { Id: 'beyond', ReceiptHandle: a.ReceiptHandle!, VisibilityTimeout: 3 },
            { Id: 'within', ReceiptHandle: b.ReceiptHandle!, VisibilityTimeout: 0 },
          ],
        }),
      );
      expect(answer.Successful).toEqual([{ Id: 'within' }]);
      expect(answer.Failed).toEqual([
        {
          Id: 'beyond',
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message:
            'Value 3 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [3 seconds]',
        },
      ]);
      // The accepted entry took effect: b is visible again at once, a is not.
      const again = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      expect((again.Messages ?? []).map((message) => message.Body)).toEqual(['b']);

      const allRefused = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: [{ Id: 'only', ReceiptHandle: a.ReceiptHandle!, VisibilityTimeout: 5 }],
        }),
      );
      expect(allRefused.Successful).toEqual([]);
      expect(allRefused.Failed).toEqual([
        expect.objectContaining({ Id: 'only', Code: 'InvalidParameterValue', SenderFault: true }),
      ]);
    });
  });

  it('will not start with a ceiling that is not a whole number of seconds up to 43,200', async () => {
    await expect(emulatorWithCeiling(43_201)).rejects.toThrow(
      /FAUXQS_VISIBILITY_CEILING_SECONDS must be a whole number of seconds from 1 to 43200, got 43201/,
    );
  });
});
