import { changeTimeToCarry, planAccounts } from '../../functions/callout/account-plan';

describe('planAccounts (issue #22)', () => {
  it('with CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS=ignore, account keys beside subscriptions are context: no fan-out, no warning; accounts alone are still fanned out or refused', () => {
    expect(planAccounts(['A-S1'], ['A1'], 'https://sqs/accounts', 'ignore')).toEqual({ kind: 'none' });
    expect(planAccounts(['A-S1'], ['A1'], undefined, 'ignore')).toEqual({ kind: 'none' });
    expect(planAccounts([], ['A1'], 'https://sqs/accounts', 'ignore')).toEqual({
      kind: 'queue',
      accountQueueUrl: 'https://sqs/accounts',
      accountKeys: ['A1'],
    });
    expect(planAccounts([], ['A1'], undefined, 'ignore')).toMatchObject({ kind: 'refuse' });
    expect(planAccounts(['A-S1'], ['A1'], 'https://sqs/accounts', 'fan-out')).toMatchObject({ kind: 'queue' });
  });

  it('queues account keys on the fan-out queue when there is one', () => {
    expect(planAccounts(['A-S1'], ['A1'], 'https://sqs/accounts')).toEqual({
      kind: 'queue',
      accountQueueUrl: 'https://sqs/accounts',
      accountKeys: ['A1'],
    });
    expect(planAccounts(['A-S1'], [], undefined)).toEqual({ kind: 'none' });
  });

  it('without one, refuses accounts alone and ignores accounts beside subscriptions, naming at most five keys', () => {
    expect(planAccounts([], ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7'], undefined)).toEqual({
      kind: 'refuse',
      message: expect.stringMatching(
        /^callout names only accounts \(A1, A2, A3, A4, A5, and 2 more\): this bridge has no Zuora connection/,
      ),
    });
    expect(planAccounts(['A-S1'], ['A1'], undefined)).toEqual({
      kind: 'ignore',
      accountKeys: ['A1'],
      why: expect.stringMatching(/^account keys ignored: /),
    });
  });
});

describe('changeTimeToCarry (issue #22)', () => {
  const arrival = new Date('2026-11-25T10:00:00.000Z');
  it('carries a change time up to the arrival, and leaves out a later one', () => {
    expect(changeTimeToCarry('2026-11-25T09:59:58.000Z', arrival)).toBe('2026-11-25T09:59:58.000Z');
    expect(changeTimeToCarry('2026-11-25T10:00:00.000Z', arrival)).toBe('2026-11-25T10:00:00.000Z');
    expect(changeTimeToCarry('2026-11-25T10:00:00.001Z', arrival)).toBeUndefined();
    expect(changeTimeToCarry(undefined, arrival)).toBeUndefined();
  });
});
