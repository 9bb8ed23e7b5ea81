import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SqsSender } from '../../functions/shared/enqueue';
import { ConfigError } from '../../functions/shared/config-error';
import { describeBackfillPlan, MAX_BACKFILL_DAYS, planBackfill } from '../../functions/sweep/backfill-plan';
import { loadSweepConfig, type SweepConfig } from '../../functions/sweep/config';
import type { SweepProgress, SweepReport, WatermarkStore } from '../../functions/sweep/sweep';
import { EXIT, DESTINATION_OPTIONS, type Command } from '../command';
import { eraseStatusLine, printable, renderTable, statusLine } from '../output';
import { LOCAL_DEFAULTS } from '../../local/defaults';
import type { ZuoraTarget } from '../target-types';
import { unreachableReason } from '../reachable';
import { isConnectionFailure, TargetUnreachable, UsageError } from '../usage-error';
import { parseTimeOrAge } from '../values';
import { describeLedgerError, openLedger } from './ledger-access';

/**
 * `sweep --since … [--until …]`: one reconciliation sweep over a window the operator picks (a backfill after an
 * incident), run in this process by the same runner as the scheduled sweep Lambda and `npm start`: Zuora is read
 * for what changed, the sync ledger says what was synced since, and the rest is queued with source "sweep".
 */

/** Settings of the sweep the CLI passes through from its environment, as the Lambda reads them. */
const PASSED_THROUGH = /^(SWEEP_[A-Z_]+|ZUORA_ENTITY_ID|ZUORA_TIMEOUT_MS|SUBSCRIPTION_ID_PATTERN)$/;

/** Ids the text output lists in a dry run; --json lists them all. */
const MAX_LISTED_IDS = 50;

type Env = Readonly<Record<string, string | undefined>>;

/** The sweep's settings, checked by the sweep's own configuration; an error names the flag or output at fault. */
function sweepConfigFor(zuora: ZuoraTarget, env: Env, flagged: Readonly<Record<string, string>> = {}): SweepConfig {
  const passed = Object.fromEntries(
    Object.entries(env).filter(([name, value]) => PASSED_THROUGH.test(name) && value !== undefined),
  ) as Record<string, string>;
  try {
    return loadSweepConfig({ ...passed, ...flagged, ...zuora.variables });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const input =
      zuora.inputs[error.variable] ??
      (error.variable in flagged ? (FLAG_OF[error.variable] ?? error.variable) : error.variable);
    throw new UsageError(input, error.message.slice(error.variable.length + 2));
  }
}

/** Variables a sweep flag stands for. */
const FLAG_OF: Readonly<Record<string, string>> = { ZUORA_ENTITY_ID: '--zuora-entity' };

/**
 * A backfill reads its own window and leaves the scheduled sweep's watermark alone; the runner never asks for it
 * when given a window, and this store makes sure it cannot.
 */
const UNTOUCHED_WATERMARK: WatermarkStore = {
  get: () => Promise.reject(new Error('a backfill must not read the sweep watermark')),
  put: () => Promise.reject(new Error('a backfill must not move the sweep watermark')),
};

/**
 * The dry run's queue: takes every batch as SQS would and keeps the subscription ids, so a dry run goes through
 * exactly the path a real run takes (ledger look-ups, message building, batching) and can say what it would queue.
 */
function recordingQueue(): { readonly sqs: SqsSender; readonly ids: string[] } {
  const ids: string[] = [];
  const send = async (command: unknown) => {
    // Imported here (as below) so that --help does not load the AWS SDK.
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    if (!(command instanceof SendMessageBatchCommand)) throw new Error('the dry run only takes SendMessageBatch');
    const entries = command.input.Entries ?? [];
    for (const entry of entries)
      ids.push((JSON.parse(entry.MessageBody ?? '{}') as { subscriptionId: string }).subscriptionId);
    return {
      Successful: entries.map((entry) => ({ Id: entry.Id, MessageId: 'dry-run', MD5OfMessageBody: '' })),
      Failed: [],
    };
  };
  return { sqs: { send } as unknown as SqsSender, ids };
}

