import type { ChaosResult } from './chaos-options';
import type { Check } from './check';
import { formatNumber, type Figure } from './figures';

/**
 * The chaos runs of the sync ledger (issue #13) and the sweep (issue #14): the ledger's DynamoDB unreachable
 * part-way, and changes made in Zuora whose callouts never came. The ledger outage is judged by checkChaos
 * (bench/fault-run-report.ts) like any run; this adds what the sweep must do, and both runs' figures.
 */
/** Issue #14's "callouts lost": what the sweep must do with changes whose callouts never came. */
export function checkCalloutsLost(result: ChaosResult): Check[] {
  const sweep = result.sweep;
  if (sweep === undefined) return [{ name: 'callouts lost: the sweep ran', passed: false, detail: 'no sweep in this run' }];
  const { counts } = sweep.report;
  return [
    {
      name: 'callouts lost: the sweep queued exactly the changes without a callout',
      passed: sweep.report.outcome === 'complete' && counts.queued === sweep.dropped && counts.covered === sweep.withCallouts,
      detail: `sweep ${sweep.report.outcome}: read ${counts.read}, covered ${counts.covered} (with callouts ${sweep.withCallouts}), queued ${counts.queued} (without ${sweep.dropped})`,
    },
    {
      name: 'callouts lost: the missing-callouts metric counts them',
      passed: sweep.queuedMetric === sweep.dropped,
      detail: `sweepQueued ${sweep.queuedMetric ?? 'not published'}, sweepCovered ${sweep.coveredMetric ?? 'not published'}; ${sweep.dropped} changes without a callout`,
    },
    {
      name: 'callouts lost: every change without a callout synced after the sweep',
      passed: sweep.drainedAfterSweep && sweep.droppedSynced === sweep.dropped,
      detail: `${sweep.droppedSynced} of ${sweep.dropped} synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started${sweep.droppedNotSynced.length > 0 ? `; not: ${sweep.droppedNotSynced.join(', ')}` : ''}`,
    },
    {
      name: 'callouts lost: changes that came with their callouts cost Limio no second call',
      passed: sweep.secondCallsForCalledOut === 0,
      detail: `${sweep.secondCallsForCalledOut} Limio calls after the sweep for the ${sweep.withCallouts} subscriptions whose callouts arrived`,
    },
  ];
}

export function ledgerFigures(ledgerOutage: ChaosResult, lost: ChaosResult, baseline: ChaosResult): Figure[] {
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
  const sweep = lost.sweep;
  if (sweep !== undefined) {
    figures.push(
      {
        measure: 'callouts lost: missing callouts counted by the sweep (sweepQueued)',
        value: formatNumber(sweep.queuedMetric ?? Number.NaN),
        baseline: `changes made without a callout: ${formatNumber(sweep.dropped)}`,
        ratio: (sweep.queuedMetric ?? Number.NaN) / sweep.dropped,
        note: `sweepCovered ${formatNumber(sweep.coveredMetric ?? Number.NaN)} of ${formatNumber(sweep.withCallouts)} that came with callouts; sweep took ${formatNumber(sweep.report.durationMs)} ms`,
      },
      {
        measure: 'callouts lost: changes without a callout synced by the sweep',
        value: formatNumber(sweep.droppedSynced),
        baseline: `changes made without a callout: ${formatNumber(sweep.dropped)}`,
        ratio: sweep.droppedSynced / sweep.dropped,
        note: `all synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started; ${sweep.secondCallsForCalledOut} Limio calls for the others after it`,
      },
    );
  }
  return figures;
}
