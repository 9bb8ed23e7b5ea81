import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LedgerStore } from '../../functions/ledger/ledger-store';
import {
  accountKeyRuleFrom,
  checkAccountKey,
  DEFAULT_ACCOUNT_KEY_RULE,
  type AccountKeyRule,
} from '../../functions/shared/account-key';
import {
  createAccountRequest,
  createSyncRequest,
  serializeQueueMessage,
  serializeSyncRequest,
} from '../../functions/shared/queue-message';
import {
  checkSubscriptionId,
  DEFAULT_SUBSCRIPTION_ID_RULE,
  type SubscriptionIdRule,
} from '../../functions/shared/subscription-id';
import { UsageError } from '../usage-error';
import { EXIT, TARGET_OPTIONS, type Command, type RunContext } from '../command';
import { printable, progressBar } from '../output';
import { openLedger } from './ledger-access';

/** One candidate subscription id and where it came from, for messages such as "line 7" or "argument 2". */
export interface Candidate {
  readonly where: string;
  readonly value: string;
}

export interface Refusal {
  readonly where: string;
  readonly value: string;
  readonly reason: string;
}

/** What a backfill list names, and the CSV header names, best first, that hold it (compared without case or punctuation). */
export interface ListKind {
  readonly noun: 'subscription' | 'account';
  readonly columns: readonly string[];
}

const SUBSCRIPTION_LIST: ListKind = {
  noun: 'subscription',
  columns: ['subscriptionnumber', 'subscriptionname', 'subscription', 'subscriptionid'],
};
/** Account.Number and Account.AccountNumber normalise to accountnumber and accountaccountnumber. */
export const ACCOUNT_LIST: ListKind = {
  noun: 'account',
  columns: ['accountnumber', 'accountaccountnumber', 'account', 'accountid', 'accountaccountid'],
};

/**
 * Reads a backfill list: one subscription per line, or a CSV whose header has a subscription column
 * (`subscriptionNumber`, `Subscription.Name`, `subscription`, …). Blank lines and `#` comments are ignored.
 * Line numbers are those of the file, header included.
 */
export function readCandidates(
  text: string,
  input: string,
  kind: ListKind = SUBSCRIPTION_LIST,
): { candidates: Candidate[]; refused: Refusal[] } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const candidates: Candidate[] = [];
  const refused: Refusal[] = [];
  let column: number | undefined;
  let headerSeen = false;
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (!headerSeen) {
      headerSeen = true;
      const header = csvCells(line).map((cell) => cell.toLowerCase().replace(/[^a-z]/g, ''));
      const isHeader = line.includes(',') || header[0].includes(kind.noun);
      if (isHeader) {
        const best = kind.columns.map((name) => header.indexOf(name)).find((found) => found >= 0);
        column = best ?? header.findIndex((name) => name.includes(kind.noun));
        if (column < 0)
          throw new UsageError(
            input,
            `line 1 looks like a CSV header but has no ${kind.noun} column (columns: ${csvCells(line).join(', ')})`,
          );
        return;
      }
    }
    if (column === undefined) {
      candidates.push({ where, value: line.trim() });
      return;
    }
    const cells = csvCells(line);
    if (cells.length <= column)
      refused.push({ where, value: line.trim(), reason: `has no column ${column + 1} (the ${kind.noun} column)` });
    else candidates.push({ where, value: cells[column].trim() });
  });
  return { candidates, refused };
}

/** Cells of one CSV line; quoted cells may hold commas and doubled quotes. */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (char === ',') {
      cells.push(cell.trim());
      cell = '';
    } else cell += char;
  }
  cells.push(cell.trim());
  return cells;
}

export interface EnqueueOptions {
  readonly queueUrl: string;
  readonly candidates: readonly Candidate[];
  /** Refusals found while reading the input (e.g. a CSV line without the column), reported with the rest. */
  readonly refused?: readonly Refusal[];
  readonly rule?: SubscriptionIdRule;
  readonly dryRun?: boolean;
  readonly now?: () => Date;
  readonly onProgress?: (done: number, total: number) => void;
  /** The target's sync ledger: what was queued is marked there (lastQueuedAt), so the sweep finds it pending. */
  readonly ledger?: LedgerStore;
}

