import type { ChaosResult } from './chaos-options';
import type { Check } from './check';
import { formatNumber, type Figure } from './figures';

/** The baseline and fault runs of `npm run chaos`: what must hold after them, and their figures side by side. */
export const PER_CONTAINER_CHECK = 'one container never waits on more than SYNC_CONCURRENCY Limio requests';

/** What must hold after a fault run; also proves the faults really happened, or the run proves nothing. */
export function checkChaos(result: ChaosResult): Check[] {
  const { options } = result;
  const answered = (status: number) => result.answersByStatus[status] ?? 0;
  const classes =
    Object.entries(result.deadLettersByClass)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ') || 'none';
  const checks: Check[] = [
    {
      name: 'every accepted callout was answered 200',
      passed: result.calloutsRefused === 0,
      detail: `${formatNumber(result.calloutsAccepted)} of ${formatNumber(result.callouts)}`,
    },
    {
      name: 'nothing lost: every accepted subscription synced or on the DLQ with a reason',
      passed: result.lost.length === 0,
      detail: `${formatNumber(result.acceptedSubscriptions)} accepted = ${formatNumber(result.synced)} synced + ${formatNumber(result.deadLettered)} dead-lettered; lost ${result.lost.length}${result.lost.length > 0 ? ` (${result.lost.slice(0, 5).join(', ')})` : ''}`,
    },
    {
      name: 'every dead letter carries its reason',
      passed: result.deadLettersWithoutReason === 0,
      detail: `dead letters by class: ${classes}; without reason ${result.deadLettersWithoutReason}`,
    },
    {
      name: 'Limio concurrency never over the cap',
      passed: result.maxInFlight <= result.deployedConcurrencyBound,
      detail: `max in flight at the sandbox ${result.maxInFlight}, cap SYNC_CONCURRENCY × pollers = ${options.syncConcurrency} × ${options.pollers} = ${result.deployedConcurrencyBound}`,
    },
    {
      name: PER_CONTAINER_CHECK,
      passed: result.clientMaxInFlight <= result.concurrencyCap,
      detail:
        `the worker waited on at most ${result.clientMaxInFlight} Limio requests at once (SYNC_CONCURRENCY ${result.concurrencyCap}, ${options.pollers} pollers sharing its handler)` +
        (result.overCap.episodes === 0
          ? ''
          : `; the sandbox counted more ${result.overCap.episodes}× for ${result.overCap.totalMs.toFixed(1)} ms in all (longest ${result.overCap.longestMs.toFixed(1)} ms): calls abandoned at LIMIO_TIMEOUT_MS whose close came after the next call`),
    },
    {
      name: 'backlog drained',
      passed: result.drained,
      detail: `main queue empty ${result.drainSeconds.toFixed(1)} s after the first callout (gave up at ${options.drainTimeoutMs / 1000} s)`,
    },
  ];
  checks.push(
    options.ledger
      ? {
          name: 'the sync ledger was in use',
          passed: result.ledgerAnswered > 0,
          detail: `${result.ledgerAnswered} ledger requests answered, ${result.ledgerUnanswered} unanswered (counted in the worker)`,
        }
      : {
          name: 'no sync ledger',
          passed: result.ledgerAnswered + result.ledgerUnanswered === 0,
          detail: `${result.ledgerAnswered + result.ledgerUnanswered} ledger requests`,
        },
  );
  if (options.ledgerOutageAt !== undefined) {
    checks.push({
      name: 'the ledger became unreachable and syncing went on without it (fail open)',
      passed: result.ledgerStopped && result.ledgerUnanswered > 0 && result.syncedAfterLedgerStopped > 0,
      detail: `ledger endpoint ${result.ledgerStopped ? 'cut off' : 'NEVER cut off'} at ${options.ledgerOutageAt * 100} % synced; ${result.ledgerUnanswered} ledger requests unanswered after; ${result.syncedAfterLedgerStopped} subscriptions synced after`,
    });
  }
  if (
    options.rate502 > 0 ||
    options.rate429 > 0 ||
    options.hangRate > 0 ||
    options.revokeAt !== undefined ||
    options.killAt !== undefined
  ) {
    checks.push({
      name: 'the faults happened',
      passed:
        (options.rate502 === 0 || answered(502) > 0) &&
        (options.rate429 === 0 || answered(429) > 0) &&
        (options.hangRate === 0 || result.unanswered > 0) &&
        (options.revokeAt === undefined || (result.tokensRevoked && answered(401) > 0)) &&
        (options.killAt === undefined || (result.workerKills === 1 && result.killedMidBatch)),
      detail: `502 × ${answered(502)}, 429 × ${answered(429)}, hung × ${result.unanswered}, 401 after revocation × ${answered(401)}, worker killed ${result.workerKills}×${result.killedMidBatch ? ' mid-batch' : ''} and started ${result.workerStarts}×; ${result.retries} retries reported by the worker`,
    });
  }
  return checks;
}

