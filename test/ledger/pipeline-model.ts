import { seededRandom } from '../../bench/pipeline';
import { planLedgerBatch, type SubscriptionPlan } from '../../functions/ledger/batch-plan';
import { ledgerHoldReceiveLimit, releaseHoldsPastReceiveLimit } from '../../functions/ledger/hold-limit';
import type { LedgerLookup } from '../../functions/ledger/fail-open';
import type { LedgerOutcome } from '../../functions/ledger/ledger-entry';
import { claimRefusedHold, holdVisibilitySeconds, type LedgerTiming } from '../../functions/ledger/ledger-fate';
import { InMemoryLedgerStore } from '../../functions/ledger/ledger-store';
import { provenThroughOf } from '../../functions/ledger/proven-through';
import {
  classifyAccountChange,
  classifySubscription,
  worseCoverage,
  type ChangeCoverage,
  type CoverageFacts,
} from '../../functions/sweep/coverage';

/**
 * A discrete-event model of the pipeline with the sync ledger: callouts put messages on a queue with SQS's
 * visibility rules; pollers (concurrent sync invocations, each on its own skewed clock) receive batches, read the
 * ledger once per batch, decide with the real planLedgerBatch (ledgerFate), claim with the real rules, call a
 * scripted Limio, record the answer with the real rules (InMemoryLedgerStore, the same rules as the DynamoDB
 * store), then delete, hold, back off or dead-letter. Every step is a separate instant, so invocations interleave
 * anywhere; invocations crash at scripted points; SQS delivers duplicates; the ledger fails at scripted calls.
 *
 * What it models of the sync handler to be wired next: one Limio call per subscription per batch; a claim that
 * fails with an error syncs anyway; a refused claim holds; an answer is recorded with the start taken before the
 * claim; a retryable failure backs off, a terminal one (or the budget spent) dead-letters. As the handler (whose
 * ledger calls time out), a claim or record that fails may still have reached the ledger; and a message received
 * holdReceiveLimit times is synced instead of held; when the batch calls Limio, the messages that only wait for
 * another invocation's sync in flight are read again once the batch's own syncs are done, and what that read
 * finds covered is deleted instead of held.
 *
 * With `sweep` set (issue #22), each callout is a change to Zuora: stamped UpdatedDate `atMs`, visible to readers
 * once committed, up to the commit lag later; its callout (unless lost) arrives after the commit, naming the
 * UpdatedDate or not; the callout Lambda marks lastQueuedAt; a Limio sync reads every change committed when it
 * starts, and a success raises provenThrough (provenThroughOf). A scheduled sweep reads, by UpdatedDate, the
 * committed changes of its window (ending settle before now, starting overlap before the last window's end),
 * judges each subscription's versions with the real classifySubscription, and queues (naming the UpdatedDate it
 * read) and marks what is unproven or missing.
 *
 * A change with `account` set (sweep mode, issue #22 item 3) is a change of that account or one of its contacts:
 * no subscription changes, its callout (unless lost) is an account callout, which the fan-out turns into one
 * message per subscription of the account (SweepScript.accounts: the account callout's receivedAt, no
 * zuoraUpdatedAt, lastQueuedAt marked when the fan-out sends); a sync of any of them started after the commit
 * reads it. The sweep reads committed account changes of its window too, takes each account's latest, and judges
 * each subscription of the account with the real classifyAccountChange beside its own versions (the worse wins).
 */

export type CrashPoint = 'none' | 'before-read' | 'after-read' | 'after-claim' | 'after-limio' | 'after-record';

interface PollerScript {
  /** This invocation's clock minus true time. */
  readonly clockSkewMs: number;
  readonly batchSize: number;
  readonly pollGapMs: number;
}

interface LimioScript {
  readonly durationMs: number;
  readonly answer: 'synced' | 'retryable' | 'terminal';
}

