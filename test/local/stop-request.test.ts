import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { isUnderTsxCli, withoutTsxPreflight } from '../../local/outside-tsx-relay';
import {
  REPEAT_WINDOW_MS,
  decideSignal,
  findNpmLaunchers,
  isNpmProcess,
  watchStopRequests,
  type ProcessInfo,
  type StopRequest,
} from '../../local/stop-request';

describe('stop request decisions', () => {
  it('takes the first signal as the stop, repeats within the window as the same request, a late Ctrl-C as "now"', () => {
    expect(decideSignal('SIGTERM', undefined, 5_000)).toBe('stop');
    expect(decideSignal('SIGHUP', undefined, 5_000)).toBe('stop');
    // npm and tsx relay the group's signal a few milliseconds later.
    expect(decideSignal('SIGINT', 5_000, 5_030)).toBe('same-request');
    expect(decideSignal('SIGTERM', 5_000, 5_030)).toBe('same-request');
    expect(decideSignal('SIGINT', 5_000, 5_000 + REPEAT_WINDOW_MS)).toBe('stop-now');
    // A supervisor repeating SIGTERM still gets the clean stop.
    expect(decideSignal('SIGTERM', 5_000, 60_000)).toBe('same-request');
  });

  it.each([
    ['npm start', true],
    ['npm run start', true],
    ['node /usr/lib/node_modules/npm/bin/npm-cli.js start', true],
    ['/usr/local/bin/npm start', true],
    ['sh -c tsx local/main.ts', false],
    ['node /work/main/node_modules/.bin/tsx local/main.ts', false],
    ['npx tsx local/main.ts', false],
    ['-bash', false],
  ])('recognises %j as npm: %s', (args, npm) => {
    expect(isNpmProcess(args)).toBe(npm);
  });

  it('finds the launchers from the parent up to npm, and none when npm is not among the first few', async () => {
    const table = new Map<number, ProcessInfo>([
      [40, { ppid: 30, args: 'node /repo/node_modules/.bin/tsx local/main.ts' }],
      [30, { ppid: 20, args: 'sh -c tsx local/main.ts' }],
      [20, { ppid: 10, args: 'npm start' }],
      [10, { ppid: 1, args: '-bash' }],
    ]);
    const read = async (pid: number) => table.get(pid);
    expect(await findNpmLaunchers(40, read)).toEqual([40, 30, 20]);
    // Run without npm (tsx by hand, a test): signals alone apply.
    expect(await findNpmLaunchers(10, read)).toEqual([]);
    expect(await findNpmLaunchers(40, read, 2)).toEqual([]);
    expect(await findNpmLaunchers(99, read)).toEqual([]);
  });
});

describe('watchStopRequests', () => {
  function harness(launchers: number[] = []) {
    const signals = new EventEmitter();
    let now = 1_000;
    const alive = new Set(launchers);
    const stopNow: number[] = [];
    let request: StopRequest | undefined;
    const { requested: first } = watchStopRequests({
      signals: signals as never,
      launchers,
      onStopNow: () => stopNow.push(now),
      now: () => now,
      alive: (pid) => alive.has(pid),
      pollMs: 5,
    });
    const requested = first.then((r) => (request = r));
    return {
      signals,
      alive,
      stopNow,
      requested,
      request: () => request,
      advance: (ms: number) => (now += ms),
    };
  }

  it('resolves with the first signal and keeps listening, so a relayed copy is never met by the default action', async () => {
    const h = harness();
    h.signals.emit('SIGINT');
    await h.requested;
    expect(h.request()).toEqual({ signal: 'SIGINT' });
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) expect(h.signals.listenerCount(signal)).toBe(1);
    h.advance(30);
    h.signals.emit('SIGINT');
    h.signals.emit('SIGTERM');
    expect(h.stopNow).toEqual([]);
    h.advance(REPEAT_WINDOW_MS);
    h.signals.emit('SIGINT');
    expect(h.stopNow).toHaveLength(1);
  });

  it('resolves when a launching process is gone (npm killed, its sh -c died without passing the signal on)', async () => {
    const h = harness([30, 20]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(h.request()).toBeUndefined();
    h.alive.delete(20);
    await h.requested;
    expect(h.request()).toEqual({ launcherGone: 20 });
  });
});

describe("the runtime outside tsx's signal relay", () => {
  const underTsx = [
    '--require',
    '/repo/node_modules/tsx/dist/preflight.cjs',
    '--import',
    'file:///repo/node_modules/tsx/dist/loader.mjs',
  ];

  it("knows the tsx CLI's child by its preflight module, and keeps only the loader for the runtime", () => {
    expect(isUnderTsxCli(underTsx)).toBe(true);
    expect(isUnderTsxCli(['--require=/repo/node_modules/tsx/dist/preflight.cjs'])).toBe(true);
    // `node --import tsx local/main.ts` has no relay to escape.
    expect(isUnderTsxCli(['--import', 'tsx'])).toBe(false);
    expect(isUnderTsxCli([])).toBe(false);
    expect(withoutTsxPreflight(underTsx)).toEqual(['--import', 'file:///repo/node_modules/tsx/dist/loader.mjs']);
    expect(
      withoutTsxPreflight(['--require=/repo/node_modules/tsx/dist/preflight.cjs', '--enable-source-maps']),
    ).toEqual(['--enable-source-maps']);
  });

  it('stops when the lifeline from the waiter ends, however the waiter ended', async () => {
    const lifeline = new PassThrough();
    const { requested } = watchStopRequests({
      signals: new EventEmitter() as never,
      lifeline,
      lifelinePid: 4242,
      onStopNow: () => undefined,
    });
    lifeline.end();
    expect(await requested).toEqual({ launcherGone: 4242 });
    // Read no further: an open stdin being read would keep the stopped runtime alive.
    expect(lifeline.destroyed).toBe(true);
  });

  it('lets a runtime that could not start go: release stops reading the lifeline', () => {
    const lifeline = new PassThrough();
    const { release } = watchStopRequests({
      signals: new EventEmitter() as never,
      lifeline,
      onStopNow: () => undefined,
    });
    expect(lifeline.destroyed).toBe(false);
    release();
    expect(lifeline.destroyed).toBe(true);
  });
});
