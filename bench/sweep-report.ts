import { formatNumber, formatSeconds, type Figure } from './figures';
import type { SweepBenchResult } from './sweep-run';

/** The sweep over a window of changed subscriptions (issue #14) in `npm run bench`: time, Zuora requests, what it queued, ledger reads. */
export function sweepFigures(sweep: SweepBenchResult, uncoveredPercent: number): Figure[] {
  const title = `sweep over ${formatNumber(sweep.subscriptions)} changed subscriptions (${uncoveredPercent} % without a sync)`;
  const { counts } = sweep.report;
  return [
    {
      measure: `${title}: time`,
      value: `${sweep.seconds.toFixed(2)} s`,
      baseline: `the same window's pages read alone (same client): ${sweep.readOnlySeconds.toFixed(2)} s`,
      ratio: sweep.seconds / sweep.readOnlySeconds,
      note: `read ${formatNumber(counts.read)}, covered ${formatNumber(counts.covered)}, queued ${formatNumber(counts.queued)}; ledger in dynalite in this process (seeded in ${formatSeconds(sweep.seedSeconds)}, not counted)`,
    },
    {
      measure: `${title}: Zuora requests (query + queryMore)`,
      value: formatNumber(sweep.zuoraRequests),
      baseline: `page-size floor ${formatNumber(sweep.subscriptions)} ÷ ${formatNumber(sweep.pageSize)} + an Account and a Contact query a slice: ${formatNumber(sweep.pageFloor)}`,
      ratio: sweep.zuoraRequests / sweep.pageFloor,
      note: `${sweep.zuoraTokenRequests} token request(s); at most ${sweep.zuoraMaxInFlight} request in flight at the sandbox`,
    },
    {
      measure: `${title}: subscriptions queued`,
      value: formatNumber(sweep.queuedOnQueue),
      baseline: `changed without a sync since: ${formatNumber(sweep.uncovered)}`,
      ratio: sweep.queuedOnQueue / sweep.uncovered,
      note: `read back from the queue: ${sweep.missing.length} missing, ${sweep.unexpected.length} covered ones queued, ${sweep.duplicates} twice`,
    },
    {
      measure: `${title}: ledger reads (BatchGetItem)`,
      value: formatNumber(sweep.ledgerBatchGets),
      baseline: `floor ${formatNumber(sweep.subscriptions)} ÷ 100 keys: ${formatNumber(Math.ceil(sweep.subscriptions / 100))}`,
      ratio: sweep.ledgerBatchGets / Math.ceil(sweep.subscriptions / 100),
      note: `SQS SendMessageBatch ${formatNumber(sweep.sqsSendBatches)} (floor ${formatNumber(Math.ceil(sweep.uncovered / 10))})`,
    },
  ];
}
