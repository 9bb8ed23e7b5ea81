import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { longPollRequestTimeout } from '../aws-clients';
import { restoreVisibility } from './dead-letters';
import type { QueueBacklog } from '../../functions/breaker/operator';
import { BREAKER_TABLE_OPTION, EXIT, TARGET_OPTIONS, type Command } from '../command';
import { printable, renderTable } from '../output';
import { formatDuration } from '../values';
import { describeBreaker } from './breaker-control';

export interface QueueStatus {
  readonly queue: 'main' | 'dlq';
  readonly url: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /**
   * Age of the oldest message found, in ms, or undefined when not measured. It comes from a sample of at
   * most `sampled` messages, so it is a lower bound ("at least this old"), not CloudWatch's exact metric.
   */
  readonly oldestAgeMs?: number;
  readonly sampled: number;
  /** How the age was obtained, or why it was not. */
  readonly ageNote: string;
}

export interface StatusOptions {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /**
   * Also peek at the main queue. Off by default: a peek is a receive, and on the main queue every receive counts
   * towards a message's attempts (ApproximateReceiveCount) and its redrive to the DLQ.
   */
  readonly peekMain?: boolean;
  readonly now?: () => number;
}

const CLOUDWATCH_NOTE = 'not measured: see CloudWatch ApproximateAgeOfOldestMessage (or --peek-main)';

export async function queueStatus(sqs: SQSClient, options: StatusOptions): Promise<QueueStatus[]> {
  const now = options.now ?? Date.now;
  return Promise.all([
    oneQueue(sqs, 'main', options.mainQueueUrl, options.peekMain ?? false, now),
    // Peeking at the DLQ is harmless: nothing consumes it and it has no redrive of its own.
    oneQueue(sqs, 'dlq', options.deadLetterQueueUrl, true, now),
  ]);
}

async function oneQueue(sqs: SQSClient, queue: 'main' | 'dlq', url: string, peek: boolean, now: () => number): Promise<QueueStatus> {
  const attributes =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      )
    ).Attributes ?? {};
  const depth = {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
  if (!peek) return { queue, url, ...depth, sampled: 0, ageNote: CLOUDWATCH_NOTE };
  if (depth.visible === 0) return { queue, url, ...depth, sampled: 0, ageNote: depth.inFlight + depth.delayed > 0 ? 'no visible message to peek at' : 'empty' };
  // Made visible again right away. (A receive with VisibilityTimeout 0 would do in AWS, but the emulator takes
  // 0 as "use the queue's default", so the explicit restore keeps both right.)
  const peeked = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] }),
    longPollRequestTimeout(1),
  );
  await restoreVisibility(sqs, url, (peeked.Messages ?? []).map((message) => message.ReceiptHandle ?? '').filter(Boolean));
  const sent = (peeked.Messages ?? []).map((message) => Number(message.Attributes?.SentTimestamp)).filter((time) => time > 0);
  if (sent.length === 0) return { queue, url, ...depth, sampled: 0, ageNote: 'peek returned no message' };
  return {
    queue,
    url,
    ...depth,
    oldestAgeMs: now() - Math.min(...sent),
    sampled: sent.length,
    ageNote: `oldest of a ${sent.length}-message sample (a lower bound)`,
  };
}

export const STATUS_COMMAND: Command = {
  name: 'status',
  summary: 'circuit breaker state, since when and the backlog; queue depth of the main queue and the DLQ, oldest message age',
  usage: 'zuora-limio-sync status [target] [--breaker-table NAME] [--peek-main] [--json]',
  options: { ...TARGET_OPTIONS, ...BREAKER_TABLE_OPTION, 'peek-main': { type: 'boolean' } },
  needs: { mainQueue: true, deadLetterQueue: true, breaker: 'optional' },
  flags: `  --breaker-table NAME  with --queue-url/--dlq-url: the breaker's DynamoDB table (or ZLS_BREAKER_TABLE);
                        --stack and --local find it themselves
  --peek-main           also sample the main queue for the oldest message age (a peek counts as a receive,
                        i.e. one attempt, for the messages it sees); the DLQ is always sampled
  --json                one JSON document on stdout
Ages come from a sample of up to 10 messages (SentTimestamp), so they are a lower bound; the exact figure is
CloudWatch's ApproximateAgeOfOldestMessage. The backlog is the main queue's waiting + in flight + delayed.`,
  examples: `  zuora-limio-sync status --stack ZuoraLimioSync
  watch -n 10 zuora-limio-sync status --local`,
  async run({ values, io, json, targets, breaker }) {
    const { sqs, mainQueueUrl, deadLetterQueueUrl } = await targets();
    const [queues, found] = await Promise.all([
      queueStatus(sqs, { mainQueueUrl: mainQueueUrl!, deadLetterQueueUrl: deadLetterQueueUrl!, peekMain: values['peek-main'] === true }),
      breaker(),
    ]);
    const main = queues[0];
    const backlog: QueueBacklog = { waiting: main.visible, inFlight: main.inFlight, delayed: main.delayed };
    // The queues are worth showing even when the breaker cannot be read (an old stack, no runtime endpoint).
    const breakerView = 'control' in found
      ? await found.control.status().then(
        (status) => ({ available: true as const, ...status, backlog }),
        (error: Error) => ({ available: false as const, reason: error.message }),
      )
      : { available: false as const, reason: found.unavailable };
    if (json) {
      io.stdout.write(`${JSON.stringify({ breaker: breakerView, queues }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.stdout.write(breakerView.available ? describeBreaker(breakerView, backlog) : `breaker: unavailable: ${printable(breakerView.reason)}\n`);
    io.stdout.write('\n');
    io.stdout.write(
      renderTable(
        ['queue', 'visible', 'in flight', 'delayed', 'oldest', 'how the age was found'],
        queues.map((q) => [q.queue, q.visible, q.inFlight, q.delayed, q.oldestAgeMs === undefined ? 'n/a' : `≥ ${formatDuration(q.oldestAgeMs)}`, q.ageNote]),
      ),
    );
    return EXIT.ok;
  },
};
