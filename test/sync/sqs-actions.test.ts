import { ChangeMessageVisibilityBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { createVisibilityBatcher, delayRedeliveries, type VisibilityChange } from '../../functions/sync/sqs-actions';

// Holds, postponements and backoffs go to SQS as ChangeMessageVisibilityBatch requests (up to 10 entries each)
// instead of one request per message; each change still gets its own answer, so a refused one is logged and
// counted as before (visibility-refusal.test.ts has the handler's side against the emulator). The request shapes
// and SQS's partial answers are checked here against SQS's own limit of 10 entries, which the emulator may not
// enforce, with aws-sdk-client-mock.

type Entry = { Id: string; ReceiptHandle: string; VisibilityTimeout: number };
type Answer = {
  Successful?: { Id: string }[];
  Failed?: { Id: string; Code?: string; Message?: string; SenderFault: boolean }[];
};

function fakeSqs(answer: (entries: Entry[]) => Answer | Promise<Answer>) {
  const requests: Entry[][] = [];
  const sqs = new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  mockClient(sqs)
    .onAnyCommand()
    .rejects(new Error('unexpected command'))
    .on(ChangeMessageVisibilityBatchCommand)
    .callsFake(async (input: { Entries: Entry[] }) => {
      requests.push(input.Entries);
      return answer(input.Entries);
    });
  return { sqs, requests };
}

const allSucceed = (entries: { Id: string }[]): Answer => ({
  Successful: entries.map(({ Id }) => ({ Id })),
  Failed: [],
});
const changes = (count: number): VisibilityChange[] =>
  Array.from({ length: count }, (_, index) => ({ receiptHandle: `r${index}`, visibilitySeconds: index + 1 }));

describe('delayRedeliveries', () => {
  it('sends up to 10 entries per request and answers each change in order', async () => {
    const { sqs, requests } = fakeSqs(allSucceed);
    const answers = await delayRedeliveries(sqs, 'queue', changes(23));
    expect(requests.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(requests[2]).toEqual([
      { Id: '0', ReceiptHandle: 'r20', VisibilityTimeout: 21 },
      { Id: '1', ReceiptHandle: 'r21', VisibilityTimeout: 22 },
      { Id: '2', ReceiptHandle: 'r22', VisibilityTimeout: 23 },
    ]);
    expect(answers).toHaveLength(23);
    expect(answers.every((answer) => answer.ok)).toBe(true);
  });

  it("refuses exactly the Failed entries, with SQS's code and message, and an entry SQS did not answer for", async () => {
    const { sqs } = fakeSqs(() => ({
      Successful: [{ Id: '0' }],
      Failed: [
        {
          Id: '1',
          SenderFault: true,
          Code: 'InvalidParameterValue',
          Message: 'Total VisibilityTimeout for the message is beyond the limit',
        },
      ],
    }));
    expect(await delayRedeliveries(sqs, 'queue', changes(3))).toEqual([
      { ok: true },
      {
        ok: false,
        errorCode: 'InvalidParameterValue',
        error: 'Total VisibilityTimeout for the message is beyond the limit',
      },
      { ok: false, error: 'SQS did not answer for this entry' },
    ]);
  });

  it('refuses every entry of a request that failed as a whole, and only those', async () => {
    let call = 0;
    const { sqs } = fakeSqs((entries) => {
      call += 1;
      if (call === 1) throw Object.assign(new Error('throttled'), { name: 'RequestThrottled' });
      return allSucceed(entries);
    });
    const answers = await delayRedeliveries(sqs, 'queue', changes(12));
    expect(answers.slice(0, 10)).toEqual(
      Array.from({ length: 10 }, () => ({ ok: false, errorCode: 'RequestThrottled', error: 'throttled' })),
    );
    expect(answers.slice(10)).toEqual([{ ok: true }, { ok: true }]);
  });
});

describe('createVisibilityBatcher', () => {
  it('gathers the changes asked for in one turn of the event loop into one call, and later ones into the next', async () => {
    const { sqs, requests } = fakeSqs(allSucceed);
    const change = createVisibilityBatcher((batch) => delayRedeliveries(sqs, 'queue', batch));
    const first = await Promise.all(changes(4).map(change));
    const second = await change({ receiptHandle: 'late', visibilitySeconds: 9 });
    expect(first).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    expect(second).toEqual({ ok: true });
    expect(requests.map((entries) => entries.map((entry) => entry.ReceiptHandle))).toEqual([
      ['r0', 'r1', 'r2', 'r3'],
      ['late'],
    ]);
  });

  it('answers every change as refused when the sender itself fails', async () => {
    const change = createVisibilityBatcher(async () => {
      throw new TypeError('broken');
    });
    expect(
      await Promise.all([
        change({ receiptHandle: 'a', visibilitySeconds: 1 }),
        change({ receiptHandle: 'b', visibilitySeconds: 1 }),
      ]),
    ).toEqual([
      { ok: false, errorCode: 'TypeError', error: 'broken' },
      { ok: false, errorCode: 'TypeError', error: 'broken' },
    ]);
  });
});
