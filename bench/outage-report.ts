import type { Check } from './check';
import type { Figure } from './figures';
import type { BadSubscriptionResult, OutageResult } from './outage-run';

/**
 * Issue #9's outage mode, on the local runtime's own poller with its in-memory breaker and probe loop: Limio
 * down for longer than the retry budget while callouts keep coming (no dead letter, Limio left alone while the
 * breaker is open, everything synced after), and one subscription answered 404 among healthy ones (exactly its
 * messages on the DLQ as terminal, and the breaker never opened by it).
 */
export function checkOutage(outage: OutageResult): Check[] {
  return [
    {
      name: 'outage: no dead letter although the outage outlasted the retry budget',
      passed: outage.deadLetters === 0 && outage.outageSeconds > outage.retryBudgetSeconds,
      detail: `${outage.deadLetters} dead letters; outage ${outage.outageSeconds.toFixed(1)} s, RETRY_BUDGET_SECONDS ${outage.retryBudgetSeconds}`,
    },
    {
      name: 'outage: every callout accepted during the outage synced after it',
      passed: outage.drained && outage.synced === outage.accepted,
      detail: `${outage.synced} of ${outage.accepted} synced ${outage.drainAfterRecoverySeconds.toFixed(1)} s after Limio came back`,
    },
    {
      name: 'outage: the breaker opened, and closed once Limio was back',
      passed: outage.breakerOpened && outage.breakerClosedAtEnd,
      detail: `opened after ${outage.failedSyncsBeforeTrip} failed syncs; closed at the end: ${outage.breakerClosedAtEnd}`,
    },
    {
      name: 'outage: Limio left alone while the breaker was open',
      passed: outage.syncsWhileOpen <= outage.syncCap,
      detail: `${outage.syncsWhileOpen} syncs while open (probe excluded), at most the ${outage.syncCap} already in flight at the trip`,
    },
  ];
}

export function checkBadSubscription(result: BadSubscriptionResult): Check[] {
  const letters = result.deadLetters;
  return [
    {
      name: 'one 404 subscription: every healthy subscription synced',
      passed: result.healthySynced === result.subscriptions,
      detail: `${result.healthySynced} of ${result.subscriptions}`,
    },
    {
      name: 'one 404 subscription: the DLQ holds its messages only, as terminal 404',
      passed:
        letters.length === result.badCalloutsAccepted &&
        letters.every(
          (letter) =>
            letter.subscriptionId === result.badSubscription &&
            letter.reason.failureClass === 'terminal' &&
            letter.reason.httpStatus === 404,
        ),
      detail: `${letters.length} dead letters: ${[...new Set(letters.map((letter) => `${letter.subscriptionId} ${letter.reason.failureClass} ${letter.reason.httpStatus}`))].join('; ')}`,
    },
    {
      name: 'one 404 subscription: the breaker never opened',
      passed: !result.breakerOpened,
      detail: result.breakerOpened ? 'it opened' : 'stayed closed',
    },
  ];
}

export function outageFigures(outage: OutageResult, bad: BadSubscriptionResult): Figure[] {
  return [
    {
      measure: 'outage: length',
      value: `${outage.outageSeconds.toFixed(1)} s`,
      baseline: `RETRY_BUDGET_SECONDS: ${outage.retryBudgetSeconds} s`,
      ratio: outage.outageSeconds / outage.retryBudgetSeconds,
    },
    {
      measure: 'outage: dead letters',
      value: String(outage.deadLetters),
      baseline: `callouts accepted during the outage: ${outage.accepted}`,
      ratio: outage.deadLetters / outage.accepted,
    },
    {
      measure: 'outage: Limio syncs while the breaker was open',
      value: String(outage.syncsWhileOpen),
      baseline: `SYNC_CONCURRENCY × pollers: ${outage.syncCap}`,
      ratio: outage.syncsWhileOpen / outage.syncCap,
      note: `${outage.failedSyncsBeforeTrip} failed syncs before it tripped; probe syncs not counted`,
    },
    {
      measure: 'outage: backlog synced after Limio came back',
      value: `${outage.drainAfterRecoverySeconds.toFixed(1)} s`,
      baseline: `outage: ${outage.outageSeconds.toFixed(1)} s`,
      ratio: outage.drainAfterRecoverySeconds / outage.outageSeconds,
    },
    {
      measure: 'one 404 subscription: dead letters, all terminal 404',
      value: String(bad.deadLetters.length),
      baseline: `its accepted callouts: ${bad.badCalloutsAccepted}`,
      ratio: bad.deadLetters.length / bad.badCalloutsAccepted,
      note: `healthy subscriptions synced ${bad.healthySynced} of ${bad.subscriptions}; breaker ${bad.breakerOpened ? 'OPENED' : 'never opened'}`,
    },
  ];
}
