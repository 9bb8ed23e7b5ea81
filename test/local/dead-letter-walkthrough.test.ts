import { EXIT } from '../../cli/command';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { runCli } from '../../cli/main';
import type { RuntimeRecord } from '../../local/runtime-record';
import { captureIo } from '../cli/queues';
import { npmStartNodeArgs } from './npm-start-command';

// The walkthrough of docs/running-locally.md, as a user runs it: `npm start` on ephemeral ports in a process of its
// own, Limio's 404 for one subscription set and cleared through the sandbox's control endpoint while it runs, and
// the CLI's --local commands with no port or credential variable, found by the runtime record alone.

const ROOT = path.join(__dirname, '..', '..');

jest.setTimeout(90_000);

describe('make a dead letter, fix Limio, replay it, trace it', () => {
  let child: ChildProcess | undefined;
  let dir: string;
  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks with --local finding everything by the record, which a clean stop removes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'zls-walk-'));
    const file = path.join(dir, 'runtime.json');
    const ephemeral = {
      PORT: '0',
      SQS_PORT: '0',
      LIMIO_SANDBOX_PORT: '0',
      DYNAMODB_PORT: '0',
      ZUORA_SANDBOX_PORT: '0',
    };
    child = spawn(process.execPath, npmStartNodeArgs(), {
      cwd: ROOT,
      env: { ...process.env, ...ephemeral, SYNC_BATCHING_WINDOW_SECONDS: '0', ZLS_RUNTIME_RECORD: file },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      for (const waiter of waiters.splice(0)) waiter.pattern.test(line) ? waiter.resolve(line) : waiters.push(waiter);
    });
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const line = (pattern: RegExp) =>
      lines.find((seen) => pattern.test(seen)) ??
      Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        exited.then(() =>
          Promise.reject(new Error(`npm start ended before printing ${pattern}:\n${lines.join('\n')}`)),
        ),
      ]);
    await line(/^Ready: /);
    expect(lines.join('\n')).toContain(`Runtime record ${file}`);
    const record = require(file) as RuntimeRecord;
    const faults = `http://127.0.0.1:${record.ports.callout}/_local/limio/faults`;
    // Only where the record is: no PORT, SQS_PORT, DYNAMODB_PORT nor CALLOUT_* variable.
    const env = { ZLS_RUNTIME_RECORD: file };
    const setFaults = async (body: unknown) => {
      const response = await fetch(faults, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
      return response.json();
    };

    // 1. Limio answers 404 for one subscription: a terminal failure, dead-lettered at the first attempt.
    expect(await setFaults({ notFoundIds: ['A-S00000500'] })).toMatchObject({ notFoundIds: ['A-S00000500'] });
    await line(/^limio .*sandbox now: 404 for A-S00000500/);
    const callout = captureIo(env);
    expect(await runCli(['callout', '--local', 'A-S00000500'], callout.io)).toBe(0);
    expect(await line(/^dead letter\s+A-S00000500/)).toMatch(/terminal: 404/);

    const list = captureIo(env);
    expect(await runCli(['dlq', 'list', '--local'], list.io)).toBe(0);
    expect(list.stdout()).toMatch(/A-S00000500\s+terminal\s+404\s+1\s/);

    // 2. Limio fixed: the 404 cleared while the runtime runs, its queues intact.
    expect(await setFaults({ notFoundIds: [] })).toMatchObject({ notFoundIds: [] });

    // 3. Replayed, and synced this time.
    const replay = captureIo(env);
    expect(await runCli(['dlq', 'replay', '--local'], replay.io)).toBe(0);
    expect(replay.stdout()).toMatch(/replayed: 1/);
    expect(await line(/^synced\s+A-S00000500/)).toMatch(/Limio id \S+/);

    // 4. Traced: synced, and no letter left.
    const trace = captureIo(env);
    expect(await runCli(['trace', '--local', 'A-S00000500'], trace.io)).toBe(0);
    expect(trace.stdout()).toMatch(/verdict: synced/);
    expect(trace.stdout()).toMatch(/dead letters: none for A-S00000500/);

    // A clean stop removes the record; the CLI then says no runtime record is there.
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(lines.find((seen) => seen.startsWith('Stopped.'))).toMatch(/1 synced.*1 dead-lettered/);
    const after = captureIo({ ...env, SQS_PORT: String(record.ports.sqs) });
    expect(await runCli(['dlq', 'list', '--local'], after.io)).toBe(EXIT.unreachable);
    expect(after.stderr()).toContain(`no runtime record at ${file}`);
  });
});
