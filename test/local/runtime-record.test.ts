import { EXIT } from '../../cli/command';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../cli/main';
import type { Runtime } from '../../local/runtime';
import {
  findRuntimeRecord,
  parseRecord,
  recordOf,
  removeRuntimeRecord,
  runtimeRecordPath,
  writeRuntimeRecord,
  type RuntimeRecord,
} from '../../local/runtime-record';
import { captureIo } from '../cli/queues';
import { recorder, start, type Recorder } from './runtime-harness';

// The CLI's --local finds a runtime on ephemeral ports by the record it wrote, with no port variable: the runtime
// is real (production handlers, emulators, sandboxes), the CLI runs in-process as an operator's command would.

/** A pid that no process has any more: a node that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** A port nothing listens on (taken and released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the runtime record and --local', () => {
  let dir: string;
  let file: string;
  let runtime: Runtime;
  let rec: Recorder;
  let record: RuntimeRecord;
  /** The environment of an operator's shell that sets nothing but where the record is. */
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'zls-record-'));
    file = path.join(dir, 'run', 'runtime.json');
    env = { ZLS_RUNTIME_RECORD: file };
    rec = recorder();
    runtime = await start({ SYNC_BATCHING_WINDOW_SECONDS: '0' }, rec);
    record = recordOf(runtime, process.pid, new Date());
    writeRuntimeRecord(file, record);
  });
  afterAll(async () => {
    await runtime?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is written owner-only (0600) in a directory only its owner can enter, and holds the generated password', () => {
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const written = JSON.parse(readFileSync(file, 'utf8')) as RuntimeRecord;
    if (runtime.config.callout.mode !== 'basic') throw new Error('expected the generated Basic credentials');
    expect(written.calloutAuth).toEqual({
      CALLOUT_AUTH_MODE: 'basic',
      CALLOUT_USERNAME: 'zuora',
      CALLOUT_PASSWORD: runtime.config.callout.password,
    });
    expect(written.ports.callout).toBe(Number(new URL(runtime.calloutUrl).port));
    expect(written.queues.deadLetter).toBe(runtime.queues.deadLetterQueueUrl);
  });

  it('callout --local signs with the generated password, no --auth or variable needed, and the id is synced', async () => {
    const cli = captureIo(env);
    expect(await runCli(['callout', '--local', 'A-S00000271'], cli.io)).toBe(0);
    expect(cli.stdout()).toContain(`callout (basic) to ${runtime.calloutUrl}: HTTP 200, accepted`);
    expect(cli.stdout()).toContain('challenge: 401');
    await rec.waitFor('A-S00000271', 'synced');
    if (runtime.config.callout.mode === 'basic')
      expect(cli.stdout() + cli.stderr()).not.toContain(runtime.config.callout.password);
  });

  it('status, dlq list, trace and sweep --local find every part by the record', async () => {
    const status = captureIo(env);
    expect(await runCli(['status', '--local', '--json'], status.io)).toBe(0);
    expect(JSON.parse(status.stdout())).toMatchObject({ breaker: { state: 'closed' } });

    const list = captureIo(env);
    expect(await runCli(['dlq', 'list', '--local'], list.io)).toBe(0);
    expect(list.stderr()).toBe('');

    await rec.waitFor('A-S00000271', 'synced');
    const trace = captureIo(env);
    expect(await runCli(['trace', '--local', 'A-S00000271'], trace.io)).toBe(0);
    expect(trace.stdout()).toMatch(/verdict: synced/);
    expect(trace.stdout()).toContain(`found by ${file}`);

    // The Zuora sandbox on its ephemeral port, signed in with its fixed client.
    const sweep = captureIo(env);
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    expect(await runCli(['sweep', '--local', '--since', since, '--dry-run'], sweep.io)).toBe(0);
    expect(sweep.stdout()).toContain(runtime.zuoraBaseUrl);
  });

  it('variables still go over the record', async () => {
    const port = await closedPort();
    const cli = captureIo({ ...env, SQS_PORT: String(port) });
    expect(await runCli(['dlq', 'list', '--local'], cli.io)).toBe(EXIT.unreachable);
    expect(cli.stderr()).toContain(`cannot reach the local runtime's SQS emulator at http://127.0.0.1:${port}`);

    // A mode of the operator's own: the recorded Basic settings are not mixed in, so the header check refuses it.
    const header = captureIo({
      ...env,
      CALLOUT_AUTH_MODE: 'header',
      CALLOUT_HEADER_NAME: 'x-token',
      CALLOUT_HEADER_VALUE: 'mine',
    });
    expect(await runCli(['callout', '--local', 'A-S00000272'], header.io)).toBe(1);
    expect(header.stdout()).toMatch(/callout \(header\) .*HTTP 401, NOT accepted/);
  });

  it('sweep --local against a runtime that sweeps a Zuora tenant: the tenant from the record, its credentials from the user', async () => {
    const tenantFile = path.join(dir, 'tenant', 'runtime.json');
    const { zuoraSandbox: _sandbox, ...ports } = record.ports;
    writeRuntimeRecord(tenantFile, { ...record, ports, zuoraBaseUrl: 'https://rest.test.zuora.example' });
    const cli = captureIo({ ZLS_RUNTIME_RECORD: tenantFile });
    expect(
      await runCli(['sweep', '--local', '--since', new Date(Date.now() - 60_000).toISOString(), '--dry-run'], cli.io),
    ).toBe(2);
    expect(cli.stderr()).toContain('no credentials for https://rest.test.zuora.example');
  });

  it('without a record, callout --local names the missing credential and the record it looked for', async () => {
    const cli = captureIo({ ZLS_RUNTIME_RECORD: path.join(dir, 'none', 'runtime.json') });
    expect(await runCli(['callout', '--local', 'A-S1'], cli.io)).toBe(2);
    expect(cli.stderr()).toMatch(/CALLOUT_AUTH_MODE.*no runtime record of `npm start` gave its callout settings/);
  });

  it('a record whose process is gone is reported as stale, naming the file and what to do; variables still work', async () => {
    const staleFile = path.join(dir, 'stale', 'runtime.json');
    writeRuntimeRecord(staleFile, { ...record, pid: await deadPid() });
    const cli = captureIo({ ZLS_RUNTIME_RECORD: staleFile });
    expect(await runCli(['status', '--local'], cli.io)).toBe(EXIT.unreachable);
    expect(cli.stderr()).toMatch(
      new RegExp(
        `the runtime record ${staleFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is stale: the process that wrote it \\(pid \\d+, started .*\\) is no longer running`,
      ),
    );
    expect(cli.stderr()).toContain('npm start');
    expect(cli.stderr()).not.toMatch(/ECONNREFUSED/);

    const ports = {
      PORT: String(record.ports.callout),
      SQS_PORT: String(record.ports.sqs),
      DYNAMODB_PORT: String(record.ports.dynamoDb),
    };
    const given = captureIo({ ZLS_RUNTIME_RECORD: staleFile, ...ports });
    expect(await runCli(['status', '--local'], given.io)).toBe(0);
  });

  it('a record whose process runs but nothing answers on its front door is stale too', async () => {
    const staleFile = path.join(dir, 'closed', 'runtime.json');
    writeRuntimeRecord(staleFile, { ...record, ports: { ...record.ports, callout: await closedPort() } });
    expect(await findRuntimeRecord({ ZLS_RUNTIME_RECORD: staleFile })).toMatchObject({
      kind: 'stale',
      reason: expect.stringMatching(/nothing answers on its front door 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/),
    });
    const cli = captureIo({ ZLS_RUNTIME_RECORD: staleFile });
    expect(await runCli(['callout', '--local', 'A-S1'], cli.io)).toBe(EXIT.unreachable);
    expect(cli.stderr()).toMatch(/is stale: nothing answers on its front door/);
  });

  it('a record that points off this machine, or is not a record, is refused rather than followed', async () => {
    expect(parseRecord(JSON.stringify({ ...record, host: '10.0.0.5' }))).toMatch(/not on this machine/);
    expect(parseRecord(JSON.stringify({ ...record, ports: { ...record.ports, sqs: 70_000 } }))).toMatch(/port sqs/);
    expect(parseRecord('{')).toBe('not JSON');
    const badFile = path.join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ ...record, host: '10.0.0.5' }));
    const cli = captureIo({ ZLS_RUNTIME_RECORD: badFile });
    expect(await runCli(['callout', '--local', 'A-S1'], cli.io)).toBe(2);
    expect(cli.stderr()).toMatch(/cannot be read: host 10\.0\.0\.5 is not on this machine/);
  });

  it('is not written into a directory others can write to, and is removed only by the runtime that wrote it', () => {
    const shared = path.join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(() => writeRuntimeRecord(path.join(shared, 'runtime.json'), record)).toThrow(
      /can be written by other users/,
    );

    const own = path.join(dir, 'own', 'runtime.json');
    writeRuntimeRecord(own, record);
    expect(removeRuntimeRecord(own, { pid: record.pid, startedAt: '2000-01-01T00:00:00.000Z' })).toBe(false);
    expect(removeRuntimeRecord(own, record)).toBe(true);
    expect(() => statSync(own)).toThrow();
  });

  it('lives in $XDG_RUNTIME_DIR when set, else in a directory of this user in the temporary directory', () => {
    expect(runtimeRecordPath({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(
      '/run/user/1000/zuora-limio-sync/runtime.json',
    );
    expect(runtimeRecordPath({})).toBe(path.join(tmpdir(), `zuora-limio-sync-${process.getuid!()}`, 'runtime.json'));
    expect(runtimeRecordPath({ ZLS_RUNTIME_RECORD: file, XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(file);
  });
});

describe('callout --local signs as the recorded runtime checks', () => {
  let dir: string;
  let runtime: Runtime | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zls-record-auth-'));
  });
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function startRecorded(env: Record<string, string>, name: string): Promise<string> {
    runtime = await start(env, recorder());
    const file = path.join(dir, name, 'runtime.json');
    writeRuntimeRecord(file, recordOf(runtime, process.pid, new Date()));
    return file;
  }

  it("a header of the user's own: its name comes from the record, its value only from the user's variable", async () => {
    const file = await startRecorded(
      { CALLOUT_AUTH_MODE: 'header', CALLOUT_HEADER_NAME: 'X-Callout-Token', CALLOUT_HEADER_VALUE: 'local-token' },
      'header',
    );
    expect(readFileSync(file, 'utf8')).not.toContain('local-token');
    const withValue = captureIo({ ZLS_RUNTIME_RECORD: file, CALLOUT_HEADER_VALUE: 'local-token' });
    expect(await runCli(['callout', '--local', 'A-S00000271'], withValue.io)).toBe(0);
    expect(withValue.stdout()).toMatch(/callout \(header\) .*HTTP 200, accepted/);

    const without = captureIo({ ZLS_RUNTIME_RECORD: file });
    expect(await runCli(['callout', '--local', 'A-S00000271'], without.io)).toBe(2);
    expect(without.stderr()).toContain('CALLOUT_HEADER_VALUE');
  });

  it('an HTTP API front door, which never challenges: the generated Basic credentials go with the first request', async () => {
    const file = await startRecorded({ API_KIND: 'http' }, 'http');
    const cli = captureIo({ ZLS_RUNTIME_RECORD: file });
    expect(await runCli(['callout', '--local', 'A-S00000271'], cli.io)).toBe(0);
    expect(cli.stdout()).not.toContain('challenge');
    expect(cli.stdout()).toMatch(/callout \(basic\) .*HTTP 200, accepted/);
  });
});
