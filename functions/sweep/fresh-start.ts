import type { SweepWatermark, WatermarkStore } from './sweep';
import type { TimeRange } from './window';

/**
 * The watermark is keyed by Zuora host and entity (sweepWatermarkKey), so a stack whose zuoraBaseUrl host or
 * zuoraEntityId changed finds none under its new key and starts one initial lookback back: whatever changed
 * between where the old key's watermark stood and that start is never swept. The watermark is not carried
 * over, for two reasons: nothing tells the sweep the old key (finding it means scanning the whole ledger table,
 * which its role may not), and a new host or entity may be another tenant or entity, whose changes the old
 * watermark says nothing about: carrying it over would silently skip that tenant's lookback instead.
 * Instead a run that starts fresh says so, with the span's end and how to backfill it.
 */

/** A watermark store that remembers whether the run found no watermark, i.e. started fresh. */
export function noticingFreshStart(store: WatermarkStore): WatermarkStore & { readonly foundNone: boolean } {
  let foundNone = false;
  return {
    get foundNone() {
      return foundNone;
    },
    async get(): Promise<SweepWatermark | undefined> {
      const watermark = await store.get();
      foundNone = watermark === undefined;
      return watermark;
    },
    put: (next) => store.put(next),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The warning of a run that started fresh: where it reads from, under which key, and how to read what lay before. */
export function freshStartWarning(watermarkKey: string, window: TimeRange): string {
  const from = iso(window.startMs);
  return (
    `sweep starting fresh: no watermark under ${watermarkKey}: this run reads from ${from} (SWEEP_INITIAL_LOOKBACK_SECONDS before ` +
    'the settle point). Expected once, on the first deployment. If this stack swept before and its zuoraBaseUrl host or zuoraEntityId ' +
    'changed, changes from where the old watermark stood until then are not swept: backfill them with ' +
    `"zuora-limio-sync sweep --since <where the old watermark stood> --until ${from.replace('.000Z', 'Z')}" (docs/operating.md, "Runbook: the sweep started fresh")`
  );
}
