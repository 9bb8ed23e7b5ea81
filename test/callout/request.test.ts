import { mediaType, normaliseEvent } from '../../functions/callout/request';
import { httpApiEvent, restApiEvent } from './events';

describe('normaliseEvent', () => {
  it('decodes a base64 form body from an HTTP API (payload 2.0) event', () => {
    const event = httpApiEvent({
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'subscriptionNumber=A-S00000271',
    });
    expect(event.isBase64Encoded).toBe(true);
    const request = normaliseEvent(event);
    expect(request.body.toString('utf8')).toBe('subscriptionNumber=A-S00000271');
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.requestId).toBe('req-1');
  });

  it('keeps repeated query parameters of an HTTP API event apart (rawQueryString), where queryStringParameters joined them', () => {
    const event = httpApiEvent({ method: 'GET', query: 'subscriptionNumber=A-S1&subscriptionNumber=A-S2&x=a%2Cb' });
    expect(event.queryStringParameters?.subscriptionNumber).toBe('A-S1,A-S2');
    const request = normaliseEvent(event);
    expect(request.query).toEqual({ subscriptionNumber: ['A-S1', 'A-S2'], x: ['a,b'] });
    expect(request.method).toBe('GET');
  });

  it('lower-cases REST API (payload 1.0) header names and reads repeats from multiValue fields', () => {
    const event = restApiEvent({
      headers: { Authorization: 'Basic abc', 'Zuora-Notification-Id': 'n-1', 'Content-Type': 'application/json' },
      query: 'subscriptionNumber=A-S1&subscriptionNumber=A-S2',
      body: '{"a":1}',
    });
    event.multiValueHeaders['X-Repeated'] = ['one', 'two'];
    const request = normaliseEvent(event);
    expect(request.headers).toMatchObject({
      authorization: 'Basic abc',
      'zuora-notification-id': 'n-1',
      'x-repeated': 'one,two',
    });
    expect(request.query).toEqual({ subscriptionNumber: ['A-S1', 'A-S2'] });
    expect(request.body.toString('utf8')).toBe('{"a":1}');
    expect(request.path).toBe('/zuora/callout');
  });

  it('notes which headers arrived more than once, as far as the event shows it', () => {
    const rest = restApiEvent({
      headers: { Authorization: 'Basic abc', 'Content-Type': 'application/json' },
      body: '{}',
    });
    rest.multiValueHeaders.Authorization = ['Basic abc', 'Basic def'];
    const fromRest = normaliseEvent(rest);
    expect(fromRest.headers.authorization).toBe('Basic abc,Basic def');
    expect([...fromRest.repeatedHeaders]).toEqual(['authorization']);
    // Names differing only in case are the same header.
    expect([...normaliseEvent(restApiEvent({ headers: { 'X-Token': 'a', 'x-token': 'b' } })).repeatedHeaders]).toEqual([
      'x-token',
    ]);
    expect([...normaliseEvent(httpApiEvent({ headers: { authorization: 'Basic abc' } })).repeatedHeaders]).toEqual([]);
  });

  it('keeps headers and parameters named like prototype members as plain values', () => {
    const request = normaliseEvent(
      httpApiEvent({ headers: { constructor: 'c', toString: 't' }, query: 'toString=x&__proto__=y' }),
    );
    expect(request.headers.constructor).toBe('c');
    expect(request.headers.tostring).toBe('t');
    expect(request.query.toString).toEqual(['x']);
    // biome-ignore lint/suspicious/noProto: the test is that a query parameter named __proto__ is kept as data.
    expect(request.query['__proto__']).toEqual(['y']);
  });

  it('decodes a REST API body listed as a binary media type', () => {
    const request = normaliseEvent(restApiEvent({ body: 'subscriptionNumber=A-S1' }, { binary: true }));
    expect(request.body.toString('utf8')).toBe('subscriptionNumber=A-S1');
  });

  it('keeps the exact bytes of a body that is not UTF-8', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    expect(normaliseEvent(httpApiEvent({ body: bytes })).body.equals(bytes)).toBe(true);
  });

  it('treats a missing body as empty, for both event kinds', () => {
    expect(normaliseEvent(httpApiEvent({ method: 'GET' })).body.length).toBe(0);
    expect(normaliseEvent(restApiEvent({ method: 'GET' })).body.length).toBe(0);
  });

  it('reads the media type without parameters', () => {
    expect(
      mediaType(
        normaliseEvent(httpApiEvent({ headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: '{}' })),
      ),
    ).toBe('application/json');
    expect(mediaType(normaliseEvent(httpApiEvent({ body: 'x' })))).toBeUndefined();
  });
});
