import fc from 'fast-check';
import {
  deadLetterAttributes,
  MAX_ERROR_LENGTH,
  readDeadLetterReason,
  sqsAttributeText,
} from '../../functions/shared/dead-letter';

// SQS refuses a message whose attribute values hold characters outside this set (the message-body set); the
// emulator does not enforce it, so the rule is checked here on the values themselves.
const SQS_ALLOWED = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

describe('dead-letter attributes', () => {
  it('round-trip', () => {
    const reason = {
      failureClass: 'terminal',
      httpStatus: 404,
      error: 'Limio: not found',
      failedAt: '2026-11-24T10:00:00.000Z',
      attempts: 1,
    } as const;
    expect(readDeadLetterReason(deadLetterAttributes(reason))).toEqual(reason);
  });

  it('keeps errors to one bounded line', () => {
    const attributes = deadLetterAttributes({
      failureClass: 'exhausted',
      error: `a\nb${'x'.repeat(5000)}`,
      failedAt: 'now',
      attempts: 8,
    });
    expect(attributes.error.StringValue).toMatch(/^a b/);
    expect(attributes.error.StringValue!.length).toBe(MAX_ERROR_LENGTH);
    expect(attributes.httpStatus).toBeUndefined();
  });

  it('keeps every attribute value within the characters SQS accepts', () => {
    const attributes = deadLetterAttributes({
      failureClass: 'terminal',
      httpStatus: 403,
      error: 'Limio answered 403: bad\u0000byte \u0007bell \u001b[31m \uFFFE \uD800 lone, 😀 kept, é kept',
      failedAt: '2026-11-24T10:00:00.000Z\u0000',
      attempts: 1,
    });
    for (const [name, value] of Object.entries(attributes))
      expect([name, value.StringValue]).toEqual([name, expect.stringMatching(SQS_ALLOWED)]);
    expect(attributes.error.StringValue).toBe(
      'Limio answered 403: bad\uFFFDbyte \uFFFDbell \uFFFD[31m \uFFFD \uFFFD lone, 😀 kept, é kept',
    );
    expect(attributes.failedAt.StringValue).toBe('2026-11-24T10:00:00.000Z\uFFFD');
  });

  it('never splits a surrogate pair into a character SQS refuses when clipping', () => {
    const error = `${'x'.repeat(MAX_ERROR_LENGTH - 2)}😀😀😀`;
    expect(
      deadLetterAttributes({ failureClass: 'exhausted', error, failedAt: 'now', attempts: 1 }).error.StringValue,
    ).toMatch(SQS_ALLOWED);
  });

  it('maps any text to text SQS accepts, leaving allowed text alone (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const clean = sqsAttributeText(text);
        expect(clean).toMatch(SQS_ALLOWED);
        if (SQS_ALLOWED.test(text)) expect(clean).toBe(text);
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xdfff }).map((code) => String.fromCharCode(code)) }),
        (text) => {
          expect(
            deadLetterAttributes({ failureClass: 'poison', error: text, failedAt: text, attempts: 1 }).error
              .StringValue,
          ).toMatch(SQS_ALLOWED);
        },
      ),
    );
  });

  it('reads nothing from a message SQS redrove on its own', () => {
    expect(readDeadLetterReason(undefined)).toEqual({});
  });
});
