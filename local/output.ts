import type { BreakerState } from '../functions/breaker/breaker-state';
import type { Announcement } from '../functions/breaker/probe-handler';
import type { AcceptedCallout, RefusedCallout } from '../functions/callout/callout-handler';
import type { FanOutEvent } from '../functions/fanout/fanout-handler';
import type { LimitChange } from '../functions/sync/adaptive-limit';
import type { SyncOutcomeEvent } from '../functions/sync/sync-handler';
import { describeSweep } from '../functions/sweep/ports';
import type { SweepReport } from '../functions/sweep/sweep';
import type { CalloutCredentials, RuntimeConfig } from './config';
import { LOCAL_TABLES } from './defaults';
import { refusalThreshold } from './limio-capacity';
import { LOCAL_LIMIO_CAPACITY_PATH, LOCAL_LIMIO_FAULTS_PATH, type LimioControlView } from './limio-control';
import type { LimioFaults } from './limio-faults';
import type { LimioServiceModel } from './limio-sandbox';

/**
 * What `npm start` prints for a person: the curl to try, one ready line, then one line per callout, sync and
 * dead letter, and a summary at the end. Pure formatting, so it is tested without a terminal. Credentials
 * appear only when the runtime generated them; the user's own are shown as the variable that holds them.
 */
const SAMPLE_SUBSCRIPTION = 'A-S00000271';
const SAMPLE_BODY = JSON.stringify({ subscriptionNumber: SAMPLE_SUBSCRIPTION });

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A curl that sends one JSON callout with the configured authentication (Basic is sent preemptively). */
export function sampleCurl(calloutUrl: string, credentials: CalloutCredentials): string {
  const parts = ['curl', '-sS'];
  switch (credentials.mode) {
    case 'basic':
      parts.push(
        '-u',
        credentials.generated
          ? shellQuote(`${credentials.username}:${credentials.password}`)
          : `'${credentials.username}:<CALLOUT_PASSWORD>'`,
      );
      break;
    case 'header':
      parts.push('-H', shellQuote(`${credentials.headerName}: <CALLOUT_HEADER_VALUE>`));
      break;
    case 'hmac':
      parts.push(
        '-H',
        shellQuote('<CALLOUT_HMAC_HEADER>: <signature over CALLOUT_HMAC_SIGNED_DATA with CALLOUT_HMAC_KEY>'),
      );
      break;
  }
  parts.push('-H', shellQuote('Content-Type: application/json'), '-d', shellQuote(SAMPLE_BODY), calloutUrl);
  return parts.join(' ');
}

export interface StartBanner {
  readonly calloutUrl: string;
  readonly sqsEndpoint: string;
  readonly limioBaseUrl: string;
  readonly dynamoDbEndpoint: string;
  readonly zuoraBaseUrl: string;
  readonly config: RuntimeConfig;
}

/** A curl that changes a subscription in the Zuora sandbox without a callout (the next sweep finds it). */
export function touchCurl(calloutUrl: string): string {
  const touchUrl = new URL('/_local/zuora/touch', calloutUrl).toString();
  return [
    'curl',
    '-sS',
    '-H',
    shellQuote('Content-Type: application/json'),
    '-d',
    shellQuote(JSON.stringify({ subscriptions: [SAMPLE_SUBSCRIPTION] })),
    touchUrl,
  ].join(' ');
}

/** A curl that moves the Limio sandbox's capacity while the runtime runs (null: unlimited). */
export function limioCapacityCurl(calloutUrl: string, capacity: number | null = 8): string {
  const url = new URL(LOCAL_LIMIO_CAPACITY_PATH, calloutUrl).toString();
  return [
    'curl',
    '-sS',
    '-H',
    shellQuote('Content-Type: application/json'),
    '-d',
    shellQuote(JSON.stringify({ capacity })),
    url,
  ].join(' ');
}

/** A curl that changes the Limio sandbox's faults while the runtime runs (the fields not given are kept). */
function limioFaultsCurl(calloutUrl: string, change: Record<string, unknown>): string {
  const url = new URL(LOCAL_LIMIO_FAULTS_PATH, calloutUrl).toString();
  return [
    'curl',
    '-sS',
    '-H',
    shellQuote('Content-Type: application/json'),
    '-d',
    shellQuote(JSON.stringify(change)),
    url,
  ].join(' ');
}

