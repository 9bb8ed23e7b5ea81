import type { BreakerStore } from '../../functions/breaker/breaker-store';
import type { BreakerStatus, QueueBacklog } from '../../functions/breaker/operator';
import { printable } from '../output';
import { TargetUnreachable } from '../usage-error';
import { formatDuration } from '../values';

/**
 * The circuit breaker as the CLI sees it, wherever it lives: the DynamoDB table of a deployed stack (through
 * the same operator functions the probe relies on), or the in-memory breaker of the `npm start` runtime (over
 * its local control endpoint).
 */
export interface BreakerControl {
  /** Without the backlog: the caller knows the queue. */
  status(): Promise<BreakerStatus>;
  open(reason: string): Promise<BreakerStatus>;
  close(reason?: string): Promise<BreakerStatus>;
  /** When the sync intake follows a change made here, for the operator. */
  readonly takesEffect: string;
}

// The operator functions (and the local control endpoint's module) import the AWS SDK: loaded on first use, so
// the commands that only describe a breaker (and --help) do not pay for it.
const operator = () => import('../../functions/breaker/operator');

export function storeBreakerControl(store: BreakerStore): BreakerControl {
  return {
    status: async () => (await operator()).breakerStatus(store),
    async open(reason) {
      const { openBreaker, breakerStatus } = await operator();
      await openBreaker(store, reason);
      return breakerStatus(store);
    },
    async close(reason) {
      const { closeBreaker, breakerStatus } = await operator();
      await closeBreaker(store, reason === undefined ? {} : { reason });
      return breakerStatus(store);
    },
    takesEffect: 'the probe Lambda applies it to the sync event source mapping on its next run (within a minute)',
  };
}

/** The `npm start` runtime's breaker, at http://127.0.0.1:PORT/_local/breaker. */
export function localBreakerControl(baseUrl: string): BreakerControl {
  async function call(path: string, init?: { method: 'POST'; body: unknown }): Promise<BreakerStatus> {
    const url = `${baseUrl}${(await import('../../local/breaker-control')).LOCAL_BREAKER_PATH}`;
    let response: Response;
    try {
      response = await fetch(`${url}${path}`, {
        ...(init && {
          method: init.method,
          body: JSON.stringify(init.body),
          headers: { 'content-type': 'application/json' },
        }),
        signal: AbortSignal.timeout(10_000),
        // Not followed: an open or close posted to wherever a Location points would act on another breaker.
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new TargetUnreachable(
        '--local',
        `cannot reach the local runtime's breaker at ${url} (${cause}); is \`npm start\` running? (one started with PORT=0 printed the port it picked in its callout URL: give it as PORT=N)`,
      );
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.arrayBuffer();
      throw new Error(
        `the local runtime answered ${response.status}, a redirect to ${printable(location)}: not followed; is PORT the runtime's?`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as BreakerStatus & { message?: string };
    if (!response.ok)
      throw new Error(
        `the local runtime answered ${response.status}: ${body.message === undefined ? 'no reason given' : printable(String(body.message))}`,
      );
    return body;
  }
  return {
    status: () => call(''),
    open: (reason) => call('/open', { method: 'POST', body: { reason } }),
    close: (reason) => call('/close', { method: 'POST', body: reason === undefined ? {} : { reason } }),
    takesEffect: 'the local poller follows at once',
  };
}

/** For `status` and the breaker commands: one or two lines an operator can act on. */
export function describeBreaker(status: BreakerStatus, backlog?: QueueBacklog): string {
  const since =
    status.since === undefined
      ? 'never moved'
      : `since ${status.since} (${formatDuration((status.forSeconds ?? 0) * 1000)})`;
  const lines = [`breaker: ${status.state.toUpperCase()} ${printable(since)}; ${printable(status.reason)}`];
  const details = [
    status.openedBy === 'manual' && status.state !== 'closed'
      ? 'held open by hand: probes will not close it (run `breaker close`)'
      : undefined,
    `not closed for ${formatDuration(status.openSecondsLast24h * 1000)} of the last 24 h`,
    backlog
      ? `backlog ${backlog.waiting + backlog.inFlight + backlog.delayed} (${backlog.waiting} waiting, ${backlog.inFlight} in flight, ${backlog.delayed} delayed)`
      : undefined,
  ].filter((detail): detail is string => detail !== undefined);
  lines.push(`         ${details.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
