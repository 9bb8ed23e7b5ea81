import type { LimitChange } from '../functions/sync/adaptive-limit';

/** npm start prints the limit's changes at most this often: under a moving capacity it changes every window. */
const LIMIT_LINE_INTERVAL_MS = 2_000;

/**
 * Passes on at most one limit change per interval. Changes inside an interval are folded into one, from the
 * limit the last printed line left to the latest, and printed when the interval is over, so the last word is
 * never lost.
 */
export function throttleLimitChanges(
  print: (change: LimitChange) => void,
  options: { now?: () => number; intervalMs?: number } = {},
): { readonly onLimitChange: (change: LimitChange) => void; readonly stop: () => void } {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? LIMIT_LINE_INTERVAL_MS;
  let lastPrintedAtMs = Number.NEGATIVE_INFINITY;
  let pending: LimitChange | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    if (!pending) return;
    const change = pending;
    pending = undefined;
    lastPrintedAtMs = now();
    print(change);
  };

  return {
    onLimitChange(change) {
      pending = pending ? { ...change, from: pending.from } : change;
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

/** A pending line must not keep npm start's process alive once everything else has stopped. */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
