import type { SQSClient } from '@aws-sdk/client-sqs';
import { longPollRequestTimeout } from '../aws-client-options';
import { readDeadLetter, restoreVisibility } from './dead-letters';
import type { QueueBacklog } from '../../functions/breaker/operator';
import { BREAKER_TABLE_OPTION, EXIT, TARGET_OPTIONS, type Command } from '../command';
import { checkEndpointVariables } from '../destinations';
import { printable, renderTable } from '../output';
import { UsageError } from '../usage-error';
import { formatDuration, parseDuration } from '../values';
import { describeBreaker } from './breaker-control';
import {
  estimateDrain,
  formatRate,
  measurementFromReadings,
  type DrainEstimate,
  type DrainMeasurement,
} from './drain-estimate';
import { DRAIN_WINDOW_MINUTES, drainFromCloudWatch } from './drain-metrics';

export interface QueueStatus {
  /** 'fan-out': the account queue (issue #22), consumed by the fan-out Lambda. */
  readonly queue: 'main' | 'dlq' | 'fan-out';
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
  /**
   * The DLQ only: the fan-out's account letters among the `sampled` messages (the whole count would mean reading
   * every letter: `dlq list` does). A letter per account stands for all its subscriptions.
   */
  readonly accountLetters?: number;
}

export interface StatusOptions {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The fan-out queue, when the target has one: its depth is shown beside the others, never peeked at (as main). */
  readonly accountQueueUrl?: string;
  /**
   * Also peek at the main queue. Off by default: a peek is a receive, and on the main queue every receive counts
   * towards a message's attempts (ApproximateReceiveCount) and its redrive to the DLQ.
   */
  readonly peekMain?: boolean;
  readonly now?: () => number;
}

const CLOUDWATCH_NOTE = 'not measured: see CloudWatch ApproximateAgeOfOldestMessage';
/** --peek-main samples the main queue only: only its note offers it. */
const MAIN_QUEUE_NOTE = `${CLOUDWATCH_NOTE} (or --peek-main)`;

export async function queueStatus(sqs: SQSClient, options: StatusOptions): Promise<QueueStatus[]> {
  const now = options.now ?? Date.now;
  return Promise.all([
    oneQueue(sqs, 'main', options.mainQueueUrl, options.peekMain ?? false, now),
    // Peeking at the DLQ is harmless: nothing consumes it and it has no redrive of its own.
    oneQueue(sqs, 'dlq', options.deadLetterQueueUrl, true, now),
    // Never peeked at: on the fan-out queue, too, a receive counts towards a message's redrive.
    ...(options.accountQueueUrl === undefined ? [] : [oneQueue(sqs, 'fan-out', options.accountQueueUrl, false, now)]),
  ]);
}

async function oneQueue(
  sqs: SQSClient,
  queue: QueueStatus['queue'],
  url: string,
  peek: boolean,
  now: () => number,
): Promise<QueueStatus> {
  // Imported here so that --help does not load the AWS SDK.
  const { GetQueueAttributesCommand, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const attributes =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      )
    ).Attributes ?? {};
  const depth = {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
  if (!peek) return { queue, url, ...depth, sampled: 0, ageNote: queue === 'main' ? MAIN_QUEUE_NOTE : CLOUDWATCH_NOTE };
  if (depth.visible === 0)
    return {
      queue,
      url,
      ...depth,
      sampled: 0,
      ageNote: depth.inFlight + depth.delayed > 0 ? 'no visible message to peek at' : 'empty',
    };
  // Made visible again right away. (A receive with VisibilityTimeout 0 would do in AWS, but the emulator takes
  // 0 as "use the queue's default", so the explicit restore keeps both right.)
  const peeked = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 30,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['SentTimestamp'],
      MessageAttributeNames: ['All'],
    }),
    longPollRequestTimeout(1),
  );
  await restoreVisibility(
    sqs,
    url,
    (peeked.Messages ?? []).map((message) => message.ReceiptHandle ?? '').filter(Boolean),
  );
  const sent = (peeked.Messages ?? [])
    .map((message) => Number(message.Attributes?.SentTimestamp))
    .filter((time) => time > 0);
  if (sent.length === 0) return { queue, url, ...depth, sampled: 0, ageNote: 'peek returned no message' };
  const accountLetters =
    queue === 'dlq'
      ? (peeked.Messages ?? []).filter((message) => readDeadLetter(message).account !== undefined).length
      : undefined;
  return {
    queue,
    url,
    ...depth,
    ...(accountLetters !== undefined && { accountLetters }),
    oldestAgeMs: now() - Math.min(...sent),
    sampled: sent.length,
    ageNote: `oldest of a ${sent.length}-message sample (a lower bound)`,
  };
}

