import { deadLetterAttributes, MAX_ERROR_LENGTH, readDeadLetterReason } from '../../functions/shared/dead-letter';

describe('dead-letter attributes', () => {
  it('round-trip', () => {
    const reason = { failureClass: 'terminal', httpStatus: 404, error: 'Limio: not found', failedAt: '2026-11-24T10:00:00.000Z', attempts: 1 } as const;
    expect(readDeadLetterReason(deadLetterAttributes(reason))).toEqual(reason);
  });

  it('keeps errors to one bounded line', () => {
    const attributes = deadLetterAttributes({ failureClass: 'exhausted', error: `a\nb${'x'.repeat(5000)}`, failedAt: 'now', attempts: 8 });
    expect(attributes.error.StringValue).toMatch(/^a b/);
    expect(attributes.error.StringValue!.length).toBe(MAX_ERROR_LENGTH);
    expect(attributes.httpStatus).toBeUndefined();
  });

  it('reads nothing from a message SQS redrove on its own', () => {
    expect(readDeadLetterReason(undefined)).toEqual({});
  });
});
