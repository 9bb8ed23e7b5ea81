import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { openBreaker } from '../../functions/breaker/operator';
import { runCli } from '../../cli/main';
import { handleLocalBreakerRequest, LOCAL_BREAKER_PATH } from '../../local/breaker-control';
import { createQueuePair, startSqsEmulator, type QueuePair, type SqsEmulator } from '../../local/sqs-emulator';
import { startCloudFormation } from './cloudformation';
import { captureIo } from './queues';

// The breaker commands and the breaker part of `status`, against the local runtime's control endpoint (a real
// HTTP server on 127.0.0.1 over the in-memory store the runtime uses) and, for a deployed stack, against the
// stack outputs of a CloudFormation endpoint on 127.0.0.1, with the table's store given to the CLI.

const AWS_ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

async function startRuntimeBreaker(store: InMemoryBreakerStore) {
  const changes: string[] = [];
  const server: Server = createServer((request, response) => {
    const handled = handleLocalBreakerRequest(request, response, {
      store,
      onChange: async () => {
        changes.push((await store.read()).breaker.state);
      },
    });
    if (!handled) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    changes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('breaker commands and status, --local', () => {
  let emulator: SqsEmulator;
  let queues: QueuePair;
  let store: InMemoryBreakerStore;
  let runtime: Awaited<ReturnType<typeof startRuntimeBreaker>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    emulator = await startSqsEmulator();
    // The names `npm start` gives its queues: --local finds them by name.
    queues = await createQueuePair(emulator.client());
  });
  afterAll(async () => {
    await emulator.stop();
  });
  beforeEach(async () => {
    store = new InMemoryBreakerStore();
    runtime = await startRuntimeBreaker(store);
    env = { PORT: String(runtime.port), SQS_PORT: String(emulator.port) };
  });
  afterEach(async () => {
    await runtime.close();
  });

  it('opens by hand with a reason, shows it in status with the backlog, and closes it again; the poller follows each change', async () => {
    const opened = captureIo(env);
    expect(await runCli(['breaker', 'open', '--local', '--reason', 'Limio maintenance 22:00-23:00'], opened.io)).toBe(
      0,
    );
    expect(opened.stdout()).toMatch(
      /^breaker: OPEN since \d{4}-\d\d-\d\dT[\d:.]+Z \(0s\); opened by hand: Limio maintenance 22:00-23:00\n/,
    );
    expect(opened.stdout()).toContain('held open by hand: probes will not close it (run `breaker close`)');
    expect(opened.stdout()).toContain('Opened; the local poller follows at once.');
    expect((await store.read()).breaker).toMatchObject({ state: 'open', openedBy: 'manual' });
    expect(runtime.changes).toEqual(['open']);

    for (const id of ['A-S1', 'A-S2', 'A-S3'])
      await emulator.client().send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: id }));
    const status = captureIo(env);
    expect(await runCli(['status', '--local'], status.io)).toBe(0);
    expect(status.stdout()).toMatch(/^breaker: OPEN since .*; opened by hand: Limio maintenance 22:00-23:00\n/);
    expect(status.stdout()).toContain('backlog 3 (3 waiting, 0 in flight, 0 delayed)');
    expect(status.stdout()).toMatch(/QUEUE\s+VISIBLE[^\n]*\nmain\s+3\s/);

    const json = captureIo(env);
    expect(await runCli(['status', '--local', '--json'], json.io)).toBe(0);
    const parsed = JSON.parse(json.stdout()) as { breaker: Record<string, unknown>; queues: unknown[] };
    expect(parsed.breaker).toMatchObject({
      available: true,
      state: 'open',
      openedBy: 'manual',
      since: expect.any(String),
      backlog: { waiting: 3, inFlight: 0, delayed: 0 },
    });
    expect(parsed.queues).toHaveLength(2);

    const closed = captureIo(env);
    expect(await runCli(['breaker', 'close', '--local', '--reason', 'maintenance over'], closed.io)).toBe(0);
    expect(closed.stdout()).toMatch(/^breaker: CLOSED since .*; closed by hand: maintenance over\n/);
    expect((await store.read()).breaker.state).toBe('closed');
    expect(runtime.changes).toEqual(['open', 'closed']);
  });

  it('refuses to open without a reason, touching nothing', async () => {
    const cli = captureIo(env);
    expect(await runCli(['breaker', 'open', '--local'], cli.io)).toBe(2);
    expect(cli.stderr()).toContain('error: --reason: say why the breaker is opened by hand');
    expect((await store.read()).breaker.state).toBe('closed');
    expect(runtime.changes).toEqual([]);
  });

  it('says how to start the runtime when its breaker endpoint is not there; status still shows the queues', async () => {
    await runtime.close();
    const closedPort = { ...env, PORT: String(runtime.port) };
    const open = captureIo(closedPort);
    // Exit 3, not 2: the command line was right, the runtime is not there.
    expect(await runCli(['breaker', 'open', '--local', '--reason', 'x'], open.io)).toBe(3);
    expect(open.stderr()).toMatch(
      /error: --local: cannot reach the local runtime's breaker at http:\/\/127\.0\.0\.1:\d+\/_local\/breaker .*is `npm start` running\?/,
    );

    const status = captureIo(closedPort);
    expect(await runCli(['status', '--local'], status.io)).toBe(0);
    expect(status.stdout()).toMatch(/^breaker: unavailable: --local: cannot reach the local runtime's breaker/);
    expect(status.stdout()).toMatch(/main\s+\d+/);
    runtime = await startRuntimeBreaker(store); // for afterEach
  });

  it('a redirect from the breaker endpoint is not followed: the other server gets nothing, the error names the Location', async () => {
    const elsewhere: string[] = [];
    const other = createServer((request, response) => {
      elsewhere.push(`${request.method} ${request.url}`);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"open"}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const location = `http://127.0.0.1:${(other.address() as AddressInfo).port}${LOCAL_BREAKER_PATH}/open`;
    const redirecting = createServer((_request, response) => response.writeHead(307, { location }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const cli = captureIo({ ...env, PORT: String((redirecting.address() as AddressInfo).port) });
      expect(await runCli(['breaker', 'open', '--local', '--reason', 'Limio maintenance'], cli.io)).toBe(1);
      expect(cli.stderr()).toContain(`error: the local runtime answered 307, a redirect to ${location}: not followed`);
      expect(elsewhere).toEqual([]);
    } finally {
      await Promise.all(
        [other, redirecting].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
    }
  });

  it("an error quoting the runtime's answer prints it on its own line, its control characters escaped", async () => {
    const hostile = createServer((_request, response) =>
      response
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: 'boom\x1b]0;pwned\x07\nOpened; \x1b[32mthe local poller follows at once.' })),
    );
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const cli = captureIo({ ...env, PORT: String((hostile.address() as AddressInfo).port) });
      expect(await runCli(['breaker', 'open', '--local', '--reason', 'Limio maintenance'], cli.io)).toBe(1);
      expect(cli.stderr()).toBe(
        'error: the local runtime answered 500: boom\\u001b]0;pwned\\u0007\\u000aOpened; \\u001b[32mthe local poller follows at once.\n',
      );
    } finally {
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
  });

  it('the control endpoint refuses what it does not know', async () => {
    const base = `http://127.0.0.1:${runtime.port}${LOCAL_BREAKER_PATH}`;
    const json = { 'content-type': 'application/json' };
    expect((await fetch(`${base}/open`, { method: 'POST', headers: json, body: '{"reason": "  "}' })).status).toBe(400);
    expect((await fetch(`${base}/open`, { method: 'POST', headers: json, body: 'not json' })).status).toBe(400);
    expect((await fetch(`${base}/open`)).status).toBe(405);
    expect((await fetch(`${base}/reset`, { method: 'POST' })).status).toBe(404);
    expect((await store.read()).breaker.version).toBe(0);
    expect(await (await fetch(base)).json()).toMatchObject({
      state: 'closed',
      reason: 'never opened',
      openSecondsLast24h: 0,
    });
  });

  it('the control endpoint refuses what a web page in a browser could send (cross-site request forgery)', async () => {
    const base = `http://127.0.0.1:${runtime.port}${LOCAL_BREAKER_PATH}`;
    const validOpen = '{"reason": "from a web page"}';
    // A cross-site form or a no-CORS fetch can only send "simple" content types, JSON in the body or not.
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await fetch(`${base}/open`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: validOpen,
      });
      expect(response.status).toBe(415);
      expect(await response.json()).toEqual({ message: 'expected Content-Type: application/json' });
    }
    // Any request a browser makes cross-origin names the page's site; the CLI never sends an Origin.
    const fromPage = await fetch(`${base}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: validOpen,
    });
    expect(fromPage.status).toBe(403);
    expect((await fetch(base, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await store.read()).breaker.version).toBe(0);

    // The same request without the Origin header, as the CLI sends it, does open it: the refusals above were not about anything else.
    const fromCli = await fetch(`${base}/open`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: validOpen,
    });
    expect(fromCli.status).toBe(200);
    expect(await fromCli.json()).toMatchObject({ state: 'open', reason: expect.stringContaining('from a web page') });
  });
});

describe('breaker commands and status, deployed stack', () => {
  let cloudFormation: Awaited<ReturnType<typeof startCloudFormation>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    cloudFormation = await startCloudFormation({
      ZuoraLimioSync: {
        MainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Main',
        DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Dlq',
        BreakerTableName: 'ZuoraLimioSync-BridgeBreakerTable-1A2B3C',
      },
      BeforeOutageMode: { MainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Old-Main' },
    });
    env = { ...AWS_ENV, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint };
  });
  afterAll(async () => {
    await cloudFormation.close();
  });

  it('finds the breaker table from the BreakerTableName output and acts on it', async () => {
    const store = new InMemoryBreakerStore();
    const tables: string[] = [];
    const breakerStore = (tableName: string) => {
      tables.push(tableName);
      return store;
    };
    const opened = captureIo(env);
    expect(
      await runCli(
        ['breaker', 'open', '--stack', 'ZuoraLimioSync', '--reason', 'Limio maintenance', '--json'],
        opened.io,
        { breakerStore },
      ),
    ).toBe(0);
    expect(JSON.parse(opened.stdout())).toMatchObject({
      state: 'open',
      openedBy: 'manual',
      reason: 'opened by hand: Limio maintenance',
    });
    expect(tables).toEqual(['ZuoraLimioSync-BridgeBreakerTable-1A2B3C']);

    const closed = captureIo(env);
    expect(await runCli(['breaker', 'close', '--stack', 'ZuoraLimioSync'], closed.io, { breakerStore })).toBe(0);
    expect(closed.stdout()).toContain(
      'Closed; the probe Lambda applies it to the sync event source mapping on its next run (within a minute).',
    );
    expect((await store.read()).breaker).toMatchObject({ state: 'closed', reason: 'closed by hand' });
  });

  it('takes the table from --breaker-table or ZLS_BREAKER_TABLE, and names what is missing', async () => {
    const store = new InMemoryBreakerStore();
    await openBreaker(store, 'already open');
    const tables: string[] = [];
    const breakerStore = (tableName: string) => (tables.push(tableName), store);
    expect(
      await runCli(['breaker', 'close', '--breaker-table', 'flag-table'], captureIo(AWS_ENV).io, { breakerStore }),
    ).toBe(0);
    expect(
      await runCli(['breaker', 'close'], captureIo({ ...AWS_ENV, ZLS_BREAKER_TABLE: 'env-table' }).io, {
        breakerStore,
      }),
    ).toBe(0);
    expect(tables).toEqual(['flag-table', 'env-table']);

    const none = captureIo(AWS_ENV);
    expect(await runCli(['breaker', 'close'], none.io, { breakerStore })).toBe(2);
    expect(none.stderr()).toContain(
      'error: --breaker-table: no target given: use --local, --stack NAME, or --breaker-table (or ZLS_BREAKER_TABLE)',
    );
    const both = captureIo(env);
    expect(
      await runCli(['breaker', 'close', '--stack', 'ZuoraLimioSync', '--breaker-table', 'flag-table'], both.io, {
        breakerStore,
      }),
    ).toBe(2);
    expect(both.stderr()).toContain('error: --breaker-table: cannot be combined with --stack');
    const badName = captureIo(AWS_ENV);
    expect(
      await runCli(['breaker', 'close', '--breaker-table', 'no spaces allowed'], badName.io, { breakerStore }),
    ).toBe(2);
    expect(badName.stderr()).toContain('error: --breaker-table: expected a DynamoDB table name');
  });

  it('says a stack deployed before outage mode has no breaker', async () => {
    const cli = captureIo(env);
    expect(
      await runCli(['breaker', 'open', '--stack', 'BeforeOutageMode', '--reason', 'x'], cli.io, {
        breakerStore: () => new InMemoryBreakerStore(),
      }),
    ).toBe(2);
    expect(cli.stderr()).toContain(
      'error: --stack: stack "BeforeOutageMode" has no output BreakerTableName (found: MainQueueUrl)',
    );
  });
});