/**
 * The local runtime has no CloudWatch, and its poller's count of deletions is not served anywhere: two readings
 * of the backlog a few seconds apart are what it has. Short, since `watch status --local` waits for it each time.
 */
const DEFAULT_SAMPLE_MS = 3_000;
const MAX_SAMPLE_MS = 15 * 60_000;

function sampleMs(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SAMPLE_MS;
  const milliseconds = parseDuration('--sample', raw);
  if (milliseconds > MAX_SAMPLE_MS)
    throw new UsageError('--sample', `at most 15m (CloudWatch covers longer spans of a deployed queue), got "${raw}"`);
  return milliseconds;
}

const backlogOf = (queue: QueueStatus) => queue.visible + queue.inFlight + queue.delayed;

/** Rates rounded for a JSON reader: to the hundredth of a message per minute. */
const rounded = (value: number | undefined) => (value === undefined ? null : Math.round(value * 100) / 100);

function drainJson(drain: DrainEstimate) {
  return {
    backlog: drain.backlog,
    state: drain.state,
    drainedPerMinute: rounded(drain.drainedPerMinute),
    arrivedPerMinute: rounded(drain.arrivedPerMinute),
    etaSeconds: drain.etaMs === undefined ? null : Math.round(drain.etaMs / 1000),
    eta: drain.eta,
    measured: drain.measured,
  };
}

