import { baseUrl, integer, oneOf, requiredString } from '../../functions/shared/env';

describe('environment readers', () => {
  it('names the missing variable', () => {
    expect(() => requiredString({}, 'DLQ_URL')).toThrow('DLQ_URL: is required but not set');
    expect(() => requiredString({ DLQ_URL: '  ' }, 'DLQ_URL')).toThrow(/DLQ_URL/);
  });

  it('reads bounded integers and refuses the rest', () => {
    expect(integer({}, 'N', 5, { min: 1, max: 10 })).toBe(5);
    expect(integer({ N: '7' }, 'N', 5, { min: 1, max: 10 })).toBe(7);
    expect(() => integer({ N: '7.5' }, 'N', 5, { min: 1, max: 10 })).toThrow('N: must be a whole number, got "7.5"');
    expect(() => integer({ N: '11' }, 'N', 5, { min: 1, max: 10 })).toThrow('N: must be between 1 and 10, got 11');
  });

  it('reads an enumerated value', () => {
    expect(oneOf({ M: 'hmac' }, 'M', ['basic', 'hmac'])).toBe('hmac');
    expect(() => oneOf({ M: 'x' }, 'M', ['basic', 'hmac'])).toThrow('M: must be one of basic, hmac, got "x"');
  });

  it('accepts https and loopback http base URLs only', () => {
    expect(baseUrl({ U: 'https://acme.prod.limio.com/' }, 'U')).toBe('https://acme.prod.limio.com');
    expect(baseUrl({ U: 'http://127.0.0.1:4010' }, 'U')).toBe('http://127.0.0.1:4010');
    expect(() => baseUrl({ U: 'http://acme.prod.limio.com' }, 'U')).toThrow(/must use https/);
    expect(() => baseUrl({ U: 'acme' }, 'U')).toThrow(/absolute URL/);
  });
});
