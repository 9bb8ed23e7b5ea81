import { describeUntrusted, VALUE_PREVIEW_LENGTH } from '../../functions/shared/untrusted-value';

describe('describeUntrusted', () => {
  it.each([
    [undefined, '(missing)'],
    [null, 'null'],
    [2, '2 (number)'],
    [false, 'false (boolean)'],
    ['email', '"email" (string)'],
    [[1, 'a', { b: null }], '[1,"a",{"b":null}] (array)'],
    [{}, '{} (object)'],
  ])('names %j with its type', (value, description) => {
    expect(describeUntrusted(value)).toBe(description);
  });

  it('shows a clip of a value nested 100,000 deep, without overflowing the stack', () => {
    let value: unknown = 1;
    for (let depth = 0; depth < 100_000; depth++) value = { a: [value] };
    expect(describeUntrusted(value)).toBe(`${'{"a":['.repeat(7).slice(0, VALUE_PREVIEW_LENGTH)}… (object)`);
  });

  it('clips a long string and says how long it was', () => {
    expect(describeUntrusted('é'.repeat(12_345))).toBe(
      `"${'é'.repeat(VALUE_PREVIEW_LENGTH - 1)}… (string, 12,345 characters)`,
    );
  });

  it('clips an object of many keys', () => {
    const value = Object.fromEntries(Array.from({ length: 50_000 }, (_, index) => [`k${index}`, index]));
    expect(describeUntrusted(value)).toBe('{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5"… (object)');
  });
});
