import type { LimioSandbox } from '../local/limio-sandbox';
import type { ChaosOptions } from './chaos-options';
import type { SyncWorker, WorkerTally } from './chaos-worker';
import type { CuttableProxy } from './cuttable-proxy';
import { sleep } from './figures';
import { waitUntil } from './pipeline';

/**
 * The chaos run's faults that are events rather than rates (the sandbox injects those), each at its share of the
 * work done: the ledger's DynamoDB cut off, every Limio token revoked, and the sync worker killed mid-batch and
 * started again. What happened is recorded for the checks, which must see that each fault really happened.
 */
export interface FaultRecord {
  tokensRevoked: boolean;
  workerKills: number;
  killedMidBatch: boolean;
  ledgerStopped: boolean;
}

export interface PartWay {
  readonly options: ChaosOptions;
  readonly sandbox: LimioSandbox;
  readonly log: (line: string) => void;
}

function untilSyncedShare({ options, sandbox }: PartWay, share: number): Promise<boolean> {
  return waitUntil(() => sandbox.stats.synced.size >= options.subscriptions * share, options.drainTimeoutMs, 20);
}

/** With ledgerOutageAt: the ledger's endpoint refuses connections from then on, and those open are cut. */
export async function cutLedgerPartWay(
  run: PartWay,
  ledgerRoute: CuttableProxy | undefined,
  record: FaultRecord,
  tally: WorkerTally,
): Promise<void> {
  if (run.options.ledgerOutageAt === undefined || !ledgerRoute) return;
  await untilSyncedShare(run, run.options.ledgerOutageAt);
  // Connections refused from now on, and those open cut: the table is unreachable for the rest of the run.
  await ledgerRoute.cut();
  record.ledgerStopped = true;
  run.log(
    `ledger's DynamoDB cut off after ${run.sandbox.stats.synced.size} subscriptions synced (${tally.ledgerAnswered} ledger requests answered so far)`,
  );
}

/** With revokeAt, then killAt: the tokens revoked, then the worker killed with SIGKILL and a new one started. */
export async function revokeAndKillPartWay(
  run: PartWay,
  worker: SyncWorker,
  startWorker: () => Promise<SyncWorker>,
  record: FaultRecord,
): Promise<void> {
  const { options, sandbox, log } = run;
  if (options.revokeAt !== undefined) {
    await untilSyncedShare(run, options.revokeAt);
    sandbox.revokeTokens();
    record.tokensRevoked = true;
    log(`tokens revoked after ${sandbox.stats.synced.size} subscriptions synced`);
  }
  if (options.killAt !== undefined) {
    await untilSyncedShare(run, options.killAt);
    // Mid-batch: a Limio call is in flight, so the worker holds received, unfinished messages. A run with
    // nothing left in flight (a tiny one) is killed anyway rather than never.
    await waitUntil(() => sandbox.stats.inFlight > 0, 10_000, 2);
    const inFlight = sandbox.stats.inFlight;
    worker.child.kill('SIGKILL');
    await worker.exited;
    record.workerKills++;
    record.killedMidBatch = inFlight > 0;
    log(
      `worker killed with SIGKILL ${record.killedMidBatch ? `mid-batch (${inFlight} Limio calls in flight` : '(between batches'}, ${sandbox.stats.synced.size} synced); restarting`,
    );
    await sleep(500);
    const restarted = await startWorker();
    log(`worker restarted (pid ${restarted.child.pid})`);
  }
}
