import { readFile } from 'node:fs/promises';
import type { QueueBacklog } from '../functions/breaker/operator';
import { ConfigError } from '../functions/shared/config-error';
import { FAILURE_CLASSES, type FailureClass } from '../functions/shared/dead-letter';
import { calloutAuthFromEnv, type CalloutAuth } from '../functions/callout/auth-config';
import { SignedDataError } from '../functions/callout/hmac';
import { describeBreaker, type BreakerControl } from './commands/breaker';
import { sendTestCallout, type CalloutResult } from './commands/callout';
import { listDeadLetters } from './commands/dlq-list';
import { isUnfiltered, MAX_HELD_LETTERS, replayDeadLetters, type ReplayFilter } from './commands/dlq-replay';
import { enqueueSubscriptions, readCandidates, type Candidate, type Refusal } from './commands/enqueue';
import { queueStatus } from './commands/status';
import { SWEEP_COMMAND } from './commands/sweep';
import { TRACE_COMMAND } from './commands/trace';
import { BREAKER_TABLE_OPTION, BREAKER_TARGET_OPTIONS, EXIT, TARGET_OPTIONS, type Command, type RunContext } from './command';
import { clip, progressBar, renderTable } from './output';
import { UsageError } from './usage-error';
import { formatDuration, parseDuration, parseHttpStatus, parsePositiveInteger, parseRate, splitList } from './values';


const FAILURE_CLASS_CHOICES = [...FAILURE_CLASSES, 'unknown'] as const;

/** `dlq replay --watch` keeps the letters it sees hidden from others while it waits: keep that short. */
const MAX_WATCH_MS = 15 * 60_000;

