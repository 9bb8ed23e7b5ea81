import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { runCli } from '../../cli/main';
import { LOCAL_TABLES, LOCAL_ZUORA_CLIENT } from '../../local/defaults';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { createQueuePair, type QueuePair } from '../../local/sqs-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { drainQueue } from '../callout/queue-reader';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startCloudFormation } from './cloudformation';
import { captureIo } from './queues';

// `sweep` (the backfill from Zuora) against the parts `npm start` runs: the Zuora sandbox, the ledger table in
// dynalite written by the sync Lambda's own store, and the SQS emulator's main queue; and a deployed stack's
// outputs from a CloudFormation endpoint on 127.0.0.1, with only Secrets Manager mocked.

const MINUTE = 60_000;

/** A port on 127.0.0.1 that was just free: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

interface SweepJson {
  outcome: string;
  dryRun: boolean;
  window: { since: string; until: string };
  counts: {
    read: number;
    distinct: number;
    covered: number;
    pending: number;
    queued: number;
    missing: number;
    unproven: number;
    invalid: number;
    accountsRead: number;
    contactsRead: number;
    accountsChanged: number;
    accountSubscriptions: number;
  };
  zuoraRequests: number;
  wouldQueue?: string[];
  resumeFrom?: string;
  plan: { days: number; sliceSeconds: number; slices: number; zoqlQueriesAtLeast: number };
}

/**
 * One window of Zuora changes per test, far apart: 5 subscriptions changed without a newer sync (2: one never
 * synced, one synced only before its change), 3 whose callouts were synced after the change, a second version of
 * one of them, a name the subscription-id rule refuses, and a change just after the window.
 */
async function seedWindow(sandbox: ZuoraSandbox, ledger: DynamoDbLedgerStore, prefix: string, startMs: number) {
  const changedAt = (i: number) => startMs + (i + 3) * MINUTE;
  const synced = [`${prefix}01`, `${prefix}02`, `${prefix}03`];
  for (const [i, name] of synced.entries()) {
    sandbox.touch(name, changedAt(i));
    // Its callout named the change's UpdatedDate, so the sync that served it proved it read it.
    await ledger.raiseMark(name, 'lastQueuedAt', changedAt(i) + 2_000);
    await ledger.recordOutcome(name, {
      kind: 'synced',
      startedAt: changedAt(i) + 4_000,
      finishedAt: changedAt(i) + 4_400,
      httpStatus: 200,
    });
    await ledger.raiseMark(name, 'provenThrough', changedAt(i));
  }
  // An older version of a synced one, made more than the commit lag before the version whose callout named it.
  sandbox.touch(`${prefix}01`, changedAt(0) - 2 * MINUTE);
  sandbox.touch(`${prefix}04`, changedAt(4));
  sandbox.touch(`${prefix}05`, changedAt(5));
  await ledger.recordOutcome(`${prefix}05`, {
    kind: 'synced',
    startedAt: changedAt(5) - MINUTE,
    finishedAt: changedAt(5) - MINUTE + 300,
    httpStatus: 200,
  });
  sandbox.touch('not a subscription!', changedAt(6));
  sandbox.touch(`${prefix}09`, startMs + HOUR); // the window's end is exclusive
  return { uncovered: [`${prefix}04`, `${prefix}05`], since: iso(startMs), until: iso(startMs + HOUR) };
}