function share(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

/** The sandbox's faults in words, "no faults" when it answers every call. */
export function describeLimioFaults(faults: LimioFaults): string {
  const parts = [
    ...(faults.down ? ['DOWN: 503 for every request'] : []),
    ...(faults.notFoundIds?.length ? [`404 for ${faults.notFoundIds.join(', ')}`] : []),
    ...(faults.rate502 ? [`502 for ${share(faults.rate502)}`] : []),
    ...(faults.rate429 ? [`429 for ${share(faults.rate429)} (Retry-After ${faults.retryAfterSeconds ?? 1} s)`] : []),
    ...(faults.hangRate ? [`no answer for ${share(faults.hangRate)}`] : []),
    ...(faults.latencyMs ? [`latency ${faults.latencyMs} ms`] : []),
    ...(faults.tokenTtlSeconds !== undefined && faults.tokenTtlSeconds !== 3600
      ? [`tokens live ${faults.tokenTtlSeconds} s`]
      : []),
  ];
  return parts.join(', ') || 'no faults';
}

/** The sandbox's faults after a change through its control endpoint. */
export function limioFaultsLine(view: LimioControlView): string {
  const capacity = view.capacity === null ? '' : `, capacity ${view.capacity} in flight`;
  return `limio         sandbox now: ${describeLimioFaults(view)}${capacity}`;
}

export function describeStart(banner: StartBanner): string[] {
  const { config } = banner;
  const faults = config.limio.kind === 'sandbox' ? describeLimioFaults(config.limio.faults) : '';
  const capacity =
    config.limio.kind === 'sandbox' && config.limio.capacity !== undefined
      ? `capacity ${config.limio.capacity} in flight, `
      : '';
  const limio =
    config.limio.kind === 'sandbox'
      ? `Limio sandbox ${banner.limioBaseUrl} (${capacity}${faults})`
      : `Limio tenant ${banner.limioBaseUrl}`;
  const auth = config.callout;
  const authLine =
    auth.mode === 'basic'
      ? auth.generated
        ? `Basic, generated credentials ${auth.username} / ${auth.password} (set CALLOUT_USERNAME and CALLOUT_PASSWORD to choose them)`
        : `Basic, user ${auth.username}`
      : auth.mode === 'header'
        ? `custom header ${auth.headerName}`
        : 'HMAC signature';
  const frontDoor =
    config.apiKind === 'rest'
      ? 'REST API (payload 1.0; Basic challenge answered by the gateway)'
      : 'HTTP API (payload 2.0; no Basic challenge: Zuora needs preemptive authentication)';
  const zuora =
    config.zuora.kind === 'sandbox'
      ? `Zuora sandbox ${banner.zuoraBaseUrl} (client ${config.zuora.clientId})`
      : `Zuora tenant ${banner.zuoraBaseUrl}`;
  const settle = config.handlerEnv.SWEEP_SETTLE_SECONDS;
  return [
    `${limio}`,
    `SQS emulator ${banner.sqsEndpoint}, sync worker: batch ${config.poller.batchSize}, window ${config.poller.batchingWindowSeconds} s, ${config.poller.concurrency} poller(s)`,
    `DynamoDB emulator ${banner.dynamoDbEndpoint}: sync ledger ${LOCAL_TABLES.ledger}, breaker ${LOCAL_TABLES.breaker}`,
    `${zuora}: swept every ${config.sweepIntervalSeconds} s for changes older than ${settle} s that no sync covers`,
    `Callout front door: ${frontDoor}; auth: ${authLine}`,
    '',
    'Try it:',
    `  ${sampleCurl(banner.calloutUrl, auth)}`,
    ...(config.zuora.kind === 'sandbox'
      ? [
          'A change in Zuora without a callout (synced by the next sweep after it settles):',
          `  ${touchCurl(banner.calloutUrl)}`,
        ]
      : []),
    ...(config.limio.kind === 'sandbox'
      ? [
          "Limio's capacity, changed while it runs (calls in flight; null is unlimited):",
          `  ${limioCapacityCurl(banner.calloutUrl)}`,
          `Limio's faults, changed while it runs (GET shows them all; see docs/running-locally.md):`,
          `  ${limioFaultsCurl(banner.calloutUrl, { notFoundIds: ['A-S00000500'] })}`,
        ]
      : []),
    '',
  ];
}

export function readyLine(calloutUrl: string): string {
  return `Ready: callouts to ${calloutUrl} (Ctrl-C to stop)`;
}

function latency(ms: number): string {
  return `${Math.round(ms)} ms`;
}

/** One line for one sync outcome or dead letter. */
export function syncLine(event: SyncOutcomeEvent): string {
  const subscription = event.subscriptionId ?? '(unreadable message)';
  const messages = event.messageIds.length > 1 ? ` (${event.messageIds.length} messages)` : '';
  const status = event.httpStatus !== undefined ? `${event.httpStatus} ` : '';
  switch (event.outcome) {
    case 'synced':
      if (event.coveredBySyncStartedAt !== undefined) {
        return `covered       ${subscription}  by the sync started ${event.coveredBySyncStartedAt}: no Limio call${messages}`;
      }
      return `synced        ${subscription}  Limio id ${event.limioId ?? '?'}, owner ${event.owner ?? '?'}  ${latency(event.latencyMs)}${messages}`;
    case 'retry': {
      // Held by the ledger's cooldown or the open breaker: no Limio call was made and none failed.
      if (event.heldBy !== undefined) {
        const back = event.visibilitySeconds !== undefined ? `, back in ${event.visibilitySeconds} s` : '';
        return `held          ${subscription}  ${event.error ?? ''}${back}${messages}`;
      }
      const back = event.visibilitySeconds !== undefined ? `, retry in ${event.visibilitySeconds} s` : '';
      return `retrying      ${subscription}  ${status}${event.error ?? ''}  attempt ${event.attempt}${back}  ${latency(event.latencyMs)}${messages}`;
    }
    case 'dead-lettered':
      return `dead letter   ${subscription}  ${event.failureClass ?? ''}: ${status}${event.error ?? ''}  attempt ${event.attempt}  ${latency(event.latencyMs)}${messages}`;
  }
}

/** One line per phase the breaker enters, as the probe announces it (the alarm and its OK notification in AWS). */
export function breakerLine(announcement: Announcement, state: BreakerState): string {
  switch (announcement) {
    case 'opened':
      return `breaker OPEN: ${state.reason}; sync polling paused, messages wait in the queue (zuora-limio-sync breaker close --local resumes)`;
    case 'half-open':
      return `breaker HALF-OPEN: ${state.reason}; letting a small batch through`;
    case 'closed':
      return `breaker CLOSED: ${state.reason}; syncing at full speed`;
  }
}

/** One line per sweep run: window, read, covered, queued (what changed in Zuora without a sync). */
export function sweepLine(report: SweepReport): string {
  return describeSweep(report);
}

/** The sweep does not read accounts and contacts (yet): their change reaches Limio through an account callout. */
export function zuoraAccountsTouchedLine(changes: readonly string[]): string {
  return `zuora         ${changes.join(', ')} changed in the sandbox, no subscription changed: an account callout naming the account syncs its subscriptions`;
}

export function zuoraTouchedLine(names: readonly string[]): string {
  return `zuora         ${names.join(', ')} changed in the sandbox, no callout (the next sweep after ${names.length > 1 ? 'they settle' : 'it settles'} queues ${names.length > 1 ? 'them' : 'it'})`;
}

export function limioCapacityLine(model: LimioServiceModel): string {
  const capacity =
    model.capacity === undefined
      ? 'unlimited capacity'
      : `capacity ${model.capacity} in flight (slower beyond, 502 beyond ${refusalThreshold(model.capacity)})`;
  return `limio         sandbox now: ${capacity}, latency ${model.latencyMs} ms`;
}

/** The sync handler's adaptive limit on Limio calls moved markedly, or Limio's unloaded latency was re-measured. */
export function limioLimitLine(change: LimitChange): string {
  const unloaded = change.unloadedLatencyMs === undefined ? '' : `unloaded ${Math.round(change.unloadedLatencyMs)} ms`;
  if (change.reason === 'remeasured')
    return `limio         unloaded latency re-measured: ${unloaded.replace('unloaded ', '')} (limit ${change.to.toFixed(1)} calls in flight)`;
  const measured = [
    change.latencyMs === undefined
      ? change.reason === 'overload'
        ? 'overloaded'
        : ''
      : `latency ${Math.round(change.latencyMs)} ms`,
    unloaded,
  ]
    .filter(Boolean)
    .join(', ');
  return `limio         limit ${change.from.toFixed(1)} -> ${change.to.toFixed(1)} calls in flight${measured ? ` (${measured})` : ''}`;
}

export function calloutAcceptedLine(callout: AcceptedCallout): string {
  const parts = [
    ...(callout.ids.length > 0 ? [`${callout.ids.join(', ')} queued`] : []),
    ...(callout.accountKeys?.length ? [`account ${callout.accountKeys.join(', ')} on the fan-out queue`] : []),
    ...(callout.ignoredAccountKeys?.length
      ? [`account ${callout.ignoredAccountKeys.join(', ')} ignored (no fan-out queue)`]
      : []),
  ];
  return `callout       ${parts.join('; ')} (${callout.source})`;
}

/** One line per account message the fan-out finished with. */
export function fanOutLine(event: FanOutEvent): string {
  const account = event.accountKey ?? '(unreadable)';
  switch (event.outcome) {
    case 'done':
      return `fan-out       account ${account}: ${event.queued} subscription${event.queued === 1 ? '' : 's'} queued (${event.pages} page${event.pages === 1 ? '' : 's'}${event.restarted ? ', read again from the first page' : ''})`;
    case 'continued':
      return `fan-out       account ${account}: ${event.queued} queued, out of time after ${event.pages} page${event.pages === 1 ? '' : 's'}: continues in a continuation`;
    case 'retry':
      return `fan-out       account ${account}: ${event.error}; retry${event.visibilitySeconds !== undefined ? ` in ${event.visibilitySeconds} s` : ''}`;
    case 'dead-lettered':
      return `fan-out       account ${account} dead-lettered (${event.failureClass}): ${event.error}`;
  }
}

export function calloutRefusedLine(callout: RefusedCallout): string {
  return `callout       refused ${callout.status} ${callout.reason}: ${callout.message}`;
}

export interface Tally {
  calloutsAccepted: number;
  calloutsRefused: number;
  idsQueued: number;
  synced: number;
  /** Of `synced`: done without a Limio call, a recorded sync having started after they arrived. */
  coveredByLedger: number;
  retries: number;
  /** Messages held without a Limio call (the ledger's cooldown, a sync in flight, the open breaker): not retries. */
  held: number;
  deadLettered: number;
  sweeps: number;
  sweepsFailed: number;
  /** Subscriptions the sweeps queued: changed in Zuora without a sync (missing callouts). */
  sweepQueued: number;
  /** Messages the operator's CLI queued (`enqueue`: source backfill) or replayed (`dlq replay`: a replayRunId), first receives. */
  cliQueued: number;
  cliReplayed: number;
}

export function emptyTally(): Tally {
  return {
    calloutsAccepted: 0,
    calloutsRefused: 0,
    idsQueued: 0,
    synced: 0,
    coveredByLedger: 0,
    retries: 0,
    held: 0,
    deadLettered: 0,
    sweeps: 0,
    sweepsFailed: 0,
    sweepQueued: 0,
    cliQueued: 0,
    cliReplayed: 0,
  };
}

export function countSweep(tally: Tally, report: SweepReport | 'failed'): void {
  tally.sweeps += 1;
  if (report === 'failed' || report.outcome === 'failed') tally.sweepsFailed += 1;
  else if (!report.dryRun) tally.sweepQueued += report.counts.queued;
}

export function countSync(tally: Tally, event: SyncOutcomeEvent): void {
  const messages = event.messageIds.length;
  if (event.coveredBySyncStartedAt !== undefined) tally.coveredByLedger += messages;
  if (event.outcome === 'synced') tally.synced += messages;
  else if (event.outcome === 'retry' && event.heldBy !== undefined) tally.held += messages;
  else if (event.outcome === 'retry') tally.retries += messages;
  else tally.deadLettered += messages;
}

/**
 * Messages the runtime's queues received for the first time that the CLI put there: `enqueue` (source backfill)
 * and `dlq replay` (stamped with its run id). Callouts and sweeps are counted where they queue; these arrive from
 * outside the runtime, so they are counted as they arrive.
 */
export function countArrivals(
  tally: Tally,
  records: readonly { readonly body: string; readonly attributes: { readonly ApproximateReceiveCount: string } }[],
): void {
  for (const record of records) {
    if (record.attributes.ApproximateReceiveCount !== '1') continue;
    let body: { source?: unknown; replayRunId?: unknown };
    try {
      body = JSON.parse(record.body) as typeof body;
    } catch {
      continue;
    }
    if (typeof body.replayRunId === 'string') tally.cliReplayed += 1;
    else if (body.source === 'backfill') tally.cliQueued += 1;
  }
}

export function summaryLine(tally: Tally, queues?: { waiting: number; deadLetters: number }): string {
  // The queues are in memory: what is left on them is gone once the emulator stops.
  const queueText = queues ? `; left on the main queue ${queues.waiting}, in the DLQ ${queues.deadLetters}` : '';
  return (
    `Stopped. Callouts: ${tally.calloutsAccepted} accepted (${tally.idsQueued} ids), ${tally.calloutsRefused} refused; ` +
    `CLI: ${tally.cliQueued} queued (enqueue), ${tally.cliReplayed} replayed (dlq replay); ` +
    `messages: ${tally.synced} synced (${tally.coveredByLedger} covered by the ledger, no Limio call), ${tally.retries} retries, ` +
    `${tally.held} held (cooldown, sync in flight or breaker open; not retries), ${tally.deadLettered} dead-lettered${queueText}; ` +
    `sweeps: ${tally.sweeps} (${tally.sweepsFailed} failed), ${tally.sweepQueued} subscriptions queued as changed without a callout.`
  );
}
