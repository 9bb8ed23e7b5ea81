import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface CommandCounts {
  /** Commands of this class name (e.g. 'BatchGetItemCommand') the client has sent since counting began. */
  count(name: string): number;
}

/**
 * Counts every command an AWS SDK client sends, by class name, from a middleware: the code measured keeps its own
 * client and calls, and a retried command counts once (the figure is requests asked for, as AWS bills them).
 */
export function countCommands(client: DynamoDBClient | SQSClient): CommandCounts {
  const counts = new Map<string, number>();
  (client.middlewareStack as { add(middleware: unknown, options: unknown): void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchCommandCounter' },
  );
  return { count: (name) => counts.get(name) ?? 0 };
}
