import { createServer, type Server } from 'node:http';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendTestCallout } from '../../cli/commands/callout';
import { runCli } from '../../cli/main';
import { calloutAuthFromEnv } from '../../functions/callout/auth-config';
import {
  createCalloutHandler,
  type AcceptedCallout,
  type RefusedCallout,
} from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { createApiGatewayListener, type ApiKind, type ProxyHandler } from '../../local/api-gateway-adapter';
import { closeServer, listen } from '../../local/listen';
import { startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';
import { bodies, captureIo, freshQueues, takeAll } from './queues';

const PASSWORD = 'pw-Zr8#kq!s3cr3t';
const HEADER_SECRET = 'hdr-7f6e5d4c3b2a-secret';
const HMAC_KEY = 'hmac-key-1a2b3c4d5e6f-secret';

const BASIC_ENV = { CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: PASSWORD };
const HEADER_ENV = {
  CALLOUT_AUTH_MODE: 'header',
  CALLOUT_HEADER_NAME: 'X-Callout-Token',
  CALLOUT_HEADER_VALUE: HEADER_SECRET,
};
const HMAC_ENV = { CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: HMAC_KEY };
const HMAC_TIMESTAMPED_ENV = {
  CALLOUT_AUTH_MODE: 'hmac',
  CALLOUT_HMAC_KEY: HMAC_KEY,
  CALLOUT_HMAC_HEADER: 'Authorization',
  CALLOUT_HMAC_ALGORITHM: 'SHA-512',
  CALLOUT_HMAC_PREFIX: 'v1=',
  CALLOUT_HMAC_SIGNED_DATA: '{method} {path}\\n{timestamp:X-Zuora-Timestamp}\\n{body}\\n',
};

/**
 * The real callout Lambda (createCalloutHandler), behind the local API Gateway adapter on 127.0.0.1, queueing on
 * the SQS emulator: what `npm start` runs and what AWS runs, minus AWS.
 */
describe("callout: a test callout passes the callout Lambda's authentication", () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  const servers: Server[] = [];
  let processOutput: string[] = [];
  const originalWrites = { stdout: process.stdout.write, stderr: process.stderr.write };

  beforeAll(async () => {
    emulator = await startSqsEmulator();
    sqs = emulator.client();
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => closeServer(server)));
    await emulator.stop();
  });
  // The handler logs through Powertools to stdout: captured, to check that no secret reaches a log.
  beforeEach(() => {
    processOutput = [];
    const capture = (chunk: unknown, ...rest: unknown[]) => {
      processOutput.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      (rest.find((item) => typeof item === 'function') as (() => void) | undefined)?.();
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
  });
  afterEach(() => {
    process.stdout.write = originalWrites.stdout;
    process.stderr.write = originalWrites.stderr;
  });

  async function calloutEndpoint(authEnv: Record<string, string>, kind: ApiKind = 'rest') {
    const queues = await freshQueues(sqs, 'callout');
    const accepted: AcceptedCallout[] = [];
    const refused: RefusedCallout[] = [];
    const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: queues.mainQueueUrl, ...authEnv }), {
      sqs,
      observer: { onAccepted: (c) => accepted.push(c), onRefused: (c) => refused.push(c) },
    });
    const server = createServer(
      createApiGatewayListener({
        kind,
        handler: handler as ProxyHandler,
        path: '/zuora/callout',
        ...(authEnv.CALLOUT_AUTH_MODE === 'basic' && kind === 'rest' && { basicChallengeRealm: 'zuora-limio-sync' }),
      }),
    );
    servers.push(server);
    const port = await listen(server, 0, '127.0.0.1', 'PORT');
    const queued = async () => bodies(await takeAll(sqs, queues.mainQueueUrl));
    return { url: `http://127.0.0.1:${port}/zuora/callout`, port, accepted, refused, queued };
  }

  function expectNoSecretIn(...texts: string[]) {
    for (const text of texts) {
      for (const secret of [PASSWORD, HEADER_SECRET, HMAC_KEY, Buffer.from(`zuora:${PASSWORD}`).toString('base64')])
        expect(text).not.toContain(secret);
    }
  }

  it('basic: answers the 401 challenge as Zuora does by default, then is accepted and queued (via --local)', async () => {
    const endpoint = await calloutEndpoint(BASIC_ENV);
    const cli = captureIo({ ...BASIC_ENV, PORT: String(endpoint.port), SQS_PORT: String(emulator.port) });
    const code = await runCli(['callout', '--local', 'A-S00000271', 'A-S00000272'], cli.io);

    expect(cli.stderr()).toBe('');
    expect(code).toBe(0);
    expect(cli.stdout()).toContain('challenge: 401 with Basic realm="zuora-limio-sync"');
    expect(cli.stdout()).toContain(`callout (basic) to ${endpoint.url}: HTTP 200, accepted`);
    expect(endpoint.accepted.map((c) => c.ids)).toEqual([['A-S00000271', 'A-S00000272']]);
    expect((await endpoint.queued()).map((b) => b.subscriptionId).sort()).toEqual(['A-S00000271', 'A-S00000272']);
    // The handler's own log line was captured, so the check below looks at real logs.
    expect(processOutput.join('')).toContain('callout accepted');
    expectNoSecretIn(cli.stdout(), processOutput.join(''));
  });

  it('basic: reports a missing challenge (HTTP API) as a failure, and --preemptive still gets through', async () => {
    const endpoint = await calloutEndpoint(BASIC_ENV, 'http');
    const withoutChallenge = captureIo(BASIC_ENV);
    expect(await runCli(['callout', '--url', endpoint.url, 'A-S1'], withoutChallenge.io)).toBe(1);
    expect(withoutChallenge.stdout()).toMatch(/challenge: MISSING: got 401 without WWW-Authenticate/);

    const preemptive = captureIo(BASIC_ENV);
    expect(await runCli(['callout', '--url', endpoint.url, '--preemptive', 'A-S1'], preemptive.io)).toBe(0);
    expect(endpoint.accepted).toHaveLength(2);
  });

  it('header: the secret header is accepted; a wrong one is refused with exit 1', async () => {
    const endpoint = await calloutEndpoint(HEADER_ENV);
    const good = captureIo(HEADER_ENV);
    expect(await runCli(['callout', '--url', endpoint.url, '--json', 'A-S00000003'], good.io)).toBe(0);
    const result = JSON.parse(good.stdout());
    expect(result).toMatchObject({
      mode: 'header',
      status: 200,
      accepted: true,
      response: { success: true, accepted: ['A-S00000003'] },
    });
    expect(result.headersSent).toContain('x-callout-token');

    const wrong = captureIo({ ...HEADER_ENV, CALLOUT_HEADER_VALUE: 'not-the-secret' });
    expect(await runCli(['callout', '--url', endpoint.url, 'A-S00000004'], wrong.io)).toBe(1);
    expect(wrong.stdout()).toContain('HTTP 403, NOT accepted');
    expect(endpoint.refused.map((r) => r.reason)).toEqual(['auth-invalid']);
    expect((await endpoint.queued()).map((b) => b.subscriptionId)).toEqual(['A-S00000003']);
    expectNoSecretIn(good.stdout(), wrong.stdout(), processOutput.join(''));
  });

  it("hmac: signed with the callout Lambda's own functions and default settings, credentials from flags", async () => {
    const endpoint = await calloutEndpoint(HMAC_ENV);
    const cli = captureIo({});
    expect(
      await runCli(['callout', '--url', endpoint.url, '--auth', 'hmac', '--hmac-key', HMAC_KEY, 'A-S00000005'], cli.io),
    ).toBe(0);
    expect(cli.stdout()).toContain('HTTP 200, accepted');
    expect((await endpoint.queued()).map((b) => b.subscriptionId)).toEqual(['A-S00000005']);
    expectNoSecretIn(cli.stdout(), processOutput.join(''));
  });

  it('hmac: a template signing method, path and a timestamp header, SHA-512 behind a prefix', async () => {
    const endpoint = await calloutEndpoint(HMAC_TIMESTAMPED_ENV);
    const result = await sendTestCallout({
      url: endpoint.url,
      auth: calloutAuthFromEnv(HMAC_TIMESTAMPED_ENV),
      subscriptionIds: ['A-S00000006'],
    });
    expect(result).toMatchObject({ status: 200, accepted: true });
    expect(result.headersSent).toEqual(expect.arrayContaining(['authorization', 'x-zuora-timestamp']));

    const wrongKey = await sendTestCallout({
      url: endpoint.url,
      auth: calloutAuthFromEnv({ ...HMAC_TIMESTAMPED_ENV, CALLOUT_HMAC_KEY: 'other' }),
      subscriptionIds: ['A-S00000007'],
    });
    expect(wrongKey).toMatchObject({ status: 403, accepted: false });
    expect((await endpoint.queued()).map((b) => b.subscriptionId)).toEqual(['A-S00000006']);
  });

  it('a redirect is an error naming its Location, and the other origin gets no request and no secret', async () => {
    const seenElsewhere: { url?: string; headers: Record<string, unknown> }[] = [];
    const otherOrigin = createServer((request, response) => {
      seenElsewhere.push({ url: request.url, headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
    });
    servers.push(otherOrigin);
    const otherPort = await listen(otherOrigin, 0, '127.0.0.1', 'PORT');
    const location = `http://127.0.0.1:${otherPort}/zuora/callout`;
    const redirecting = createServer((_request, response) => response.writeHead(307, { location }).end());
    servers.push(redirecting);
    const redirectingPort = await listen(redirecting, 0, '127.0.0.1', 'PORT');
    const secretEnv = {
      CALLOUT_AUTH_MODE: 'header',
      CALLOUT_HEADER_NAME: 'X-Callout-Secret',
      CALLOUT_HEADER_VALUE: HEADER_SECRET,
    };

    for (const json of [[], ['--json']]) {
      const cli = captureIo(secretEnv);
      const code = await runCli(
        ['callout', '--url', `http://127.0.0.1:${redirectingPort}/zuora/callout`, ...json, 'A-S00000008'],
        cli.io,
      );
      expect(code).not.toBe(0);
      expect(cli.stderr()).toContain(`error: the callout URL answered 307 with a redirect to ${location}`);
      expect(cli.stdout()).not.toContain('accepted');
      expectNoSecretIn(cli.stdout(), cli.stderr());
    }
    // Basic's first, credential-less request meets the redirect too: it is not followed either.
    const basic = captureIo(BASIC_ENV);
    expect(
      await runCli(['callout', '--url', `http://127.0.0.1:${redirectingPort}/zuora/callout`, 'A-S00000009'], basic.io),
    ).not.toBe(0);
    expect(basic.stderr()).toContain(location);
    expect(seenElsewhere).toEqual([]);
  });

  it('an answer carrying control characters and line breaks is printed on its one line, escaped', async () => {
    const hostile = createServer((_request, response) =>
      response
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('denied\n\x1b[32mcallout (header) to https://x: HTTP 200, accepted\u009b0m\u202e'),
    );
    servers.push(hostile);
    const port = await listen(hostile, 0, '127.0.0.1', 'PORT');
    const cli = captureIo(HEADER_ENV);
    expect(await runCli(['callout', '--url', `http://127.0.0.1:${port}/zuora/callout`, 'A-S00000010'], cli.io)).toBe(1);
    expect(cli.stdout()).toContain(
      'response: denied\\u000a\\u001b[32mcallout (header) to https://x: HTTP 200, accepted\\u009b0m\\u202e\n',
    );
    expect(
      cli
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('callout (')),
    ).toEqual([`callout (header) to http://127.0.0.1:${port}/zuora/callout: HTTP 400, NOT accepted`]);
  });

  it('names the flag or variable at fault when the credentials are incomplete', async () => {
    const cli = captureIo({});
    expect(
      await runCli(
        ['callout', '--url', 'http://127.0.0.1:1/zuora/callout', '--auth', 'basic', '--username', 'zuora', 'A-S1'],
        cli.io,
      ),
    ).toBe(2);
    expect(cli.stderr()).toContain('error: --password (or CALLOUT_PASSWORD): is required but not set');

    const noIds = captureIo(HEADER_ENV);
    expect(await runCli(['callout', '--url', 'http://127.0.0.1:1/zuora/callout'], noIds.io)).toBe(2);
    expect(noIds.stderr()).toContain('error: ID: name at least one subscription');

    const badHeader = captureIo(HMAC_TIMESTAMPED_ENV);
    expect(
      await runCli(
        ['callout', '--url', 'http://127.0.0.1:1/zuora/callout', '--header', 'no colon here', 'A-S1'],
        badHeader.io,
      ),
    ).toBe(2);
    expect(badHeader.stderr()).toContain('error: --header: expected "Name: value"');
  });
});
