import type { SQSClient } from '@aws-sdk/client-sqs';
import { accountKeyRuleFrom, checkAccountKey } from '../../functions/shared/account-key';
import { EXIT } from '../command';
import { cellClip, clip, printable, renderTable, type CliIo } from '../output';
import { UsageError } from '../usage-error';
import { listDeadLetters, type DeadLetterRow } from './dlq-list';

/**
 * `trace --account KEY`: an account's fan-out as the DLQ records it. The account's own letters (the fan-out
 * could not resolve or page it: an unknown account, Zuora failing past the retry budget), where a continuation
 * had got to, and the subscription letters any fan-out made. A subscription message does not name its account,
 * so which subscriptions are this account's, and what the ledger says of each, takes Zuora: trace does not hold a
 * Zuora connection, and says so rather than guess from correlation ids.
 */

interface AccountTrace {
  readonly accountKey: string;
  readonly verdict: string;
  /** The account's own letters: each stands for all its subscriptions, none of which this fan-out queued. */
  readonly accountLetters: readonly DeadLetterRow[];
  /** Subscription letters whose message an account fan-out made (source account), of any account. */
  readonly fanOutSubscriptionLetters: number;
  readonly searched: number;
  readonly truncated: boolean;
  readonly note: string;
}

const ACCOUNT_SUBSCRIPTIONS_NOTE =
  "the account's subscriptions are not listed: a subscription message does not name its account, and trace has no Zuora connection to look them up; " +
  'find them in Zuora (Subscription where AccountId) and run `trace SUBSCRIPTION` for each';

function accountVerdict(accountKey: string, letters: readonly DeadLetterRow[], replay: string): string {
  if (letters.length === 0) {
    return `no letter of account ${accountKey} on the DLQ: its fan-outs resolved it and queued its subscriptions (or none has run)`;
  }
  const terminal = letters.filter((letter) => letter.failureClass === 'terminal');
  const continuations = letters.filter((letter) => letter.fanOut !== undefined);
  const newest = [...letters].sort((a, b) =>
    (b.failedAt ?? b.sentAt ?? '').localeCompare(a.failedAt ?? a.sentAt ?? ''),
  )[0];
  return [
    `${letters.length} letter(s) of account ${accountKey} on the DLQ: its fan-out stopped (${newest.failureClass}${newest.error ? `: ${printable(clip(newest.error, 120))}` : ''})`,
    ...(continuations.length > 0
      ? [
          `${continuations.length} stopped part-way (a continuation): the subscriptions of its earlier pages were queued, the rest were not`,
        ]
      : []),
    terminal.length === letters.length
      ? 'terminal: a replay fails again unless the account key is fixed in Zuora'
      : `replay with \`${replay}\` (account letters go back to the fan-out queue)`,
  ].join('; ');
}

async function traceAccount(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  accountKey: string,
  replay: string,
  scanLimit: number,
): Promise<AccountTrace> {
  const listing = await listDeadLetters(sqs, { deadLetterQueueUrl, limit: scanLimit });
  const accountLetters = listing.deadLetters.filter((row) => row.accountKey === accountKey);
  return {
    accountKey,
    verdict: accountVerdict(accountKey, accountLetters, replay),
    accountLetters,
    fanOutSubscriptionLetters: listing.deadLetters.filter(
      (row) => row.subscriptionId !== undefined && row.source === 'account',
    ).length,
    searched: listing.deadLetters.length,
    truncated: listing.truncated,
    note: ACCOUNT_SUBSCRIPTIONS_NOTE,
  };
}

export async function runTraceAccount(options: {
  io: CliIo;
  json: boolean;
  wide: boolean;
  raw: string;
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  description: string;
  replay: (accountKey: string) => string;
  scanLimit: number;
}): Promise<number> {
  const checked = checkAccountKey(options.raw, accountKeyRuleFrom(options.io.env.ACCOUNT_NUMBER_PATTERN));
  if (!checked.ok) throw new UsageError('--account', checked.reason);
  let trace: AccountTrace;
  try {
    trace = await traceAccount(
      options.sqs,
      options.deadLetterQueueUrl,
      checked.key,
      options.replay(checked.key),
      options.scanLimit,
    );
  } catch (error) {
    options.io.stderr.write(
      `trace: the DLQ could not be read: ${printable((error as Error).message ?? String(error))}\n`,
    );
    return EXIT.partlyFailed;
  }
  const { io } = options;
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ target: options.description, ...trace }, null, 2)}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`account ${trace.accountKey} (${options.description})\n`);
  io.stdout.write(`verdict: ${trace.verdict}\n\n`);
  const scope = `${trace.searched} letter(s) searched${trace.truncated ? ` (stopped at ${options.scanLimit}; more remain unsearched)` : ''}`;
  io.stdout.write(`account letters: ${trace.accountLetters.length} for ${trace.accountKey} (${scope})\n`);
  if (trace.accountLetters.length > 0) {
    io.stdout.write(
      renderTable(
        ['failure class', 'http status', 'attempts', 'failed at', 'replays', 'source', 'continued from', 'error'],
        trace.accountLetters.map((row) => [
          row.failureClass,
          row.httpStatus,
          row.attempts,
          row.failedAt ?? (row.sentAt && `${row.sentAt} (sent)`),
          row.replayCount || undefined,
          row.source,
          row.fanOut ? `account ${row.fanOut.accountId}, a later page` : undefined,
          cellClip(options.io, options)(row.error ?? '', 100),
        ]),
      ),
    );
  }
  io.stdout.write(`subscription letters from account fan-outs (any account): ${trace.fanOutSubscriptionLetters}\n`);
  io.stdout.write(`note: ${trace.note}\n`);
  return EXIT.ok;
}
