import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FailureClass } from '../../functions/shared/dead-letter';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import { approximateCounts, readDeadLetter, receivePage, restoreVisibility, type DeadLetter } from './dead-letters';
import { EXIT, TARGET_OPTIONS, WIDE_HELP, type Command } from '../command';
import { cellClip, progressBar, renderTable } from '../output';
import { parsePositiveInteger } from '../values';

export interface ListOptions {
  readonly deadLetterQueueUrl: string;
  /** Stop after this many messages. */
  readonly limit: number;
  readonly rule?: SubscriptionIdRule;
  readonly visibilityTimeoutSeconds?: number;
  readonly waitTimeSeconds?: number;
  readonly onProgress?: (done: number, total?: number) => void;
}

/** A DLQ row, flat for tables and `--json`. */
export interface DeadLetterRow {
  readonly messageId: string;
  readonly subscriptionId?: string;
  /** An account letter's account number or id (the fan-out's letters; replayed to the fan-out queue). */
  readonly accountKey?: string;
  /** Set on an account letter that is a fan-out continuation: where it had got to. */
  readonly fanOut?: { readonly queryLocator: string; readonly accountId: string };
  readonly source?: string;
  readonly replayCount: number;
  /** The `dlq replay` run that last put it back (a letter with this run's id failed again after that replay). */
  readonly replayRunId?: string;
  /** `unknown` when SQS's own redrive put the message there (no reason attributes). */
  readonly failureClass: FailureClass | 'unknown';
  readonly httpStatus?: number;
  readonly error?: string;
  readonly attempts?: number;
  /** From the failedAt attribute; absent for messages SQS's own redrive moved. */
  readonly failedAt?: string;
  /** When the message was first sent to the main queue (SQS SentTimestamp, kept by a redrive). */
  readonly sentAt?: string;
  /** Set when the body is not a readable sync request: such a message cannot be replayed. */
  readonly bodyProblem?: string;
  readonly body?: string;
}

export interface ListResult {
  readonly deadLetters: DeadLetterRow[];
  /** True when --limit stopped the listing before the DLQ was exhausted. */
  readonly truncated: boolean;
  /** Messages whose visibility could not be restored; they reappear when their visibility timeout ends. */
  readonly notRestored: number;
  /**
   * Letters already hidden (in flight) when the listing began: received by a `dlq replay` under way, another
   * listing or another reader. They are in the DLQ but could not be listed.
   */
  readonly hidden?: number;
}

function deadLetterRow(letter: DeadLetter): DeadLetterRow {
  return {
    messageId: letter.messageId,
    subscriptionId: letter.request?.subscriptionId,
    ...(letter.account !== undefined && { accountKey: letter.account.accountKey }),
    ...(letter.account?.fanOut !== undefined && { fanOut: letter.account.fanOut }),
    source: (letter.request ?? letter.account)?.source,
    replayCount: (letter.request ?? letter.account)?.replayCount ?? 0,
    ...((letter.request ?? letter.account)?.replayRunId !== undefined && {
      replayRunId: (letter.request ?? letter.account)!.replayRunId,
    }),
    failureClass: letter.reason.failureClass ?? 'unknown',
    httpStatus: letter.reason.httpStatus,
    error:
      letter.reason.error ??
      (letter.reason.failureClass === undefined
        ? 'no reason attributes (moved by SQS redrive after maxReceiveCount)'
        : undefined),
    attempts: letter.reason.attempts,
    failedAt: letter.reason.failedAt,
    sentAt: letter.sentAt,
    ...(letter.bodyProblem !== undefined && { bodyProblem: letter.bodyProblem, body: letter.body.slice(0, 200) }),
  };
}

/**
 * Reads the DLQ without consuming it: every message is received (hidden, so one pass sees each once) and made
 * visible again at the end, whatever happens in between.
 */
