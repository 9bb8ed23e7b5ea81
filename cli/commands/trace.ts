import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BreakerStatus } from '../../functions/breaker/operator';
import { claimInFlight, type LedgerEntry } from '../../functions/ledger/ledger-entry';
import { checkSubscriptionId } from '../../functions/shared/subscription-id';
import { EXIT, TARGET_OPTIONS, WIDE_HELP, type Command } from '../command';
import { cellClip, clip, printable, renderTable } from '../output';
import type { TargetFlags } from '../target-types';
import { UsageError } from '../usage-error';
import { formatDuration } from '../values';
import { describeBreaker } from './breaker-control';
import { listDeadLetters, type DeadLetterRow } from './dlq-list';
import { describeLedgerError, openLedger } from './ledger-access';
import { runTraceAccount } from './trace-account';

/**
 * `trace <subscription>`: what the bridge knows of one subscription (its sync ledger entry, its letters on the DLQ,
 * the breaker) and one line answering "why is this subscription not in Limio?".
 */

/** Letters read while looking for one subscription's: the whole DLQ up to this many (a listing consumes nothing). */
const TRACE_DLQ_SCAN_LIMIT = 10_000;

type LedgerView =
  | { readonly status: 'found'; readonly table: string; readonly entry: LedgerEntry }
  | { readonly status: 'none'; readonly table: string }
  /** `failed`: a read went wrong; otherwise the target has no ledger (an old stack, no table given). */
  | { readonly status: 'unavailable'; readonly reason: string; readonly failed: boolean };

type DeadLetterView =
  | {
      readonly status: 'read';
      readonly letters: readonly DeadLetterRow[];
      readonly searched: number;
      readonly truncated: boolean;
      readonly hidden?: number;
    }
  | { readonly status: 'unavailable'; readonly reason: string };

type BreakerView =
  | ({ readonly available: true } & BreakerStatus)
  | { readonly available: false; readonly reason: string; readonly failed: boolean };

export interface TraceFacts {
  readonly subscriptionId: string;
  readonly ledger: LedgerView;
  readonly deadLetters: DeadLetterView;
  readonly breaker: BreakerView;
}

