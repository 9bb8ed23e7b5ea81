import type { LimitChange } from '../functions/sync/adaptive-limit';

/** npm start prints the limit's changes at most this often: under a moving capacity it changes every window. */
const LIMIT_LINE_INTERVAL_MS = 2_000;

/**
 * Passes on at most one limit change per interval. Changes inside an interval are folded into one, from the
 * limit the last printed line left to the latest, and printed when the interval is over, so the last word is
 * never lost. A folded line gives the reason of the latest change that moved the limit the way it moved overall
 * (a rise is not labelled with the cut that trimmed it), and a fold that ends where it began is not printed.
 */
export function throttleLimitChanges(
  print: (change: LimitChange) => void,
  options: { now?: () => number; intervalMs?: number } = {},
): { readonly onLimitChange: (change: LimitChange) => void; readonly stop: () => void } {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? LIMIT_LINE_INTERVAL_MS;
  let lastPrintedAtMs = Number.NEGATIVE_INFINITY;
  let pending: PendingFold | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    if (!pending) return;
    const change = foldedChange(pending);
    pending = undefined;
    if (change.reason !== 'remeasured' && change.from.toFixed(1) === change.to.toFixed(1)) return;
    lastPrintedAtMs = now();
    print(change);
  };

  return {
    onLimitChange(change) {
      const direction = change.to > change.from ? 'up' : change.to < change.from ? 'down' : undefined;
      pending = {
        ...pending,
        from: pending?.from ?? change.from,
        latest: change,
        ...(direction && { [direction]: change }),
      };
      const waitMs = lastPrintedAtMs + intervalMs - now();
      if (waitMs <= 0) flush();
      else timer ??= unref(setTimeout(flush, waitMs));
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}

/** The changes of one interval: where the limit stood before them, the latest, and the latest each way. */
interface PendingFold {
  readonly from: number;
  readonly latest: LimitChange;
  readonly up?: LimitChange;
  readonly down?: LimitChange;
}

function foldedChange({ from, latest, up, down }: PendingFold): LimitChange {
  const towards = latest.to > from ? up : latest.to < from ? down : undefined;
  const explaining = latest.reason === 'remeasured' ? latest : (towards ?? latest);
  return {
    ...explaining,
    from,
    to: latest.to,
    ...(latest.unloadedLatencyMs !== undefined && { unloadedLatencyMs: latest.unloadedLatencyMs }),
  };
}

/** A pending line must not keep npm start's process alive once everything else has stopped. */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