export interface EnqueueResult {
  readonly dryRun: boolean;
  readonly accepted: { where: string; subscriptionId: string; messageId?: string }[];
  readonly refused: Refusal[];
  /** The same subscription again; queued once, as a second sync would do nothing new. */
  readonly duplicates: { where: string; subscriptionId: string; firstAt: string }[];
  /** Valid, but SQS did not take the message. */
  readonly failed: { where: string; subscriptionId: string; error: string }[];
  /**
   * Queued, but not marked in the sync ledger (it failed or was slow): a sweep may queue them again and count their
   * changes as missing callouts. Absent when all were marked or there is no ledger.
   */
  readonly unmarked?: { readonly count: number; readonly error: string };
}

/** How long the ledger marks may take in all: an operator is waiting, and a missing mark only costs a redundant sync. */
const LEDGER_MARK_TIMEOUT_MS = 10_000;

/** Tries for one batch entry SQS leaves out of its answer. */
const MAX_SEND_ATTEMPTS = 2;

/** A valid key and where it came from. */
interface Keyed {
  readonly where: string;
  readonly key: string;
}

type KeyCheck = { ok: true; key: string } | { ok: false; reason: string };

/** Checks each candidate with `check`; the first of equal keys is kept, the others are duplicates. */
function validateCandidates(
  candidates: readonly Candidate[],
  check: (value: string) => KeyCheck,
  inputRefusals: readonly Refusal[] = [],
) {
  const refused: Refusal[] = [...inputRefusals];
  const duplicates: (Keyed & { firstAt: string })[] = [];
  const firstSeen = new Map<string, string>();
  const valid: Keyed[] = [];
  for (const candidate of candidates) {
    const checked = check(candidate.value);
    if (!checked.ok) refused.push({ ...candidate, reason: checked.reason });
    else if (firstSeen.has(checked.key))
      duplicates.push({ where: candidate.where, key: checked.key, firstAt: firstSeen.get(checked.key)! });
    else {
      firstSeen.set(checked.key, candidate.where);
      valid.push({ where: candidate.where, key: checked.key });
    }
  }
  refused.sort((a, b) => lineOrder(a.where) - lineOrder(b.where));
  return { valid, refused, duplicates };
}

/** Sends one message per key to `queueUrl` in batches of 10. */
async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  valid: readonly Keyed[],
  bodyOf: (key: string) => string,
  onProgress?: (done: number, total: number) => void,
) {
  // Imported here so that --help does not load the AWS SDK.
  const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  const accepted: (Keyed & { messageId?: string })[] = [];
  const failed: (Keyed & { error: string })[] = [];
  for (let start = 0; start < valid.length; start += 10) {
    let pending = valid.slice(start, start + 10);
    // An entry SQS lists neither as sent nor as failed may or may not be queued: it is sent again (a second sync
    // of one subscription, or a second fan-out of one account, is harmless: Limio pulls its current state), and
    // counted as failed if that happens twice.
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((entry, index) => ({ Id: String(index), MessageBody: bodyOf(entry.key) })),
          }),
        );
        const listed = new Set<number>();
        for (const success of result.Successful ?? []) {
          listed.add(Number(success.Id));
          accepted.push({ ...pending[Number(success.Id)], messageId: success.MessageId });
        }
        for (const failure of result.Failed ?? []) {
          listed.add(Number(failure.Id));
          failed.push({ ...pending[Number(failure.Id)], error: `${failure.Code} ${failure.Message ?? ''}`.trim() });
        }
        const unlisted = pending.filter((_, index) => !listed.has(index));
        if (unlisted.length > 0 && attempt >= MAX_SEND_ATTEMPTS) {
          for (const entry of unlisted)
            failed.push({
              ...entry,
              error: `SQS reported it neither sent nor failed (${attempt} tries); it may or may not be queued`,
            });
          break;
        }
        pending = unlisted;
      } catch (error) {
        for (const entry of pending) failed.push({ ...entry, error: (error as Error).message });
        break;
      }
    }
    onProgress?.(Math.min(start + 10, valid.length), valid.length);
  }
  failed.sort((a, b) => lineOrder(a.where) - lineOrder(b.where));
  return { accepted, failed };
}

