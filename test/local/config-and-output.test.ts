import type { SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { loadRuntimeConfig } from '../../local/config';
import type { SweepReport } from '../../functions/sweep/sweep';
import {
  breakerLine,
  countArrivals,
  countSweep,
  emptyTally,
  countSync,
  limioCapacityCurl,
  limioCapacityLine,
  limioLimitLine,
  sampleCurl,
  summaryLine,
  sweepLine,
  syncLine,
  touchCurl,
} from '../../local/output';
import type { LimitChange } from '../../functions/sync/adaptive-limit';
import { throttleLimitChanges } from '../../local/limit-change-lines';

describe('loadRuntimeConfig', () => {
  it("defaults to the documented ports, a REST front door and the stack's batching", () => {
    const config = loadRuntimeConfig({});
    expect(config).toMatchObject({ port: 3000, sqsPort: 9324, apiKind: 'rest', maxReceiveCount: 401 });
    expect(config.limio).toMatchObject({ kind: 'sandbox', port: 4010 });
    expect(config.poller).toEqual({ batchSize: 10, batchingWindowSeconds: 0, concurrency: 2 });
  });

  it('runs the DynamoDB emulator on 8000 and sweeps the Zuora sandbox on 4020 with the fixed local client, every minute, 30 s settle', () => {
    const config = loadRuntimeConfig({});
    expect(config.dynamoDbPort).toBe(8000);
    expect(config.zuora).toEqual({
      kind: 'sandbox',
      port: 4020,
      clientId: 'local-zuora-client',
      clientSecret: 'local-zuora-secret',
      faults: { rate429: 0, rate500: 0, latencyMs: 0 },
    });
    expect(config.sweepIntervalSeconds).toBe(60);
    expect(config.handlerEnv.SWEEP_SETTLE_SECONDS).toBe('30');
    // The sandbox commits a change the instant it stamps it: a second of commit lag, not a real tenant's minute.
    expect(config.handlerEnv.SWEEP_COMMIT_LAG_SECONDS).toBe('1');
  });

  it('takes sweep settings, sandbox faults and ports from the environment; an interval under a minute is fine locally', () => {
    const config = loadRuntimeConfig({
      DYNAMODB_PORT: '0',
      ZUORA_SANDBOX_PORT: '0',
      SWEEP_INTERVAL_SECONDS: '2',
      SWEEP_SETTLE_SECONDS: '5',
      ZUORA_SANDBOX_429_RATE: '0.25',
      ZUORA_ENTITY_ID: 'entity-1',
    });
    expect(config).toMatchObject({
      dynamoDbPort: 0,
      sweepIntervalSeconds: 2,
      zuora: { kind: 'sandbox', port: 0, entityId: 'entity-1', faults: { rate429: 0.25 } },
    });
    expect(config.handlerEnv.SWEEP_SETTLE_SECONDS).toBe('5');
  });

  it('sweeps a real Zuora tenant with its client credentials', () => {
    const config = loadRuntimeConfig({
      ZUORA_BASE_URL: 'https://rest.apisandbox.zuora.com/',
      ZUORA_CLIENT_ID: 'id',
      ZUORA_CLIENT_SECRET: 'secret',
    });
    expect(config.zuora).toEqual({
      kind: 'tenant',
      baseUrl: 'https://rest.apisandbox.zuora.com',
      clientId: 'id',
      clientSecret: 'secret',
    });
    expect(config.handlerEnv.SWEEP_COMMIT_LAG_SECONDS).toBeUndefined();
  });

  it('generates Basic credentials when no callout auth is set, and hands them to the callout handler', () => {
    const first = loadRuntimeConfig({});
    const second = loadRuntimeConfig({});
    expect(first.callout).toMatchObject({ mode: 'basic', username: 'zuora', generated: true });
    if (first.callout.mode !== 'basic' || second.callout.mode !== 'basic') throw new Error('expected Basic');
    expect(first.callout.password).not.toBe(second.callout.password);
    expect(first.callout.password.length).toBeGreaterThanOrEqual(16);
    expect(first.handlerEnv).toMatchObject({
      CALLOUT_AUTH_MODE: 'basic',
      CALLOUT_USERNAME: 'zuora',
      CALLOUT_PASSWORD: first.callout.password,
    });
  });

  it("takes the user's own Basic credentials without a mode, and passes every other variable to the handlers", () => {
    const config = loadRuntimeConfig({ CALLOUT_USERNAME: 'me', CALLOUT_PASSWORD: 'mine', BACKOFF_BASE_SECONDS: '2' });
    expect(config.callout).toEqual({ mode: 'basic', username: 'me', password: 'mine', generated: false });
    expect(config.handlerEnv).toMatchObject({ CALLOUT_AUTH_MODE: 'basic', BACKOFF_BASE_SECONDS: '2' });
  });

  it('reads sandbox faults', () => {
    const config = loadRuntimeConfig({
      LIMIO_SANDBOX_502_RATE: '0.2',
      LIMIO_SANDBOX_429_RATE: '.1',
      LIMIO_SANDBOX_LATENCY_MS: '50',
      LIMIO_SANDBOX_TOKEN_TTL_SECONDS: '5',
    });
    expect(config.limio).toMatchObject({
      kind: 'sandbox',
      faults: { rate502: 0.2, rate429: 0.1, latencyMs: 50, tokenTtlSeconds: 5, hangRate: 0 },
    });
  });

  it('reads the sandbox capacity, unlimited when unset', () => {
    expect(loadRuntimeConfig({ LIMIO_SANDBOX_CAPACITY: '8', LIMIO_SANDBOX_LATENCY_MS: '200' }).limio).toMatchObject({
      kind: 'sandbox',
      capacity: 8,
      faults: { latencyMs: 200 },
    });
    expect(loadRuntimeConfig({}).limio).not.toHaveProperty('capacity');
  });

  it('points at a tenant with its client credentials', () => {
    const config = loadRuntimeConfig({
      LIMIO_BASE_URL: 'https://acme.prod.limio.com/',
      LIMIO_CLIENT_ID: 'id',
      LIMIO_CLIENT_SECRET: 'secret',
    });
    expect(config.limio).toEqual({
      kind: 'tenant',
      baseUrl: 'https://acme.prod.limio.com',
      clientId: 'id',
      clientSecret: 'secret',
    });
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ SQS_PORT: 'x' }, 'SQS_PORT'],
    [{ API_KIND: 'websocket' }, 'API_KIND'],
    [{ LIMIO_SANDBOX_HANG_RATE: '-0.1' }, 'LIMIO_SANDBOX_HANG_RATE'],
    [{ LIMIO_SANDBOX_502_RATE: '0.6', LIMIO_SANDBOX_429_RATE: '0.6' }, 'LIMIO_SANDBOX_502_RATE'],
    [{ LIMIO_BASE_URL: 'https://acme.prod.limio.com' }, 'LIMIO_CLIENT_ID'],
    [{ LIMIO_CLIENT_ID: 'id' }, 'LIMIO_CLIENT_SECRET'],
    [
      {
        LIMIO_BASE_URL: 'https://acme.prod.limio.com',
        LIMIO_CLIENT_ID: 'a',
        LIMIO_CLIENT_SECRET: 'b',
        LIMIO_SANDBOX_502_RATE: '0.1',
      },
      'LIMIO_SANDBOX_502_RATE',
    ],
    [{ LIMIO_SANDBOX_CAPACITY: '0' }, 'LIMIO_SANDBOX_CAPACITY'],
    [{ LIMIO_SANDBOX_CAPACITY: '2.5' }, 'LIMIO_SANDBOX_CAPACITY'],
    [{ LIMIO_SANDBOX_CAPACITY: 'eight' }, 'LIMIO_SANDBOX_CAPACITY'],
    [{ LIMIO_SANDBOX_CAPACITY: '-3' }, 'LIMIO_SANDBOX_CAPACITY'],
    [
      {
        LIMIO_BASE_URL: 'https://acme.prod.limio.com',
        LIMIO_CLIENT_ID: 'a',
        LIMIO_CLIENT_SECRET: 'b',
        LIMIO_SANDBOX_CAPACITY: '8',
      },
      'LIMIO_SANDBOX_CAPACITY',
    ],
    [{ LIMIO_SECRET_ID: 'arn:aws:secretsmanager:x' }, 'LIMIO_SECRET_ID'],
    [{ CALLOUT_AUTH_SECRET_ID: 'arn:aws:secretsmanager:x' }, 'CALLOUT_AUTH_SECRET_ID'],
    [{ SYNC_BATCH_SIZE: '0' }, 'SYNC_BATCH_SIZE'],
    [{ MAX_ATTEMPTS: 'many' }, 'MAX_ATTEMPTS'],
    [{ DYNAMODB_PORT: 'x' }, 'DYNAMODB_PORT'],
    [{ ZUORA_SANDBOX_PORT: '-1' }, 'ZUORA_SANDBOX_PORT'],
    [{ SWEEP_INTERVAL_SECONDS: '0' }, 'SWEEP_INTERVAL_SECONDS'],
    [{ ZUORA_SECRET_ID: 'arn:aws:secretsmanager:x' }, 'ZUORA_SECRET_ID'],
    [{ ZUORA_CLIENT_ID: 'id' }, 'ZUORA_CLIENT_SECRET'],
    [{ ZUORA_BASE_URL: 'https://rest.zuora.com' }, 'ZUORA_CLIENT_ID'],
    [
      {
        ZUORA_BASE_URL: 'https://rest.zuora.com',
        ZUORA_CLIENT_ID: 'a',
        ZUORA_CLIENT_SECRET: 'b',
        ZUORA_SANDBOX_500_RATE: '0.1',
      },
      'ZUORA_SANDBOX_500_RATE',
    ],
    [{ ZUORA_SANDBOX_429_RATE: '0.6', ZUORA_SANDBOX_500_RATE: '0.6' }, 'ZUORA_SANDBOX_429_RATE'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadRuntimeConfig(env)).toThrow(expect.objectContaining({ name: 'ConfigError', variable }));
  });
});

