import { ConfigError } from '../../functions/shared/config-error';
import { LEDGER_DEFAULTS, loadLedgerConfig } from '../../functions/ledger/config';

describe('loadLedgerConfig', () => {
  it('defaults to a 5 s cooldown and a 1 s clock margin, and no table', () => {
    expect(loadLedgerConfig({})).toEqual({ timing: { cooldownSeconds: 5, clockMarginSeconds: 1 } });
    expect(LEDGER_DEFAULTS).toEqual({ cooldownSeconds: 5, clockMarginSeconds: 1 });
  });

  it('reads the table name and the timing', () => {
    expect(
      loadLedgerConfig({
        LEDGER_TABLE_NAME: ' zls-ledger ',
        SYNC_COOLDOWN_SECONDS: '10',
        SYNC_CLOCK_MARGIN_SECONDS: '2',
      }),
    ).toEqual({
      tableName: 'zls-ledger',
      timing: { cooldownSeconds: 10, clockMarginSeconds: 2 },
    });
    expect(loadLedgerConfig({ SYNC_COOLDOWN_SECONDS: '0', SYNC_CLOCK_MARGIN_SECONDS: '3' }).timing).toEqual({
      cooldownSeconds: 0,
      clockMarginSeconds: 3,
    });
  });

  it.each([
    [{ SYNC_COOLDOWN_SECONDS: 'soon' }, 'SYNC_COOLDOWN_SECONDS', /whole number/],
    [{ SYNC_COOLDOWN_SECONDS: '301' }, 'SYNC_COOLDOWN_SECONDS', /between 0 and 300/],
    [{ SYNC_CLOCK_MARGIN_SECONDS: '-1' }, 'SYNC_CLOCK_MARGIN_SECONDS', /between 0 and 60/],
    [
      { SYNC_COOLDOWN_SECONDS: '1' },
      'SYNC_COOLDOWN_SECONDS',
      /0 \(off\) or more than SYNC_CLOCK_MARGIN_SECONDS \(1\), got 1/,
    ],
    [
      { SYNC_COOLDOWN_SECONDS: '5', SYNC_CLOCK_MARGIN_SECONDS: '5' },
      'SYNC_COOLDOWN_SECONDS',
      /more than SYNC_CLOCK_MARGIN_SECONDS \(5\)/,
    ],
  ])('refuses %j, naming %s', (env, variable, problem) => {
    let thrown: unknown;
    try {
      loadLedgerConfig(env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as ConfigError).message).toMatch(problem);
  });
});