/** Validates each candidate with the callouts' own rule and queues the valid ones as `backfill` sync requests. */
export async function enqueueSubscriptions(sqs: SQSClient, options: EnqueueOptions): Promise<EnqueueResult> {
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  const checked = validateCandidates(
    options.candidates,
    (value) => {
      const check = checkSubscriptionId(value, rule);
      return check.ok ? { ok: true, key: check.id } : check;
    },
    options.refused,
  );
  const { refused } = checked;
  const valid = checked.valid.map(({ where, key }) => ({ where, subscriptionId: key }));
  const duplicates = checked.duplicates.map(({ where, key, firstAt }) => ({ where, subscriptionId: key, firstAt }));
  if (options.dryRun) return { dryRun: true, accepted: valid, refused, duplicates, failed: [] };

  const receivedAt = (options.now ?? (() => new Date()))();
  const sent = await sendInBatches(
    sqs,
    options.queueUrl,
    checked.valid,
    (subscriptionId) =>
      serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'backfill', receivedAt }, rule)),
    options.onProgress,
  );
  const accepted = sent.accepted.map(({ where, key, messageId }) => ({ where, subscriptionId: key, messageId }));
  const failed = sent.failed.map(({ where, key, error }) => ({ where, subscriptionId: key, error }));
  const marks =
    options.ledger === undefined
      ? undefined
      : await (await import('../../functions/ledger/queued-mark')).markQueuedFailOpen(
          options.ledger,
          accepted.map((entry) => entry.subscriptionId),
          receivedAt.getTime(),
          LEDGER_MARK_TIMEOUT_MS,
        );
  const unmarked =
    marks !== undefined && marks.unmarked.length > 0
      ? { count: marks.unmarked.length, error: marks.failure ?? 'unknown' }
      : undefined;
  return { dryRun: false, accepted, refused, duplicates, failed, ...(unmarked !== undefined && { unmarked }) };
}

interface EnqueueAccountsOptions {
  /** The fan-out queue (AccountQueueUrl): account messages go there, never to the main queue. */
  readonly accountQueueUrl: string;
  readonly candidates: readonly Candidate[];
  readonly refused?: readonly Refusal[];
  readonly rule?: AccountKeyRule;
  readonly dryRun?: boolean;
  readonly now?: () => Date;
  readonly onProgress?: (done: number, total: number) => void;
}

interface EnqueueAccountsResult {
  readonly dryRun: boolean;
  readonly accepted: { where: string; accountKey: string; messageId?: string }[];
  readonly refused: Refusal[];
  /** The same account again: queued once, as a second fan-out would queue the same subscriptions again. */
  readonly duplicates: { where: string; accountKey: string; firstAt: string }[];
  readonly failed: { where: string; accountKey: string; error: string }[];
}

/**
 * Backfill by account: each key checked with the callouts' account key rule and queued as a `backfill` account
 * message on the fan-out queue, which queues the account's subscriptions (and marks them in the ledger) as an
 * account callout would. Nothing is marked here: the subscriptions are not known until the fan-out reads Zuora.
 */
export async function enqueueAccounts(sqs: SQSClient, options: EnqueueAccountsOptions): Promise<EnqueueAccountsResult> {
  const rule = options.rule ?? DEFAULT_ACCOUNT_KEY_RULE;
  const checked = validateCandidates(options.candidates, (value) => checkAccountKey(value, rule), options.refused);
  const { refused } = checked;
  const duplicates = checked.duplicates.map(({ where, key, firstAt }) => ({ where, accountKey: key, firstAt }));
  if (options.dryRun)
    return {
      dryRun: true,
      accepted: checked.valid.map(({ where, key }) => ({ where, accountKey: key })),
      refused,
      duplicates,
      failed: [],
    };
  const receivedAt = (options.now ?? (() => new Date()))();
  const sent = await sendInBatches(
    sqs,
    options.accountQueueUrl,
    checked.valid,
    (accountKey) => serializeQueueMessage(createAccountRequest({ accountKey, source: 'backfill', receivedAt }, rule)),
    options.onProgress,
  );
  return {
    dryRun: false,
    accepted: sent.accepted.map(({ where, key, messageId }) => ({ where, accountKey: key, messageId })),
    refused,
    duplicates,
    failed: sent.failed.map(({ where, key, error }) => ({ where, accountKey: key, error })),
  };
}

