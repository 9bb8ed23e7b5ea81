import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { npmStartNodeArgs } from './npm-start-command';

// `npm start`'s entry as a user runs it: a real process, its printed curl, Ctrl-C.

const ROOT = path.join(__dirname, '..', '..');

interface Started {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first stdout line matching, or rejects when the process exits first. */
  lineMatching(pattern: RegExp): Promise<string>;
  exited: Promise<number | null>;
}

function startMain(env: Record<string, string>, args: string[] = []): Started {
  const child = spawn(process.execPath, [...npmStartNodeArgs(), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      SQS_PORT: '0',
      LIMIO_SANDBOX_PORT: '0',
      DYNAMODB_PORT: '0',
      ZUORA_SANDBOX_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as in a terminal: Ctrl-C reaches every process of the group (tsx and the runtime).
    detached: true,
  });
  const stdout: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout,
    stderr: () => stderr,
    exited,
    lineMatching(pattern) {
      const seen = stdout.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        exited.then((code) => {
          throw new Error(`exited with ${code} before printing ${pattern}: ${stdout.join('\n')}\n${stderr}`);
        }),
      ]);
    },
  };
}

/** Reads the parts of the printed curl a test needs: -u user:password and the URL. */
function parseCurl(line: string): { username: string; password: string; url: string; body: string } {
  const credentials = /-u '([^':]+):([^']+)'/.exec(line);
  const body = /-d '([^']+)'/.exec(line);
  const url = /(http:\/\/127\.0\.0\.1:\d+\/zuora\/callout)\s*$/.exec(line);
  if (!credentials || !body || !url) throw new Error(`unexpected curl line: ${line}`);
  return { username: credentials[1], password: credentials[2], body: body[1], url: url[1] };
}

describe('npm start (local/main.ts)', () => {
  let running: Started | undefined;
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      process.kill(-running.child.pid!, 'SIGKILL');
      await running.exited;
    }
    running = undefined;
  });

  it('prints a working curl and a ready line, one line per sync, and a summary on Ctrl-C', async () => {
    running = startMain({ SYNC_BATCHING_WINDOW_SECONDS: '0' });
    const ready = await running.lineMatching(/^Ready: callouts to /);
    const curl = parseCurl(await running.lineMatching(/^\s+curl /));
    expect(ready).toContain(curl.url);

    // What `curl -u` sends: Basic credentials on the first request.
    const response = await fetch(curl.url, {
      method: 'POST',
      body: curl.body,
      headers: {
        authorization: `Basic ${Buffer.from(`${curl.username}:${curl.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    const synced = await running.lineMatching(/^synced\s/);
    expect(synced).toMatch(/A-S00000271\s+Limio id \S+, owner \S+\s+\d+ ms/);

    // Ctrl-C in a terminal: SIGINT to the whole process group.
    process.kill(-running.child.pid!, 'SIGINT');
    expect(await running.exited).toBe(0);
    const summary = running.stdout.find((line) => line.startsWith('Stopped.'));
    expect(summary).toMatch(/1 accepted .*1 synced.*left on the main queue 0, in the DLQ 0/);
    // Human mode: the handlers' JSON logs stay quiet, and no token or Authorization value is printed.
    const everything = `${running.stdout.join('\n')}\n${running.stderr()}`;
    expect(everything).not.toMatch(/"level"/);
    expect(everything).not.toMatch(/Bearer|access_token|authorization/i);
  });

  it('stops within seconds with a sweep under way, and does not count the run it cut short as a failed sweep', async () => {
    // Every Zuora query takes 20 s: the first sweep (after 1 s) is still reading when Ctrl-C comes.
    running = startMain({ SWEEP_INTERVAL_SECONDS: '1', ZUORA_SANDBOX_LATENCY_MS: '20000' });
    await running.lineMatching(/^Ready: /);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const signalledAt = Date.now();
    process.kill(-running.child.pid!, 'SIGINT');
    expect(await running.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(8_000);
    expect(running.stdout.find((line) => line.startsWith('Stopped.'))).toMatch(/sweeps: 0 \(0 failed\)/);
    expect(running.stderr()).not.toMatch(/sweep failed/);
  });

  it("--json prints structured lines: a ready record with the callout URL, the handlers' logs, and a stopped record", async () => {
    running = startMain(
      { SYNC_BATCHING_WINDOW_SECONDS: '0', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'json-mode-password' },
      ['--json'],
    );
    const ready = JSON.parse(await running.lineMatching(/"message":"ready"/)) as { calloutUrl: string; curl: string };
    // The user's own password is never printed, not even in the curl.
    expect(ready.curl).toContain("'zuora:<CALLOUT_PASSWORD>'");
    const response = await fetch(ready.calloutUrl, {
      method: 'POST',
      body: '{"subscriptionNumber":"A-S00000271"}',
      headers: {
        authorization: `Basic ${Buffer.from('zuora:json-mode-password').toString('base64')}`,
        'content-type': 'application/json',
      },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    await running.lineMatching(/"message":"subscription synced"/);
    process.kill(-running.child.pid!, 'SIGTERM');
    expect(await running.exited).toBe(0);
    const jsonLines = running.stdout.filter((line) => line.startsWith('{'));
    expect(jsonLines.length).toBe(running.stdout.length);
    expect(JSON.parse(running.stdout.at(-1)!)).toMatchObject({ message: 'stopped', synced: 1 });
    expect(running.stdout.join('\n')).not.toContain('json-mode-password');
    expect(running.stdout.join('\n')).not.toMatch(/Bearer /);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be a whole number/],
    [{ API_KIND: 'graphql' }, /API_KIND: must be one of rest, http/],
    [{ LIMIO_SANDBOX_502_RATE: '2' }, /LIMIO_SANDBOX_502_RATE: must be a share between 0 and 1/],
    [
      { LIMIO_BASE_URL: 'http://limio.example.com', LIMIO_CLIENT_ID: 'a', LIMIO_CLIENT_SECRET: 'b' },
      /LIMIO_BASE_URL: must use https:\/\//,
    ],
    [{ CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora' }, /CALLOUT_PASSWORD: is required/],
  ])('exits 2 naming the variable for %j', async (env, message) => {
    running = startMain(env);
    expect(await running.exited).toBe(2);
    expect(running.stderr()).toMatch(message);
  });
});