export const STATUS_COMMAND: Command = {
  name: 'status',
  summary:
    'circuit breaker state, since when and the backlog; queue depth of the main queue, the DLQ (its account letters) and the fan-out queue, oldest message age; drain rate and time to empty',
  usage: 'zuora-limio-sync status [target] [--breaker-table NAME] [--peek-main] [--sample DURATION] [--json]',
  options: { ...TARGET_OPTIONS, ...BREAKER_TABLE_OPTION, 'peek-main': { type: 'boolean' }, sample: { type: 'string' } },
  needs: { mainQueue: true, deadLetterQueue: true, accountQueue: true, breaker: 'optional' },
  flags: `  --breaker-table NAME  with --queue-url/--dlq-url: the breaker's DynamoDB table (or ZLS_BREAKER_TABLE);
                        --stack and --local find it themselves
  --peek-main           also sample the main queue for the oldest message age (a peek counts as a receive,
                        i.e. one attempt, for the messages it sees); the DLQ is always sampled
  --sample DURATION     measure the drain from two readings of the backlog this far apart (default 3s, at most
                        15m): how --local measures it; a deployed queue's comes from CloudWatch unless this is given
  --json                one JSON document on stdout
Ages come from a sample of up to 10 messages (SentTimestamp), so they are a lower bound; the exact figure is
CloudWatch's ApproximateAgeOfOldestMessage. The backlog is the main queue's waiting + in flight + delayed.
The fan-out queue (account messages, each an account whose subscriptions are still to be queued) is shown when
the target has one (--local, or --stack with an AccountQueueUrl output), else the line says why not; the DLQ's
account letters are counted in its sample (dlq list shows them all).
The drain of a deployed queue is CloudWatch's NumberOfMessagesDeleted and NumberOfMessagesSent over the last
${DRAIN_WINDOW_MINUTES} min (needs cloudwatch:GetMetricData); locally it is the backlog's net change. The time to empty is the
backlog over the net rate (drained - arrived): "growing by N/min" when more arrive than drain, "-" when nothing
drains or nothing could be measured.`,
  examples: `  zuora-limio-sync status --stack ZuoraLimioSync
  watch -n 10 zuora-limio-sync status --local
  zuora-limio-sync status --local --sample 30s`,
  async run({ values, io, json, targets, breaker, flags, onFinish }) {
    const byReadings = flags.local === true || values.sample !== undefined;
    const sampleFor = sampleMs(values.sample as string | undefined);
    const { sqs, mainQueueUrl, deadLetterQueueUrl, accountQueueUrl, accountQueueUnknown } = await targets();
    let firstReading: { backlog: number; at: number } | undefined;
    let fromCloudWatch: Promise<DrainMeasurement | { unavailable: string }> | undefined;
    if (byReadings) {
      const at = Date.now();
      const backlog = await (await import('../../local/queue-depth')).queueDepth(sqs, mainQueueUrl!);
      // An empty queue has nothing to drain: `status --local` answers at once (watch -n 10 runs it often) unless
      // the operator asked for a sample.
      if (backlog === 0 && values.sample === undefined) {
        fromCloudWatch = Promise.resolve({ unavailable: 'not measured: the queue was empty' });
      } else {
        firstReading = { backlog, at };
        await new Promise((resolve) => setTimeout(resolve, sampleFor));
      }
    } else {
      // Signed with the operator's credentials like every other call: the same check of where they may go.
      checkEndpointVariables(flags, io.env, ['AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ENDPOINT_URL']);
      const cloudWatch = (await import('../aws-clients')).awsCloudWatchClient(io.env, mainQueueUrl);
      onFinish(() => cloudWatch.destroy());
      fromCloudWatch = drainFromCloudWatch(cloudWatch, mainQueueUrl!, Date.now());
    }
    const secondReadingAt = Date.now();
    const [queues, found, measured] = await Promise.all([
      queueStatus(sqs, {
        mainQueueUrl: mainQueueUrl!,
        deadLetterQueueUrl: deadLetterQueueUrl!,
        accountQueueUrl,
        peekMain: values['peek-main'] === true,
      }),
      breaker(),
      fromCloudWatch,
    ]);
    const main = queues[0];
    const backlog: QueueBacklog = { waiting: main.visible, inFlight: main.inFlight, delayed: main.delayed };
    const drain = estimateDrain(
      backlogOf(main),
      firstReading
        ? measurementFromReadings(firstReading, { backlog: backlogOf(main), at: secondReadingAt })
        : measured!,
    );
    // The queues are worth showing even when the breaker cannot be read (an old stack, no runtime endpoint).
    const breakerView =
      'control' in found
        ? await found.control.status().then(
            (status) => ({ available: true as const, ...status, backlog }),
            (error: Error) => ({ available: false as const, reason: error.message }),
          )
        : { available: false as const, reason: found.unavailable };
    if (json) {
      const fanOut =
        accountQueueUrl === undefined
          ? { fanOutQueue: { available: false, reason: accountQueueUnknown ?? 'unknown' } }
          : {};
      io.stdout.write(
        `${JSON.stringify({ breaker: breakerView, queues, ...fanOut, drain: drainJson(drain) }, null, 2)}\n`,
      );
      return EXIT.ok;
    }
    io.stdout.write(
      breakerView.available
        ? describeBreaker(breakerView, backlog)
        : `breaker: unavailable: ${printable(breakerView.reason)}\n`,
    );
    io.stdout.write('\n');
    io.stdout.write(
      renderTable(
        ['queue', 'visible', 'in flight', 'delayed', 'oldest', 'how the age was found'],
        queues.map((q) => [
          q.queue,
          q.visible,
          q.inFlight,
          q.delayed,
          q.oldestAgeMs === undefined ? 'n/a' : `≥ ${formatDuration(q.oldestAgeMs)}`,
          q.ageNote,
        ]),
      ),
    );
    const dlq = queues.find((q) => q.queue === 'dlq');
    if (dlq?.accountLetters !== undefined) {
      io.stdout.write(
        `dlq: ${dlq.accountLetters} of the ${dlq.sampled} letters sampled are account letters (fan-out); \`dlq list\` shows them all\n`,
      );
    }
    if (accountQueueUrl === undefined)
      io.stdout.write(`fan-out queue: not shown: ${printable(accountQueueUnknown ?? 'unknown')}\n`);
    io.stdout.write('\n');
    io.stdout.write(
      renderTable(
        ['backlog', 'drained', 'arrived', 'time to empty', 'measured'],
        [
          [
            drain.backlog,
            drain.drainedPerMinute === undefined ? '-' : formatRate(drain.drainedPerMinute),
            drain.arrivedPerMinute === undefined ? '-' : formatRate(drain.arrivedPerMinute),
            drain.eta,
            drain.measured,
          ],
        ],
      ),
    );
    return EXIT.ok;
  },
};