interface ModelChange {
  readonly atMs: number;
  readonly subscriptionId: string;
  /** Sweep mode: how long after its UpdatedDate (atMs) the change is committed, at most the commit lag. Default 0. */
  readonly commitDelayMs?: number;
  /** Sweep mode: how long after the commit its callout arrives. Default 0. */
  readonly calloutDelayMs?: number;
  /** Sweep mode: Zuora never called out for this change. */
  readonly lost?: boolean;
  /** Sweep mode: the callout's template names the change's UpdatedDate (zuoraUpdatedAt). */
  readonly namesUpdatedDate?: boolean;
  /** Sweep mode: a change of this account (or a contact of it), not of `subscriptionId`; see SweepScript.accounts. */
  readonly account?: string;
  /** Sweep mode, account changes: how long after the account callout arrives the fan-out queues its subscriptions. */
  readonly fanOutDelayMs?: number;
}

interface SweepScript {
  readonly commitLagMs: number;
  readonly settleMs: number;
  readonly overlapMs: number;
  readonly intervalMs: number;
  /** The sweep Lambda's clock minus true time. */
  readonly clockSkewMs: number;
  /** Each account's subscriptions (account changes name an account). */
  readonly accounts?: Readonly<Record<string, readonly string[]>>;
}

export interface ModelScenario {
  readonly callouts: readonly ModelChange[];
  /** The callout Lambda's clock minus true time: it stamps receivedAt. */
  readonly calloutClockSkewMs: number;
  readonly pollers: readonly PollerScript[];
  /** Limio's answers in call order, repeated; empty: every call succeeds in 200 ms. */
  readonly limio: readonly LimioScript[];
  /** Whether each ledger call (read, claim, record, in order) fails, repeated; empty: none fails. */
  readonly ledgerFaults: readonly boolean[];
  /** Where each invocation dies, in invocation order, once through; later invocations live. */
  readonly crashes: readonly CrashPoint[];
  /** Whether each receive also hands out a message another invocation holds (SQS's at-least-once), repeated. */
  readonly duplicates: readonly boolean[];
  /** Latencies of the steps inside an invocation (ledger calls, SQS calls), repeated; at least 1 ms, so a sync starts after what it was sent for. */
  readonly stepDelaysMs: readonly number[];
  readonly seed: number;
  readonly timing: LedgerTiming;
  /**
   * Receives after which a message is synced instead of held (the handler's releaseHoldsPastReceiveLimit);
   * default ledgerHoldReceiveLimit of the redrive's receives. Small values make the models reach that path.
   */
  readonly holdReceiveLimit?: number;
  /** Without a ledger, as before issue #13: every batch syncs each of its subscriptions. Default on. */
  readonly withoutLedger?: boolean;
  /** Changes with commit lag, lost callouts and scheduled sweeps (see above). */
  readonly sweep?: SweepScript;
}

interface ModelCallout {
  readonly subscriptionId: string;
  readonly trueReceivedAt: number;
  readonly state: 'queued' | 'done' | 'dead-lettered';
  readonly deadLetterReason?: 'terminal' | 'exhausted' | 'redrive';
  readonly receives: number;
  /** True time it was deleted (done). */
  readonly doneAt?: number;
}

interface ModelSweepChange {
  readonly subscriptionId: string;
  readonly atMs: number;
  readonly committedAt: number;
}

export interface ModelResult {
  /** Every message queued: the callouts' and, with sweeps, the sweep's. */
  readonly callouts: readonly ModelCallout[];
  /** Sweep mode: the changes made in Zuora, with when each was committed (true time). */
  readonly changes: readonly ModelSweepChange[];
  /** Sweep mode: what each sweep concluded, per run. */
  readonly sweeps: readonly Readonly<Record<ChangeCoverage, number>>[];
  /** True start of every call Limio answered with success, by subscription. */
  readonly successes: ReadonlyMap<string, readonly number[]>;
  readonly limioCalls: ReadonlyMap<string, number>;
  /** Nothing queued, nothing in flight, every callout arrived. */
  readonly settled: boolean;
  readonly endedAt: number;
}

