import { SQSClient, type SendMessageBatchCommandInput, type SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../local/sqs-emulator';

/**
 * SendMessageBatch answers with Successful and Failed lists, and nothing in the API stops an entry from being in
 * neither. The emulator never does that, so this client's middleware drops from the answer the entry whose body
 * `isTheEntry` picks, on the sends `drops` picks (the message itself is queued). Counts the sends naming it.
 */
export function sqsClientDroppingFromAnswer(
  endpoint: string,
  isTheEntry: (body: Record<string, unknown>) => boolean,
  drops: (send: number) => boolean,
) {
  const client = new SQSClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  let sends = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'SendMessageBatchCommand') return result;
      const entry = (args.input as SendMessageBatchCommandInput).Entries?.find((e) =>
        isTheEntry(JSON.parse(e.MessageBody!) as Record<string, unknown>),
      );
      if (entry === undefined) return result;
      sends++;
      if (!drops(sends)) return result;
      const output = result.output as SendMessageBatchCommandOutput;
      output.Successful = output.Successful?.filter((success) => success.Id !== entry.Id);
      return result;
    },
    { step: 'initialize', name: 'dropFromAnswer' },
  );
  return { client, sends: () => sends };
}
