import { loadRuntimeConfig } from '../local/config';
import { queueDepth } from '../local/queue-depth';
import { startRuntime, type Runtime } from '../local/runtime';
import { ZUORA_MAX_PAGE_SIZE } from '../local/zuora-tenant';
import { formatNumber, type Figure } from './figures';
import {
  authorizationFor,
  EPHEMERAL_PORTS,
  lastSuccessfulSyncs,
  readDeadLetters,
  sendCallouts,
  subscriptionNumbers,
  waitUntil,
} from './pipeline';

/**
 * Issue #22's account fan-out in `npm run bench`: one account callout for an account with many subscriptions
 * (several versions each) through `npm start`'s runtime as it is: callout handler, fan-out queue and handler, the
 * Zuora sandbox, the sync poller and the Limio sandbox. Beside it, in the same runtime, its baseline: as many
 * other subscriptions' own callouts, one each, sent at once.
 */
const ACCOUNT_FANOUT_ENV = {
  ...EPHEMERAL_PORTS,
  // The runtime's scheduled sweep would add Zuora requests and syncs of its own to what is measured.
  SWEEP_INTERVAL_SECONDS: String(24 * 60 * 60),
} as const;

export interface AccountFanOutResult {
  readonly subscriptions: number;
  readonly versions: number;
  /** Zuora API requests (query + queryMore) the fan-out made, and the least it could: one lookup and full pages. */
  readonly zuoraRequests: number;
  readonly zuoraFloor: number;
  readonly pageSize: number;
  /** Limio sync calls for the account's subscriptions (the baseline's excluded). */
  readonly limioCalls: number;
  readonly synced: number;
  readonly allSynced: boolean;
  readonly calloutToLastSyncSeconds: number;
  /** The baseline: the same number of subscriptions, each with its own callout, sent at once (32 at a time). */
  readonly baselineAllSynced: boolean;
  readonly baselineCalloutsToLastSyncSeconds: number;
  readonly deadLetters: number;
}

export async function runAccountFanOut(options: {
  subscriptions: number;
  versions: number;
  timeoutMs?: number;
}): Promise<AccountFanOutResult> {
  const runtime: Runtime = await startRuntime({ config: loadRuntimeConfig({ ...ACCOUNT_FANOUT_ENV }), quiet: true });
  try {
    const zuora = runtime.zuoraSandbox!;
    const limio = runtime.limioSandbox!;
    const headers = authorizationFor(runtime.config.callout);
    const lastSyncAt = lastSuccessfulSyncs(limio);
    const timeoutMs = options.timeoutMs ?? 240_000;

    // Baseline first, so the account's syncs meet no cooldown from it: other subscriptions, each its own callout.
    const others = subscriptionNumbers(options.subscriptions, 'A-B');
    const baselineStart = performance.now();
    await sendCallouts(runtime.calloutUrl, headers, others, { parallel: 32 });
    const baselineAllSynced = await waitUntil(() => others.every((id) => lastSyncAt.has(id)), timeoutMs, 50);
    const baselineCalloutsToLastSyncSeconds =
      (Math.max(...others.map((id) => lastSyncAt.get(id) ?? Number.NaN)) - baselineStart) / 1000;

    const accountNumber = 'A00000500';
    const account = zuora.account(accountNumber);
    const names = subscriptionNumbers(options.subscriptions, 'A-F');
    for (let version = 0; version < options.versions; version++)
      for (const name of names) zuora.touch(name, undefined, { account: account.id });
    const callsBefore = new Map(limio.stats.syncCallsById);
    const requestsBefore = zuora.stats.queryRequests + zuora.stats.queryMoreRequests;
    const calloutAt = performance.now();
    const response = await fetch(runtime.calloutUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ EventType: 'ContactUpdate', AccountNumber: accountNumber }),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`the account callout was answered ${response.status}`);
    const allSynced = await waitUntil(
      () => names.every((id) => (lastSyncAt.get(id) ?? -1) >= calloutAt),
      timeoutMs,
      50,
    );
    const calloutToLastSyncSeconds =
      (Math.max(...names.map((id) => lastSyncAt.get(id) ?? Number.NaN)) - calloutAt) / 1000;
    // Let any stray duplicate (a second message for one subscription) reach Limio before counting.
    await waitUntil(async () => (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0, 10_000, 100);
    const limioCalls = names.reduce(
      (sum, id) => sum + (limio.stats.syncCallsById.get(id) ?? 0) - (callsBefore.get(id) ?? 0),
      0,
    );
    const records = options.subscriptions * options.versions;
    return {
      subscriptions: options.subscriptions,
      versions: options.versions,
      zuoraRequests: zuora.stats.queryRequests + zuora.stats.queryMoreRequests - requestsBefore,
      zuoraFloor: 1 + Math.ceil(records / ZUORA_MAX_PAGE_SIZE),
      pageSize: ZUORA_MAX_PAGE_SIZE,
      limioCalls,
      synced: names.filter((id) => lastSyncAt.has(id)).length,
      allSynced,
      calloutToLastSyncSeconds,
      baselineAllSynced,
      baselineCalloutsToLastSyncSeconds,
      deadLetters: (await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl)).length,
    };
  } finally {
    await runtime.stop();
  }
}

export function checkAccountFanOut(result: AccountFanOutResult): string[] {
  const failures: string[] = [];
  if (!result.allSynced)
    failures.push(`${result.synced} of the account's ${result.subscriptions} subscriptions synced after its callout`);
  if (result.limioCalls !== result.subscriptions)
    failures.push(
      `${result.limioCalls} Limio calls for the account's ${result.subscriptions} subscriptions (one each expected)`,
    );
  if (result.zuoraRequests !== result.zuoraFloor)
    failures.push(`${result.zuoraRequests} Zuora requests, floor ${result.zuoraFloor}`);
  if (!result.baselineAllSynced) failures.push("the baseline's subscriptions did not all sync");
  if (result.deadLetters > 0) failures.push(`${result.deadLetters} dead letters`);
  return failures;
}

export function accountFanOutFigures(result: AccountFanOutResult): Figure[] {
  const title = `account fan-out: 1 account callout, ${formatNumber(result.subscriptions)} subscriptions × ${result.versions} versions`;
  return [
    {
      measure: `${title}: Zuora requests (query + queryMore)`,
      value: formatNumber(result.zuoraRequests),
      baseline: `floor: 1 account lookup + ${formatNumber(result.subscriptions * result.versions)} versions ÷ ${formatNumber(result.pageSize)} a page: ${formatNumber(result.zuoraFloor)}`,
      ratio: result.zuoraRequests / result.zuoraFloor,
      note: 'ZOQL on Subscription by AccountId, versions folded by Name (functions/fanout)',
    },
    {
      measure: `${title}: Limio calls`,
      value: formatNumber(result.limioCalls),
      baseline: `subscriptions on the account: ${formatNumber(result.subscriptions)}`,
      ratio: result.limioCalls / result.subscriptions,
      note: `${formatNumber(result.synced)} synced; ${result.deadLetters} dead letters`,
    },
    {
      measure: `${title}: time from the callout to the last sync`,
      value: `${result.calloutToLastSyncSeconds.toFixed(2)} s`,
      baseline: `${formatNumber(result.subscriptions)} other subscriptions' own callouts, sent at once (same runtime): ${result.baselineCalloutsToLastSyncSeconds.toFixed(2)} s`,
      ratio: result.calloutToLastSyncSeconds / result.baselineCalloutsToLastSyncSeconds,
      note: "npm start's runtime: callout, fan-out queue and Lambda, Zuora sandbox, sync poller, Limio sandbox",
    },
  ];
}
