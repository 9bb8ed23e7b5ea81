import { formatMilliseconds, formatNumber, type Figure } from './figures';
import { summarizeBursts, type LedgerBurstResult } from './ledger-burst';

/** The sync ledger's burst of 8 (issue #13) in `npm run bench`: Limio calls, time to the last change, cost per sync. */
export function ledgerBurstFigures(burst: LedgerBurstResult): Figure[] {
  const { callouts, pollers, batchSize, cooldownSeconds, limioLatencyMs } = burst.options;
  const off = summarizeBursts(burst.off);
  const on = summarizeBursts(burst.on);
  const title = `burst of ${callouts} callouts for one subscription sent together`;
  const setting = `${pollers} pollers (concurrent invocations) of up to ${batchSize} messages, Limio at ${limioLatencyMs} ms; median of ${burst.on.length} runs`;
  const saved = off.limioCalls - on.limioCalls;
  return [
    {
      measure: `${title}: Limio calls, ledger on (cooldown ${cooldownSeconds} s)`,
      value: formatNumber(on.limioCalls),
      baseline: `ledger off: ${formatNumber(off.limioCalls)}`,
      ratio: on.limioCalls / off.limioCalls,
      note: `per run on ${burst.on.map((run) => run.limioCalls).join(', ')}, off ${burst.off.map((run) => run.limioCalls).join(', ')}; ${setting}`,
    },
    {
      measure: `${title}: time until the last change is in Limio, ledger on`,
      value: formatMilliseconds(on.lastChangeSyncedMs),
      baseline: `ledger off: ${formatMilliseconds(off.lastChangeSyncedMs)}`,
      ratio: on.lastChangeSyncedMs / off.lastChangeSyncedMs,
      note: `first callout sent to Limio's answer to the first call started after the last callout; every message done after ${formatMilliseconds(on.allDoneMs)} on, ${formatMilliseconds(off.allDoneMs)} off`,
    },
    {
      measure: 'cost per sync: ledger requests per Limio call saved (burst of 8)',
      value: `${formatNumber(on.ledgerRequests)} ledger requests per burst`,
      baseline: `Limio calls saved per burst: ${formatNumber(saved)}`,
      ratio: saved > 0 ? on.ledgerRequests / saved : undefined,
      note: `reads (BatchGetItem, one per invocation) ${formatNumber(on.ledgerReads)}, writes (UpdateItem: claims, refused claims and records) ${formatNumber(on.ledgerWrites)}`,
    },
  ];
}
