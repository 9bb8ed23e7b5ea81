export interface OverCap {
  readonly episodes: number;
  readonly totalMs: number;
  readonly longestMs: number;
}

/**
 * Times every stretch during which the sandbox had more sync calls open than the cap. The sandbox counts a
 * call until its connection closes; a call the client abandoned at LIMIO_TIMEOUT_MS is still counted until
 * the client's close reaches the server, which can come after the client's next call on another connection.
 * Reported, not judged: the worker's own count (clientMaxInFlight) says whether the limiter held.
 */
export function watchOverCap(stats: { inFlight: number }, cap: number): { snapshot(): OverCap } {
  let current = stats.inFlight;
  let overSince = 0;
  let episodes = 0;
  let totalMs = 0;
  let longestMs = 0;
  Object.defineProperty(stats, 'inFlight', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (next: number) => {
      if (next > cap && current <= cap) overSince = performance.now();
      if (next <= cap && current > cap) {
        const lasted = performance.now() - overSince;
        episodes++;
        totalMs += lasted;
        longestMs = Math.max(longestMs, lasted);
      }
      current = next;
    },
  });
  return {
    snapshot: () => {
      const ongoing = current > cap ? performance.now() - overSince : 0;
      return {
        episodes: episodes + (ongoing > 0 ? 1 : 0),
        totalMs: totalMs + ongoing,
        longestMs: Math.max(longestMs, ongoing),
      };
    },
  };
}