const MODEL_LIMITS = {
  /** The main queue's visibility timeout (6 x the function timeout). */
  visibilityTimeoutMs: 180_000,
  functionTimeoutMs: 30_000,
  /** Retryable failures of one message before it is dead-lettered as exhausted (the retry budget, shortened). */
  failureBudget: 4,
  /** SQS's redrive: a message received this often goes to the DLQ without the handler (never expected). */
  maxReceiveCount: 100,
  simulatedMs: 24 * 60 * 60 * 1000,
} as const;

interface Message {
  readonly subscriptionId: string;
  readonly receivedAt: string;
  readonly zuoraUpdatedAt?: string;
  readonly trueReceivedAt: number;
  visibleAt: number;
  state: 'queued' | 'done' | 'dead-lettered';
  deadLetterReason?: 'terminal' | 'exhausted' | 'redrive';
  receives: number;
  failures: number;
  receipt: number;
  doneAt?: number;
}

interface Held {
  readonly message: Message;
  readonly receipt: number;
}

class Repeating<T> {
  #index = 0;
  constructor(
    private readonly items: readonly T[],
    private readonly fallback: T,
    private readonly once = false,
  ) {}
  next(): T {
    if (this.items.length === 0 || (this.once && this.#index >= this.items.length)) return this.fallback;
    return this.items[this.#index++ % this.items.length];
  }
}

export function runPipelineModel(scenario: ModelScenario): ModelResult {
  const random = seededRandom(scenario.seed);
  const limio = new Repeating<LimioScript>(scenario.limio, { durationMs: 200, answer: 'synced' });
  const ledgerFaults = new Repeating(scenario.ledgerFaults, false);
  const crashes = new Repeating<CrashPoint>(scenario.crashes, 'none', true);
  const duplicates = new Repeating(scenario.duplicates, false);
  const stepDelays = new Repeating(scenario.stepDelaysMs, 5);
  const store = new InMemoryLedgerStore();
  const messages: Message[] = [];
  const successes = new Map<string, number[]>();
  const limioCalls = new Map<string, number>();
  const sweepMode = scenario.sweep !== undefined;
  /** Zuora's UpdatedDate has whole seconds. */
  const updatedDateOf = (change: ModelChange) => Math.floor(change.atMs / 1000) * 1000;
  // The commit-lag assumption: visible by its stamp (whole seconds) plus the lag, whatever delay the scenario asks.
  const committedAt = (change: ModelChange) =>
    sweepMode
      ? Math.min(change.atMs + (change.commitDelayMs ?? 0), updatedDateOf(change) + scenario.sweep!.commitLagMs)
      : change.atMs;
  const arrivesAt = (change: ModelChange) => committedAt(change) + (sweepMode ? (change.calloutDelayMs ?? 0) : 0);
  const arriving = scenario.callouts.filter((change) => !(sweepMode && change.lost === true));
  const calloutTimes = arriving.map(arrivesAt).sort((a, b) => a - b);
  const sweepReports: Record<ChangeCoverage, number>[] = [];
  const marginMs = scenario.timing.clockMarginSeconds * 1000;
  let arrived = 0;
  let receiptCount = 0;
  let invocationsRunning = 0;

  // The event queue: (time, sequence) order, so events at one instant run in the order they were scheduled.
  const events: { time: number; sequence: number; run: () => void }[] = [];
  let sequence = 0;
  let now = 0;
  const at = (time: number, run: () => void) => {
    events.push({ time: Math.max(time, now), sequence: sequence++, run });
  };

  /**
   * A message on the queue, then (sweep mode) its producer's mark of lastQueuedAt, made after the send with the
   * message's receivedAt, as every producer marks it (the fan-out's messages keep the account callout's).
   */
  const enqueue = (subscriptionId: string, receivedAtMs: number, zuoraUpdatedAt?: string) => {
    messages.push({
      subscriptionId,
      receivedAt: new Date(receivedAtMs).toISOString(),
      ...(zuoraUpdatedAt !== undefined && { zuoraUpdatedAt }),
      trueReceivedAt: now,
      visibleAt: now,
      state: 'queued',
      receives: 0,
      failures: 0,
      receipt: 0,
    });
    if (sweepMode && scenario.withoutLedger !== true) store.raiseMarkNow(subscriptionId, 'lastQueuedAt', receivedAtMs);
    wakeIdlePollers();
  };
  const subscriptionsOf = (account: string) => scenario.sweep?.accounts?.[account] ?? [];
  let fanOutsRunning = 0;
  for (const callout of arriving) {
    at(arrivesAt(callout), () => {
      if (sweepMode && callout.account !== undefined) {
        // The account callout: its message waits for the fan-out, which queues every subscription of the account.
        const receivedAtMs = now + scenario.calloutClockSkewMs;
        fanOutsRunning += 1;
        arrived += 1;
        at(now + (callout.fanOutDelayMs ?? 0), () => {
          fanOutsRunning -= 1;
          for (const subscriptionId of subscriptionsOf(callout.account!)) enqueue(subscriptionId, receivedAtMs);
        });
        return;
      }
      arrived += 1;
      enqueue(
        callout.subscriptionId,
        now + scenario.calloutClockSkewMs,
        sweepMode && callout.namesUpdatedDate === true ? new Date(updatedDateOf(callout)).toISOString() : undefined,
      );
    });
  }

  // Sweep mode: runs until its window has passed every change, one interval at a time.
  const lastChangeAt = Math.max(0, ...scenario.callouts.map((change) => change.atMs));
  let sweepWindowEnd: number | undefined;
  const sweepsDone = () =>
    !sweepMode || (sweepWindowEnd !== undefined && sweepWindowEnd > lastChangeAt + scenario.sweep!.overlapMs);
  const runSweep = () => {
    const script = scenario.sweep!;
    const local = now + script.clockSkewMs;
    const endMs = local - script.settleMs;
    const startMs = sweepWindowEnd === undefined ? -Infinity : sweepWindowEnd - script.overlapMs;
    // The read: committed changes whose UpdatedDate (whole seconds, as Zuora's) is in the window; per subscription,
    // its versions by second (each judged) and its latest.
    const latest = new Map<string, number>();
    const bySecond = new Map<string, Map<number, number>>();
    // Account changes: each account's latest in the window, then each of its subscriptions by that time.
    const accountLatest = new Map<string, number>();
    for (const change of scenario.callouts) {
      const updatedMs = updatedDateOf(change);
      if (!(updatedMs >= startMs && updatedMs < endMs && committedAt(change) <= now)) continue;
      if (change.account !== undefined) {
        accountLatest.set(change.account, Math.max(accountLatest.get(change.account) ?? -Infinity, updatedMs));
        continue;
      }
      latest.set(change.subscriptionId, Math.max(latest.get(change.subscriptionId) ?? -Infinity, updatedMs));
      const seconds = bySecond.get(change.subscriptionId) ?? new Map<number, number>();
      seconds.set(updatedMs, (seconds.get(updatedMs) ?? 0) + 1);
      bySecond.set(change.subscriptionId, seconds);
    }
    const accountChangeOf = new Map<string, number>();
    for (const [account, updatedMs] of accountLatest) {
      for (const subscriptionId of subscriptionsOf(account))
        accountChangeOf.set(subscriptionId, Math.max(accountChangeOf.get(subscriptionId) ?? -Infinity, updatedMs));
    }
    const report: Record<ChangeCoverage, number> = { covered: 0, pending: 0, unproven: 0, missing: 0 };
    const judged = new Set([...latest.keys(), ...accountChangeOf.keys()]);
    const { entries } = store.readNow([...judged]);
    const rules = { commitLagMs: script.commitLagMs, clockMarginMs: marginMs };
    for (const subscriptionId of judged) {
      const entry = entries.get(subscriptionId);
      const claim = entry?.claim;
      const unrecorded =
        claim !== undefined && (entry?.lastAttempt === undefined || claim.startedAt > entry.lastAttempt.startedAt);
      const facts: CoverageFacts | undefined = entry && {
        ...(entry.lastSuccess !== undefined && { lastSuccessStartedAt: entry.lastSuccess.startedAt }),
        ...(entry.provenThrough !== undefined && { provenThrough: entry.provenThrough }),
        ...(entry.lastQueuedAt !== undefined && { lastQueuedAt: entry.lastQueuedAt }),
        ...(unrecorded && { unrecordedClaimStartedAt: claim.startedAt }),
      };
      const updatedMs = latest.get(subscriptionId);
      const accountMs = accountChangeOf.get(subscriptionId);
      const own =
        updatedMs === undefined
          ? 'covered'
          : classifySubscription(updatedMs, bySecond.get(subscriptionId), facts, local, rules);
      const coverage = worseCoverage(
        own,
        accountMs === undefined ? 'covered' : classifyAccountChange(accountMs, facts, local, rules),
      );
      report[coverage] += 1;
      if (coverage === 'unproven' || coverage === 'missing')
        enqueue(subscriptionId, local, updatedMs === undefined ? undefined : new Date(updatedMs).toISOString());
    }
    sweepReports.push(report);
    sweepWindowEnd = endMs;
    if (!sweepsDone()) at(now + script.intervalMs, runSweep);
  };
  if (sweepMode) at(scenario.sweep!.intervalMs, runSweep);

  const idlePollers = new Set<PollerScript>();
  const wakeIdlePollers = () => {
    for (const poller of idlePollers) at(now, () => poll(poller));
    idlePollers.clear();
  };

  const settled = () =>
    arrived === arriving.length &&
    fanOutsRunning === 0 &&
    sweepsDone() &&
    invocationsRunning === 0 &&
    messages.every((message) => message.state !== 'queued');

  const deleteMessage = (held: Held) => {
    if (held.message.state !== 'queued') return;
    held.message.state = 'done';
    held.message.doneAt = now;
  };
  const deadLetter = (held: Held, reason: 'terminal' | 'exhausted') => {
    if (held.message.state !== 'queued') return;
    held.message.state = 'dead-lettered';
    held.message.deadLetterReason = reason;
  };
  // A stale receipt (the message was received again since) changes nothing, as in SQS.
  const changeVisibility = (held: Held, visibleAt: number) => {
    if (held.message.state === 'queued' && held.message.receipt === held.receipt) held.message.visibleAt = visibleAt;
  };

  const poll = (poller: PollerScript) => {
    const visible = messages.filter((message) => message.state === 'queued' && message.visibleAt <= now);
    if (visible.length === 0) return schedulePoll(poller, now + poller.pollGapMs);
    for (let i = visible.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [visible[i], visible[j]] = [visible[j], visible[i]];
    }
    const batch = visible.slice(0, poller.batchSize);
    if (duplicates.next()) {
      const heldElsewhere = messages.filter(
        (message) => message.state === 'queued' && message.visibleAt > now && message.receives > 0,
      );
      if (heldElsewhere.length > 0) batch.push(heldElsewhere[Math.floor(random() * heldElsewhere.length)]);
    }
    const received: Held[] = [];
    for (const message of batch) {
      message.receives += 1;
      if (message.receives > MODEL_LIMITS.maxReceiveCount) {
        message.state = 'dead-lettered';
        message.deadLetterReason = 'redrive';
        continue;
      }
      message.receipt = ++receiptCount;
      message.visibleAt = now + MODEL_LIMITS.visibilityTimeoutMs;
      received.push({ message, receipt: message.receipt });
    }
    if (received.length === 0) return schedulePoll(poller, now + poller.pollGapMs);
    invoke(poller, received);
  };

  const schedulePoll = (poller: PollerScript, earliest: number) => {
    if (now > MODEL_LIMITS.simulatedMs || settled()) return;
    const wakes = [
      ...messages.filter((message) => message.state === 'queued').map((message) => message.visibleAt),
      ...calloutTimes.filter((time) => time > now),
      ...(invocationsRunning > 0 ? [now + 2_000] : []),
    ];
    if (wakes.length === 0) {
      idlePollers.add(poller);
      return;
    }
    at(Math.max(earliest, Math.min(...wakes)), () => poll(poller));
  };

  const invoke = (poller: PollerScript, batch: readonly Held[]) => {
    invocationsRunning += 1;
    const invokedAt = now;
    const crash = crashes.next();
    let dead = false;
    let groupsLeft = 0;
    const local = () => now + poller.clockSkewMs;
    const end = () => {
      invocationsRunning -= 1;
      schedulePoll(poller, now + poller.pollGapMs);
    };
    const dies = (point: CrashPoint) => {
      if (crash === point) dead = true;
      return dead;
    };
    // Subscriptions whose messages only wait for another invocation's sync in flight, read again once this
    // invocation's own syncs are done (the handler's lookAgainThenHold).
    let lookAgain: SubscriptionPlan<Held>[] = [];
    const groupDone = () => {
      groupsLeft -= 1;
      if (groupsLeft > 0) return;
      if (lookAgain.length === 0 || dead) return end();
      at(now + stepDelays.next(), () => {
        if (dead) return end();
        const ids = lookAgain.map((plan) => plan.subscriptionId);
        const again: LedgerLookup = ledgerFaults.next()
          ? { entries: new Map(), unknown: ids, failure: 'scripted' }
          : { ...store.readNow(ids), unknown: [] };
        const held = lookAgain.flatMap((plan) => plan.held);
        const waiting = held.map(({ message }) => ({
          held: message,
          subscriptionId: message.message.subscriptionId,
          receivedAt: message.message.receivedAt,
        }));
        const covered = new Set(
          planLedgerBatch(waiting, again, local(), scenario.timing).flatMap((plan) =>
            plan.covered.map((entry) => entry.held),
          ),
        );
        for (const { message, fate } of held) {
          if (covered.has(message)) deleteMessage(message);
          else changeVisibility(message, now + holdVisibilitySeconds(fate.untilMs, local()) * 1000);
        }
        end();
      });
    };

    if (dies('before-read')) return end();
    at(now + stepDelays.next(), () => {
      const ids = [...new Set(batch.map((held) => held.message.subscriptionId))];
      // The handler's one read per batch, failing open as readLedgerFailOpen does: a failed read leaves all unknown.
      const lookup: LedgerLookup =
        scenario.withoutLedger === true || ledgerFaults.next()
          ? { entries: new Map(), unknown: ids, failure: 'scripted' }
          : { ...store.readNow(ids), unknown: [] };
      if (dies('after-read')) return end();
      const plans = planLedgerBatch(
        batch.map((held) => ({
          ...held,
          subscriptionId: held.message.subscriptionId,
          receivedAt: held.message.receivedAt,
        })),
        lookup,
        local(),
        scenario.timing,
      );
      const holdReceiveLimit = scenario.holdReceiveLimit ?? ledgerHoldReceiveLimit(MODEL_LIMITS.maxReceiveCount);
      const released = plans.map((planned) =>
        releaseHoldsPastReceiveLimit(planned, (held) => held.message.receives, holdReceiveLimit),
      );
      const callsLimio = released.some((plan) => plan.syncNow.length > 0);
      lookAgain =
        callsLimio && scenario.withoutLedger !== true
          ? released.filter(
              (plan) =>
                plan.syncNow.length === 0 &&
                plan.held.length > 0 &&
                plan.held.every(({ fate }) => fate.reason === 'sync-in-flight'),
            )
          : [];
      groupsLeft = released.length - lookAgain.length;
      for (const plan of released) {
        plan.covered.forEach(deleteMessage);
        if (lookAgain.includes(plan)) continue;
        for (const { message, fate } of plan.held)
          changeVisibility(message, now + holdVisibilitySeconds(fate.untilMs, local()) * 1000);
        if (plan.syncNow.length === 0) groupDone();
        else at(now + stepDelays.next(), () => sync(plan));
      }
    });

    const sync = (plan: SubscriptionPlan<Held>) => {
      const { subscriptionId, syncNow: group } = plan;
      if (dead) return groupDone();
      const startedAt = local();
      // A claim that fails with an error is skipped (fail open); a refused one holds.
      if (plan.claim !== undefined) {
        // A failed claim (an error or a timeout) syncs anyway, whether or not the claim reached the table.
        const failed = ledgerFaults.next();
        const claimed =
          !failed || random() < 0.5
            ? store.claimNow(subscriptionId, {
                startedAt,
                leaseMs: MODEL_LIMITS.functionTimeoutMs - (now - invokedAt),
                ...plan.claim,
              })
            : false;
        if (!failed && !claimed) {
          const hold = claimRefusedHold(local());
          const visibleAt = now + holdVisibilitySeconds(hold.untilMs, local()) * 1000;
          group.forEach((held) => changeVisibility(held, visibleAt));
          return groupDone();
        }
      }
      if (dies('after-claim')) return groupDone();
      const call = limio.next();
      const trueStart = now;
      limioCalls.set(subscriptionId, (limioCalls.get(subscriptionId) ?? 0) + 1);
      at(now + call.durationMs, () => {
        // Limio has synced whether or not the invocation lives to hear it.
        if (call.answer === 'synced')
          successes.set(subscriptionId, [...(successes.get(subscriptionId) ?? []), trueStart]);
        if (dies('after-limio')) return groupDone();
        const finishedAt = local();
        const outcome: LedgerOutcome =
          call.answer === 'synced'
            ? { kind: 'synced', startedAt, finishedAt, httpStatus: 200, limioId: `limio-${subscriptionId}` }
            : {
                kind: call.answer,
                startedAt,
                finishedAt,
                httpStatus: call.answer === 'retryable' ? 503 : 404,
                error: 'scripted',
              };
        if (!scenario.withoutLedger) {
          // A write that timed out may have landed all the same.
          const failed = ledgerFaults.next();
          if (!failed || random() < 0.5) store.recordNow(subscriptionId, outcome);
          // The sync handler's second write after a success (LedgerStep.record), made only when a message names a change.
          const provenThrough =
            call.answer === 'synced'
              ? provenThroughOf(
                  group.map((held) => held.message),
                  marginMs,
                )
              : undefined;
          if (provenThrough !== undefined && !failed)
            store.raiseMarkNow(subscriptionId, 'provenThrough', provenThrough);
        }
        if (dies('after-record')) return groupDone();
        at(now + stepDelays.next(), () => {
          if (dead) return groupDone();
          for (const held of group) {
            if (call.answer === 'synced') deleteMessage(held);
            else if (call.answer === 'terminal') deadLetter(held, 'terminal');
            else {
              held.message.failures += 1;
              if (held.message.failures >= MODEL_LIMITS.failureBudget) deadLetter(held, 'exhausted');
              else changeVisibility(held, now + 1_000 + Math.floor(random() * 20_000));
            }
          }
          groupDone();
        });
      });
    };
  };

  for (const poller of scenario.pollers) at(0, () => poll(poller));

  while (events.length > 0 && now <= MODEL_LIMITS.simulatedMs) {
    let next = 0;
    for (let i = 1; i < events.length; i++) {
      if (
        events[i].time < events[next].time ||
        (events[i].time === events[next].time && events[i].sequence < events[next].sequence)
      )
        next = i;
    }
    const [event] = events.splice(next, 1);
    now = event.time;
    event.run();
  }

  return {
    callouts: messages.map((message) => ({
      subscriptionId: message.subscriptionId,
      trueReceivedAt: message.trueReceivedAt,
      state: message.state,
      receives: message.receives,
      ...(message.deadLetterReason !== undefined && { deadLetterReason: message.deadLetterReason }),
      ...(message.doneAt !== undefined && { doneAt: message.doneAt }),
    })),
    // An account change is a change of each of the account's subscriptions: each must be read by one of its syncs.
    changes: sweepMode
      ? scenario.callouts.flatMap((change) =>
          (change.account === undefined ? [change.subscriptionId] : subscriptionsOf(change.account)).map(
            (subscriptionId) => ({ subscriptionId, atMs: change.atMs, committedAt: committedAt(change) }),
          ),
        )
      : [],
    sweeps: sweepReports,
    successes,
    limioCalls,
    settled: settled(),
    endedAt: now,
  };
}
