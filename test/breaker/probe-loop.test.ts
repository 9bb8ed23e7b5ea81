import { startProbeLoop } from '../../functions/breaker/probe-loop';

describe('the local probe loop', () => {
  it('never overlaps runs and folds triggers that arrive during a run into one more run', async () => {
    let active = 0;
    let maxActive = 0;
    let release: (() => void) | undefined;
    const loop = startProbeLoop({
      intervalSeconds: 3600,
      run: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((resolve) => (release = resolve));
        active -= 1;
      },
    });
    const first = loop.trigger();
    await new Promise((resolve) => setImmediate(resolve));
    const second = loop.trigger();
    const third = loop.trigger();
    expect(second).toBe(third);
    release!();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release!();
    await second;
    expect(loop.runs).toBe(2);
    expect(maxActive).toBe(1);
    await loop.stop();
  });

  it('runs on its interval, reports failures and goes on, and stops cleanly', async () => {
    const errors: string[] = [];
    let runs = 0;
    let twice: () => void;
    const ranTwice = new Promise<void>((resolve) => (twice = resolve));
    const loop = startProbeLoop({
      intervalSeconds: 1,
      run: async () => {
        runs += 1;
        if (runs === 2) twice();
        throw new Error(`probe ${runs} failed`);
      },
      onError: (error) => errors.push((error as Error).message),
    });
    await ranTwice;
    await loop.stop();
    const after = runs;
    await loop.trigger();
    expect(runs).toBe(after);
    expect(errors.slice(0, 2)).toEqual(['probe 1 failed', 'probe 2 failed']);
  });
});
