import {
  estimateDrain,
  formatEta,
  formatRate,
  measurementFromMinutes,
  measurementFromReadings,
} from '../../cli/commands/drain-estimate';

const MINUTE = 60_000;
const measured = (drained: number, arrived: number, windowMs = 5 * MINUTE) => ({
  windowMs,
  drained,
  arrived,
  measured: 'test',
});

describe('the drain estimate', () => {
  it('counts the time to empty from the net rate, not the drain alone', () => {
    // 500 drained and 400 arrived in 5 min: 100/min drained, 80/min arrived, so 1,200 take 60 min, not 12.
    expect(estimateDrain(1_200, measured(500, 400))).toMatchObject({
      state: 'draining',
      drainedPerMinute: 100,
      arrivedPerMinute: 80,
      etaMs: 60 * MINUTE,
      eta: 'about 60 min',
    });
    expect(estimateDrain(1_200, measured(500, 0)).eta).toBe('about 12 min');
  });

  it('says a backlog that gains is growing, with how fast, instead of a time', () => {
    const estimate = estimateDrain(300, measured(100, 250));
    expect(estimate).toMatchObject({ state: 'growing', eta: 'growing by 30/min' });
    expect(estimate.etaMs).toBeUndefined();
  });

  it('has no time to give when nothing drains or arrivals keep pace', () => {
    expect(estimateDrain(300, measured(0, 0))).toMatchObject({ state: 'not draining', eta: '-', drainedPerMinute: 0 });
    expect(estimateDrain(300, measured(200, 200))).toMatchObject({ state: 'not draining', eta: '-' });
  });

  it('says "-" and why when nothing could be measured, and "empty" for an empty queue however it was measured', () => {
    expect(estimateDrain(300, { unavailable: 'CloudWatch: AccessDenied' })).toEqual({
      backlog: 300,
      state: 'unknown',
      eta: '-',
      measured: 'CloudWatch: AccessDenied',
    });
    expect(estimateDrain(0, { unavailable: 'CloudWatch: AccessDenied' })).toMatchObject({
      state: 'empty',
      eta: 'empty',
    });
    expect(estimateDrain(0, measured(0, 50))).toMatchObject({ state: 'empty', eta: 'empty', arrivedPerMinute: 10 });
  });

  it('rounds the time for a person and keeps a slow rate visible', () => {
    expect(
      [30_000, 12.4 * MINUTE, 89 * MINUTE, 150 * MINUTE, 35 * 60 * MINUTE, 80 * 60 * MINUTE].map(formatEta),
    ).toEqual(['under 1 min', 'about 12 min', 'about 89 min', 'about 3 h', 'about 35 h', 'about 3 days']);
    expect([0.04, 0.25, 9.96, 42.4].map(formatRate)).toEqual(['0/min', '0.3/min', '10/min', '42/min']);
  });
});

describe('measuring the drain', () => {
  it('two readings give the net change, put down as drained when the backlog fell and as arrived when it rose', () => {
    expect(measurementFromReadings({ backlog: 100, at: 0 }, { backlog: 90, at: 5_000 })).toEqual({
      windowMs: 5_000,
      drained: 10,
      arrived: 0,
      measured: 'net change between 2 readings 5s apart',
    });
    expect(measurementFromReadings({ backlog: 90, at: 0 }, { backlog: 100, at: 2_500 })).toMatchObject({
      drained: 0,
      arrived: 10,
      windowMs: 2_500,
    });
    expect(
      estimateDrain(90, measurementFromReadings({ backlog: 100, at: 0 }, { backlog: 90, at: 6_000 })),
    ).toMatchObject({ drainedPerMinute: 100, eta: 'under 1 min' });
  });

  it("CloudWatch's minutes: the newest ones found, the window as long as they are, a minute without a sent figure counting none", () => {
    const at = (minute: number) => Date.UTC(2026, 11, 7, 2, minute);
    const deleted = [10, 11, 12, 13, 14, 15].map((minute) => ({ at: at(minute), value: minute }));
    const sent = [
      { at: at(15), value: 5 },
      { at: at(14), value: 5 },
      { at: at(10), value: 100 },
    ];
    // 15 and 14 are newest; minute 10 falls outside the last 5.
    expect(measurementFromMinutes(deleted, sent, 5)).toEqual({
      windowMs: 5 * MINUTE,
      drained: 11 + 12 + 13 + 14 + 15,
      arrived: 10,
      measured: 'CloudWatch AWS/SQS NumberOfMessagesDeleted and NumberOfMessagesSent, last 5 min',
    });
    // SQS's newest minutes not in CloudWatch yet: two minutes found, a two-minute window.
    expect(measurementFromMinutes(deleted.slice(0, 2), [], 5)).toMatchObject({
      windowMs: 2 * MINUTE,
      drained: 21,
      arrived: 0,
    });
    expect(measurementFromMinutes([], sent, 5)).toBeUndefined();
  });
});
