/**
 * Issue #13's open question, measured: does the sync ledger delay each subscription's FIRST callout? Runs the
 * 10,000-callout end-to-end burst (bench/end-to-end.ts) with the ledger on and off, alternating, in both orders,
 * and prints one JSON line per run: first-callout and overall p50, drain, Limio calls per subscription, the SQS and
 * DynamoDB requests the run made, and the CPU seconds of this process and of the emulator processes.
 *
 *   npx tsx bench/ledger-first-callout.ts
 *   ROUNDS=2 PLAN=interleaved:on,interleaved:off,together:off-box,together:off npx tsx bench/ledger-first-callout.ts
 *
 * `on`: the ledger in the DynamoDB emulator, as npm start. `off`: no ledger. `off-box`: the ledger's logic over a
 * store that answers after OFF_BOX_MS (default 5) without the emulator's CPU on this machine, as DynamoDB in AWS.
 * CALLOUTS, SUBSCRIPTIONS and E2E_ENV (JSON, e.g. {"LIMIO_SANDBOX_LATENCY_MS":"100"}) change the run; SYNC_IN=own-process
 * runs the sync function in a process of its own, as a Lambda, instead of in the runtime's (`on` and `off` only).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { runEndToEnd } from './end-to-end';

const requests = new Map<string, number>();
const count = (name: string) => requests.set(name, (requests.get(name) ?? 0) + 1);

// Every request either client sends, by command name: the run's cost in SQS and DynamoDB round trips.
for (const client of [SQSClient.prototype, DynamoDBClient.prototype] as Array<{
  send: (command: object, ...rest: unknown[]) => unknown;
}>) {
  const send = client.send;
  client.send = function countedSend(this: unknown, command: object, ...rest: unknown[]) {
    count(command.constructor.name.replace(/Command$/, ''));
    return send.call(this, command, ...rest);
  };
}

/** CPU seconds of this process's child processes (the SQS and DynamoDB emulators), read from /proc. */
function childCpuSeconds(): number {
  let seconds = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid) seconds += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return seconds;
}

async function main(): Promise<void> {
  const callouts = Number(process.env.CALLOUTS ?? 10_000);
  const subscriptions = Number(process.env.SUBSCRIPTIONS ?? 1_000);
  const rounds = Number(process.env.ROUNDS ?? 1);
  const plan = (process.env.PLAN ?? 'interleaved:on,interleaved:off,together:on,together:off').split(',');
  for (let round = 0; round < rounds; round++) {
    for (const step of plan) {
      const [order, ledger] = step.split(':') as ['interleaved' | 'together', 'on' | 'off' | 'off-box'];
      requests.clear();
      const cpuBefore = process.cpuUsage();
      let emulatorCpu = 0;
      const sampler = setInterval(() => (emulatorCpu = Math.max(emulatorCpu, childCpuSeconds())), 250);
      const result = await runEndToEnd({
        callouts,
        subscriptions,
        order,
        ledger: ledger !== 'off',
        ...(ledger === 'off-box' && {
          ledgerStore: 'off-box' as const,
          offBoxLatencyMs: Number(process.env.OFF_BOX_MS ?? 5),
        }),
        ...(process.env.SYNC_IN && { syncIn: process.env.SYNC_IN as 'own-process' | 'runtime' }),
        ...(process.env.E2E_ENV && { env: JSON.parse(process.env.E2E_ENV) as Record<string, string> }),
        // A ledger-off run against a Limio at 100 ms or more drains for minutes: let it finish, or its p50s leave out the late ones.
        timeoutMs: 900_000,
      });
      clearInterval(sampler);
      const cpu = process.cpuUsage(cpuBefore);
      console.log(
        JSON.stringify({
          round,
          order,
          ledger,
          firstCalloutP50Ms: Math.round(result.firstCalloutP50Ms),
          latencyP50Ms: Math.round(result.latencyP50Ms),
          drainSeconds: +result.drainSeconds.toFixed(1),
          acceptSeconds: +result.acceptSeconds.toFixed(1),
          limioCallsPerSubscription: +result.limioCallsPerSubscription.toFixed(2),
          allSynced: result.allSynced,
          processCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
          emulatorCpuSeconds: +emulatorCpu.toFixed(1),
          requests: Object.fromEntries([...requests].sort()),
        }),
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