/** The queue, counting what it took, for the progress line. */
function countingQueue(sqs: SqsSender, onQueued: (count: number) => void): SqsSender {
  const send = async (command: Parameters<SQSClient['send']>[0], options?: Parameters<SQSClient['send']>[1]) => {
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    const output = await (sqs as SQSClient).send(command, options);
    if (command instanceof SendMessageBatchCommand)
      onQueued((output as { Successful?: unknown[] }).Successful?.length ?? 0);
    return output;
  };
  return { send } as unknown as SqsSender;
}

/** Which flag or variable named the Zuora address, and what to check there. */
function zuoraHint(zuora: ZuoraTarget): string {
  const input = zuora.inputs.ZUORA_BASE_URL;
  return input.includes('ZUORA_SANDBOX_PORT')
    ? `is \`npm start\` running? Its Zuora sandbox listens on ZUORA_SANDBOX_PORT (default ${LOCAL_DEFAULTS.zuoraSandboxPort}; one started with ZUORA_SANDBOX_PORT=0 printed the port it picked: give it as ZUORA_SANDBOX_PORT=N)`
    : `check ${input}, which gave ${zuora.variables.ZUORA_BASE_URL}`;
}

function zuoraUnreachable(zuora: ZuoraTarget, reason: string): TargetUnreachable {
  const input = zuora.inputs.ZUORA_BASE_URL;
  return new TargetUnreachable(
    input.includes('ZUORA_SANDBOX_PORT') ? 'ZUORA_SANDBOX_PORT' : input,
    `cannot reach Zuora at ${zuora.variables.ZUORA_BASE_URL} (${reason}); ${zuoraHint(zuora)}. Nothing was read or queued`,
  );
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export const SWEEP_COMMAND: Command = {
  name: 'sweep',
  summary: 'backfill from Zuora: queue what changed in a window and has no sync since (one sweep, here and now)',
  usage: 'zuora-limio-sync sweep --since TIME [--until TIME] [target] [--dry-run] [--allow-long-window] [--json]',
  options: {
    local: { type: 'boolean' },
    stack: { type: 'string' },
    'queue-url': { type: 'string' },
    'ledger-table': { type: 'string' },
    'zuora-url': { type: 'string' },
    'zuora-secret': { type: 'string' },
    'zuora-entity': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'allow-long-window': { type: 'boolean' },
    ...DESTINATION_OPTIONS,
  },
  needs: { mainQueue: true, ledger: 'required', zuora: true },
  flags: `  --since TIME          start of the window (inclusive), ISO-8601 with an offset or Z:
                        2026-11-24T00:00:00Z, 2026-11-23T16:00:00-08:00 (a time without an offset is refused),
                        or an age before now: 90m, 6h, 2d
  --until TIME          end of the window (exclusive), as --since; default now
  --dry-run             show the plan (slices, ZOQL queries) first, then read Zuora and the ledger, queue
                        nothing, list what would be queued
  --allow-long-window   read a window longer than ${MAX_BACKFILL_DAYS} days (refused without it: every slice is at least one
                        ZOQL query against the API limits the tenant shares with every other integration)
  --zuora-entity ID     multi-entity tenants: the entity to read (or ZUORA_ENTITY_ID)
  --json                one JSON document on stdout
Reads every subscription Zuora changed in the window (ZOQL on UpdatedDate, in slices of SWEEP_SLICE_SECONDS,
default 1 h), skips those whose last successful sync (the sync ledger) started after their change, and queues
the rest with source "sweep": a change whose callout was synced costs Limio nothing. The scheduled sweep's
watermark is neither read nor moved. Progress on stderr when it is a terminal; counts at the end. Exit 0 when
the whole window was read and settled, 1 when it was not (the output says from where to run it again).`,
  targetHelp: `Target (pick one):
  --local               the \`npm start\` runtime: main queue on the SQS emulator 127.0.0.1:\${SQS_PORT:-9324}, ledger
                        zuora-limio-sync-ledger on the DynamoDB emulator 127.0.0.1:\${DYNAMODB_PORT:-8000}, Zuora
                        sandbox on 127.0.0.1:\${ZUORA_SANDBOX_PORT:-4020} (or ZUORA_BASE_URL with ZUORA_CLIENT_ID and
                        ZUORA_CLIENT_SECRET, as \`npm start\` takes them)
  --stack NAME          a deployed stack: outputs MainQueueUrl, LedgerTableName, ZuoraBaseUrl, ZuoraSecretArn
  --queue-url URL       the main queue (or env ZLS_QUEUE_URL), with --ledger-table NAME (or ZLS_LEDGER_TABLE)
Zuora: --zuora-url URL (or the stack output, or ZUORA_BASE_URL) and --zuora-secret ARN, a Secrets Manager secret
{"clientId","clientSecret"} (or the stack output, or ZUORA_SECRET_ID; or ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET).
SWEEP_SLICE_SECONDS, SWEEP_COMMIT_LAG_SECONDS, ZUORA_TIMEOUT_MS and SUBSCRIPTION_ID_PATTERN are read from
the environment as the sweep Lambda reads them.
  AWS credentials and region come from the usual AWS environment/profile; AWS_ENDPOINT_URL_SQS,
  AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SECRETS_MANAGER are honoured.
  Signed AWS requests go only to AWS endpoints over https, or to this machine (127.0.0.0/8, localhost, ::1):
  --allow-non-aws-endpoint  also to another https host
  --allow-insecure-target   also over plain http to a host that is not this machine (credentials in clear)`,
  examples: `  zuora-limio-sync sweep --stack ZuoraLimioSync --since 2026-11-24T00:00:00Z --until 2026-11-24T06:00:00Z --dry-run
  zuora-limio-sync sweep --stack ZuoraLimioSync --since 2026-11-23T22:00:00-08:00
  zuora-limio-sync sweep --local --since 2026-11-24T09:00:00Z --json | jq .counts
  zuora-limio-sync sweep --local --since 2h --dry-run`,
  async run({ values, io, json, targets, onFinish }) {
    if (values.since === undefined)
      throw new UsageError('--since', 'give the start of the window, e.g. --since 2026-11-24T00:00:00Z');
    const startedAt = Date.now();
    const sinceMs = parseTimeOrAge('--since', String(values.since), startedAt);
    const untilMs = values.until === undefined ? startedAt : parseTimeOrAge('--until', String(values.until), startedAt);
    if (sinceMs >= untilMs) {
      throw new UsageError(
        values.until === undefined ? '--since' : '--until',
        `the window must end after it starts (${iso(sinceMs)} .. ${iso(untilMs)})`,
      );
    }
    if (sinceMs > startedAt)
      throw new UsageError('--since', `${iso(sinceMs)} is in the future: nothing has changed there yet`);
    const dryRun = values['dry-run'] === true;
    const entity: Record<string, string> =
      typeof values['zuora-entity'] === 'string' ? { ZUORA_ENTITY_ID: values['zuora-entity'] } : {};

    const resolved = await targets();
    const config = sweepConfigFor(resolved.zuora!, io.env, entity);
    const plan = planBackfill({ startMs: sinceMs, endMs: untilMs }, config.window.maxSliceSeconds);
    // Refused before anything is read: a mistyped year costs the tenant's shared API limits, not just time.
    if (plan.overBound && values['allow-long-window'] !== true) {
      throw new UsageError(
        '--since',
        `the window ${iso(sinceMs)} .. ${iso(untilMs)} is longer than the ${MAX_BACKFILL_DAYS} days a backfill reads without --allow-long-window: ` +
          `${describeBackfillPlan(plan)}, against API limits the tenant shares with every other integration. Check the dates (is the year right?), ` +
          `or give --allow-long-window to read it all`,
      );
    }
    const ledgerTarget = resolved.ledger!;
    if (ledgerTarget.kind === 'unavailable') throw new UsageError('--ledger-table', ledgerTarget.reason);
    const ledger = await openLedger(ledgerTarget, io.env, resolved.mainQueueUrl);
    onFinish(() => ledger.client.destroy());
    // Without the ledger every change would be queued unchecked: say so before reading Zuora, rather than after.
    try {
      await ledger.store.readMany(['zuora-limio-sync-cli-probe']);
    } catch (error) {
      io.stderr.write(
        `error: ${describeLedgerError(error, ledger, ledgerTarget.localEndpoint !== undefined)}; without it every changed subscription would be queued unchecked (\`enqueue\` does that, if it is what you want)\n`,
      );
      return isConnectionFailure(error) ? EXIT.unreachable : EXIT.partlyFailed;
    }
    // Zuora's client retries a refused connection for about 12 s: a runtime that is not running, or another port,
    // is said at once, with the variable or flag that named the address.
    const zuoraUrl = resolved.zuora!.variables.ZUORA_BASE_URL;
    const unreachable = await unreachableReason(zuoraUrl);
    if (unreachable !== undefined) throw zuoraUnreachable(resolved.zuora!, unreachable);
    const secretId = resolved.zuora!.variables.ZUORA_SECRET_ID;
    const secretsManager =
      secretId === undefined
        ? undefined
        : (await import('../aws-clients')).awsSecretsManagerClient(io.env, secretId, resolved.mainQueueUrl);
    if (secretsManager) onFinish(() => secretsManager.destroy());

    // Shown before the run, which may be long: the operator can still stop it before it has cost much.
    if (dryRun && !json) io.stdout.write(`plan: ${describeBackfillPlan(plan)}\n`);
    const progress = statusLine(io, dryRun ? 'sweep (dry run)' : 'sweep');
    let slices = 0;
    let sliceIndex = 0;
    let read = 0;
    let queuedSoFar = 0;
    let zuoraRequests = 0;
    let completedUntilMs: number | undefined;
    const redraw = () =>
      progress.update(
        `slice ${Math.min(sliceIndex + 1, slices)}/${slices}, read ${read} records, ${dryRun ? 'would queue' : 'queued'} ${queuedSoFar}`,
      );
    const recorder = dryRun ? recordingQueue() : undefined;
    const { createSweepRunner } = await import('../../functions/sweep/runner');
    const runner = createSweepRunner({
      config,
      sqs: countingQueue(recorder?.sqs ?? resolved.sqs, (count) => {
        queuedSoFar += count;
        redraw();
      }),
      queueUrl: resolved.mainQueueUrl!,
      source: 'sweep',
      ledger: ledger.store,
      // What a dry run records was never queued: marking it would make the next sweep think its sync is to come.
      markQueued: !dryRun,
      watermarks: UNTOUCHED_WATERMARK,
      ...(secretsManager && { secretsManager }),
      onZuoraRequest: () => {
        zuoraRequests += 1;
      },
    });
    const onProgress = (event: SweepProgress) => {
      if (event.type === 'window') slices = event.slices;
      if (event.type === 'page') {
        sliceIndex = event.slice;
        read = event.read;
      }
      if (event.type === 'slice') {
        sliceIndex = event.slice + 1;
        completedUntilMs = event.range.endMs;
      }
      if (event.type === 'coverage-unavailable') {
        eraseStatusLine(io);
        io.stderr.write(
          `warning: the ledger did not answer for ${event.ids} subscription(s): they are queued unchecked (${printable(event.error)})\n`,
        );
      }
      redraw();
    };
    // The recording queue stands in for SQS in a dry run, so the runner itself runs a real (not a dry) sweep.
    const report: SweepReport = await runner.run({ window: { startMs: sinceMs, endMs: untilMs }, onProgress });
    progress.finish();

    const complete = report.outcome === 'complete' || report.outcome === 'nothing-to-do';
    const window = report.window ?? { startMs: sinceMs, endMs: untilMs };
    const resumeFrom = complete ? undefined : iso(completedUntilMs ?? window.startMs);
    if (json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            target: resolved.description,
            zuora: resolved.zuora!.description,
            window: { since: iso(window.startMs), until: iso(window.endMs) },
            dryRun,
            plan: {
              days: plan.days,
              sliceSeconds: plan.sliceSeconds,
              slices: plan.slices,
              zoqlQueriesAtLeast: plan.zoqlQueriesAtLeast,
            },
            outcome: report.outcome,
            counts: report.counts,
            slicesPlanned: report.slicesPlanned,
            slicesCompleted: report.slicesCompleted,
            coverageUnavailable: report.coverageUnavailable,
            invalidSamples: report.invalidSamples,
            ...(report.error !== undefined && { error: report.error, errorKind: report.errorKind }),
            ...(resumeFrom !== undefined && { resumeFrom }),
            durationMs: report.durationMs,
            zuoraRequests,
            ...(recorder && { wouldQueue: recorder.ids }),
          },
          null,
          2,
        )}\n`,
      );
      return complete ? EXIT.ok : EXIT.partlyFailed;
    }
    const { counts } = report;
    io.stdout.write(
      `${resolved.zuora!.description}\nwindow ${iso(window.startMs)} .. ${iso(window.endMs)} (${report.slicesCompleted} of ${report.slicesPlanned} slice(s) read)\n\n`,
    );
    io.stdout.write(
      renderTable(
        ['read', 'distinct', 'covered', 'pending', dryRun ? 'would queue' : 'queued', 'missing', 'unproven', 'invalid'],
        [
          [
            counts.read,
            counts.distinct,
            counts.covered,
            counts.pending,
            counts.queued,
            counts.missing,
            counts.unproven,
            counts.invalid,
          ],
        ],
      ),
    );
    io.stdout.write(
      renderTable(
        ['accounts read', 'contacts read', 'accounts changed', 'their subscriptions'],
        [[counts.accountsRead, counts.contactsRead, counts.accountsChanged, counts.accountSubscriptions]],
      ),
    );
    if (counts.invalid > 0)
      io.stdout.write(`invalid names (never sent to Limio), e.g. ${report.invalidSamples.join(', ')}\n`);
    if (recorder && recorder.ids.length > 0) {
      const listed = recorder.ids.slice(0, MAX_LISTED_IDS);
      io.stdout.write(
        `\nwould queue: ${listed.join(' ')}${recorder.ids.length > listed.length ? ` … and ${recorder.ids.length - listed.length} more (--json lists them all)` : ''}\n`,
      );
    }
    io.stdout.write(
      `\n${complete ? 'complete' : report.outcome} in ${(report.durationMs / 1000).toFixed(1)} s, ${zuoraRequests} Zuora request(s)${dryRun ? '; dry run: nothing was queued' : ''}\n`,
    );
    if (report.coverageUnavailable)
      io.stderr.write(
        'warning: the ledger could not be read for some subscriptions; they were queued without checking (Limio gets a redundant sync at worst)\n',
      );
    if (!complete) {
      io.stderr.write(
        `sweep ${report.outcome}${report.errorKind ? ` (${report.errorKind})` : ''}: ${report.error === undefined ? 'not every slice was read' : printable(report.error)}\n` +
          (report.errorKind === 'unavailable' ? `${zuoraHint(resolved.zuora!)}\n` : '') +
          `${dryRun ? 'dry run: nothing was queued' : 'what was queued stays queued'}; run it again with --since ${resumeFrom}${values.until === undefined ? ` --until ${iso(window.endMs)}` : ''} for the rest\n`,
      );
    }
    return complete ? EXIT.ok : EXIT.partlyFailed;
  },
};