/** The command lines a verdict suggests, with the operator's own target flags. */
export interface NextSteps {
  readonly replay: string;
  readonly enqueue: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

function failure(httpStatus: number | undefined, error: string | undefined): string {
  return (
    [httpStatus !== undefined ? String(httpStatus) : undefined, error ? printable(clip(error, 120)) : undefined]
      .filter(Boolean)
      .join(' ') || 'without a recorded reason'
  );
}

/**
 * One line answering "why is this subscription not in Limio?", from the most pressing fact down: letters on the
 * DLQ newer than the last success need a replay; a sync in flight will answer soon; an open breaker holds
 * everything; a newer failed attempt is being retried; else the last success; else there is no record at all.
 */
export function traceVerdict(facts: TraceFacts, next: NextSteps, nowMs: number = Date.now()): string {
  const entry = facts.ledger.status === 'found' ? facts.ledger.entry : undefined;
  const success = entry?.lastSuccess;
  const attempt = entry?.lastAttempt;
  const letters = facts.deadLetters.status === 'read' ? facts.deadLetters.letters : [];
  const failedAtMs = (letter: DeadLetterRow) =>
    Date.parse(letter.failedAt ?? letter.sentAt ?? '') || Number.POSITIVE_INFINITY;
  // A letter older than the last success was overtaken by it (a later change was synced): not why it is missing.
  const pending = letters.filter((letter) => success === undefined || failedAtMs(letter) > success.startedAt);
  const breakerHolds = facts.breaker.available && facts.breaker.state !== 'closed';
  const syncedText = success
    ? `synced at ${iso(success.finishedAt)} (started ${iso(success.startedAt)})${success.limioId ? ` by Limio id ${printable(success.limioId)}` : ''}${success.owner ? ` (owner ${printable(success.owner)})` : ''}`
    : undefined;
  const failedSinceSuccess =
    attempt !== undefined &&
    attempt.outcome !== 'synced' &&
    (success === undefined || attempt.startedAt > success.startedAt)
      ? attempt
      : undefined;
  const breakerText =
    facts.breaker.available && breakerHolds
      ? `breaker ${facts.breaker.state}${facts.breaker.since ? ` since ${facts.breaker.since}` : ''}: held (${printable(facts.breaker.reason)})`
      : undefined;

  if (pending.length > 0) {
    const newest = [...pending].sort((a, b) => failedAtMs(b) - failedAtMs(a))[0];
    const why = failedSinceSuccess
      ? failure(failedSinceSuccess.httpStatus, failedSinceSuccess.error)
      : failure(newest.httpStatus, newest.error);
    const when = failedSinceSuccess ? iso(failedSinceSuccess.finishedAt) : (newest.failedAt ?? newest.sentAt);
    return [
      `last sync failed ${why}${when ? ` at ${when}` : ''} (${newest.failureClass})`,
      `${pending.length} letter(s) on the DLQ: replay with \`${next.replay}\``,
      ...(breakerText ? [breakerText] : []),
      ...(syncedText ? [`before that ${syncedText}`] : []),
    ].join('; ');
  }
  const claim = claimInFlight(entry, nowMs);
  if (claim !== undefined) {
    return [
      `a sync started at ${iso(claim.startedAt)} is in flight now (claimed until ${iso(claim.until)})`,
      ...(syncedText ? [`before that ${syncedText}`] : []),
    ].join('; ');
  }
  if (breakerText && (success === undefined || failedSinceSuccess !== undefined)) {
    return [
      `${breakerText}; its messages wait on the queue and sync when Limio answers again (or \`breaker close\`)`,
      ...(failedSinceSuccess
        ? [
            `last attempt failed ${failure(failedSinceSuccess.httpStatus, failedSinceSuccess.error)} at ${iso(failedSinceSuccess.finishedAt)}`,
          ]
        : []),
      ...(syncedText ? [`before that ${syncedText}`] : []),
    ].join('; ');
  }
  if (failedSinceSuccess !== undefined) {
    const retrying =
      failedSinceSuccess.outcome === 'retryable'
        ? 'retryable: its message waits out a backoff on the main queue and is tried again'
        : `terminal, but no letter of it is on the DLQ (replayed since, or expired): enqueue it again with \`${next.enqueue}\``;
    return [
      `last sync failed ${failure(failedSinceSuccess.httpStatus, failedSinceSuccess.error)} at ${iso(failedSinceSuccess.finishedAt)} (${retrying})`,
      ...(syncedText ? [`before that ${syncedText}`] : []),
    ].join('; ');
  }
  if (syncedText) return [syncedText, ...(breakerText ? [`${breakerText}: newer changes wait`] : [])].join('; ');
  const unread = [
    facts.ledger.status === 'unavailable'
      ? `the ledger could not be read (${printable(facts.ledger.reason)})`
      : undefined,
    facts.deadLetters.status === 'unavailable'
      ? `the DLQ could not be read (${printable(facts.deadLetters.reason)})`
      : undefined,
  ].filter(Boolean);
  if (unread.length > 0) {
    return `unknown: ${unread.join('; ')}${facts.deadLetters.status === 'read' ? '; no letter on the DLQ' : ''}${breakerText ? `; ${breakerText}` : ''}`;
  }
  return `no record: never synced via this bridge (ledger off, or no callout): enqueue it with \`${next.enqueue}\`${breakerText ? `; ${breakerText}` : ''}`;
}

/** The target flags to repeat in a suggested command line. */
function targetArgs(flags: TargetFlags): string {
  if (flags.local) return '--local';
  if (flags.stack !== undefined) return `--stack ${flags.stack.trim()}`;
  return [flags.queueUrl && `--queue-url ${flags.queueUrl}`, flags.dlqUrl && `--dlq-url ${flags.dlqUrl}`]
    .filter(Boolean)
    .join(' ');
}

function ledgerJson(view: LedgerView, nowMs: number): Record<string, unknown> {
  if (view.status !== 'found') return { ...view };
  const { entry } = view;
  const claim = claimInFlight(entry, nowMs);
  return {
    status: 'found',
    table: view.table,
    ...(entry.lastSuccess && {
      lastSuccess: {
        startedAt: iso(entry.lastSuccess.startedAt),
        finishedAt: iso(entry.lastSuccess.finishedAt),
        ...(entry.lastSuccess.limioId !== undefined && { limioId: entry.lastSuccess.limioId }),
        ...(entry.lastSuccess.owner !== undefined && { owner: entry.lastSuccess.owner }),
      },
    }),
    ...(entry.lastAttempt && {
      lastAttempt: {
        outcome: entry.lastAttempt.outcome,
        startedAt: iso(entry.lastAttempt.startedAt),
        finishedAt: iso(entry.lastAttempt.finishedAt),
        ...(entry.lastAttempt.httpStatus !== undefined && { httpStatus: entry.lastAttempt.httpStatus }),
        ...(entry.lastAttempt.error !== undefined && { error: entry.lastAttempt.error }),
      },
    }),
    ...(claim && { syncInFlight: { startedAt: iso(claim.startedAt), until: iso(claim.until) } }),
    ...(entry.expiresAt > 0 && { expiresAt: iso(entry.expiresAt * 1000) }),
  };
}

function ledgerText(view: LedgerView, nowMs: number): string {
  if (view.status === 'unavailable') return `ledger: unavailable: ${printable(view.reason)}\n`;
  if (view.status === 'none')
    return `ledger: no entry in ${view.table} (never synced since the ledger was on, or its entry expired after 30 days untouched)\n`;
  const { entry } = view;
  const lines = ['ledger:'];
  const success = entry.lastSuccess;
  lines.push(
    success
      ? `  last success   started ${iso(success.startedAt)}, finished ${iso(success.finishedAt)} (${formatDuration(nowMs - success.finishedAt)} ago)` +
          `${success.limioId ? `, Limio id ${printable(success.limioId)}` : ''}${success.owner ? `, owner ${printable(success.owner)}` : ''}`
      : '  last success   none recorded',
  );
  const attempt = entry.lastAttempt;
  if (attempt) {
    lines.push(
      `  last attempt   ${attempt.outcome}${attempt.httpStatus !== undefined ? ` (HTTP ${attempt.httpStatus})` : ''} started ${iso(attempt.startedAt)}, finished ${iso(attempt.finishedAt)}` +
        `${attempt.error ? `: ${printable(clip(attempt.error, 200))}` : ''}`,
    );
  }
  const claim = claimInFlight(entry, nowMs);
  if (claim) lines.push(`  in flight      a sync claimed at ${iso(claim.startedAt)}, until ${iso(claim.until)}`);
  return `${lines.join('\n')}\n`;
}

function deadLetterText(
  view: DeadLetterView,
  subscriptionId: string,
  cellClip: (text: string, length: number) => string,
): string {
  if (view.status === 'unavailable') return `dead letters: unavailable: ${printable(view.reason)}\n`;
  const scope = `${view.searched} letter(s) searched${view.truncated ? ` (stopped at ${TRACE_DLQ_SCAN_LIMIT}; more remain unsearched)` : ''}${view.hidden ? `, ${view.hidden} hidden by another reader and not searched` : ''}`;
  if (view.letters.length === 0) return `dead letters: none for ${subscriptionId} (${scope})\n`;
  const fromAccounts = accountOriginLetters(view);
  return (
    `dead letters: ${view.letters.length} for ${subscriptionId} (${scope})` +
    `${fromAccounts > 0 ? `, ${fromAccounts} of them from an account fan-out (source account: an account or contact change reached it)` : ''}\n` +
    renderTable(
      // The source tells an account fan-out's message (`account`: the account's change reached this subscription) from a callout's or the sweep's.
      ['failure class', 'http status', 'attempts', 'failed at', 'replays', 'source', 'error'],
      view.letters.map((row) => [
        row.failureClass,
        row.httpStatus,
        row.attempts,
        row.failedAt ?? (row.sentAt && `${row.sentAt} (sent)`),
        row.replayCount || undefined,
        row.source,
        cellClip(row.error ?? '', 100),
      ]),
    )
  );
}

/** The subscription's letters whose message an account fan-out made, not a callout, the sweep or a backfill. */
function accountOriginLetters(view: DeadLetterView): number {
  return view.status === 'read' ? view.letters.filter((row) => row.source === 'account').length : 0;
}

async function readDeadLettersOf(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  subscriptionId: string,
  rule: Parameters<typeof listDeadLetters>[1]['rule'],
): Promise<DeadLetterView> {
  try {
    const listing = await listDeadLetters(sqs, { deadLetterQueueUrl, limit: TRACE_DLQ_SCAN_LIMIT, rule });
    return {
      status: 'read',
      letters: listing.deadLetters.filter((row) => row.subscriptionId === subscriptionId),
      searched: listing.deadLetters.length,
      truncated: listing.truncated,
      ...(listing.hidden ? { hidden: listing.hidden } : {}),
    };
  } catch (error) {
    return { status: 'unavailable', reason: (error as Error).message ?? String(error) };
  }
}

export const TRACE_COMMAND: Command = {
  name: 'trace',
  summary:
    "what the bridge knows of one subscription (sync ledger, dead letters, breaker) and why it may not be in Limio; or of an account's fan-out",
  usage:
    'zuora-limio-sync trace SUBSCRIPTION [target] [--ledger-table NAME] [--json]\n       zuora-limio-sync trace --account KEY [target] [--json]',
  options: {
    ...TARGET_OPTIONS,
    account: { type: 'string' },
    'breaker-table': { type: 'string' },
    'ledger-table': { type: 'string' },
  },
  positionals: true,
  needs: { deadLetterQueue: true, breaker: 'optional', ledger: 'optional' },
  flags: `  SUBSCRIPTION          a subscription number (A-S00000271) or 32-hex Zuora id, checked with the callouts' rule
  --account KEY         instead: an account's fan-out (an account number A00001234 or 32-hex account id, checked
                        with the callouts' rule): its letters on the DLQ (unknown account, Zuora failing past the
                        retry budget, where a continuation had got to) and how many subscription letters account
                        fan-outs made; the account's subscriptions need Zuora and are not listed (it says so)
  --ledger-table NAME   with --queue-url/--dlq-url: the sync ledger's DynamoDB table (or ZLS_LEDGER_TABLE)
  --breaker-table NAME  with --queue-url/--dlq-url: the breaker's DynamoDB table (or ZLS_BREAKER_TABLE)
${WIDE_HELP}
  --json                one JSON document on stdout
Shows the sync ledger's entry (last successful sync: start, finish, Limio id and owner; last attempt: outcome,
HTTP status, error), the subscription's letters on the DLQ with their reasons and source (\`account\`: made by an
account fan-out; the DLQ is read like \`dlq list\`:
nothing is consumed) and the breaker, then one verdict line. A part that cannot be read (no ledger in an old
stack, no runtime) is said so and the rest is still shown; exit 1 when a part could not be read.`,
  targetHelp: `Target (pick one):
  --local               the \`npm start\` runtime: SQS emulator on 127.0.0.1:\${SQS_PORT:-9324}, its ledger table
                        zuora-limio-sync-ledger in the DynamoDB emulator on 127.0.0.1:\${DYNAMODB_PORT:-8000},
                        its breaker on 127.0.0.1:\${PORT:-3000}
  --stack NAME          a deployed stack: outputs DeadLetterQueueUrl, LedgerTableName, BreakerTableName
  --dlq-url URL         the dead-letter queue (or env ZLS_DLQ_URL), with --ledger-table and --breaker-table
  AWS credentials and region come from the usual AWS environment/profile; AWS_ENDPOINT_URL_SQS and
  AWS_ENDPOINT_URL_DYNAMODB are honoured.
  Signed AWS requests go only to AWS endpoints over https, or to this machine (127.0.0.0/8, localhost, ::1):
  --allow-non-aws-endpoint  also to another https host
  --allow-insecure-target   also over plain http to a host that is not this machine (credentials in clear)`,
  examples: `  zuora-limio-sync trace A-S00000271 --stack ZuoraLimioSync
  zuora-limio-sync trace A-S00000271 --local --json | jq .verdict`,
  async run({ values, positionals, io, json, rule, targets, breaker, flags, onFinish }) {
    if (values.account !== undefined) {
      if (positionals.length > 0) throw new UsageError('--account', 'trace an account or a subscription, not both');
      const resolved = await targets();
      const target = targetArgs(flags);
      return runTraceAccount({
        io,
        json,
        wide: values.wide === true,
        raw: String(values.account),
        sqs: resolved.sqs,
        deadLetterQueueUrl: resolved.deadLetterQueueUrl!,
        description: resolved.description,
        // dlq replay has no account filter: a replay sends every account letter back to the fan-out queue.
        replay: () => `zuora-limio-sync dlq replay${target ? ` ${target}` : ''}`,
        scanLimit: TRACE_DLQ_SCAN_LIMIT,
      });
    }
    if (positionals.length !== 1)
      throw new UsageError(
        'SUBSCRIPTION',
        positionals.length === 0
          ? 'name the subscription to trace, e.g. A-S00000271'
          : 'trace one subscription at a time',
      );
    const checked = checkSubscriptionId(positionals[0], rule);
    if (!checked.ok) throw new UsageError('SUBSCRIPTION', checked.reason);
    const subscriptionId = checked.id;
    const resolved = await targets();
    const nowMs = Date.now();

    const readLedger = async (): Promise<LedgerView> => {
      const target = resolved.ledger;
      if (target === undefined || target.kind === 'unavailable')
        return { status: 'unavailable', reason: target?.reason ?? 'no ledger target', failed: false };
      const ledger = await openLedger(target, io.env, resolved.mainQueueUrl ?? resolved.deadLetterQueueUrl);
      onFinish(() => ledger.client.destroy());
      try {
        const read = await ledger.store.readMany([subscriptionId]);
        if (read.unread.includes(subscriptionId))
          return {
            status: 'unavailable',
            reason: `DynamoDB did not answer for it (unprocessed keys) in the ledger ${ledger.where}`,
            failed: true,
          };
        const entry = read.entries.get(subscriptionId);
        return entry
          ? { status: 'found', table: ledger.tableName, entry }
          : { status: 'none', table: ledger.tableName };
      } catch (error) {
        return {
          status: 'unavailable',
          reason: describeLedgerError(error, ledger, target.localEndpoint !== undefined),
          failed: true,
        };
      }
    };
    const readBreaker = async (): Promise<BreakerView> => {
      try {
        const found = await breaker();
        if ('unavailable' in found) return { available: false, reason: found.unavailable, failed: false };
        return { available: true, ...(await found.control.status()) };
      } catch (error) {
        return { available: false, reason: (error as Error).message ?? String(error), failed: true };
      }
    };
    const [ledger, deadLetters, breakerView] = await Promise.all([
      readLedger(),
      readDeadLettersOf(resolved.sqs, resolved.deadLetterQueueUrl!, subscriptionId, rule),
      readBreaker(),
    ]);
    const facts: TraceFacts = { subscriptionId, ledger, deadLetters, breaker: breakerView };
    const target = targetArgs(flags);
    const verdict = traceVerdict(
      facts,
      {
        replay: `zuora-limio-sync dlq replay ${target ? `${target} ` : ''}--subscription ${subscriptionId}`,
        enqueue: `zuora-limio-sync enqueue ${target ? `${target} ` : ''}${subscriptionId}`,
      },
      nowMs,
    );
    // A part the target does not have (an old stack's ledger) is said so; only a read that went wrong is a failure.
    const unreadable =
      (ledger.status === 'unavailable' && ledger.failed) ||
      deadLetters.status === 'unavailable' ||
      (!breakerView.available && breakerView.failed);
    if (json) {
      const accountOrigin = accountOriginLetters(deadLetters);
      io.stdout.write(
        `${JSON.stringify({ subscriptionId, target: resolved.description, verdict, ledger: ledgerJson(ledger, nowMs), deadLetters, accountOriginLetters: accountOrigin, breaker: breakerView }, null, 2)}\n`,
      );
    } else {
      io.stdout.write(`${subscriptionId} (${resolved.description})\n`);
      io.stdout.write(`verdict: ${verdict}\n\n`);
      io.stdout.write(ledgerText(ledger, nowMs));
      io.stdout.write(deadLetterText(deadLetters, subscriptionId, cellClip(io, values)));
      io.stdout.write(
        breakerView.available
          ? describeBreaker(breakerView)
          : `breaker: unavailable: ${printable(breakerView.reason)}\n`,
      );
    }
    return unreadable ? EXIT.partlyFailed : EXIT.ok;
  },
};