function deadLetterSummary(result: ChaosResult): string {
  const classes = Object.entries(result.deadLettersByClass);
  return classes.length === 0 ? 'none' : classes.map(([name, count]) => `${name} × ${count}`).join(', ');
}

export function chaosFigures(baseline: ChaosResult, faulty: ChaosResult): Figure[] {
  const perSubscription = (result: ChaosResult) => result.limioCalls / result.acceptedSubscriptions;
  return [
    {
      measure: 'drain time under faults',
      value: `${faulty.drainSeconds.toFixed(1)} s`,
      baseline: `same burst without faults: ${baseline.drainSeconds.toFixed(1)} s`,
      ratio: faulty.drainSeconds / baseline.drainSeconds,
      note: `${formatNumber(faulty.callouts)} callouts over ${formatNumber(faulty.acceptedSubscriptions)} subscriptions`,
    },
    {
      measure: 'subscriptions lost',
      value: String(faulty.lost.length),
      baseline: `accepted subscriptions: ${formatNumber(faulty.acceptedSubscriptions)}`,
      ratio: faulty.lost.length / faulty.acceptedSubscriptions,
      note: `${formatNumber(faulty.synced)} synced, ${formatNumber(faulty.deadLettered)} only on the DLQ with a reason; dead letters ${deadLetterSummary(faulty)}`,
    },
    {
      measure: 'most Limio calls in flight under faults',
      value: String(faulty.maxInFlight),
      baseline: `cap SYNC_CONCURRENCY × pollers: ${faulty.deployedConcurrencyBound}`,
      ratio: faulty.maxInFlight / faulty.deployedConcurrencyBound,
      note: `without faults: ${baseline.maxInFlight}`,
    },
    {
      measure: 'most Limio requests one worker waited on at once (counted in the worker)',
      value: String(faulty.clientMaxInFlight),
      baseline: `SYNC_CONCURRENCY: ${faulty.concurrencyCap}`,
      ratio: faulty.clientMaxInFlight / faulty.concurrencyCap,
      note: `without faults: ${baseline.clientMaxInFlight}`,
    },
    {
      measure: 'most Limio calls open at the sandbox, one worker',
      value: String(faulty.maxInFlight),
      baseline: `SYNC_CONCURRENCY: ${faulty.concurrencyCap}`,
      ratio: faulty.maxInFlight / faulty.concurrencyCap,
      note:
        faulty.overCap.episodes === 0
          ? 'never above'
          : `above it ${faulty.overCap.episodes}× for ${faulty.overCap.totalMs.toFixed(1)} ms in all (longest ${faulty.overCap.longestMs.toFixed(1)} ms): calls abandoned at LIMIO_TIMEOUT_MS still open at the sandbox`,
    },
    {
      measure: 'Limio calls per subscription under faults',
      value: formatNumber(perSubscription(faulty), 2),
      baseline: `without faults: ${formatNumber(perSubscription(baseline), 2)}`,
      ratio: perSubscription(faulty) / perSubscription(baseline),
      note: `answers ${Object.entries(faulty.answersByStatus)
        .map(([status, count]) => `${status} × ${count}`)
        .join(', ')}; ${faulty.unanswered} hung`,
    },
    {
      measure: 'Limio token requests under faults',
      value: String(faulty.tokenRequests),
      baseline: `without faults: ${baseline.tokenRequests}`,
      ratio: faulty.tokenRequests / baseline.tokenRequests,
      note: 'one revocation, one worker restart (a new container fetches its own token)',
    },
  ];
}
