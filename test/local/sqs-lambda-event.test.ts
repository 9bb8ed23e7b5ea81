import type { SQSRecord } from 'aws-lambda';
import { failedItemIdentifiers } from '../../local/sqs-lambda-event';

describe('failedItemIdentifiers (Lambda ReportBatchItemFailures rules)', () => {
  const records = [{ messageId: 'm1' }, { messageId: 'm2' }] as SQSRecord[];
  it.each([
    ['no answer', undefined, []],
    ['null', null, []],
    ['an empty list', { batchItemFailures: [] }, []],
    ['a null list', { batchItemFailures: null }, []],
    ['one failure', { batchItemFailures: [{ itemIdentifier: 'm2' }] }, ['m2']],
  ])('treats %s as the listed failures', (_, answer, failed) => {
    expect([...failedItemIdentifiers(answer, records)!]).toEqual(failed);
  });
  it.each([
    ['an unknown id', { batchItemFailures: [{ itemIdentifier: 'other' }] }],
    ['an empty id', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a missing id', { batchItemFailures: [{ id: 'm1' }] }],
    ['a non-list', { batchItemFailures: 'm1' }],
  ])('fails the whole batch on %s', (_, answer) => {
    expect(failedItemIdentifiers(answer, records)).toBeUndefined();
  });
});
