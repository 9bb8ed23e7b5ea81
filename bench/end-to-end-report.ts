import type { EndToEndResult } from './end-to-end';
import { formatMilliseconds, formatNumber, formatSeconds, type Figure } from './figures';

/** The end-to-end bursts through the local runtime in `npm run bench`: their figures, and what makes a run incorrect. */
export function endToEndFigures(e2e: EndToEndResult, order: string): Figure[] {
  const burst = `${formatNumber(e2e.callouts)} callouts / ${formatNumber(e2e.subscriptions)} subscriptions`;
  return [
    {
      measure: `end to end (${order}): time until all synced, ${burst}`,
      value: formatSeconds(e2e.drainSeconds),
      baseline: `time until all callouts answered: ${formatSeconds(e2e.acceptSeconds)}`,
      ratio: e2e.drainSeconds / e2e.acceptSeconds,
      note: `${formatNumber(e2e.accepted)} accepted, ${e2e.deadLettered} dead-lettered`,
    },
    {
      measure: `end to end (${order}): callout-to-sync latency p50`,
      value: formatMilliseconds(e2e.latencyP50Ms),
      baseline: `callout answer p50: ${formatMilliseconds(e2e.answerP50Ms)}`,
      ratio: e2e.latencyP50Ms / e2e.answerP50Ms,
    },
    {
      measure: `end to end (${order}): callout-to-sync latency p99`,
      value: formatMilliseconds(e2e.latencyP99Ms),
      baseline: `callout answer p99: ${formatMilliseconds(e2e.answerP99Ms)}`,
      ratio: e2e.latencyP99Ms / e2e.answerP99Ms,
    },
    {
      measure: `end to end (${order}): Limio calls per distinct subscription`,
      value: formatNumber(e2e.limioCallsPerSubscription, 2),
      baseline: `callouts per subscription: ${formatNumber(e2e.callouts / e2e.subscriptions, 2)}`,
      ratio: e2e.limioCallsPerSubscription / (e2e.callouts / e2e.subscriptions),
      note: `${formatNumber(e2e.limioCalls)} Limio calls, ${e2e.tokenRequests} token request(s)`,
    },
    {
      measure: `end to end (${order}): most Limio calls in flight`,
      value: String(e2e.maxInFlight),
      baseline: `SYNC_CONCURRENCY: ${e2e.syncConcurrencyCap}`,
      ratio: e2e.maxInFlight / e2e.syncConcurrencyCap,
    },
  ];
}

/** Issue #13's end-to-end goals: Limio calls per subscription down, the first callout's sync no later. */
export function ledgerEndToEndFigures(
  on: EndToEndResult,
  off: EndToEndResult,
  order: string,
  goalCallsPerSubscription: number,
): Figure[] {
  return [
    {
      measure: `end to end (${order}): Limio calls per distinct subscription, sync ledger on`,
      value: formatNumber(on.limioCallsPerSubscription, 2),
      baseline: `ledger off: ${formatNumber(off.limioCallsPerSubscription, 2)}`,
      ratio: on.limioCallsPerSubscription / off.limioCallsPerSubscription,
      note: `goal ≤ ${goalCallsPerSubscription}; ${formatNumber(on.coveredMessages)} messages covered by a recorded sync; all synced after ${formatSeconds(on.drainSeconds)} (off ${formatSeconds(off.drainSeconds)})`,
    },
    {
      measure: `end to end (${order}): callout-to-sync p50 of each subscription's first callout, sync ledger on`,
      value: formatMilliseconds(on.firstCalloutP50Ms),
      baseline: `ledger off: ${formatMilliseconds(off.firstCalloutP50Ms)}`,
      ratio: on.firstCalloutP50Ms / off.firstCalloutP50Ms,
      note: `all callouts p50 ${formatMilliseconds(on.latencyP50Ms)} on, ${formatMilliseconds(off.latencyP50Ms)} off`,
    },
  ];
}

export function checkEndToEnd(e2e: EndToEndResult, failures: string[]): void {
  if (!e2e.ledger && e2e.coveredMessages > 0)
    failures.push('end to end without the ledger: messages were covered by a ledger');
  if (e2e.accepted !== e2e.callouts) failures.push(`end to end: ${e2e.callouts - e2e.accepted} callouts refused`);
  if (!e2e.allSynced) failures.push('end to end: not every accepted callout was synced');
  if (e2e.maxInFlight > e2e.syncConcurrencyCap)
    failures.push(`end to end: ${e2e.maxInFlight} Limio calls in flight, cap ${e2e.syncConcurrencyCap}`);
}
