import { createLimiter } from '../../functions/sync/concurrency';

describe('createLimiter', () => {
  it('never runs more than the limit, hands freed slots on in arrival order, and runs everything', async () => {
    const limit = createLimiter(2);
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const gates: Array<() => void> = [];
    const results = Array.from({ length: 6 }, (_, n) =>
      limit(async () => {
        started.push(n);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running -= 1;
        return n * 10;
      }),
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect(started).toEqual([0, 1]);
    gates.shift()!();
    // A newcomer queues behind those already waiting, even though a slot has just been freed.
    results.push(limit(async () => (started.push(99), 990)));
    await settle();
    expect(started).toEqual([0, 1, 2]);
    while (gates.length > 0) {
      gates.shift()!();
      await settle();
    }
    expect(await Promise.all(results)).toEqual([0, 10, 20, 30, 40, 50, 990]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 99]);
    expect(maxRunning).toBe(2);
  });

  it('frees the slot when a task fails', async () => {
    const limit = createLimiter(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit(async () => 'next')).resolves.toBe('next');
  });

  it('refuses a limit below one', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
});