describe('output', () => {
  const url = 'http://127.0.0.1:3000/zuora/callout';

  it('prints generated Basic credentials in a curl that sends them preemptively', () => {
    const curl = sampleCurl(url, { mode: 'basic', username: 'zuora', password: "it's", generated: true });
    expect(curl).toBe(
      `curl -sS -u 'zuora:it'\\''s' -H 'Content-Type: application/json' -d '{"subscriptionNumber":"A-S00000271"}' ${url}`,
    );
  });

  it("never prints the user's own secrets", () => {
    const basic = sampleCurl(url, { mode: 'basic', username: 'me', password: 'my-secret', generated: false });
    const header = sampleCurl(url, { mode: 'header', headerName: 'X-Callout-Token', value: 'header-secret' });
    expect(basic).not.toContain('my-secret');
    expect(basic).toContain("'me:<CALLOUT_PASSWORD>'");
    expect(header).not.toContain('header-secret');
    expect(header).toContain("'X-Callout-Token: <CALLOUT_HEADER_VALUE>'");
  });

  const base: SyncOutcomeEvent = {
    subscriptionId: 'A-S1',
    messageIds: ['m1'],
    outcome: 'synced',
    latencyMs: 12.4,
    attempt: 1,
  };

  it('writes one line per sync outcome with what a person needs', () => {
    expect(syncLine({ ...base, limioId: 'sub-1', owner: 'identity-1', messageIds: ['m1', 'm2'] })).toBe(
      'synced        A-S1  Limio id sub-1, owner identity-1  12 ms (2 messages)',
    );
    expect(
      syncLine({ ...base, outcome: 'retry', httpStatus: 502, error: 'Bad Gateway', attempt: 2, visibilitySeconds: 4 }),
    ).toBe('retrying      A-S1  502 Bad Gateway  attempt 2, retry in 4 s  12 ms');
    expect(
      syncLine({ ...base, outcome: 'dead-lettered', failureClass: 'terminal', httpStatus: 404, error: 'Not Found' }),
    ).toBe('dead letter   A-S1  terminal: 404 Not Found  attempt 1  12 ms');
    // A cooldown hold made no Limio call and failed nothing: held, not retrying.
    const cooldown = 'held: a sync of this subscription started less than SYNC_COOLDOWN_SECONDS ago';
    expect(
      syncLine({ ...base, outcome: 'retry', error: cooldown, latencyMs: 0, visibilitySeconds: 3, heldBy: 'ledger' }),
    ).toBe(`held          A-S1  ${cooldown}, back in 3 s`);
  });

  it('writes one line per breaker phase, saying what happens to syncing', () => {
    const state = {
      state: 'open',
      since: 0,
      reason: "9 of 10 syncs failed on Limio's side, for 9 subscriptions",
      openedBy: 'auto',
      openIntervals: [],
      healthyProbes: 0,
      version: 1,
    } as const;
    expect(breakerLine('opened', state)).toBe(
      "breaker OPEN: 9 of 10 syncs failed on Limio's side, for 9 subscriptions; sync polling paused, messages wait in the queue (zuora-limio-sync breaker close --local resumes)",
    );
    expect(breakerLine('half-open', { ...state, state: 'half-open', reason: 'probe healthy (token in 3 ms)' })).toBe(
      'breaker HALF-OPEN: probe healthy (token in 3 ms); letting a small batch through',
    );
    expect(breakerLine('closed', { ...state, state: 'closed', reason: 'closed by hand' })).toBe(
      'breaker CLOSED: closed by hand; syncing at full speed',
    );
  });

  it('says a message the ledger covered cost no Limio call, and counts it', () => {
    const covered = { ...base, coveredBySyncStartedAt: '2026-11-30T05:00:00.000Z', latencyMs: 0 };
    expect(syncLine(covered)).toBe('covered       A-S1  by the sync started 2026-11-30T05:00:00.000Z: no Limio call');
    const tally = emptyTally();
    countSync(tally, covered);
    countSync(tally, base);
    expect(tally).toMatchObject({ synced: 2, coveredByLedger: 1 });
  });

  it('writes one line per sweep (window, read, covered, queued) and counts what the sweeps queued', () => {
    const report: SweepReport = {
      outcome: 'complete',
      window: { startMs: Date.parse('2026-11-30T04:00:00Z'), endMs: Date.parse('2026-11-30T05:00:00Z') },
      slicesPlanned: 1,
      slicesCompleted: 1,
      counts: {
        read: 5,
        distinct: 3,
        covered: 2,
        pending: 0,
        unproven: 0,
        missing: 1,
        queued: 1,
        invalid: 0,
        unnamed: 0,
        accountsRead: 0,
        contactsRead: 0,
        accountsChanged: 0,
        accountSubscriptions: 0,
      },
      coverageUnavailable: false,
      invalidSamples: [],
      durationMs: 12,
      dryRun: false,
    };
    expect(sweepLine(report)).toBe(
      'sweep complete: 2026-11-30T04:00:00Z .. 2026-11-30T05:00:00Z, read 5 (3 subscriptions), accounts 0 and contacts 0 read (0 accounts changed, 0 of their subscriptions), covered 2, pending 0, queued 1 (missing 1, unproven 0), 12 ms',
    );
    const tally = emptyTally();
    countSweep(tally, report);
    countSweep(tally, 'failed');
    expect(tally).toMatchObject({ sweeps: 2, sweepsFailed: 1, sweepQueued: 1 });
  });

  it('prints a curl that changes a subscription in the Zuora sandbox without a callout', () => {
    expect(touchCurl(url)).toBe(
      `curl -sS -H 'Content-Type: application/json' -d '{"subscriptions":["A-S00000271"]}' http://127.0.0.1:3000/_local/zuora/touch`,
    );
  });

  it("prints a curl that changes the Limio sandbox's capacity while it runs, and a line for each change", () => {
    expect(limioCapacityCurl(url)).toBe(
      `curl -sS -H 'Content-Type: application/json' -d '{"capacity":8}' http://127.0.0.1:3000/_local/limio/capacity`,
    );
    expect(limioCapacityCurl(url, null)).toContain(`-d '{"capacity":null}'`);
    expect(limioCapacityLine({ capacity: 8, latencyMs: 200 })).toBe(
      'limio         sandbox now: capacity 8 in flight (slower beyond, 502 beyond 12), latency 200 ms',
    );
    expect(limioCapacityLine({ capacity: undefined, latencyMs: 0 })).toBe(
      'limio         sandbox now: unlimited capacity, latency 0 ms',
    );
  });

  it("prints a line when the adaptive limit on Limio calls moves markedly, or Limio's unloaded latency is re-measured", () => {
    expect(limioLimitLine({ from: 4, to: 6.2, reason: 'growth', latencyMs: 210.4, unloadedLatencyMs: 200 })).toBe(
      'limio         limit 4.0 -> 6.2 calls in flight (latency 210 ms, unloaded 200 ms)',
    );
    expect(limioLimitLine({ from: 6.2, to: 4.34, reason: 'overload', unloadedLatencyMs: 200 })).toBe(
      'limio         limit 6.2 -> 4.3 calls in flight (overloaded, unloaded 200 ms)',
    );
    expect(limioLimitLine({ from: 3, to: 3, reason: 'remeasured', latencyMs: 400, unloadedLatencyMs: 400 })).toBe(
      'limio         unloaded latency re-measured: 400 ms (limit 3.0 calls in flight)',
    );
  });

  describe('limit lines', () => {
    beforeEach(() => jest.useFakeTimers({ now: 0 }));
    afterEach(() => jest.useRealTimers());

    /** npm start's throttled limit lines on the fake clock, and what they printed. */
    const limitLines = () => {
      const printed: LimitChange[] = [];
      const lines = throttleLimitChanges((change) => printed.push(change), { now: () => Date.now() });
      return { printed, lines };
    };

    it('prints at most one limit line per 2 s, folding the changes between into one from the last printed limit, and the last one after the pause', () => {
      const { printed, lines } = limitLines();
      lines.onLimitChange({ from: 4, to: 5, reason: 'growth' });
      lines.onLimitChange({ from: 5, to: 6.5, reason: 'growth' });
      jest.advanceTimersByTime(500);
      lines.onLimitChange({ from: 6.5, to: 8, reason: 'growth', latencyMs: 230 });
      expect(printed).toEqual([{ from: 4, to: 5, reason: 'growth' }]);
      jest.advanceTimersByTime(1_499);
      expect(printed).toHaveLength(1);
      jest.advanceTimersByTime(1);
      expect(printed).toEqual([
        { from: 4, to: 5, reason: 'growth' },
        { from: 5, to: 8, reason: 'growth', latencyMs: 230 },
      ]);
      lines.onLimitChange({ from: 8, to: 5.6, reason: 'overload' });
      lines.stop();
      jest.advanceTimersByTime(5_000);
      expect(printed).toHaveLength(2);
    });

    it('labels a folded line with the latest change that moved the limit its way, and prints none for a fold that ends where it began', () => {
      const { printed, lines } = limitLines();
      lines.onLimitChange({ from: 4, to: 5, reason: 'growth' });
      // Grown past Limio's capacity and trimmed back, still above where it stood: a rise, with the growth's reason.
      lines.onLimitChange({ from: 5, to: 8, reason: 'growth', latencyMs: 230, unloadedLatencyMs: 200 });
      lines.onLimitChange({ from: 8, to: 5.6, reason: 'overload', unloadedLatencyMs: 201 });
      jest.advanceTimersByTime(2_000);
      expect(printed).toEqual([
        { from: 4, to: 5, reason: 'growth' },
        { from: 5, to: 5.6, reason: 'growth', latencyMs: 230, unloadedLatencyMs: 201 },
      ]);
      // Up and back down to the same tenth: nothing to say.
      lines.onLimitChange({ from: 5.6, to: 7, reason: 'growth', latencyMs: 210 });
      lines.onLimitChange({ from: 7, to: 5.62, reason: 'overload' });
      jest.advanceTimersByTime(2_000);
      expect(printed).toHaveLength(2);
      // Nothing printed for that interval, so the next change is printed at once; a fall folded after it keeps the
      // cut's reason, whatever grew on the way.
      lines.onLimitChange({ from: 5.62, to: 4, reason: 'latency', latencyMs: 300 });
      expect(printed[2]).toEqual({ from: 5.62, to: 4, reason: 'latency', latencyMs: 300 });
      lines.onLimitChange({ from: 4, to: 3, reason: 'latency', latencyMs: 320 });
      lines.onLimitChange({ from: 3, to: 3.5, reason: 'growth', latencyMs: 205 });
      jest.advanceTimersByTime(2_000);
      expect(printed[3]).toEqual({ from: 4, to: 3.5, reason: 'latency', latencyMs: 320 });
      expect(limioLimitLine(printed[1]!)).toBe(
        'limio         limit 5.0 -> 5.6 calls in flight (latency 230 ms, unloaded 201 ms)',
      );
    });
  });

  it('sums messages by outcome for the summary', () => {
    const tally = emptyTally();
    countSync(tally, { ...base, messageIds: ['a', 'b'] });
    countSync(tally, { ...base, outcome: 'retry' });
    countSync(tally, { ...base, outcome: 'dead-lettered' });
    countSync(tally, { ...base, outcome: 'retry', messageIds: ['c', 'd'], heldBy: 'ledger' });
    countSync(tally, { ...base, outcome: 'retry', heldBy: 'breaker' });
    tally.calloutsAccepted = 3;
    tally.idsQueued = 4;
    // What the CLI queued arrives from outside the runtime: counted on first receive, by what its body says.
    const arrival = (body: object, receiveCount = '1') => ({
      body: JSON.stringify(body),
      attributes: { ApproximateReceiveCount: receiveCount },
    });
    countArrivals(tally, [
      arrival({ v: 1, subscriptionId: 'A-S1', source: 'backfill' }),
      arrival({ v: 1, subscriptionId: 'A-S2', source: 'backfill' }),
      arrival({ v: 1, subscriptionId: 'A-S2', source: 'backfill' }, '2'),
      arrival({
        v: 1,
        subscriptionId: 'A-S3',
        source: 'notification',
        replayCount: 1,
        replayRunId: 'r-20261130T041500Z-1a2b3c',
      }),
      arrival({ v: 1, subscriptionId: 'A-S4', source: 'notification' }),
      { body: 'not json', attributes: { ApproximateReceiveCount: '1' } },
    ]);
    expect(summaryLine(tally, { waiting: 1, deadLetters: 1 })).toBe(
      'Stopped. Callouts: 3 accepted (4 ids), 0 refused; CLI: 2 queued (enqueue), 1 replayed (dlq replay); ' +
        'messages: 2 synced (0 covered by the ledger, no Limio call), 1 retries, 3 held (cooldown, sync in flight or breaker open; not retries), 1 dead-lettered; left on the main queue 1, in the DLQ 1; ' +
        'sweeps: 0 (0 failed), 0 subscriptions queued as changed without a callout.',
    );
  });
});
