import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../functions/ledger/dynamodb-ledger-store';
import { LEDGER_DEFAULTS } from '../functions/ledger/config';
import { loadSweepConfig } from '../functions/sweep/config';
import type { SweepReport } from '../functions/sweep/sweep';
import { ACCOUNT_IDS_PER_QUERY } from '../functions/sweep/window';
import { createOnDemandTable, startDynamoDbEmulator } from '../local/dynamodb-emulator';
import { createQueuePair, startSqsEmulator } from '../local/sqs-emulator';
import { startZuoraSandbox } from '../local/zuora-sandbox';
import { ZUORA_MAX_PAGE_SIZE } from '../local/zuora-tenant';
import { countCommands } from './command-counts';
import { formatNumber, type Figure } from './figures';
import { seededRandom, subscriptionNumbers } from './pipeline';
import { checkSeeding, drainIds, ledgerItem, queuedAgainst, queuedFailures, seedLedger, timedSweep } from './sweep-run';

/**
 * Issue #22's sweep over account and contact changes at scale: `accounts` accounts changed in the Zuora sandbox
 * within the sweep's first window (a third by the account itself, a third by its bill-to contact, a third both),
 * none of their subscriptions changed; a share of the accounts (`uncoveredShare`) has subscriptions without a sync
 * since the change, the others' subscriptions a success that started after the change was visible (the commit
 * lag and the clock margin past it). One scheduled sweep through createSweepRunner, as sweep-run.ts runs it. The
 * verdict is taken from the outside: the sandbox's request counts against the fewest that can read the window,
 * and what is on the queue afterwards, which must be exactly the uncovered accounts' subscriptions, once each.
 */
export interface AccountSweepBenchOptions {
  readonly accounts: number;
  /** 0..1: accounts whose subscriptions have no sync since the change (half never synced, half synced before it). */
  readonly uncoveredShare: number;
  /** Subscriptions per account (default 2), each with `versions` versions (default 2), all from before the window. */
  readonly subscriptionsPerAccount?: number;
  readonly versions?: number;
  /** Records per Zuora page (default Zuora's maximum, 2000). */
  readonly pageSize?: number;
}

export interface AccountSweepBenchResult {
  readonly accounts: number;
  readonly accountRecords: number;
  readonly contactRecords: number;
  readonly subscriptions: number;
  readonly uncoveredAccounts: number;
  readonly uncovered: number;
  readonly report: SweepReport;
  readonly seconds: number;
  /** query + queryMore requests the sandbox served for the sweep, and the fewest that read the window (zuoraFloor). */
  readonly zuoraRequests: number;
  readonly zuoraFloor: number;
  readonly pageSize: number;
  readonly zuoraMaxInFlight: number;
  readonly ledgerBatchGets: number;
  readonly sqsSendBatches: number;
  readonly queuedOnQueue: number;
  readonly missing: readonly string[];
  readonly unexpected: readonly string[];
  readonly duplicates: number;
  readonly allSourceSweep: boolean;
}

const MINUTE = 60_000;

/**
 * The fewest Zuora requests that read one slice with these changes: the Subscription query (empty: one request),
 * the Account and Contact queries in full pages (one request at least), and the changed accounts' subscriptions,
 * 199 accounts a query, each query's versions in full pages.
 */
export function accountSweepZuoraFloor(options: {
  accountRecords: number;
  contactRecords: number;
  changedAccounts: number;
  versionsPerAccount: number;
  pageSize: number;
}): number {
  const pages = (records: number) => Math.max(1, Math.ceil(records / options.pageSize));
  let lookups = 0;
  for (let start = 0; start < options.changedAccounts; start += ACCOUNT_IDS_PER_QUERY) {
    lookups += pages(Math.min(ACCOUNT_IDS_PER_QUERY, options.changedAccounts - start) * options.versionsPerAccount);
  }
  return 1 + pages(options.accountRecords) + pages(options.contactRecords) + lookups;
}