function lineOrder(where: string): number {
  return Number(/\d+/.exec(where)?.[0] ?? 0);
}

export const ENQUEUE_COMMAND: Command = {
  name: 'enqueue',
  summary: 'backfill: queue subscriptions (or, with --account, accounts) for a sync (arguments, a file, or stdin)',
  usage:
    'zuora-limio-sync enqueue [target] [--account] [ID ...] [--file PATH|-] [--ledger-table NAME] [--dry-run] [--json]',
  options: {
    ...TARGET_OPTIONS,
    account: { type: 'boolean' },
    file: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'ledger-table': { type: 'string' },
  },
  positionals: true,
  needs: { mainQueue: true, accountQueue: true, ledger: 'optional' },
  flags: `  ID ...                subscription numbers (A-S00000271) or 32-hex Zuora ids; "-" reads stdin
  --account             the ids are Zuora accounts (account numbers such as A00001234, or 32-hex account ids,
                        checked with the callouts' rule: ACCOUNT_NUMBER_PATTERN is honoured): each is queued on
                        the fan-out queue, whose Lambda queues all the account's subscriptions. The fan-out queue
                        is npm start's with --local, the AccountQueueUrl output with --stack; refused otherwise
  --file PATH           one id per line, or a CSV whose header has a subscription column
                        (subscriptionNumber, Subscription.Name, subscription, ...; with --account an account
                        column: accountNumber, Account.Number, account, accountId, ...); "-" = stdin
  --dry-run             validate and report; queue nothing
  --json                one JSON document on stdout
  --ledger-table NAME   with --queue-url: the sync ledger's DynamoDB table (or ZLS_LEDGER_TABLE)
Ids are checked with the callouts' own rule (SUBSCRIPTION_ID_PATTERN is honoured); refused lines are reported
with their line numbers and the rest is queued in batches of 10 as source "backfill". With the target's sync
ledger (--stack, --local, or --ledger-table NAME / ZLS_LEDGER_TABLE) each queued id is marked there, so the sweep
counts its change pending until its sync, not as a missing callout.`,
  examples: `  zuora-limio-sync enqueue --local A-S00000271 A-S00000272
  zuora-limio-sync enqueue --stack ZuoraLimioSync --account A00001234 A00001235
  zuora-limio-sync enqueue --stack ZuoraLimioSync --file subscriptions.csv
  cut -d, -f1 export.csv | zuora-limio-sync enqueue --queue-url "$QUEUE_URL" -`,
  async run({ values, positionals, io, json, rule, targets, onFinish }) {
    const kind = values.account === true ? ACCOUNT_LIST : SUBSCRIPTION_LIST;
    const candidates: Candidate[] = [];
    const refused: Refusal[] = [];
    const sources = [
      ...positionals.filter((value) => value === '-').map(() => '-'),
      ...(values.file === undefined ? [] : [String(values.file)]),
    ];
    if (sources.filter((source) => source === '-').length > 1) throw new UsageError('-', 'stdin can be read only once');
    positionals.forEach((value, index) => {
      if (value !== '-') candidates.push({ where: `argument ${index + 1}`, value });
    });
    // Line numbers need the input's name only when ids come from more than one place.
    const mixedInputs = sources.length + (candidates.length > 0 ? 1 : 0) > 1;
    for (const source of sources) {
      const input = source === '-' ? 'stdin' : `--file ${source}`;
      const text =
        source === '-'
          ? await readAll(io.stdin)
          : await (await import('node:fs/promises')).readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
              throw new UsageError('--file', `cannot read ${source}: ${error.code ?? error.message}`);
            });
      const read = readCandidates(text, input, kind);
      const label = (where: string) => (mixedInputs ? `${input} ${where}` : where);
      candidates.push(...read.candidates.map((c) => ({ ...c, where: label(c.where) })));
      refused.push(...read.refused.map((r) => ({ ...r, where: label(r.where) })));
    }
    if (candidates.length === 0 && refused.length === 0) {
      throw new UsageError(
        sources.length ? (sources[0] === '-' ? 'stdin' : '--file') : 'enqueue',
        sources.length ? `holds no ${kind.noun} id` : `give ${kind.noun} ids, --file PATH, or - for stdin`,
      );
    }
    const dryRun = values['dry-run'] === true;
    if (kind === ACCOUNT_LIST) return enqueueAccountsCommand({ io, json, dryRun, candidates, refused, targets });
    const resolved = dryRun ? undefined : await targets();
    const { sqs, mainQueueUrl } = resolved ?? { sqs: undefined, mainQueueUrl: '' };
    const ledgerTarget = resolved?.ledger;
    const ledger = ledgerTarget?.kind === 'table' ? await openLedger(ledgerTarget, io.env, mainQueueUrl) : undefined;
    if (ledger !== undefined) onFinish(() => ledger.client.destroy());
    const progress = progressBar(io, 'queueing');
    const result = await enqueueSubscriptions(sqs!, {
      queueUrl: mainQueueUrl!,
      candidates,
      refused,
      rule,
      dryRun,
      onProgress: progress.update,
      ...(ledger !== undefined && { ledger: ledger.store }),
    });
    progress.finish();
    return writeEnqueueReport(io, json, result, {
      keyOf: (failure) => failure.subscriptionId,
      summary: dryRun ? 'valid (dry run, nothing queued)' : 'queued',
      ...(result.unmarked !== undefined && {
        warning: `warning: ${result.unmarked.count} queued but not marked in the sync ledger (${printable(result.unmarked.error)}): a sweep may queue them again and count them as missing callouts`,
      }),
    });
  },
};

