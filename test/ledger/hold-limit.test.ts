import type { SubscriptionPlan } from '../../functions/ledger/batch-plan';
import { ledgerHoldReceiveLimit, releaseHoldsPastReceiveLimit } from '../../functions/ledger/hold-limit';

interface Message {
  readonly id: string;
  readonly receiveCount: number;
}

const hold = { kind: 'hold', untilMs: 5_000, reason: 'cooldown' } as const;
const plan = (held: Message[], syncNow: Message[] = [], covered: Message[] = []): SubscriptionPlan<Message> => ({
  subscriptionId: 'A-S1',
  covered,
  held: held.map((message) => ({ message, fate: hold })),
  syncNow,
  ...(syncNow.length > 0 && { claim: { expectedLastSuccessStartedAt: 1 } }),
});

describe('ledger holds and MAX_ATTEMPTS', () => {
  it('lets holds spend a quarter of MAX_ATTEMPTS: 100 of the default 400, and none at all below 4', () => {
    expect(ledgerHoldReceiveLimit(400)).toBe(100);
    expect(ledgerHoldReceiveLimit(8)).toBe(2);
    expect(ledgerHoldReceiveLimit(3)).toBe(0);
  });

  it('keeps a plan whose waiting messages are below the limit', () => {
    const original = plan([
      { id: 'a', receiveCount: 1 },
      { id: 'b', receiveCount: 99 },
    ]);
    expect(releaseHoldsPastReceiveLimit(original, (message) => message.receiveCount, 100)).toBe(original);
  });

  it('syncs all waiting messages now, without a claim, once one of them reached the limit; covered ones stay covered', () => {
    const covered = [{ id: 'c', receiveCount: 300 }];
    const released = releaseHoldsPastReceiveLimit(
      plan(
        [
          { id: 'a', receiveCount: 1 },
          { id: 'b', receiveCount: 100 },
        ],
        [],
        covered,
      ),
      (message) => message.receiveCount,
      100,
    );
    expect(released).toEqual({
      subscriptionId: 'A-S1',
      covered,
      held: [],
      syncNow: [
        { id: 'a', receiveCount: 1 },
        { id: 'b', receiveCount: 100 },
      ],
    });
  });

  it('drops the claim of a sync-now plan past the limit, so a refused claim cannot hold it again', () => {
    const released = releaseHoldsPastReceiveLimit(
      plan([], [{ id: 'a', receiveCount: 150 }]),
      (message) => message.receiveCount,
      100,
    );
    expect(released.claim).toBeUndefined();
    expect(released.syncNow).toEqual([{ id: 'a', receiveCount: 150 }]);
  });
});
