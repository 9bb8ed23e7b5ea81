/**
 * Message bodies an outsider with sqs:SendMessage on either queue could send (issue #20 item 1), shared by the
 * tests of every reader of a queue: the sync Lambda and the CLI's DLQ commands.
 */

/** `{"v":[[[…]]]}` nested `depth` deep: JSON.parse reads it, but JSON.stringify of its value overflows the stack. */
export function deeplyNestedBody(depth = 5000): string {
  return `{"v":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

/** A sync request whose version is a string of `length` characters: a 250 KB body of one long field. */
export function longVersionBody(length = 250_000): string {
  return JSON.stringify({
    v: 'x'.repeat(length),
    subscriptionId: 'A-S1',
    source: 'test',
    receivedAt: '2026-01-01T00:00:00Z',
  });
}
