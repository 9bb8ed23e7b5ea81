import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { DynamoDbBreakerStore } from '../../functions/breaker/dynamodb-store';
import { openBreaker } from '../../functions/breaker/operator';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { traceVerdict } from '../../cli/commands/trace';
import { runCli } from '../../cli/main';
import { LOCAL_TABLES } from '../../local/defaults';
import { handleLocalBreakerRequest } from '../../local/breaker-control';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { createQueuePair, type QueuePair } from '../../local/sqs-emulator';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startCloudFormation } from './cloudformation';
import { deeplyNestedBody } from '../support/hostile-bodies';
import { captureIo, depth, putDeadLetter, reason } from './queues';

// `trace` against the parts `npm start` runs: the SQS emulator (queues by their local names), the ledger table in
// dynalite written by the sync Lambda's own store, and the breaker's control endpoint; and a deployed stack's
// outputs from a CloudFormation endpoint on 127.0.0.1.

async function startRuntimeBreaker(store: InMemoryBreakerStore) {
  const server: Server = createServer((request, response) => {
    if (!handleLocalBreakerRequest(request, response, { store })) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface TraceJson {
  verdict: string;
  ledger: Record<string, unknown>;
  deadLetters: { status: string; letters: { subscriptionId: string; httpStatus?: number }[] };
  breaker: Record<string, unknown>;
}

describe('trace --local', () => {
  const sqs = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  let queues: QueuePair;
  let breakerStore: InMemoryBreakerStore;
  let runtime: Awaited<ReturnType<typeof startRuntimeBreaker>>;
  let ledger: DynamoDbLedgerStore;
  let env: Record<string, string>;
  let counter = 0;
  let id: string;

  beforeAll(async () => {
    queues = await createQueuePair(sqs.sqs);
    await createOnDemandTable(dynamo.dynamodb, { tableName: LOCAL_TABLES.ledger, partitionKey: LEDGER_PARTITION_KEY });
    ledger = new DynamoDbLedgerStore(dynamo.dynamodb, LOCAL_TABLES.ledger);
  });
  beforeEach(async () => {
    id = `A-S${String(++counter).padStart(8, '0')}`;
    breakerStore = new InMemoryBreakerStore();
    runtime = await startRuntimeBreaker(breakerStore);
    env = { SQS_PORT: String(sqs.port), DYNAMODB_PORT: String(dynamo.port), PORT: String(runtime.port) };
  });
  afterEach(async () => {
    await runtime.close();
  });

  async function trace(...args: string[]) {
    const cli = captureIo(env);
    const code = await runCli(['trace', ...args, '--local'], cli.io);
    return { code, stdout: cli.stdout(), stderr: cli.stderr() };
  }

  it('shows the last successful sync with its Limio id and owner, as the sync Lambda recorded it', async () => {
    const startedAt = Date.parse('2026-11-29T10:00:00.000Z');
    await ledger.recordOutcome(id, {
      kind: 'synced',
      startedAt,
      finishedAt: startedAt + 420,
      httpStatus: 200,
      limioId: 'sub-limio-42',
      owner: 'owner-7',
    });

    const text = await trace(id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `verdict: synced at 2026-11-29T10:00:00.420Z (started 2026-11-29T10:00:00.000Z) by Limio id sub-limio-42 (owner owner-7)\n`,
    );
    expect(text.stdout).toMatch(
      /last success\s+started 2026-11-29T10:00:00\.000Z, finished 2026-11-29T10:00:00\.420Z .*Limio id sub-limio-42, owner owner-7/,
    );
    expect(text.stdout).toContain(`dead letters: none for ${id}`);
    expect(text.stdout).toMatch(/breaker: CLOSED/);

    const json = await trace(id, '--json');
    const parsed = JSON.parse(json.stdout) as TraceJson;
    expect(parsed.ledger).toMatchObject({
      status: 'found',
      table: LOCAL_TABLES.ledger,
      lastSuccess: {
        startedAt: '2026-11-29T10:00:00.000Z',
        finishedAt: '2026-11-29T10:00:00.420Z',
        limioId: 'sub-limio-42',
        owner: 'owner-7',
      },
      lastAttempt: { outcome: 'synced', httpStatus: 200 },
    });
    expect(parsed.breaker).toMatchObject({ available: true, state: 'closed' });
  });

  it('a failed sync with letters on the DLQ: the failure, the letters with their reasons, and the replay command; nothing consumed', async () => {
    const startedAt = Date.now() - 60_000;
    await ledger.recordOutcome(id, {
      kind: 'terminal',
      startedAt,
      finishedAt: startedAt + 300,
      httpStatus: 404,
      error: 'Limio answered 404: subscription not found in Zuora',
    });
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: id, source: 'callout' },
      reason: reason('terminal', 404),
    });
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: id, source: 'workflow', replayCount: 1 },
      reason: reason('terminal', 404),
    });
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: 'A-S99999999', source: 'callout' },
      reason: reason('exhausted', 502),
    });
    const before = await depth(sqs.sqs, queues.deadLetterQueueUrl);

    const text = await trace(id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `verdict: last sync failed 404 Limio answered 404: subscription not found in Zuora at ${new Date(startedAt + 300).toISOString()} (terminal); ` +
        `2 letter(s) on the DLQ: replay with \`zuora-limio-sync dlq replay --local --subscription ${id}\`\n`,
    );
    expect(text.stdout).toContain(`dead letters: 2 for ${id}`);
    expect(text.stdout).toMatch(/terminal\s+404\s+1\s+\S+\s+-\s+callout\s+Limio answered 404/);
    expect(text.stdout).not.toContain('A-S99999999');
    expect(await depth(sqs.sqs, queues.deadLetterQueueUrl)).toEqual(before);

    const parsed = JSON.parse((await trace(id, '--json')).stdout) as TraceJson;
    expect(parsed.deadLetters.letters.map((letter) => [letter.subscriptionId, letter.httpStatus])).toEqual([
      [id, 404],
      [id, 404],
    ]);
    expect(parsed.ledger).toMatchObject({
      lastAttempt: {
        outcome: 'terminal',
        httpStatus: 404,
        error: 'Limio answered 404: subscription not found in Zuora',
      },
    });
    expect(parsed.ledger).not.toHaveProperty('lastSuccess');
  });

  it('an open breaker holds a subscription that has not synced since its last failure', async () => {
    const startedAt = Date.now() - 30_000;
    await ledger.recordOutcome(id, {
      kind: 'retryable',
      startedAt,
      finishedAt: startedAt + 8000,
      httpStatus: 503,
      error: 'Limio answered 503',
    });
    await openBreaker(breakerStore, 'Limio maintenance');
    const since = (await breakerStore.read()).breaker.since;

    const text = await trace(id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `verdict: breaker open since ${new Date(since).toISOString()}: held (opened by hand: Limio maintenance); its messages wait on the queue and sync when Limio answers again (or \`breaker close\`); ` +
        `last attempt failed 503 Limio answered 503 at ${new Date(startedAt + 8000).toISOString()}\n`,
    );
  });

  it('no record: says the bridge never synced it and how to enqueue it', async () => {
    const text = await trace(id);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(
      `verdict: no record: never synced via this bridge (ledger off, or no callout): enqueue it with \`zuora-limio-sync enqueue --local ${id}\`\n`,
    );
    expect(text.stdout).toContain(`ledger: no entry in ${LOCAL_TABLES.ledger}`);
  });

  it('text from Limio is printed with its control characters escaped, in the text and in --json (which parses back to it)', async () => {
    // Sets the terminal's title, fakes a green "OK" line, a C1 CSI, DEL, a right-to-left override and a line of its own.
    const limioError =
      'Limio answered 400: \x1b]0;pwned\x07bad request\x1b[32m OK: synced\x1b[0m \u009b2J \x7f \u202edecnys\nverdict: synced';
    const startedAt = Date.now() - 60_000;
    await ledger.recordOutcome(id, {
      kind: 'synced',
      startedAt: startedAt - 1000,
      finishedAt: startedAt - 900,
      httpStatus: 200,
      limioId: 'L-\x1b[2J1\u2066',
      owner: 'owner\u009d8;;x\u200f',
    });
    await ledger.recordOutcome(id, {
      kind: 'terminal',
      startedAt,
      finishedAt: startedAt + 300,
      httpStatus: 400,
      error: limioError,
    });
    // SQS refuses C0 controls in attributes; C1, DEL and bidi controls it carries.
    const letter = reason('terminal', 400);
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: id, source: 'callout' },
      reason: { ...letter, error: 'bad \u009b2J \x7f \u202eKO' },
    });
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

    const text = await trace(id);
    expect(text.stdout).not.toMatch(raw);
    expect(text.stdout).toContain('\\u001b]0;pwned\\u0007bad request\\u001b[32m OK: synced');
    expect(text.stdout).toContain('\\u009b2J \\u007f \\u202edecnys\\u000averdict: synced');
    expect(text.stdout).toContain('Limio id L-\\u001b[2J1\\u2066');
    expect(text.stdout).toContain('bad \\u009b2J \\u007f \\u202eKO');
    expect(text.stdout.split('\n').filter((line) => line.startsWith('verdict:'))).toHaveLength(1);

    const json = await trace(id, '--json');
    expect(json.stdout).not.toMatch(raw);
    const parsed = JSON.parse(json.stdout) as TraceJson;
    expect(parsed.ledger).toMatchObject({
      lastAttempt: { error: limioError },
      lastSuccess: { limioId: 'L-\x1b[2J1\u2066', owner: 'owner\u009d8;;x\u200f' },
    });
    expect((parsed.deadLetters.letters[0] as { error?: string }).error).toBe('bad \u009b2J \x7f \u202eKO');
  });

  it('refuses an id the callouts would refuse, reading nothing', async () => {
    const text = await trace('A-S1/../x');
    expect(text.code).toBe(2);
    expect(text.stderr).toContain(
      'error: SUBSCRIPTION: subscription id "A-S1/../x" has characters other than letters, digits, "-" and "_"',
    );
    expect((await trace()).stderr).toContain('error: SUBSCRIPTION: name the subscription to trace');
  });

  it('a runtime without its DynamoDB: says so, shows the DLQ and the breaker, exits 1', async () => {
    const closed = await startRuntimeBreaker(new InMemoryBreakerStore());
    const unusedPort = closed.port;
    await closed.close();
    env.DYNAMODB_PORT = String(unusedPort);
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: id, source: 'callout' },
      reason: reason('exhausted', 502),
    });

    const text = await trace(id);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      new RegExp(
        `ledger: unavailable: cannot reach the table ${LOCAL_TABLES.ledger} of the local runtime's DynamoDB at http://127\\.0\\.0\\.1:${unusedPort} \\(connection refused\\); is \`npm start\` running\\?`,
      ),
    );
    expect(text.stdout).toContain(`verdict: last sync failed 502 Limio answered 502`);
    expect(text.stdout).toContain(`1 letter(s) on the DLQ: replay with`);
    expect(text.stdout).toMatch(/breaker: CLOSED/);
  });

  it("still finds a subscription's letters on a DLQ that also holds one nested 5,000 deep (issue #20 item 1)", async () => {
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      body: deeplyNestedBody(),
      reason: reason('poison', undefined),
    });
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: id, source: 'callout' },
      reason: reason('terminal', 404),
    });

    const text = await trace(id);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`dead letters: 1 for ${id}`);
    expect(text.stdout).toContain('1 letter(s) on the DLQ: replay with');
  });
});

