import { FAILURE_CLASSES, type FailureClass } from '../../functions/shared/dead-letter';
import { EXIT, TARGET_OPTIONS, WIDE_HELP, type Command } from '../command';
import { cellClip, printable, progressBar, renderTable } from '../output';
import { UsageError } from '../usage-error';
import { formatDuration, parseDuration, parseHttpStatus, parsePositiveInteger, parseRate, splitList } from '../values';
import { MAX_HELD_LETTERS, replayDeadLetters } from './replay-dead-letters';
import { isUnfiltered, type ReplayFilter } from './replay-filter';

/**
 * `dlq replay`: its flags checked against each other, then the replay (replay-dead-letters.ts) and its summary.
 */

const FAILURE_CLASS_CHOICES = [...FAILURE_CLASSES, 'unknown'] as const;

/** `dlq replay --watch` keeps the letters it sees hidden from others while it waits: keep that short. */
const MAX_WATCH_MS = 15 * 60_000;

export const DLQ_REPLAY_COMMAND: Command = {
  name: 'dlq replay',
  summary: 'move dead letters back to the main queue (all, or filtered)',
  usage: 'zuora-limio-sync dlq replay [target] [filters] [--dry-run] [--rate N/s] [--limit N] [--watch AGE] [--json]',
  options: {
    ...TARGET_OPTIONS,
    subscription: { type: 'string', multiple: true },
    'failure-class': { type: 'string', multiple: true },
    status: { type: 'string', multiple: true },
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean' },
    rate: { type: 'string' },
    limit: { type: 'string' },
    native: { type: 'boolean' },
    watch: { type: 'string' },
  },
  needs: { mainQueue: true, deadLetterQueue: true, accountQueue: true },
  flags: `  --subscription ID     only this subscription (repeatable, or comma-separated)
  --failure-class C     only terminal | poison | exhausted | unknown (unknown = moved by SQS redrive, no reason)
  --status CODE         only messages whose last Limio answer was this HTTP status (repeatable)
  --older-than AGE      only messages that failed at least AGE ago: 90s, 30m, 2h, 1d (for messages SQS's
                        redrive moved, which carry no failedAt: first sent at least AGE ago)
  --dry-run             show what would be replayed; change nothing
  --rate N/s            send at most N messages per second (spare Limio right after an outage)
  --limit N             replay at most N messages
  --native              unfiltered replay of everything via SQS StartMessageMoveTask; falls back to
                        message-by-message where unsupported, and where the DLQ may hold account letters (a
                        target with a fan-out queue, or explicit URLs): the move sends everything to the main
                        queue, which refuses account messages. It moves bodies untouched: no replayCount, so a
                        moved message keeps its original receivedAt and gets NO fresh retry budget (one more
                        Limio failure dead-letters it again as exhausted). After an outage use the default
                        path, which adds replayCount and so a fresh budget.
  --watch AGE           after sending, wait up to AGE (30s, 2m) for replayed letters that fail again and list
                        them with their reasons; ends early once all are back, or once the queues they went
                        to read empty twice in a row (every letter handled); exit 1 if any failed again
${WIDE_HELP}
  --json                one JSON document on stdout
Different filters must all match; repeated values of one filter are alternatives. A run works from what was on
the DLQ when it started: it reads (and holds) the whole DLQ first, then sends what matched, so each letter is
replayed at most once per run and a letter that fails again (back in the DLQ as a new message) is never replayed
again by the same run. Each message is sent to the main queue first and deleted from the DLQ only after that send
succeeded; it keeps its fields, its replayCount goes up by one and it carries the run's id (replayRunId, shown by
\`dlq list --json\`). Messages that do not match stay in the DLQ. The scan ends when the DLQ answers empty; if it
had to end before seeing every message, the summary says so and the command exits 1.`,
  examples: `  zuora-limio-sync dlq replay --stack ZuoraLimioSync --failure-class exhausted --rate 5/s
  zuora-limio-sync dlq replay --local --status 502 --older-than 30m --dry-run
  zuora-limio-sync dlq replay --stack ZuoraLimioSync --subscription A-S00000271 --watch 1m`,
  async run({ values, io, json, rule, targets }) {
    const filter: ReplayFilter = {
      subscriptions: splitList(values.subscription as string[] | undefined),
      failureClasses: splitList(values['failure-class'] as string[] | undefined).map((value) => {
        if (!(FAILURE_CLASS_CHOICES as readonly string[]).includes(value)) {
          throw new UsageError(
            '--failure-class',
            `expected one of ${FAILURE_CLASS_CHOICES.join(', ')}, got "${value}"`,
          );
        }
        return value as FailureClass | 'unknown';
      }),
      httpStatuses: splitList(values.status as string[] | undefined).map((value) => parseHttpStatus('--status', value)),
      ...(values['older-than'] !== undefined && {
        olderThanMs: parseDuration('--older-than', String(values['older-than'])),
      }),
    };
    const ratePerSecond = values.rate === undefined ? undefined : parseRate('--rate', String(values.rate));
    const limit = values.limit === undefined ? undefined : parsePositiveInteger('--limit', String(values.limit));
    const dryRun = values['dry-run'] === true;
    if (values.native && !isUnfiltered(filter))
      throw new UsageError('--native', 'moves everything; it cannot be combined with a filter');
    if (values.native && limit !== undefined)
      throw new UsageError('--native', 'moves everything; it cannot be combined with --limit');
    if (values.native && dryRun) throw new UsageError('--native', 'cannot be combined with --dry-run');
    const watchMs = values.watch === undefined ? undefined : parseDuration('--watch', String(values.watch));
    if (watchMs !== undefined && watchMs > MAX_WATCH_MS)
      throw new UsageError('--watch', `at most ${formatDuration(MAX_WATCH_MS)}; look later with \`dlq list\``);
    if (watchMs !== undefined && (dryRun || values.native))
      throw new UsageError('--watch', `cannot be combined with ${dryRun ? '--dry-run' : '--native'}`);
    const { sqs, mainQueueUrl, deadLetterQueueUrl, accountQueueUrl, accountQueueUnknown, accountQueueAbsent } =
      await targets();
    const reading = progressBar(io, 'reading DLQ');
    const progress = progressBar(io, dryRun ? 'checking' : 'replaying');
    const result = await replayDeadLetters(sqs, {
      mainQueueUrl: mainQueueUrl!,
      deadLetterQueueUrl: deadLetterQueueUrl!,
      ...(accountQueueUrl !== undefined && { accountQueueUrl }),
      ...(accountQueueUnknown !== undefined && { accountQueueUnknown }),
      ...(accountQueueAbsent === true && { accountQueueAbsent }),
      filter,
      dryRun,
      ratePerSecond,
      limit,
      native: values.native === true,
      rule,
      ...(watchMs !== undefined && { watchSeconds: watchMs / 1000 }),
      onScanProgress: reading.update,
      onProgress: (done, total) => {
        reading.finish();
        progress.update(done, total);
      },
    });
    reading.finish();
    progress.finish();
    const partlyFailed =
      result.failed.length > 0 ||
      result.skipped.length > 0 ||
      result.failedAgain.length > 0 ||
      result.stoppedEarly !== undefined;
    if (json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
    }
    if (result.fallbackReason) io.stderr.write(`note: ${printable(result.fallbackReason)}\n`);
    if (result.mode === 'message-move-task') {
      io.stdout.write(`SQS moved ${result.moved ?? 0} message(s) from the DLQ to the main queue (native redrive).\n`);
    } else {
      if (result.replayed.length > 0) {
        io.stdout.write(
          renderTable(
            ['subscription', 'replay count', 'message id'],
            result.replayed.map((r) => [
              r.subscriptionId ?? `account ${r.accountKey ?? ''}`,
              r.replayCount,
              r.messageId,
            ]),
          ),
        );
        io.stdout.write('\n');
      }
      const lines = [
        `${dryRun ? 'would replay' : 'replayed'}: ${result.replayed.length}`,
        `not matching the filter (left in the DLQ): ${result.notMatched}`,
        ...(result.skipped.length
          ? [
              `matching but not replayable (unreadable, or an account letter without a fan-out queue; left in the DLQ): ${result.skipped.length}`,
            ]
          : []),
        ...(result.failed.length ? [`failed: ${result.failed.length}`] : []),
        ...(result.scanEnded === 'only-seen-messages'
          ? ['scan: ended before seeing the whole DLQ; matching messages may remain (run it again)']
          : []),
        ...(result.scanEnded === 'held-limit'
          ? [
              `scan: stopped after ${MAX_HELD_LETTERS.toLocaleString('en')} letters, as many as one run holds; run it again for the rest`,
            ]
          : []),
        ...(result.watchedSeconds !== undefined
          ? [`failed again (back in the DLQ, not replayed again): ${result.failedAgain.length}`]
          : []),
        ...(result.runId && !dryRun
          ? [`run id: ${result.runId} (letters that fail again carry it as replayRunId in \`dlq list --json\`)`]
          : []),
      ];
      io.stdout.write(`${lines.join('\n')}\n`);
      if (result.failedAgain.length > 0) {
        io.stdout.write(
          '\nFailed again (left in the DLQ with their new reason; investigate before replaying them again):\n',
        );
        io.stdout.write(
          renderTable(
            ['subscription', 'failure class', 'http status', 'replay count', 'error'],
            result.failedAgain.map((letter) => [
              letter.subscriptionId,
              letter.failureClass,
              letter.httpStatus,
              letter.replayCount,
              cellClip(io, values)(letter.error ?? '', 100),
            ]),
          ),
        );
      }
      if (dryRun) io.stdout.write('Dry run: nothing was sent or deleted.\n');
    }
    for (const skipped of result.skipped)
      io.stderr.write(`skipped ${printable(skipped.messageId)}: ${printable(skipped.reason)}\n`);
    for (const failure of result.failed) {
      io.stderr.write(
        `failed ${printable(failure.subscriptionId ?? failure.messageId)} (${failure.stage}): ${printable(failure.error)}${failure.stage === 'send' ? '; still in the DLQ' : ''}\n`,
      );
    }
    if (result.stoppedEarly) io.stderr.write(`stopped early: ${printable(result.stoppedEarly)}\n`);
    if (result.hiddenAtStart) {
      io.stderr.write(
        `note: ${result.hiddenAtStart} letter(s) were hidden (in flight) when the run began, held by another replay, a \`dlq list\` or another reader: they were not seen and not replayed; run again once that reader has finished.\n`,
      );
    }
    if (result.notRestored > 0)
      io.stderr.write(
        `warning: ${result.notRestored} message(s) could not be made visible again at once; they reappear when their visibility timeout ends.\n`,
      );
    return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
  },
};