describe('sweep --local', () => {
  const sqs = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  let sandbox: ZuoraSandbox;
  let queues: QueuePair;
  let ledger: DynamoDbLedgerStore;
  let env: Record<string, string>;
  let window = 0;
  // Each test reads its own hour, days apart, so their changes never meet.
  const nextWindowStart = () => Date.parse('2026-11-01T00:00:00Z') + ++window * 24 * HOUR;

  beforeAll(async () => {
    sandbox = await startZuoraSandbox({
      clientId: LOCAL_ZUORA_CLIENT.clientId,
      clientSecret: LOCAL_ZUORA_CLIENT.clientSecret,
      pageSize: 3,
    });
    queues = await createQueuePair(sqs.sqs);
    await createOnDemandTable(dynamo.dynamodb, { tableName: LOCAL_TABLES.ledger, partitionKey: LEDGER_PARTITION_KEY });
    ledger = new DynamoDbLedgerStore(dynamo.dynamodb, LOCAL_TABLES.ledger);
  });
  afterAll(async () => {
    await sandbox.stop();
  });
  beforeEach(() => {
    env = {
      SQS_PORT: String(sqs.port),
      DYNAMODB_PORT: String(dynamo.port),
      ZUORA_SANDBOX_PORT: new URL(sandbox.baseUrl).port,
    };
  });

  async function sweep(args: string[], options: { terminal?: boolean; env?: Record<string, string> } = {}) {
    const cli = captureIo({ ...env, ...options.env }, '', options.terminal ?? false);
    const code = await runCli(['sweep', '--local', ...args], cli.io);
    return { code, stdout: cli.stdout(), stderr: cli.stderr() };
  }

  it('queues exactly the changes without a sync since (source "sweep"), and nothing for changes their callouts synced', async () => {
    const seeded = await seedWindow(sandbox, ledger, 'A-S100000', nextWindowStart());
    const run = await sweep(['--since', seeded.since, '--until', seeded.until]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `Zuora ${sandbox.baseUrl} (from the local Zuora sandbox on ZUORA_SANDBOX_PORT), credentials from the sandbox's local client\n`,
    );
    expect(run.stdout).toContain(
      `window ${seeded.since.replace('.000Z', 'Z')} .. ${seeded.until.replace('.000Z', 'Z')} (1 of 1 slice(s) read)`,
    );
    expect(run.stdout).toMatch(
      /READ\s+DISTINCT\s+COVERED\s+PENDING\s+QUEUED\s+MISSING\s+UNPROVEN\s+INVALID\n7\s+6\s+3\s+0\s+2\s+2\s+0\s+1\n/,
    );
    expect(run.stdout).toContain('invalid names (never sent to Limio), e.g. not a subscription!');
    expect(run.stdout).toMatch(/complete in [\d.]+ s, \d+ Zuora request\(s\)\n/);

    const queued = (await drainQueue(sqs.sqs, queues.mainQueueUrl)).map(
      (body) => JSON.parse(body) as { subscriptionId: string; source: string },
    );
    expect(queued.map((message) => message.subscriptionId).sort()).toEqual(seeded.uncovered);
    expect(queued.every((message) => message.source === 'sweep')).toBe(true);
    // Marked as queued, so the next sweep finds them pending rather than missing while their syncs are to come.
    const { entries } = await ledger.readMany(seeded.uncovered);
    expect(seeded.uncovered.map((id) => entries.get(id)?.lastQueuedAt)).toEqual([
      expect.any(Number),
      expect.any(Number),
    ]);
  });

  it('queues the subscriptions of an account whose contact changed without a callout, with the accounts and contacts read in the table and --json', async () => {
    const startMs = nextWindowStart();
    const accountNumber = `A${String(startMs / 1000).slice(-8)}`;
    sandbox.account(accountNumber, startMs - 2 * HOUR);
    sandbox.touch(`A-S7${String(startMs / 1000).slice(-6)}1`, startMs - 2 * HOUR, { account: accountNumber });
    sandbox.touch(`A-S7${String(startMs / 1000).slice(-6)}2`, startMs - 2 * HOUR, { account: accountNumber });
    sandbox.touchContact(accountNumber, { workEmail: 'moved@example.com' }, { at: startMs + 10 * MINUTE });
    const since = iso(startMs);
    const until = iso(startMs + HOUR);

    const text = await sweep(['--since', since, '--until', until, '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /ACCOUNTS READ\s+CONTACTS READ\s+ACCOUNTS CHANGED\s+THEIR SUBSCRIPTIONS\n0\s+1\s+1\s+2\n/,
    );

    const json = await sweep(['--since', since, '--until', until, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as SweepJson;
    expect(report.counts).toMatchObject({
      read: 0,
      accountsRead: 0,
      contactsRead: 1,
      accountsChanged: 1,
      accountSubscriptions: 2,
      missing: 2,
      queued: 2,
    });
    // The token, Subscription, Account and Contact changes, then the one account's subscriptions: the floor for one slice.
    expect(report.zuoraRequests).toBe(5);
    const queued = (await drainQueue(sqs.sqs, queues.mainQueueUrl)).map(
      (body) => JSON.parse(body) as { subscriptionId: string; source: string },
    );
    expect(queued.map((message) => message.subscriptionId).sort()).toEqual([
      `A-S7${String(startMs / 1000).slice(-6)}1`,
      `A-S7${String(startMs / 1000).slice(-6)}2`,
    ]);
  });

  it("Zuora's error text carrying a line break and escapes is printed on its one line, escaped, never as a line of its own", async () => {
    // A tenant (or anything on its address) whose fault text forges the CLI's own closing lines.
    const forged = 'bad query\ncomplete in 0.1 s, 0 Zuora request(s)\u001b[2J';
    const hostile = createServer((request, response) => {
      request.resume();
      response.setHeader('content-type', 'application/json');
      if (request.url === '/oauth/token')
        return response.end(JSON.stringify({ access_token: 'token', token_type: 'bearer', expires_in: 3600 }));
      response.statusCode = 400;
      response.end(JSON.stringify({ faultcode: 'fns:INVALID_VALUE', faultstring: forged }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const startMs = nextWindowStart();
      const port = String((hostile.address() as AddressInfo).port);
      const run = await sweep(['--since', iso(startMs), '--until', iso(startMs + HOUR), '--dry-run'], {
        env: { ZUORA_SANDBOX_PORT: port },
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('400: bad query');
      expect(run.stderr).toContain('0 Zuora request(s)\\u001b[2J');
      expect(run.stderr).not.toContain('\u001b');
      expect(run.stderr).not.toMatch(/^complete in 0\.1 s/m);
    } finally {
      await new Promise((resolve) => hostile.close(resolve));
    }
  });

  it('--dry-run queues nothing and lists what it would queue; --json has the counts and the ids', async () => {
    const seeded = await seedWindow(sandbox, ledger, 'A-S200000', nextWindowStart());
    const text = await sweep(['--since', seeded.since, '--until', seeded.until, '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /PENDING\s+WOULD QUEUE\s+MISSING\s+UNPROVEN\s+INVALID\n7\s+6\s+3\s+0\s+2\s+2\s+0\s+1\n/,
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `would queue: (${seeded.uncovered[0]} ${seeded.uncovered[1]}|${seeded.uncovered[1]} ${seeded.uncovered[0]})\n`,
      ),
    );
    expect(text.stdout).toContain('dry run: nothing was queued');

    const json = await sweep(['--since', seeded.since, '--until', seeded.until, '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as SweepJson;
    expect(report).toMatchObject({
      outcome: 'complete',
      dryRun: true,
      counts: { read: 7, distinct: 6, covered: 3, pending: 0, queued: 2, missing: 2, unproven: 0, invalid: 1 },
    });
    expect([...report.wouldQueue!].sort()).toEqual(seeded.uncovered);
    expect(await drainQueue(sqs.sqs, queues.mainQueueUrl)).toEqual([]);
    // Nothing was queued, so nothing is marked as queued: the next sweep still finds them missing.
    const { entries } = await ledger.readMany(seeded.uncovered);
    expect(seeded.uncovered.map((id) => entries.get(id)?.lastQueuedAt)).toEqual([undefined, undefined]);
  });

  it('shows progress on a terminal: slices, records read, queued so far', async () => {
    const seeded = await seedWindow(sandbox, ledger, 'A-S300000', nextWindowStart());
    const run = await sweep(['--since', seeded.since, '--until', seeded.until], {
      terminal: true,
      env: { SWEEP_SLICE_SECONDS: '1800' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\rsweep slice 2\/2, read 7 records, queued 2\x1b\[K\n$/);
    expect(run.stdout).toContain('(2 of 2 slice(s) read)');
    await drainQueue(sqs.sqs, queues.mainQueueUrl);
  });

  it('refuses times without an offset and windows that end before they start, before reading anything', async () => {
    const before = { ...sandbox.stats };
    const local = await sweep(['--since', '2026-11-24T10:00:00']);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(
      'error: --since: "2026-11-24T10:00:00" has no offset, so it could be in any time zone: add Z for UTC or an offset such as -08:00',
    );
    const dateOnly = await sweep(['--since', '2026-11-24']);
    expect(dateOnly.stderr).toContain('(add a time and an offset: T00:00:00Z)');
    const backwards = await sweep(['--since', '2026-11-24T10:00:00Z', '--until', '2026-11-24T01:00:00-08:00']);
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain(
      'error: --until: the window must end after it starts (2026-11-24T10:00:00Z .. 2026-11-24T09:00:00Z)',
    );
    expect((await sweep([])).stderr).toContain('error: --since: give the start of the window');
    expect(sandbox.stats).toEqual(before);
  });

  it('refuses a window longer than 400 days (a year typed 2006 for 2026) without --allow-long-window, saying what it would cost, before reading Zuora', async () => {
    const before = { ...sandbox.stats };
    const typo = await sweep(['--since', '2006-11-24T00:00:00Z', '--until', '2026-11-24T00:00:00Z']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      'error: --since: the window 2006-11-24T00:00:00Z .. 2026-11-24T00:00:00Z is longer than the 400 days a backfill reads without --allow-long-window: ' +
        '175,320 slice(s) of 3600 s over 7,305 day(s): at least 525,960 ZOQL queries',
    );
    expect(typo.stderr).toContain('is the year right?');
    const dryRun = await sweep(['--since', '2006-11-24T00:00:00Z', '--until', '2026-11-24T00:00:00Z', '--dry-run']);
    expect(dryRun.code).toBe(2);
    expect(sandbox.stats).toEqual(before);
  });

  it('--dry-run shows the plan (slices, ZOQL queries) first; --allow-long-window reads a window over 400 days', async () => {
    const seeded = await seedWindow(sandbox, ledger, 'A-S600000', nextWindowStart());
    const text = await sweep(['--since', seeded.since, '--until', seeded.until, '--dry-run'], {
      env: { SWEEP_SLICE_SECONDS: '1800' },
    });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^plan: 2 slice\(s\) of 1800 s over 1 day\(s\): at least 6 ZOQL queries \(subscriptions, accounts and contacts per slice, one more per 2,000 records a query holds and per 199 changed accounts\)\n/,
    );
    const json = await sweep(['--since', seeded.since, '--until', seeded.until, '--dry-run', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      plan: { days: 1, sliceSeconds: 3600, slices: 1, zoqlQueriesAtLeast: 3 },
    });

    // 401 days in slices of a day: 401 queries to the sandbox.
    const long = await sweep(
      ['--since', '2025-10-19T00:00:00Z', '--until', '2026-11-24T00:00:00Z', '--dry-run', '--allow-long-window'],
      { env: { SWEEP_SLICE_SECONDS: '86400' } },
    );
    expect(long.stderr).toBe('');
    expect(long.code).toBe(0);
    expect(long.stdout).toMatch(/^plan: 401 slice\(s\) of 86400 s over 401 day\(s\): at least 1,203 ZOQL queries/);
    expect(long.stdout).toContain('(401 of 401 slice(s) read)');
    expect(await drainQueue(sqs.sqs, queues.mainQueueUrl)).toEqual([]);
  });

  it('--since and --until also take an age before now, as --older-than does', async () => {
    const before = Date.now();
    const run = await sweep(['--since', '2h', '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const { window: read } = JSON.parse(run.stdout) as SweepJson;
    // The runner reads whole seconds: the window may grow by the part of a second at either end.
    const seconds = (window: { since: string; until: string }) =>
      Math.round((Date.parse(window.until) - Date.parse(window.since)) / 1000) * 1000;
    expect(Math.abs(seconds(read) - 2 * HOUR)).toBeLessThanOrEqual(1_000);
    expect(Date.parse(read.until)).toBeGreaterThanOrEqual(before - 1_000);
    const between = await sweep(['--since', '3h', '--until', '90m', '--dry-run', '--json']);
    const { window: earlier } = JSON.parse(between.stdout) as SweepJson;
    expect(Math.abs(seconds(earlier) - 90 * MINUTE)).toBeLessThanOrEqual(1_000);
    expect(Date.parse(earlier.until)).toBeLessThan(before);
    const refused = await sweep(['--since', '2 weeks']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'error: --since: expected an ISO-8601 time with its offset or an age such as 90m, 6h or 2d, got "2 weeks"',
    );
  });

  it('a Zuora that does not answer: exit 3 at once, naming the variable that gave its address; nothing read or queued', async () => {
    const closed = await closedPort();
    const local = await sweep(['--since', '1h'], { env: { ZUORA_SANDBOX_PORT: String(closed) } });
    expect(local.code).toBe(3);
    expect(local.stderr).toContain(
      `error: ZUORA_SANDBOX_PORT: cannot reach Zuora at http://127.0.0.1:${closed} (ECONNREFUSED); is \`npm start\` running? Its Zuora sandbox listens on ZUORA_SANDBOX_PORT`,
    );
    expect(local.stderr).toContain('Nothing was read or queued');
    expect(local.stderr).not.toContain('stays queued');

    const tenant = await sweep(['--since', '1h', '--dry-run'], {
      env: { ZUORA_BASE_URL: `http://127.0.0.1:${closed}`, ZUORA_CLIENT_ID: 'id', ZUORA_CLIENT_SECRET: 'secret' },
    });
    expect(tenant.code).toBe(3);
    expect(tenant.stderr).toContain(
      `error: ZUORA_BASE_URL: cannot reach Zuora at http://127.0.0.1:${closed} (ECONNREFUSED); check ZUORA_BASE_URL, which gave http://127.0.0.1:${closed}`,
    );
    expect(await drainQueue(sqs.sqs, queues.mainQueueUrl)).toEqual([]);
  });

  it('Zuora refusing the credentials: exit 1, with the command line that reads the rest', async () => {
    const since = iso(nextWindowStart());
    const run = await sweep(['--since', since, '--until', iso(Date.parse(since) + HOUR)], {
      env: {
        ZUORA_BASE_URL: sandbox.baseUrl,
        ZUORA_CLIENT_ID: LOCAL_ZUORA_CLIENT.clientId,
        ZUORA_CLIENT_SECRET: 'not-the-secret',
      },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Zuora ${sandbox.baseUrl} (from ZUORA_BASE_URL), credentials from ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET`,
    );
    expect(run.stderr).toMatch(/^sweep failed \(credentials\): /);
    expect(run.stderr).toContain(
      `what was queued stays queued; run it again with --since ${since.replace('.000Z', 'Z')} for the rest`,
    );
    expect(run.stderr + run.stdout).not.toContain('not-the-secret');
    // A dry run queued nothing, and says so.
    const dryRun = await sweep(['--since', since, '--until', iso(Date.parse(since) + HOUR), '--dry-run'], {
      env: {
        ZUORA_BASE_URL: sandbox.baseUrl,
        ZUORA_CLIENT_ID: LOCAL_ZUORA_CLIENT.clientId,
        ZUORA_CLIENT_SECRET: 'not-the-secret',
      },
    });
    expect(dryRun.code).toBe(1);
    expect(dryRun.stderr).toContain(
      `dry run: nothing was queued; run it again with --since ${since.replace('.000Z', 'Z')} for the rest`,
    );
    expect(dryRun.stderr).not.toContain('stays queued');
  });

  it('a ledger that cannot be read stops the sweep before Zuora is read: it would queue everything unchecked', async () => {
    const before = sandbox.stats.queryRequests;
    const run = await sweep(['--since', iso(nextWindowStart())], { env: { DYNAMODB_PORT: '9' } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      `error: cannot reach the table ${LOCAL_TABLES.ledger} of the local runtime's DynamoDB at http://127.0.0.1:9 (connection refused); is \`npm start\` running?`,
    );
    expect(run.stderr).toContain('without it every changed subscription would be queued unchecked');
    expect(sandbox.stats.queryRequests).toBe(before);
  });
});

describe('sweep, deployed stack', () => {
  const sqs = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ZuoraLimioSync-Zuora-AbCdEf';
  let sandbox: ZuoraSandbox;
  let queues: QueuePair;
  let cloudFormation: Awaited<ReturnType<typeof startCloudFormation>>;
  let env: Record<string, string>;
  const secretsManager = mockClient(SecretsManagerClient);

  beforeAll(async () => {
    sandbox = await startZuoraSandbox({ pageSize: 2000 });
    queues = await createQueuePair(sqs.sqs, { mainQueueName: 'stack-main', deadLetterQueueName: 'stack-dlq' });
    await createOnDemandTable(dynamo.dynamodb, { tableName: 'Stack-Ledger', partitionKey: LEDGER_PARTITION_KEY });
    cloudFormation = await startCloudFormation({
      ZuoraLimioSync: {
        MainQueueUrl: queues.mainQueueUrl,
        LedgerTableName: 'Stack-Ledger',
        ZuoraBaseUrl: sandbox.baseUrl,
        ZuoraSecretArn: secretArn,
      },
      SweepOff: { MainQueueUrl: queues.mainQueueUrl, LedgerTableName: 'Stack-Ledger' },
    });
    env = {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
  });
  afterAll(async () => {
    await cloudFormation.close();
    await sandbox.stop();
    secretsManager.restore();
  });
  beforeEach(() => {
    secretsManager.reset();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: secretArn })
      .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }) });
  });

  it('reads Zuora with the secret the stack names, checks the stack ledger, queues on the main queue, and leaves the watermark alone', async () => {
    const ledger = new DynamoDbLedgerStore(dynamo.dynamodb, 'Stack-Ledger');
    const seeded = await seedWindow(sandbox, ledger, 'A-S400000', Date.parse('2026-11-20T00:00:00Z'));
    const watermarkKey = { [LEDGER_PARTITION_KEY]: { S: `sweep#127.0.0.1#default` } };
    await dynamo.dynamodb.send(
      new PutItemCommand({
        TableName: 'Stack-Ledger',
        Item: { ...watermarkKey, completedUntil: { N: '1700000000000' }, updatedAt: { N: '1' } },
      }),
    );

    const cli = captureIo(env);
    expect(
      await runCli(
        ['sweep', '--stack', 'ZuoraLimioSync', '--since', seeded.since, '--until', seeded.until, '--json'],
        cli.io,
      ),
    ).toBe(0);
    const report = JSON.parse(cli.stdout()) as SweepJson & { zuora: string };
    expect(report).toMatchObject({ outcome: 'complete', dryRun: false, counts: { read: 7, covered: 3, queued: 2 } });
    expect(report.zuora).toBe(
      `Zuora ${sandbox.baseUrl} (from stack output ZuoraBaseUrl), credentials from Secrets Manager secret ${secretArn}`,
    );
    expect(report).not.toHaveProperty('wouldQueue');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(
      (await drainQueue(sqs.sqs, queues.mainQueueUrl))
        .map((body) => (JSON.parse(body) as { subscriptionId: string }).subscriptionId)
        .sort(),
    ).toEqual(seeded.uncovered);
    const watermark = await dynamo.dynamodb.send(new GetItemCommand({ TableName: 'Stack-Ledger', Key: watermarkKey }));
    expect(watermark.Item).toEqual({ ...watermarkKey, completedUntil: { N: '1700000000000' }, updatedAt: { N: '1' } });
  });

  it('a stack whose sweep is off needs --zuora-url and --zuora-secret; a plain-http tenant URL is refused', async () => {
    const off = captureIo(env);
    expect(await runCli(['sweep', '--stack', 'SweepOff', '--since', '2026-11-20T00:00:00Z'], off.io)).toBe(2);
    expect(off.stderr()).toContain(
      'error: --zuora-url: stack "SweepOff" has no ZuoraBaseUrl output (its sweep is off)',
    );

    const noSecret = captureIo(env);
    expect(
      await runCli(
        ['sweep', '--stack', 'SweepOff', '--since', '2026-11-20T00:00:00Z', '--zuora-url', 'https://rest.zuora.com'],
        noSecret.io,
      ),
    ).toBe(2);
    expect(noSecret.stderr()).toContain('error: --zuora-secret: no credentials for https://rest.zuora.com');

    const insecure = captureIo(env);
    expect(
      await runCli(
        [
          'sweep',
          '--stack',
          'SweepOff',
          '--since',
          '2026-11-20T00:00:00Z',
          '--zuora-url',
          'http://rest.zuora.com',
          '--zuora-secret',
          secretArn,
        ],
        insecure.io,
      ),
    ).toBe(2);
    expect(insecure.stderr()).toContain(
      'error: --zuora-url: must use https:// (http:// only for 127.0.0.1/localhost), got "http://rest.zuora.com"',
    );
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('explicit targets: --queue-url, --ledger-table and the ZUORA_* variables, as the Lambda reads them', async () => {
    const ledger = new DynamoDbLedgerStore(dynamo.dynamodb, 'Stack-Ledger');
    const seeded = await seedWindow(sandbox, ledger, 'A-S500000', Date.parse('2026-11-21T00:00:00Z'));
    const cli = captureIo({
      ...env,
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_CLIENT_ID: sandbox.clientId,
      ZUORA_CLIENT_SECRET: sandbox.clientSecret,
    });
    const args = [
      'sweep',
      '--queue-url',
      queues.mainQueueUrl,
      '--ledger-table',
      'Stack-Ledger',
      '--since',
      seeded.since,
      '--until',
      seeded.until,
      '--json',
    ];
    expect(await runCli(args, cli.io)).toBe(0);
    expect(JSON.parse(cli.stdout())).toMatchObject({ outcome: 'complete', counts: { covered: 3, queued: 2 } });
    expect(
      (await drainQueue(sqs.sqs, queues.mainQueueUrl))
        .map((body) => (JSON.parse(body) as { subscriptionId: string }).subscriptionId)
        .sort(),
    ).toEqual(seeded.uncovered);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);

    const noLedger = captureIo({
      ...env,
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_CLIENT_ID: 'x',
      ZUORA_CLIENT_SECRET: 'y',
    });
    expect(await runCli(['sweep', '--queue-url', queues.mainQueueUrl, '--since', seeded.since], noLedger.io)).toBe(2);
    expect(noLedger.stderr()).toContain(
      'error: --ledger-table: no target given: use --local, --stack NAME, or --ledger-table (or ZLS_LEDGER_TABLE)',
    );
  });

  it('sends no signed request to a Secrets Manager endpoint that is neither AWS nor this machine', async () => {
    const cli = captureIo({ ...env, AWS_ENDPOINT_URL_SECRETS_MANAGER: 'https://secrets.example.net' });
    expect(await runCli(['sweep', '--stack', 'ZuoraLimioSync', '--since', '2026-11-20T00:00:00Z'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain(
      'error: AWS_ENDPOINT_URL_SECRETS_MANAGER: https://secrets.example.net is not an AWS endpoint',
    );
  });
});
