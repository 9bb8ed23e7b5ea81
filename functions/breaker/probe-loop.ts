/**
 * The local runtime's stand-in for the EventBridge schedule: runs the probe every interval, and at once when
 * asked (a sync instance has just tripped the breaker, so the poller should pause now, not within a minute).
 * Runs never overlap: a trigger during a run asks for one more run after it.
 */
export interface ProbeLoop {
  /** Runs the probe as soon as the current run (if any) is over; resolves when that run has finished. */
  trigger(): Promise<void>;
  /** Stops the timer and waits for a run under way. */
  stop(): Promise<void>;
  readonly runs: number;
}

export function startProbeLoop(options: {
  readonly run: () => Promise<unknown>;
  readonly intervalSeconds: number;
  /** A failed run is reported here; the loop goes on, as the schedule would. */
  readonly onError?: (error: unknown) => void;
}): ProbeLoop {
  let runs = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;

  const runOnce = async () => {
    try {
      await options.run();
    } catch (error) {
      options.onError?.(error);
    } finally {
      runs += 1;
    }
  };

  function trigger(): Promise<void> {
    if (stopped) return running;
    // One queued run covers every trigger that arrives while another run is under way.
    queued ??= running.then(() => {
      queued = undefined;
      return stopped ? undefined : runOnce();
    });
    running = queued;
    return queued;
  }

  const timer = setInterval(() => void trigger(), options.intervalSeconds * 1000);
  timer.unref();

  return {
    trigger,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
    get runs() {
      return runs;
    },
  };
}
