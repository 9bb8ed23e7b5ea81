import { ledgerOutcomeOf } from '../../functions/sync/ledger-step';

describe('ledgerOutcomeOf: a Limio answer as the ledger keeps it', () => {
  it('keeps a success with its status, Limio id and owner', () => {
    expect(ledgerOutcomeOf({ class: 'synced', httpStatus: 200, limioId: 'sub-1', owner: 'o-1' }, 1_000, 1_200)).toEqual(
      {
        kind: 'synced',
        startedAt: 1_000,
        finishedAt: 1_200,
        httpStatus: 200,
        limioId: 'sub-1',
        owner: 'o-1',
      },
    );
  });

  it('keeps a refusal as terminal, and a second 401 or a missing token as retryable (no status when Limio was not reached)', () => {
    expect(ledgerOutcomeOf({ class: 'terminal', httpStatus: 404, error: 'Limio answered 404' }, 1, 2)).toEqual({
      kind: 'terminal',
      startedAt: 1,
      finishedAt: 2,
      httpStatus: 404,
      error: 'Limio answered 404',
    });
    expect(
      ledgerOutcomeOf({ class: 'refresh', httpStatus: 401, error: 'Limio refused the bearer token (401)' }, 1, 2),
    ).toMatchObject({ kind: 'retryable', httpStatus: 401 });
    expect(
      ledgerOutcomeOf({ class: 'retryable', error: 'no Limio token: timeout', tokenUnavailable: true }, 1, 2),
    ).toEqual({
      kind: 'retryable',
      startedAt: 1,
      finishedAt: 2,
      error: 'no Limio token: timeout',
    });
  });
});