export async function runAccountSweepBench(options: AccountSweepBenchOptions): Promise<AccountSweepBenchResult> {
  const pageSize = options.pageSize ?? ZUORA_MAX_PAGE_SIZE;
  const perAccount = options.subscriptionsPerAccount ?? 2;
  const versions = options.versions ?? 2;
  const zuora = await startZuoraSandbox({ pageSize });
  const dynamo = await startDynamoDbEmulator();
  const sqsEmulator = await startSqsEmulator();
  try {
    const dynamodb = dynamo.client();
    const sqs = sqsEmulator.client();
    const tableName = 'zuora-limio-sync-ledger';
    await createOnDemandTable(dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
    const { mainQueueUrl } = await createQueuePair(sqs, {
      mainQueueName: 'bench-account-sweep',
      deadLetterQueueName: 'bench-account-sweep-dlq',
    });
    const config = loadSweepConfig({
      ZUORA_BASE_URL: zuora.baseUrl,
      ZUORA_CLIENT_ID: zuora.clientId,
      ZUORA_CLIENT_SECRET: zuora.clientSecret,
    });

    // Accounts, contacts and subscriptions from two hours ago, outside the window; then the changes, between 50
    // and 10 minutes ago: inside the first window (lookback 60 min, settle 5 min), one slice.
    const now = Date.now();
    const random = seededRandom(22);
    const before = now - 120 * MINUTE;
    const names = subscriptionNumbers(options.accounts * perAccount, 'A-C');
    const accountNumbers = Array.from(
      { length: options.accounts },
      (_, index) => `A${String(index + 1).padStart(8, '0')}`,
    );
    let accountRecords = 0;
    let contactRecords = 0;
    const changeMs: number[] = [];
    accountNumbers.forEach((accountNumber, index) => {
      const { id } = zuora.account(accountNumber, before);
      for (let version = 0; version < versions; version++) {
        for (let k = 0; k < perAccount; k++)
          zuora.touch(names[index * perAccount + k]!, before + version * 1_000, { account: id });
      }
      const at = now - 50 * MINUTE + Math.floor(random() * 40 * MINUTE);
      let latest = -Infinity;
      if (index % 3 !== 1) {
        latest = Math.max(latest, zuora.touchAccount(id, at).updatedMs);
        accountRecords += 1;
      }
      if (index % 3 !== 0) {
        latest = Math.max(
          latest,
          zuora.touchContact(id, { address1: `${index} New Street` }, { at: at + 7_000 }).updatedMs,
        );
        contactRecords += 1;
      }
      changeMs.push(latest);
    });

    // Exactly the share asked for, spread evenly over the accounts; the uncovered ones alternate between the kinds.
    const commitLagMs = config.commitLagSeconds * 1000;
    const marginMs = LEDGER_DEFAULTS.clockMarginSeconds * 1000;
    const uncovered = new Set<string>();
    const items: Record<string, AttributeValue>[] = [];
    let uncoveredAccounts = 0;
    accountNumbers.forEach((_, index) => {
      const subscriptions = names.slice(index * perAccount, (index + 1) * perAccount);
      const changedAt = changeMs[index]!;
      const uncoveredHere =
        Math.floor((index + 1) * options.uncoveredShare) > Math.floor(index * options.uncoveredShare);
      if (uncoveredHere) {
        const neverSynced = uncoveredAccounts++ % 2 === 0;
        for (const name of subscriptions) {
          uncovered.add(name);
          if (!neverSynced) items.push(ledgerItem(name, changedAt - 20 * MINUTE));
        }
      } else {
        // A success that started once the change was visible to every reader: proof (a) of coverage.ts.
        for (const name of subscriptions) items.push(ledgerItem(name, changedAt + commitLagMs + marginMs + 5_000));
      }
    });
    await seedLedger(dynamodb, tableName, items);
    await checkSeeding(new DynamoDbLedgerStore(dynamodb, tableName), names, uncovered);

    const ledgerCalls = countCommands(dynamodb);
    const sqsCalls = countCommands(sqs);
    const { report, seconds, zuoraRequests } = await timedSweep({
      config,
      sqs,
      mainQueueUrl,
      dynamodb,
      tableName,
      zuora,
    });

    const onQueue = await drainIds(sqs, mainQueueUrl);
    return {
      accounts: options.accounts,
      accountRecords,
      contactRecords,
      subscriptions: names.length,
      uncoveredAccounts,
      uncovered: uncovered.size,
      report,
      seconds,
      zuoraRequests,
      zuoraFloor: accountSweepZuoraFloor({
        accountRecords,
        contactRecords,
        changedAccounts: options.accounts,
        versionsPerAccount: perAccount * versions,
        pageSize,
      }),
      pageSize,
      zuoraMaxInFlight: zuora.stats.maxInFlight,
      ledgerBatchGets: ledgerCalls.count('BatchGetItemCommand'),
      sqsSendBatches: sqsCalls.count('SendMessageBatchCommand'),
      ...queuedAgainst(onQueue, uncovered),
    };
  } finally {
    await sqsEmulator.stop();
    await dynamo.stop();
    await zuora.stop();
  }
}

/** What must hold after the account sweep bench: exactly the uncovered subscriptions queued, once each, Zuora read at its floor. */
export function checkAccountSweepBench(result: AccountSweepBenchResult): string[] {
  const failures: string[] = [];
  const { report } = result;
  const counts = report.counts;
  if (report.outcome !== 'complete')
    failures.push(`sweep ended ${report.outcome}${report.error ? `: ${report.error}` : ''}`);
  if (report.slicesPlanned !== 1)
    failures.push(`the window was read in ${report.slicesPlanned} slices; the floor counts one`);
  if (counts.accountsRead !== result.accountRecords || counts.contactsRead !== result.contactRecords) {
    failures.push(
      `sweep read ${counts.accountsRead} account and ${counts.contactsRead} contact records; ${result.accountRecords} and ${result.contactRecords} changed`,
    );
  }
  if (counts.accountsChanged !== result.accounts || counts.accountSubscriptions !== result.subscriptions) {
    failures.push(
      `sweep found ${counts.accountsChanged} changed accounts with ${counts.accountSubscriptions} subscriptions; ${result.accounts} with ${result.subscriptions} changed`,
    );
  }
  if (
    counts.queued !== result.uncovered ||
    counts.missing !== result.uncovered ||
    counts.covered !== result.subscriptions - result.uncovered
  ) {
    failures.push(
      `sweep reported ${counts.queued} queued (${counts.missing} missing) and ${counts.covered} covered; ${result.uncovered} were uncovered`,
    );
  }
  failures.push(...queuedFailures(result));
  if (report.coverageUnavailable)
    failures.push('the ledger was unavailable during the sweep: coverage was not checked');
  if (result.zuoraRequests !== result.zuoraFloor)
    failures.push(`${result.zuoraRequests} Zuora requests, floor ${result.zuoraFloor}`);
  if (result.zuoraMaxInFlight > 1)
    failures.push(`${result.zuoraMaxInFlight} Zuora requests in flight at once (one at a time is the rule)`);
  return failures;
}

/** The rows of `npm run bench`: Zuora requests against their floor, and what was queued against what was uncovered. */
export function accountSweepFigures(result: AccountSweepBenchResult, uncoveredPercent: number): Figure[] {
  const title = `sweep over ${formatNumber(result.accounts)} changed accounts and contacts (${uncoveredPercent} % without a sync since)`;
  const { counts } = result.report;
  return [
    {
      measure: `${title}: Zuora requests (query + queryMore)`,
      value: formatNumber(result.zuoraRequests),
      baseline: `floor: the Subscription query, ${formatNumber(result.accountRecords)} accounts and ${formatNumber(result.contactRecords)} contacts ÷ ${formatNumber(result.pageSize)} a page, their subscriptions 199 accounts a query: ${formatNumber(result.zuoraFloor)}`,
      ratio: result.zuoraRequests / result.zuoraFloor,
      note: `${formatNumber(result.subscriptions)} subscriptions judged in ${result.seconds.toFixed(2)} s; at most ${result.zuoraMaxInFlight} request in flight at the sandbox`,
    },
    {
      measure: `${title}: subscriptions queued`,
      value: formatNumber(result.queuedOnQueue),
      baseline: `the uncovered accounts' subscriptions: ${formatNumber(result.uncovered)}`,
      ratio: result.queuedOnQueue / result.uncovered,
      note: `read back from the queue: ${result.missing.length} missing, ${result.unexpected.length} covered ones queued, ${result.duplicates} twice; covered ${formatNumber(counts.covered)}; ledger BatchGetItem ${formatNumber(result.ledgerBatchGets)}, SendMessageBatch ${formatNumber(result.sqsSendBatches)}`,
    },
  ];
}

/** `npx tsx bench/account-sweep-run.ts [ACCOUNTS]`: this section of `npm run bench` alone (10,000 accounts by default). */
async function main(): Promise<void> {
  const { renderTable } = await import('./figures');
  const accounts = Number(process.argv[2] ?? 10_000);
  const result = await runAccountSweepBench({ accounts, uncoveredShare: 0.2 });
  process.stdout.write(`${renderTable(accountSweepFigures(result, 20))}\n`);
  const failures = checkAccountSweepBench(result);
  if (failures.length > 0) {
    process.stdout.write(`\nINCORRECT RUN:\n${failures.map((failure) => `- ${failure}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main().catch((error: unknown) => {
    process.stderr.write(`account sweep bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