export async function listDeadLetters(sqs: SQSClient, options: ListOptions): Promise<ListResult> {
  // Counted before this listing hides anything itself, so that what is hidden is someone else's doing.
  const { visible: total, hidden } = await approximateCounts(sqs, options.deadLetterQueueUrl);
  const rows: DeadLetterRow[] = [];
  const seen = new Set<string>();
  const held: string[] = [];
  let truncated = false;
  let notRestored = 0;
  try {
    for (;;) {
      const page = await receivePage(sqs, {
        queueUrl: options.deadLetterQueueUrl,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 120,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
      });
      if (page.length === 0) break;
      let fresh = 0;
      for (const message of page) {
        held.push(message.ReceiptHandle ?? '');
        const letter = readDeadLetter(message, options.rule);
        if (seen.has(letter.messageId)) continue;
        seen.add(letter.messageId);
        if (rows.length >= options.limit) {
          truncated = true;
          continue;
        }
        rows.push(deadLetterRow(letter));
        fresh++;
      }
      options.onProgress?.(rows.length, total === undefined ? undefined : Math.min(total, options.limit));
      // A page of messages already seen means their visibility ran out and the queue wrapped around.
      if (fresh === 0 || truncated) break;
    }
  } finally {
    notRestored = await restoreVisibility(sqs, options.deadLetterQueueUrl, held.filter(Boolean));
  }
  return { deadLetters: rows, truncated, notRestored, ...(hidden !== undefined && { hidden }) };
}

export const DLQ_LIST_COMMAND: Command = {
  name: 'dlq list',
  summary: 'show what is in the dead-letter queue and why (consumes nothing)',
  usage: 'zuora-limio-sync dlq list [target] [--limit N] [--wide] [--json]',
  options: { ...TARGET_OPTIONS, limit: { type: 'string' } },
  needs: { deadLetterQueue: true },
  flags: `  --limit N             list at most N messages (default 1000)
${WIDE_HELP}
  --json                one JSON document on stdout instead of a table`,
  examples: `  zuora-limio-sync dlq list --stack ZuoraLimioSync
  zuora-limio-sync dlq list --local --json | jq '.deadLetters[] | select(.httpStatus == 404)'`,
  async run({ values, io, json, rule, targets }) {
    const limit = values.limit === undefined ? 1000 : parsePositiveInteger('--limit', String(values.limit));
    const { sqs, deadLetterQueueUrl } = await targets();
    const progress = progressBar(io, 'reading DLQ');
    const result = await listDeadLetters(sqs, {
      deadLetterQueueUrl: deadLetterQueueUrl!,
      limit,
      rule,
      onProgress: progress.update,
    });
    progress.finish();
    const hiddenNote = result.hidden
      ? `${result.hidden} more letter(s) are hidden (in flight): a \`dlq replay\` under way, another \`dlq list\` or another reader received them, so they are not listed. Run again once it has finished (a replay makes them visible again when it ends).`
      : undefined;
    if (json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else if (result.deadLetters.length === 0) {
      io.stdout.write(
        hiddenNote
          ? 'No dead letter is visible right now, but the dead-letter queue is NOT empty.\n'
          : 'The dead-letter queue is empty.\n',
      );
    } else {
      const clip = cellClip(io, values);
      io.stdout.write(
        renderTable(
          ['subscription', 'failure class', 'http status', 'attempts', 'failed at', 'replays', 'error'],
          result.deadLetters.map((row) => [
            row.subscriptionId ?? (row.accountKey !== undefined ? `account ${row.accountKey}` : '(unreadable body)'),
            row.failureClass,
            row.httpStatus,
            row.attempts,
            row.failedAt ?? (row.sentAt && `${row.sentAt} (sent)`),
            row.replayCount || undefined,
            clip(row.bodyProblem ? `${row.error ?? ''} [body: ${row.bodyProblem}]`.trim() : (row.error ?? ''), 100),
          ]),
        ),
      );
      io.stdout.write(
        `\n${result.deadLetters.length} dead letter(s)${result.truncated ? ` (stopped at --limit ${limit}; more remain)` : ''}; nothing was consumed.\n`,
      );
    }
    if (hiddenNote) io.stderr.write(`note: ${hiddenNote}\n`);
    if (result.notRestored > 0)
      io.stderr.write(
        `warning: ${result.notRestored} message(s) could not be made visible again at once; they reappear when their visibility timeout ends.\n`,
      );
    return EXIT.ok;
  },
};