const COMMANDS: readonly Command[] = [
  {
    name: 'dlq list',
    summary: 'show what is in the dead-letter queue and why (consumes nothing)',
    usage: 'zuora-limio-sync dlq list [target] [--limit N] [--json]',
    options: { ...TARGET_OPTIONS, limit: { type: 'string' } },
    needs: { deadLetterQueue: true },
    flags: `  --limit N             list at most N messages (default 1000)
  --json                one JSON document on stdout instead of a table`,
    examples: `  zuora-limio-sync dlq list --stack ZuoraLimioSync
  zuora-limio-sync dlq list --local --json | jq '.deadLetters[] | select(.httpStatus == 404)'`,
    async run({ values, io, json, rule, targets }) {
      const limit = values.limit === undefined ? 1000 : parsePositiveInteger('--limit', String(values.limit));
      const { sqs, deadLetterQueueUrl } = await targets();
      const progress = progressBar(io, 'reading DLQ');
      const result = await listDeadLetters(sqs, { deadLetterQueueUrl: deadLetterQueueUrl!, limit, rule, onProgress: progress.update });
      progress.finish();
      const hiddenNote = result.hidden
        ? `${result.hidden} more letter(s) are hidden (in flight): a \`dlq replay\` under way, another \`dlq list\` or another reader received them, so they are not listed. Run again once it has finished (a replay makes them visible again when it ends).`
        : undefined;
      if (json) {
        io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else if (result.deadLetters.length === 0) {
        io.stdout.write(hiddenNote ? 'No dead letter is visible right now, but the dead-letter queue is NOT empty.\n' : 'The dead-letter queue is empty.\n');
      } else {
        io.stdout.write(
          renderTable(
            ['subscription', 'failure class', 'http status', 'attempts', 'failed at', 'replays', 'error'],
            result.deadLetters.map((row) => [
              row.subscriptionId ?? '(unreadable body)',
              row.failureClass,
              row.httpStatus,
              row.attempts,
              row.failedAt ?? (row.sentAt && `${row.sentAt} (sent)`),
              row.replayCount || undefined,
              clip(row.bodyProblem ? `${row.error ?? ''} [body: ${row.bodyProblem}]`.trim() : row.error ?? '', 100),
            ]),
          ),
        );
        io.stdout.write(`\n${result.deadLetters.length} dead letter(s)${result.truncated ? ` (stopped at --limit ${limit}; more remain)` : ''}; nothing was consumed.\n`);
      }
      if (hiddenNote) io.stderr.write(`note: ${hiddenNote}\n`);
      if (result.notRestored > 0) io.stderr.write(`warning: ${result.notRestored} message(s) could not be made visible again at once; they reappear when their visibility timeout ends.\n`);
      return EXIT.ok;
    },
  },
  {
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
    needs: { mainQueue: true, deadLetterQueue: true },
    flags: `  --subscription ID     only this subscription (repeatable, or comma-separated)
  --failure-class C     only terminal | poison | exhausted | unknown (unknown = moved by SQS redrive, no reason)
  --status CODE         only messages whose last Limio answer was this HTTP status (repeatable)
  --older-than AGE      only messages that failed at least AGE ago: 90s, 30m, 2h, 1d (for messages SQS's
                        redrive moved, which carry no failedAt: first sent at least AGE ago)
  --dry-run             show what would be replayed; change nothing
  --rate N/s            send at most N messages per second (spare Limio right after an outage)
  --limit N             replay at most N messages
  --native              unfiltered replay of everything via SQS StartMessageMoveTask; falls back to
                        message-by-message where unsupported. It moves bodies untouched: no replayCount, so a
                        moved message keeps its original receivedAt and gets NO fresh retry budget (one more
                        Limio failure dead-letters it again as exhausted). After an outage use the default
                        path, which adds replayCount and so a fresh budget.
  --watch AGE           after sending, wait up to AGE (30s, 2m) for replayed letters that fail again and list
                        them with their reasons (ends early once all are back); exit 1 if any did
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
            throw new UsageError('--failure-class', `expected one of ${FAILURE_CLASS_CHOICES.join(', ')}, got "${value}"`);
          }
          return value as FailureClass | 'unknown';
        }),
        httpStatuses: splitList(values.status as string[] | undefined).map((value) => parseHttpStatus('--status', value)),
        ...(values['older-than'] !== undefined && { olderThanMs: parseDuration('--older-than', String(values['older-than'])) }),
      };
      const ratePerSecond = values.rate === undefined ? undefined : parseRate('--rate', String(values.rate));
      const limit = values.limit === undefined ? undefined : parsePositiveInteger('--limit', String(values.limit));
      const dryRun = values['dry-run'] === true;
      if (values.native && !isUnfiltered(filter)) throw new UsageError('--native', 'moves everything; it cannot be combined with a filter');
      if (values.native && limit !== undefined) throw new UsageError('--native', 'moves everything; it cannot be combined with --limit');
      if (values.native && dryRun) throw new UsageError('--native', 'cannot be combined with --dry-run');
      const watchMs = values.watch === undefined ? undefined : parseDuration('--watch', String(values.watch));
      if (watchMs !== undefined && watchMs > MAX_WATCH_MS) throw new UsageError('--watch', `at most ${formatDuration(MAX_WATCH_MS)}; look later with \`dlq list\``);
      if (watchMs !== undefined && (dryRun || values.native)) throw new UsageError('--watch', `cannot be combined with ${dryRun ? '--dry-run' : '--native'}`);
      const { sqs, mainQueueUrl, deadLetterQueueUrl } = await targets();
      const reading = progressBar(io, 'reading DLQ');
      const progress = progressBar(io, dryRun ? 'checking' : 'replaying');
      const result = await replayDeadLetters(sqs, {
        mainQueueUrl: mainQueueUrl!,
        deadLetterQueueUrl: deadLetterQueueUrl!,
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
      const partlyFailed = result.failed.length > 0 || result.skipped.length > 0 || result.failedAgain.length > 0 || result.stoppedEarly !== undefined;
      if (json) {
        io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
      }
      if (result.fallbackReason) io.stderr.write(`note: ${result.fallbackReason}\n`);
      if (result.mode === 'message-move-task') {
        io.stdout.write(`SQS moved ${result.moved ?? 0} message(s) from the DLQ to the main queue (native redrive).\n`);
      } else {
        if (result.replayed.length > 0) {
          io.stdout.write(renderTable(['subscription', 'replay count', 'message id'], result.replayed.map((r) => [r.subscriptionId, r.replayCount, r.messageId])));
          io.stdout.write('\n');
        }
        const lines = [
          `${dryRun ? 'would replay' : 'replayed'}: ${result.replayed.length}`,
          `not matching the filter (left in the DLQ): ${result.notMatched}`,
          ...(result.skipped.length ? [`matching but unreadable (left in the DLQ): ${result.skipped.length}`] : []),
          ...(result.failed.length ? [`failed: ${result.failed.length}`] : []),
          ...(result.scanEnded === 'only-seen-messages' ? ['scan: ended before seeing the whole DLQ; matching messages may remain (run it again)'] : []),
          ...(result.scanEnded === 'held-limit' ? [`scan: stopped after ${MAX_HELD_LETTERS.toLocaleString('en')} letters, as many as one run holds; run it again for the rest`] : []),
          ...(result.watchedSeconds !== undefined ? [`failed again (back in the DLQ, not replayed again): ${result.failedAgain.length}`] : []),
          ...(result.runId && !dryRun ? [`run id: ${result.runId} (letters that fail again carry it as replayRunId in \`dlq list --json\`)`] : []),
        ];
        io.stdout.write(`${lines.join('\n')}\n`);
        if (result.failedAgain.length > 0) {
          io.stdout.write('\nFailed again (left in the DLQ with their new reason; investigate before replaying them again):\n');
          io.stdout.write(
            renderTable(
              ['subscription', 'failure class', 'http status', 'replay count', 'error'],
              result.failedAgain.map((letter) => [letter.subscriptionId, letter.failureClass, letter.httpStatus, letter.replayCount, clip(letter.error ?? '', 100)]),
            ),
          );
        }
        if (dryRun) io.stdout.write('Dry run: nothing was sent or deleted.\n');
      }
      for (const skipped of result.skipped) io.stderr.write(`skipped ${skipped.messageId}: ${skipped.reason}\n`);
      for (const failure of result.failed) {
        io.stderr.write(`failed ${failure.subscriptionId ?? failure.messageId} (${failure.stage}): ${failure.error}${failure.stage === 'send' ? '; still in the DLQ' : ''}\n`);
      }
      if (result.stoppedEarly) io.stderr.write(`stopped early: ${result.stoppedEarly}\n`);
      if (result.hiddenAtStart) {
        io.stderr.write(`note: ${result.hiddenAtStart} letter(s) were hidden (in flight) when the run began, held by another replay, a \`dlq list\` or another reader: they were not seen and not replayed; run again once that reader has finished.\n`);
      }
      if (result.notRestored > 0) io.stderr.write(`warning: ${result.notRestored} message(s) could not be made visible again at once; they reappear when their visibility timeout ends.\n`);
      return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
    },
  },
  {
    name: 'enqueue',
    summary: 'backfill: queue subscriptions for a sync (arguments, a file, or stdin)',
    usage: 'zuora-limio-sync enqueue [target] [ID ...] [--file PATH|-] [--dry-run] [--json]',
    options: { ...TARGET_OPTIONS, file: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    positionals: true,
    needs: { mainQueue: true },
    flags: `  ID ...                subscription numbers (A-S00000271) or 32-hex Zuora ids; "-" reads stdin
  --file PATH           one id per line, or a CSV whose header has a subscription column
                        (subscriptionNumber, Subscription.Name, subscription, ...); "-" = stdin
  --dry-run             validate and report; queue nothing
  --json                one JSON document on stdout
Ids are checked with the callouts' own rule (SUBSCRIPTION_ID_PATTERN is honoured); refused lines are reported
with their line numbers and the rest is queued in batches of 10 as source "backfill".`,
    examples: `  zuora-limio-sync enqueue --local A-S00000271 A-S00000272
  zuora-limio-sync enqueue --stack ZuoraLimioSync --file subscriptions.csv
  cut -d, -f1 export.csv | zuora-limio-sync enqueue --queue-url "$QUEUE_URL" -`,
    async run({ values, positionals, io, json, rule, targets }) {
      const candidates: Candidate[] = [];
      const refused: Refusal[] = [];
      const sources = [...positionals.filter((value) => value === '-').map(() => '-'), ...(values.file === undefined ? [] : [String(values.file)])];
      if (sources.filter((source) => source === '-').length > 1) throw new UsageError('-', 'stdin can be read only once');
      positionals.forEach((value, index) => {
        if (value !== '-') candidates.push({ where: `argument ${index + 1}`, value });
      });
      // Line numbers need the input's name only when ids come from more than one place.
      const mixedInputs = sources.length + (candidates.length > 0 ? 1 : 0) > 1;
      for (const source of sources) {
        const input = source === '-' ? 'stdin' : `--file ${source}`;
        const text = source === '-' ? await readAll(io.stdin) : await readFile(source, 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError('--file', `cannot read ${source}: ${error.code ?? error.message}`);
        });
        const read = readCandidates(text, input);
        const label = (where: string) => (mixedInputs ? `${input} ${where}` : where);
        candidates.push(...read.candidates.map((c) => ({ ...c, where: label(c.where) })));
        refused.push(...read.refused.map((r) => ({ ...r, where: label(r.where) })));
      }
      if (candidates.length === 0 && refused.length === 0) {
        throw new UsageError(sources.length ? sources[0] === '-' ? 'stdin' : '--file' : 'enqueue', sources.length ? 'holds no subscription id' : 'give subscription ids, --file PATH, or - for stdin');
      }
      const dryRun = values['dry-run'] === true;
      const { sqs, mainQueueUrl } = dryRun ? { sqs: undefined, mainQueueUrl: '' } : await targets();
      const progress = progressBar(io, 'queueing');
      const result = await enqueueSubscriptions(sqs!, { queueUrl: mainQueueUrl!, candidates, refused, rule, dryRun, onProgress: progress.update });
      progress.finish();
      const partlyFailed = result.refused.length > 0 || result.failed.length > 0;
      if (json) {
        io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
      }
      for (const refusal of result.refused) io.stdout.write(`refused ${refusal.where}: ${refusal.reason}\n`);
      for (const failure of result.failed) io.stdout.write(`not queued ${failure.where} (${failure.subscriptionId}): ${failure.error}\n`);
      io.stdout.write(
        `${dryRun ? 'valid (dry run, nothing queued)' : 'queued'}: ${result.accepted.length}, refused: ${result.refused.length}` +
          `${result.duplicates.length ? `, duplicates skipped: ${result.duplicates.length}` : ''}${result.failed.length ? `, failed: ${result.failed.length}` : ''}\n`,
      );
      return partlyFailed ? EXIT.partlyFailed : EXIT.ok;
    },
  },
  {
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
      io.stdout.write(breakerView.available ? describeBreaker(breakerView, backlog) : `breaker: unavailable: ${breakerView.reason}\n`);
      io.stdout.write('\n');
      io.stdout.write(
        renderTable(
          ['queue', 'visible', 'in flight', 'delayed', 'oldest', 'how the age was found'],
          queues.map((q) => [q.queue, q.visible, q.inFlight, q.delayed, q.oldestAgeMs === undefined ? 'n/a' : `≥ ${formatDuration(q.oldestAgeMs)}`, q.ageNote]),
        ),
      );
      return EXIT.ok;
    },
  },
  {
    name: 'breaker open',
    summary: 'hold the circuit breaker open by hand (a Limio maintenance window): syncing pauses, messages wait',
    usage: 'zuora-limio-sync breaker open --reason TEXT [target] [--json]',
    options: { ...BREAKER_TARGET_OPTIONS, reason: { type: 'string' } },
    needs: { breaker: 'required' },
    flags: `  --reason TEXT         why (shown by status and in the logs); required
  --json                the breaker's status as one JSON document on stdout
Probes do not close a breaker opened by hand; \`breaker close\` does. Nothing is dead-lettered while it is open:
the time it stays open does not count against any message's retry budget.`,
    examples: `  zuora-limio-sync breaker open --stack ZuoraLimioSync --reason "Limio maintenance 22:00-23:00 UTC"
  zuora-limio-sync breaker open --local --reason "trying outage mode"`,
    async run({ values, io, json, breaker }) {
      const reason = typeof values.reason === 'string' ? values.reason.trim() : '';
      if (reason === '') throw new UsageError('--reason', 'say why the breaker is opened by hand (status and the logs show it)');
      const control = await requireBreaker(breaker);
      const status = await control.open(reason);
      if (json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else io.stdout.write(`${describeBreaker(status)}Opened; ${control.takesEffect}.\n`);
      return EXIT.ok;
    },
  },
  {
    name: 'breaker close',
    summary: 'close the circuit breaker by hand: syncing resumes at full speed',
    usage: 'zuora-limio-sync breaker close [target] [--reason TEXT] [--json]',
    options: { ...BREAKER_TARGET_OPTIONS, reason: { type: 'string' } },
    needs: { breaker: 'required' },
    flags: `  --reason TEXT         optional, shown by status and in the logs
  --json                the breaker's status as one JSON document on stdout
Closes it whoever opened it. If Limio is still failing, the sync Lambdas open it again by themselves.`,
    examples: `  zuora-limio-sync breaker close --stack ZuoraLimioSync
  zuora-limio-sync breaker close --local --reason "maintenance over"`,
    async run({ values, io, json, breaker }) {
      const reason = typeof values.reason === 'string' && values.reason.trim() !== '' ? values.reason.trim() : undefined;
      const control = await requireBreaker(breaker);
      const status = await control.close(reason);
      if (json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else io.stdout.write(`${describeBreaker(status)}Closed; ${control.takesEffect}.\n`);
      return EXIT.ok;
    },
  },
];

/** Callout flags and the callout Lambda's local environment variables they stand for. */
const CALLOUT_AUTH_FLAGS = {
  auth: 'CALLOUT_AUTH_MODE',
  username: 'CALLOUT_USERNAME',
  password: 'CALLOUT_PASSWORD',
  'header-name': 'CALLOUT_HEADER_NAME',
  'header-value': 'CALLOUT_HEADER_VALUE',
  'hmac-key': 'CALLOUT_HMAC_KEY',
  'hmac-header': 'CALLOUT_HMAC_HEADER',
  'hmac-algorithm': 'CALLOUT_HMAC_ALGORITHM',
  'hmac-prefix': 'CALLOUT_HMAC_PREFIX',
  'hmac-signed-data': 'CALLOUT_HMAC_SIGNED_DATA',
} as const;

const CALLOUT_COMMAND: Command = {
  name: 'callout',
  summary: 'send one authenticated test callout, as Zuora would, to check a deployment end to end',
  usage: 'zuora-limio-sync callout (--local | --stack NAME | --url URL) [--auth basic|header|hmac] [credentials] ID ...',
  options: {
    local: { type: 'boolean' },
    stack: { type: 'string' },
    url: { type: 'string' },
    ...Object.fromEntries(Object.keys(CALLOUT_AUTH_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    header: { type: 'string', multiple: true },
    preemptive: { type: 'boolean' },
    'allow-insecure-target': { type: 'boolean' },
  },
  positionals: true,
  needs: { callout: true },
  flags: `  ID ...                  subscription numbers the callout names (they are really queued and synced)
  --local                 the \`npm start\` callout endpoint, http://127.0.0.1:\${PORT:-3000}/zuora/callout
  --stack NAME            the stack's CalloutUrl output
  --url URL               any https callout URL (plain http only to this machine: 127.0.0.0/8, localhost, ::1)
  --allow-insecure-target --url may be plain http to another host (the credentials then cross it in clear)
  --auth MODE             basic | header | hmac (default: CALLOUT_AUTH_MODE)
  --username U, --password P                       basic (CALLOUT_USERNAME, CALLOUT_PASSWORD)
  --header-name H, --header-value V                header secret (CALLOUT_HEADER_NAME, CALLOUT_HEADER_VALUE)
  --hmac-key K, --hmac-header H, --hmac-algorithm A, --hmac-prefix P, --hmac-signed-data T
                          hmac (CALLOUT_HMAC_KEY, _HEADER, _ALGORITHM, _PREFIX, _SIGNED_DATA; same defaults as
                          the callout Lambda: X-Zuora-Signature, sha256, no prefix, "{body}\\n")
  --header "Name: value"  an extra header (repeatable), e.g. one the signed-data template names
  --preemptive            basic: send credentials at once instead of first expecting the 401 challenge
  --json                  one JSON document on stdout
Credentials default to the same CALLOUT_* variables the callout Lambda reads locally; prefer them to flags,
which end up in shell history. Nothing secret is printed. Exit 1 when the callout is not accepted, or when
the Basic challenge that Zuora's default (non-preemptive) Basic auth needs is missing.`,
  examples: `  CALLOUT_AUTH_MODE=basic CALLOUT_USERNAME=zuora CALLOUT_PASSWORD=... zuora-limio-sync callout --local A-S00000271
  zuora-limio-sync callout --stack ZuoraLimioSync --auth hmac --hmac-key "$KEY" A-S00000271`,
  async run({ values, positionals, io, json, targets }) {
    if (positionals.length === 0) throw new UsageError('ID', 'name at least one subscription for the callout to carry, e.g. A-S00000271');
    const overrides: Record<string, string> = {};
    for (const [flag, variable] of Object.entries(CALLOUT_AUTH_FLAGS)) {
      if (values[flag] !== undefined) overrides[variable] = String(values[flag]);
    }
    let auth: CalloutAuth;
    try {
      auth = calloutAuthFromEnv({ ...io.env, ...overrides });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const flag = Object.entries(CALLOUT_AUTH_FLAGS).find(([, variable]) => variable === error.variable)?.[0];
      throw new UsageError(flag ? `--${flag} (or ${error.variable})` : error.variable, error.message.slice(error.variable.length + 2));
    }
    const headers: Record<string, string> = {};
    for (const header of (values.header as string[] | undefined) ?? []) {
      const match = /^([A-Za-z0-9!#$%&'*+.^_\`|~-]+)\s*:\s*(.*)$/.exec(header);
      if (!match) throw new UsageError('--header', `expected "Name: value", got "${header}"`);
      headers[match[1]] = match[2];
    }
    const { calloutUrl } = await targets();
    let result: CalloutResult;
    try {
      result = await sendTestCallout({ url: calloutUrl!, auth, subscriptionIds: positionals, headers, preemptive: values.preemptive === true });
    } catch (error) {
      if (error instanceof SignedDataError) throw new UsageError('--hmac-signed-data (or CALLOUT_HMAC_SIGNED_DATA)', `${error.message}; pass it with --header`);
      throw error;
    }
    const challengeMissing = result.challenge !== undefined && !result.challenge.ok;
    if (json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      if (result.challenge) {
        io.stdout.write(
          result.challenge.ok
            ? `challenge: 401 with ${result.challenge.wwwAuthenticate} (Zuora's default non-preemptive Basic works)\n`
            : `challenge: MISSING: got ${result.challenge.status}${result.challenge.wwwAuthenticate ? ` with WWW-Authenticate ${result.challenge.wwwAuthenticate}` : ' without WWW-Authenticate'}; Zuora's default Basic would never send credentials here (enable Preemptive Authentication in Zuora, or use the REST API front door)\n`,
        );
      }
      io.stdout.write(`callout (${result.mode}) to ${result.url}: HTTP ${result.status}, ${result.accepted ? 'accepted' : 'NOT accepted'}\n`);
      io.stdout.write(`response: ${typeof result.response === 'string' ? result.response : JSON.stringify(result.response)}\n`);
      io.stdout.write(`Zuora-Request-Id: ${result.zuoraRequestId} (search the callout Lambda's logs for it)\n`);
    }
    return result.accepted && !challengeMissing ? EXIT.ok : EXIT.partlyFailed;
  },
};

/** Every command of the CLI, in the order top-level --help lists them; `.name` is the command's full words ("dlq replay"). */
export const ALL_COMMANDS: readonly Command[] = [...COMMANDS, CALLOUT_COMMAND, TRACE_COMMAND, SWEEP_COMMAND];

async function requireBreaker(breaker: RunContext['breaker']): Promise<BreakerControl> {
  const found = await breaker();
  if ('unavailable' in found) throw new UsageError('breaker', found.unavailable);
  return found.control;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