async function enqueueAccountsCommand({
  io,
  json,
  dryRun,
  candidates,
  refused,
  targets,
}: Pick<RunContext, 'io' | 'json' | 'targets'> & {
  dryRun: boolean;
  candidates: Candidate[];
  refused: Refusal[];
}): Promise<number> {
  const rule = accountKeyRuleFrom(io.env.ACCOUNT_NUMBER_PATTERN);
  let accountQueueUrl = '';
  let sqs: SQSClient | undefined;
  if (!dryRun) {
    const resolved = await targets();
    // Account messages on the main queue would be refused by the sync Lambda as poison: without the fan-out
    // queue there is nowhere right to send them.
    if (resolved.accountQueueUrl === undefined) {
      throw new UsageError(
        '--account',
        `cannot queue accounts: ${resolved.accountQueueUnknown ?? 'the target has no fan-out queue'}; use --local or --stack NAME of a stack with a Zuora connection, or enqueue the account's subscriptions instead`,
      );
    }
    accountQueueUrl = resolved.accountQueueUrl;
    sqs = resolved.sqs;
  }
  const progress = progressBar(io, 'queueing');
  const result = await enqueueAccounts(sqs!, {
    accountQueueUrl,
    candidates,
    refused,
    rule,
    dryRun,
    onProgress: progress.update,
  });
  progress.finish();
  return writeEnqueueReport(io, json, result, {
    keyOf: (failure) => failure.accountKey,
    summary: dryRun ? 'valid accounts (dry run, nothing queued)' : 'accounts queued for fan-out',
  });
}

/** What an enqueue of subscriptions or of accounts prints: the JSON, or its refusals, failures and a summary line. */
function writeEnqueueReport<Failure extends { where: string; error: string }>(
  io: RunContext['io'],
  json: boolean,
  result: {
    readonly accepted: readonly unknown[];
    readonly refused: readonly Refusal[];
    readonly duplicates: readonly unknown[];
    readonly failed: readonly Failure[];
  },
  words: { keyOf: (failure: Failure) => string; summary: string; warning?: string },
): number {
  const partlyFailed = result.refused.length > 0 || result.failed.length > 0;
  if (json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
  }
  for (const refusal of result.refused)
    io.stdout.write(`refused ${printable(refusal.where)}: ${printable(refusal.reason)}\n`);
  for (const failure of result.failed)
    io.stdout.write(
      `not queued ${printable(failure.where)} (${printable(words.keyOf(failure))}): ${printable(failure.error)}\n`,
    );
  if (words.warning !== undefined) io.stderr.write(`${words.warning}\n`);
  io.stdout.write(
    `${words.summary}: ${result.accepted.length}, refused: ${result.refused.length}` +
      `${result.duplicates.length ? `, duplicates skipped: ${result.duplicates.length}` : ''}${result.failed.length ? `, failed: ${result.failed.length}` : ''}\n`,
  );
  return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
