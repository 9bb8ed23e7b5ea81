import { BREAKER_TARGET_OPTIONS, EXIT, type Command, type RunContext } from '../command';
import { UsageError } from '../usage-error';
import { describeBreaker, type BreakerControl } from './breaker-control';

/** `breaker open` and `breaker close`: the circuit breaker held open, or closed, by hand. */

export const BREAKER_OPEN_COMMAND: Command = {
  name: 'breaker open',
  summary: 'hold the circuit breaker open by hand (a Limio maintenance window): syncing pauses, messages wait',
  usage: 'zuora-limio-sync breaker open --reason TEXT [target] [--json]',
  options: { ...BREAKER_TARGET_OPTIONS, reason: { type: 'string' } },
  needs: { breaker: 'required' },
  flags: `  --reason TEXT         why (shown by status and in the logs); required
  --json                the breaker's status as one JSON document on stdout
Probes do not close a breaker opened by hand; \`breaker close\` does. Nothing is dead-lettered while it is open:
the time it stays open does not count against any message's retry budget.`,
  examples: `  zuora-limio-sync breaker open --stack ZuoraLimioSync --reason "Limio maintenance 22:00-23:00 UTC"
  zuora-limio-sync breaker open --local --reason "trying outage mode"`,
  async run({ values, io, json, breaker }) {
    const reason = typeof values.reason === 'string' ? values.reason.trim() : '';
    if (reason === '')
      throw new UsageError('--reason', 'say why the breaker is opened by hand (status and the logs show it)');
    const control = await requireBreaker(breaker);
    const status = await control.open(reason);
    if (json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else io.stdout.write(`${describeBreaker(status)}Opened; ${control.takesEffect}.\n`);
    return EXIT.ok;
  },
};

export const BREAKER_CLOSE_COMMAND: Command = {
  name: 'breaker close',
  summary: 'close the circuit breaker by hand: syncing resumes at full speed',
  usage: 'zuora-limio-sync breaker close [target] [--reason TEXT] [--json]',
  options: { ...BREAKER_TARGET_OPTIONS, reason: { type: 'string' } },
  needs: { breaker: 'required' },
  flags: `  --reason TEXT         optional, shown by status and in the logs
  --json                the breaker's status as one JSON document on stdout
Closes it whoever opened it. If Limio is still failing, the sync Lambdas open it again by themselves.`,
  examples: `  zuora-limio-sync breaker close --stack ZuoraLimioSync
  zuora-limio-sync breaker close --local --reason "maintenance over"`,
  async run({ values, io, json, breaker }) {
    const reason = typeof values.reason === 'string' && values.reason.trim() !== '' ? values.reason.trim() : undefined;
    const control = await requireBreaker(breaker);
    const status = await control.close(reason);
    if (json) io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else io.stdout.write(`${describeBreaker(status)}Closed; ${control.takesEffect}.\n`);
    return EXIT.ok;
  },
};

async function requireBreaker(breaker: RunContext['breaker']): Promise<BreakerControl> {
  const found = await breaker();
  if ('unavailable' in found) throw new UsageError('breaker', found.unavailable);
  return found.control;
}
