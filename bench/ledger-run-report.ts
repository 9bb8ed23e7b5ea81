import type { ChaosResult } from './chaos-options';
import type { Check } from './check';
import { formatNumber, type Figure } from './figures';

/**
 * The chaos runs of the sync ledger (issue #13) and the sweep (issue #14): the ledger's DynamoDB unreachable
 * part-way, and changes made in Zuora whose callouts never came. The ledger outage is judged by checkChaos
 * (bench/fault-run-report.ts) like any run; this adds what the sweep must do, and both runs' figures.
 */
/**
 * What the sweep must do with changes whose callouts never came. Issue #22 changed the rule: a change counts as
 * covered only by a sync that provably read it, so a change whose callout came but did not name its UpdatedDate
 * (its sync started before the commit lag had passed) is unproven and queued again, which costs a Limio call and
 * is reported, not hidden; only changes with no callout at all are missing (sweepMissing, the alarm's metric).
 */
export function checkCalloutsLost(result: ChaosResult): Check[] {
  const sweep = result.sweep;
  if (sweep === undefined)
    return [{ name: 'callouts lost: the sweep ran', passed: false, detail: 'no sweep in this run' }];
  const { counts } = sweep.report;
  const checks: Check[] = [
    {
      name: 'callouts lost: the sweep counted exactly the changes without a callout missing',
      passed:
        sweep.report.outcome === 'complete' &&
        counts.missing === sweep.dropped &&
        counts.covered + counts.pending + counts.unproven === sweep.withCallouts &&
        counts.queued === counts.missing + counts.unproven,
      detail:
        `sweep ${sweep.report.outcome}: read ${counts.read}, covered ${counts.covered}, pending ${counts.pending}, unproven ${counts.unproven} ` +
        `(with callouts ${sweep.withCallouts}), missing ${counts.missing} (without ${sweep.dropped}), queued ${counts.queued}`,
    },
    {
      name: 'callouts lost: the missing-callouts metric (sweepMissing) counts them',
      passed: sweep.missingMetric === sweep.dropped && sweep.queuedMetric === counts.queued,
      detail: `sweepMissing ${sweep.missingMetric ?? 'not published'}, sweepQueued ${sweep.queuedMetric ?? 'not published'}, sweepUnproven ${sweep.unprovenMetric ?? 'not published'}, sweepPending ${sweep.pendingMetric ?? 'not published'}, sweepCovered ${sweep.coveredMetric ?? 'not published'}; ${sweep.dropped} changes without a callout`,
    },
    {
      name: 'callouts lost: every change without a callout synced after the sweep',
      passed: sweep.drainedAfterSweep && sweep.droppedSynced === sweep.dropped,
      detail: `${sweep.droppedSynced} of ${sweep.dropped} synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started${sweep.droppedNotSynced.length > 0 ? `; not: ${sweep.droppedNotSynced.join(', ')}` : ''}`,
    },
    {
      // Pending changes are not queued again: only unproven ones may cost a Limio call after the sweep.
      name: 'callouts lost: changes that came with their callouts cost Limio at most one call each, and only if unproven',
      passed: sweep.secondCallsForCalledOut <= counts.unproven,
      detail: `${sweep.secondCallsForCalledOut} Limio calls after the sweep for the ${sweep.withCallouts} subscriptions whose callouts arrived (unproven ${counts.unproven}, pending ${counts.pending})`,
    },
  ];
  if (sweep.calloutsNamedUpdatedDate) {
    // The documented template's promise: a callout naming its change proves its sync read it (provenThrough).
    checks.push({
      name: 'callouts lost, callouts naming UpdatedDate: no change that came with its callout is unproven or synced twice',
      passed: counts.unproven === 0 && sweep.secondCallsForCalledOut === 0,
      detail: `unproven ${counts.unproven}, ${sweep.secondCallsForCalledOut} Limio calls after the sweep for the ${sweep.withCallouts} that came with callouts`,
    });
  }
  return checks;
}

export function ledgerFigures(
  ledgerOutage: ChaosResult,
  lost: ChaosResult,
  baseline: ChaosResult,
  lostNamingUpdatedDate?: ChaosResult,
): Figure[] {
  const perSubscription = (result: ChaosResult) => result.limioCalls / result.acceptedSubscriptions;
  const figures: Figure[] = [
    {
      measure: 'ledger unreachable part-way: subscriptions lost',
      value: String(ledgerOutage.lost.length),
      baseline: `accepted subscriptions: ${formatNumber(ledgerOutage.acceptedSubscriptions)}`,
      ratio: ledgerOutage.lost.length / ledgerOutage.acceptedSubscriptions,
      note: `DynamoDB endpoint cut off at ${(ledgerOutage.options.ledgerOutageAt ?? 0) * 100} % synced; ${formatNumber(ledgerOutage.syncedAfterLedgerStopped)} subscriptions synced after it, ${formatNumber(ledgerOutage.ledgerUnanswered)} ledger requests unanswered`,
    },
    {
      measure: 'ledger unreachable part-way: Limio calls per subscription',
      value: formatNumber(perSubscription(ledgerOutage), 2),
      baseline: `ledger up all along (baseline run): ${formatNumber(perSubscription(baseline), 2)}`,
      ratio: perSubscription(ledgerOutage) / perSubscription(baseline),
      note: `drained in ${ledgerOutage.drainSeconds.toFixed(1)} s (baseline ${baseline.drainSeconds.toFixed(1)} s)`,
    },
  ];
  for (const run of [lost, lostNamingUpdatedDate]) {
    const sweep = run?.sweep;
    if (sweep === undefined) continue;
    const callouts = sweep.calloutsNamedUpdatedDate ? 'callouts naming UpdatedDate' : 'callouts without UpdatedDate';
    figures.push(
      {
        measure: `callouts lost (${callouts}): missing callouts counted by the sweep (sweepMissing)`,
        value: formatNumber(sweep.missingMetric ?? Number.NaN),
        baseline: `changes made without a callout: ${formatNumber(sweep.dropped)}`,
        ratio: (sweep.missingMetric ?? Number.NaN) / sweep.dropped,
        note: `sweepCovered ${formatNumber(sweep.coveredMetric ?? Number.NaN)}, sweepPending ${formatNumber(sweep.pendingMetric ?? Number.NaN)}, sweepUnproven ${formatNumber(sweep.unprovenMetric ?? Number.NaN)} of ${formatNumber(sweep.withCallouts)} that came with callouts; sweep took ${formatNumber(sweep.report.durationMs)} ms`,
      },
      {
        measure: `callouts lost (${callouts}): extra Limio calls for changes whose callouts came`,
        value: formatNumber(sweep.secondCallsForCalledOut),
        baseline: `changes that came with callouts: ${formatNumber(sweep.withCallouts)}`,
        ratio: sweep.secondCallsForCalledOut / sweep.withCallouts,
        note: `the commit lag's cost: unproven ${formatNumber(sweep.report.counts.unproven)} queued again; ${formatNumber(sweep.droppedSynced)} of ${formatNumber(sweep.dropped)} without a callout synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started`,
      },
    );
  }
  return figures;
}