describe('trace, deployed stack', () => {
  const sqs = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  let queues: QueuePair;
  let cloudFormation: Awaited<ReturnType<typeof startCloudFormation>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    queues = await createQueuePair(sqs.sqs, { mainQueueName: 'stack-main', deadLetterQueueName: 'stack-dlq' });
    await createOnDemandTable(dynamo.dynamodb, {
      tableName: 'Stack-LedgerTable-1',
      partitionKey: LEDGER_PARTITION_KEY,
    });
    await createOnDemandTable(dynamo.dynamodb, { tableName: 'Stack-BreakerTable-1', partitionKey: 'pk' });
    const queueOutputs = { MainQueueUrl: queues.mainQueueUrl, DeadLetterQueueUrl: queues.deadLetterQueueUrl };
    cloudFormation = await startCloudFormation({
      ZuoraLimioSync: {
        ...queueOutputs,
        BreakerTableName: 'Stack-BreakerTable-1',
        LedgerTableName: 'Stack-LedgerTable-1',
      },
      BeforeLedger: { ...queueOutputs, BreakerTableName: 'Stack-BreakerTable-1' },
      MissingTable: { ...queueOutputs, LedgerTableName: 'Stack-Deleted-Table' },
    });
    env = {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    };
  });
  afterAll(async () => {
    await cloudFormation.close();
  });

  it('reads the ledger and the breaker tables named by the stack outputs', async () => {
    const startedAt = Date.parse('2026-11-29T11:00:00.000Z');
    await new DynamoDbLedgerStore(dynamo.dynamodb, 'Stack-LedgerTable-1').recordOutcome('A-S00000500', {
      kind: 'synced',
      startedAt,
      finishedAt: startedAt + 100,
      httpStatus: 200,
      limioId: 'L-500',
    });
    await openBreaker(new DynamoDbBreakerStore(dynamo.dynamodb, 'Stack-BreakerTable-1'), 'Limio maintenance');

    const cli = captureIo(env);
    expect(await runCli(['trace', 'A-S00000500', '--stack', 'ZuoraLimioSync'], cli.io)).toBe(0);
    expect(cli.stdout()).toContain('A-S00000500 (stack ZuoraLimioSync)\n');
    expect(cli.stdout()).toMatch(
      /verdict: synced at 2026-11-29T11:00:00\.100Z \(started 2026-11-29T11:00:00\.000Z\) by Limio id L-500; breaker open since \S+: held \(opened by hand: Limio maintenance\): newer changes wait\n/,
    );
    expect(cli.stdout()).toMatch(/breaker: OPEN since/);
  });

  it('a stack without the ledger: says so and still shows the dead letters and the breaker (exit 0: nothing failed)', async () => {
    await putDeadLetter(sqs.sqs, queues.deadLetterQueueUrl, {
      request: { subscriptionId: 'A-S00000600', source: 'callout' },
      reason: reason('terminal', 404),
    });
    const cli = captureIo(env);
    expect(await runCli(['trace', 'A-S00000600', '--stack', 'BeforeLedger'], cli.io)).toBe(0);
    expect(cli.stdout()).toContain(
      'ledger: unavailable: stack "BeforeLedger" has no LedgerTableName output (deployed before the sync ledger; redeploy)\n',
    );
    expect(cli.stdout()).toContain('dead letters: 1 for A-S00000600');
    expect(cli.stdout()).toContain('verdict: last sync failed 404 Limio answered 404');
    expect(cli.stdout()).toMatch(/breaker: (OPEN|CLOSED)/);
  });

  it('a ledger table that does not exist is named, and the trace exits 1', async () => {
    const cli = captureIo(env);
    expect(await runCli(['trace', 'A-S00000700', '--stack', 'MissingTable'], cli.io)).toBe(1);
    expect(cli.stdout()).toContain('ledger: unavailable: the ledger table Stack-Deleted-Table does not exist\n');
    expect(cli.stdout()).toContain(
      'verdict: unknown: the ledger could not be read (the ledger table Stack-Deleted-Table does not exist); no letter on the DLQ',
    );
  });

  it('explicit targets: --dlq-url, --ledger-table and --breaker-table', async () => {
    const startedAt = Date.parse('2026-11-29T13:00:00.000Z');
    await new DynamoDbLedgerStore(dynamo.dynamodb, 'Stack-LedgerTable-1').recordOutcome('A-S00000900', {
      kind: 'synced',
      startedAt,
      finishedAt: startedAt + 50,
      httpStatus: 200,
      limioId: 'L-900',
    });
    const cli = captureIo(env);
    const args = [
      'trace',
      'A-S00000900',
      '--dlq-url',
      queues.deadLetterQueueUrl,
      '--ledger-table',
      'Stack-LedgerTable-1',
      '--breaker-table',
      'Stack-BreakerTable-1',
      '--json',
    ];
    expect(await runCli(args, cli.io)).toBe(0);
    const parsed = JSON.parse(cli.stdout()) as TraceJson;
    expect(parsed.ledger).toMatchObject({
      status: 'found',
      table: 'Stack-LedgerTable-1',
      lastSuccess: { limioId: 'L-900' },
    });
    expect(parsed.breaker).toMatchObject({ available: true });
    expect(parsed.verdict).toMatch(/^synced at 2026-11-29T13:00:00\.050Z/);
  });

  it('sends no signed request to a DynamoDB endpoint that is neither AWS nor this machine', async () => {
    const cli = captureIo({ ...env, AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.example.net' });
    expect(await runCli(['trace', 'A-S00000800', '--stack', 'ZuoraLimioSync'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain(
      'error: AWS_ENDPOINT_URL_DYNAMODB: https://dynamodb.example.net is not an AWS endpoint',
    );
  });
});

describe('traceVerdict', () => {
  const next = { replay: 'REPLAY', enqueue: 'ENQUEUE' };
  const closed = {
    available: true as const,
    state: 'closed' as const,
    reason: 'closed',
    openedBy: 'auto' as const,
    openSecondsLast24h: 0,
  };
  const success = {
    startedAt: Date.parse('2026-11-29T12:00:00Z'),
    finishedAt: Date.parse('2026-11-29T12:00:01Z'),
    limioId: 'L-1',
  };
  const noLetters = { status: 'read' as const, letters: [], searched: 0, truncated: false };

  it('a letter older than the last successful sync was overtaken by it: the verdict is the sync', () => {
    const verdict = traceVerdict(
      {
        subscriptionId: 'A-S1',
        ledger: { status: 'found', table: 't', entry: { subscriptionId: 'A-S1', expiresAt: 0, lastSuccess: success } },
        deadLetters: {
          ...noLetters,
          letters: [
            {
              messageId: 'm',
              subscriptionId: 'A-S1',
              replayCount: 0,
              failureClass: 'terminal',
              httpStatus: 404,
              failedAt: '2026-11-29T11:00:00.000Z',
            },
          ],
        },
        breaker: closed,
      },
      next,
    );
    expect(verdict).toBe('synced at 2026-11-29T12:00:01.000Z (started 2026-11-29T12:00:00.000Z) by Limio id L-1');
  });

  it('a sync claimed and not yet answered is in flight until its lease ends', () => {
    const claim = { startedAt: Date.parse('2026-11-29T12:05:00Z'), until: Date.parse('2026-11-29T12:05:30Z') };
    const facts = {
      subscriptionId: 'A-S1',
      ledger: {
        status: 'found' as const,
        table: 't',
        entry: { subscriptionId: 'A-S1', expiresAt: 0, lastSuccess: success, claim },
      },
      deadLetters: noLetters,
      breaker: closed,
    };
    expect(traceVerdict(facts, next, claim.startedAt + 1000)).toBe(
      'a sync started at 2026-11-29T12:05:00.000Z is in flight now (claimed until 2026-11-29T12:05:30.000Z); before that synced at 2026-11-29T12:00:01.000Z (started 2026-11-29T12:00:00.000Z) by Limio id L-1',
    );
    expect(traceVerdict(facts, next, claim.until)).toMatch(/^synced at/);
  });

  it('a retryable failure since the last success is being retried; a terminal one without a letter needs an enqueue', () => {
    const attempt = (outcome: 'retryable' | 'terminal') => ({
      outcome,
      startedAt: success.startedAt + 60_000,
      finishedAt: success.startedAt + 61_000,
      httpStatus: 502,
      error: 'bad gateway',
    });
    const facts = (outcome: 'retryable' | 'terminal') => ({
      subscriptionId: 'A-S1',
      ledger: {
        status: 'found' as const,
        table: 't',
        entry: { subscriptionId: 'A-S1', expiresAt: 0, lastSuccess: success, lastAttempt: attempt(outcome) },
      },
      deadLetters: noLetters,
      breaker: closed,
    });
    expect(traceVerdict(facts('retryable'), next)).toMatch(
      /^last sync failed 502 bad gateway at 2026-11-29T12:01:01\.000Z \(retryable: its message waits out a backoff on the main queue and is tried again\); before that synced at/,
    );
    expect(traceVerdict(facts('terminal'), next)).toContain(
      '(terminal, but no letter of it is on the DLQ (replayed since, or expired): enqueue it again with `ENQUEUE`)',
    );
  });
});
