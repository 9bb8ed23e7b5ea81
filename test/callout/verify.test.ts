import type { CalloutAuth } from '../../functions/callout/auth-config';
import { computeSignature } from '../../functions/callout/hmac';
import { normaliseEvent } from '../../functions/callout/request';
import { parseBasicAuthorization, sameSecret, verifyCallout } from '../../functions/callout/verify';
import { basicAuthorization, httpApiEvent, restApiEvent } from './events';

const now = new Date('2026-11-25T10:00:00Z');
const request = (headers: Record<string, string>, body = '{"subscriptionNumber":"A-S00000271"}') =>
  normaliseEvent(httpApiEvent({ headers: { 'content-type': 'application/json', ...headers }, body }));

describe('verifyCallout: Basic', () => {
  const auth: CalloutAuth = { mode: 'basic', username: 'zuora', password: 'pa:ss wörd' };

  it('accepts the right credentials, a password with a colon and non-ASCII included', () => {
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'pa:ss wörd') }), auth, now)).toEqual({
      ok: true,
      credential: 'current',
    });
    expect(
      verifyCallout(
        request({ authorization: `basic ${Buffer.from('zuora:pa:ss wörd').toString('base64')}` }),
        auth,
        now,
      ),
    ).toEqual({ ok: true, credential: 'current' });
  });

  it("calls Zuora's first, credential-less request missing (so it is challenged)", () => {
    expect(verifyCallout(request({}), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
    expect(verifyCallout(request({ authorization: 'Bearer abc' }), auth, now)).toMatchObject({
      ok: false,
      kind: 'missing',
    });
  });

  it('calls wrong or malformed credentials invalid', () => {
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'wrong') }), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
    expect(
      verifyCallout(request({ authorization: basicAuthorization('other', 'pa:ss wörd') }), auth, now),
    ).toMatchObject({ ok: false, kind: 'invalid' });
    expect(
      verifyCallout(request({ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }), auth, now),
    ).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
  });
});

describe('verifyCallout: header secret', () => {
  const auth: CalloutAuth = { mode: 'header', headerName: 'X-Callout-Token', value: 'tok-123456' };
  it('accepts the right value, whatever the header name case', () => {
    expect(verifyCallout(request({ 'X-CALLOUT-TOKEN': 'tok-123456' }), auth, now)).toEqual({
      ok: true,
      credential: 'current',
    });
  });
  it('refuses a missing header as missing and a wrong value (even a prefix of it) as invalid', () => {
    expect(verifyCallout(request({}), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
    expect(verifyCallout(request({ 'x-callout-token': 'tok-12345' }), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
    expect(verifyCallout(request({ 'x-callout-token': '' }), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
  });
});

describe('verifyCallout: HMAC', () => {
  const auth: CalloutAuth = {
    mode: 'hmac',
    key: 'hmac-key',
    headerName: 'X-Zuora-Signature',
    algorithm: 'sha256',
    prefix: '',
    signedData: '{body}\\n',
    toleranceSeconds: 300,
  };
  const body = '{"subscriptionNumber":"A-S00000271"}';
  it('accepts a hex or base64 signature over the body and a line feed', () => {
    expect(
      verifyCallout(
        request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', `${body}\n`) }, body),
        auth,
        now,
      ),
    ).toEqual({ ok: true, credential: 'current' });
    expect(
      verifyCallout(
        request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', `${body}\n`, 'base64') }, body),
        auth,
        now,
      ),
    ).toEqual({ ok: true, credential: 'current' });
  });
  it('refuses the signature of the body without the line feed, and a missing header', () => {
    expect(
      verifyCallout(request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', body) }, body), auth, now),
    ).toMatchObject({ ok: false, kind: 'invalid' });
    expect(verifyCallout(request({}, body), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
  });
});

describe('sameSecret', () => {
  it('compares secrets of any length', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
    expect(sameSecret('', '')).toBe(true);
  });
});

describe('verifyCallout: strict Basic parsing', () => {
  const auth: CalloutAuth = { mode: 'basic', username: 'zuora', password: 'pw' };
  const encoded = Buffer.from('zuora:pw').toString('base64'); // "enVvcmE6cHc="

  it('accepts canonical base64 behind any case of the scheme and surrounding spaces or tabs', () => {
    expect(verifyCallout(request({ authorization: ` \tBASIC \t ${encoded} \t` }), auth, now)).toEqual({
      ok: true,
      credential: 'current',
    });
  });

  it.each([
    ['junk before the base64', `Basic !!${encoded}`],
    ['junk after the base64', `Basic ${encoded}.junk`],
    ['missing padding', `Basic ${encoded.replace(/=+$/, '')}`],
    ['non-zero padding bits (decodes to the same bytes)', 'Basic enVvcmE6cHd='],
    ['a space inside the credentials', `Basic ${encoded.slice(0, 4)} ${encoded.slice(4)}`],
    ['no credentials', 'Basic '],
    [
      'bytes that are not UTF-8',
      `Basic ${Buffer.concat([Buffer.from('zuora:'), Buffer.from([0xff, 0xfe])]).toString('base64')}`,
    ],
  ])('refuses %s as invalid', (_what, authorization) => {
    expect(verifyCallout(request({ authorization }), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
  });

  it('refuses a repeated Authorization header, whichever copy is right (REST API multiValueHeaders)', () => {
    const wrong = basicAuthorization('zuora', 'wrong');
    for (const values of [
      [`Basic ${encoded}`, wrong],
      [wrong, `Basic ${encoded}`],
    ]) {
      const event = restApiEvent({
        headers: { Authorization: values[0]!, 'Content-Type': 'application/json' },
        body: '{"subscriptionNumber":"A-S1"}',
      });
      event.multiValueHeaders.Authorization = values;
      expect(verifyCallout(normaliseEvent(event), auth, now)).toEqual({
        ok: false,
        kind: 'invalid',
        reason: 'Authorization header was sent more than once',
      });
    }
    // The same header twice under names differing in case.
    const twice = restApiEvent({ headers: { Authorization: `Basic ${encoded}`, authorization: wrong }, body: '{}' });
    expect(verifyCallout(normaliseEvent(twice), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
      reason: 'Authorization header was sent more than once',
    });
  });

  it('refuses a repeated Authorization header that an HTTP API joined with a comma', () => {
    expect(
      verifyCallout(
        request({ authorization: `Basic ${encoded},Basic ${Buffer.from('zuora:other').toString('base64')}` }),
        auth,
        now,
      ),
    ).toEqual({
      ok: false,
      kind: 'invalid',
      reason: 'Authorization header was sent more than once',
    });
  });

  it('parses a huge whitespace-laden header in linear time', () => {
    // A backtracking regex took ~0.5 s for 20,000 spaces here and grows with the square: 2 x 1,000,000 spaces
    // would take hours. A linear scan takes milliseconds; the bound is generous for a loaded machine.
    const spaces = ' '.repeat(1_000_000);
    const hostile = [
      `Basic ${spaces}x${spaces}y`,
      `Basic x${spaces}y`,
      `${spaces}Basic${spaces}`,
      `Basic ${'A'.repeat(1_999_999)}!`,
      `Basic ${'A'.repeat(2_000_000)}`,
    ];
    const requests = hostile.map((authorization) => request({ authorization }));
    const started = process.hrtime.bigint();
    for (const hostileRequest of requests)
      expect(verifyCallout(hostileRequest, auth, now)).toMatchObject({ ok: false });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
    expect(parseBasicAuthorization(`Basic ${spaces}${encoded}${spaces}`)).toEqual({
      ok: true,
      username: 'zuora',
      password: 'pw',
    });
  });
});

describe('verifyCallout: HMAC signs every id it lets in', () => {
  const key = 'hmac-key';
  const auth = (signedData: string): CalloutAuth => ({
    mode: 'hmac',
    key,
    headerName: 'X-Zuora-Signature',
    algorithm: 'sha256',
    prefix: '',
    signedData,
    toleranceSeconds: 300,
  });
  const sign = (data: string) => ({ 'x-zuora-signature': computeSignature('sha256', key, data) });
  const body = '{"subscriptionNumber":"A-S00000271"}';

  it('refuses ids added to the query string of a captured, correctly signed POST', () => {
    const captured = httpApiEvent({
      headers: { 'content-type': 'application/json', ...sign(`${body}\n`) },
      body,
      query: 'subscriptionNumber=A-S99999999',
    });
    expect(verifyCallout(normaliseEvent(captured), auth('{body}\\n'), now)).toEqual({
      ok: false,
      kind: 'invalid',
      reason:
        'query parameter "subscriptionNumber" carries ids extraction reads but is not signed (the signed data has no {query:name} for it)',
    });
  });

  it.each([
    'AccountNumber=A00001234',
    'Account.Id=2c92a0fd55822b4d015590d5d7c0418d',
    'UpdatedDate=2030-01-01T00:00:00Z',
  ])(
    'refuses an account key or an UpdatedDate added to the query string of a captured, correctly signed POST: %s (issue #22)',
    (query) => {
      const captured = httpApiEvent({
        headers: { 'content-type': 'application/json', ...sign(`${body}\n`) },
        body,
        query,
      });
      expect(verifyCallout(normaliseEvent(captured), auth('{body}\\n'), now)).toMatchObject({
        ok: false,
        kind: 'invalid',
        reason: expect.stringContaining('is not signed'),
      });
    },
  );

  it('refuses a GET whose empty body was signed as "\\n": that signature would be a token for any ids', () => {
    const get = normaliseEvent(httpApiEvent({ method: 'GET', headers: sign('\n'), query: 'subscriptionNumber=A-S1' }));
    expect(verifyCallout(get, auth('{body}\\n'), now)).toMatchObject({ ok: false, kind: 'invalid' });
    const noIds = normaliseEvent(httpApiEvent({ method: 'GET', headers: sign('\n') }));
    expect(verifyCallout(noIds, auth('{body}\\n'), now)).toMatchObject({
      ok: false,
      kind: 'invalid',
      reason: expect.stringContaining('nothing from the request'),
    });
  });

  it('accepts query ids the template signs, and refuses an unsigned spelling of the same field next to them', () => {
    const template = '{query:subscriptionNumber}\\n{body}';
    const get = (query: string) => normaliseEvent(httpApiEvent({ method: 'GET', headers: sign('A-S1,A-S2\n'), query }));
    expect(verifyCallout(get('subscriptionNumber=A-S1&subscriptionNumber=A-S2'), auth(template), now)).toEqual({
      ok: true,
      credential: 'current',
    });
    expect(
      verifyCallout(
        get('subscriptionNumber=A-S1&subscriptionNumber=A-S2&subscription_number=A-S9'),
        auth(template),
        now,
      ),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"subscription_number"'),
    });
    // A parameter that carries no id needs no signature.
    expect(
      verifyCallout(get('subscriptionNumber=A-S1&subscriptionNumber=A-S2&page=2'), auth(template), now),
    ).toMatchObject({ ok: true });
  });

  it('refuses body ids when the template does not sign the body, and the CALLOUT_ID_FIELD parameter unless signed', () => {
    const post = normaliseEvent(
      httpApiEvent({
        headers: { 'content-type': 'application/json', ...sign('A-S1\n') },
        body,
        query: 'subscriptionNumber=A-S1',
      }),
    );
    expect(verifyCallout(post, auth('{query:subscriptionNumber}\\n'), now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('does not sign {body}'),
    });
    const configured = normaliseEvent(
      httpApiEvent({
        headers: { 'content-type': 'application/json', ...sign(`${body}\n`) },
        body,
        query: 'subName=A-S9',
      }),
    );
    expect(verifyCallout(configured, auth('{body}\\n'), now)).toMatchObject({ ok: true });
    expect(verifyCallout(configured, auth('{body}\\n'), now, { idField: 'subName' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('"subName"'),
    });
  });

  it('refuses a repeated signature header', () => {
    const event = restApiEvent({
      headers: { 'Content-Type': 'application/json', 'X-Zuora-Signature': sign(`${body}\n`)['x-zuora-signature'] },
      body,
    });
    event.multiValueHeaders['X-Zuora-Signature'] = [sign(`${body}\n`)['x-zuora-signature'], 'ab'];
    expect(verifyCallout(normaliseEvent(event), auth('{body}\\n'), now)).toMatchObject({
      ok: false,
      kind: 'invalid',
      reason: expect.stringContaining('more than once'),
    });
  });
});

describe('verifyCallout: a rotation accepts the current and the previous credential', () => {
  it('Basic: the previous password (and username), telling which one matched', () => {
    const auth: CalloutAuth = {
      mode: 'basic',
      username: 'zuora',
      password: 'new-pw',
      previous: { username: 'zuora-old', password: 'old-pw' },
    };
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'new-pw') }), auth, now)).toEqual({
      ok: true,
      credential: 'current',
    });
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora-old', 'old-pw') }), auth, now)).toEqual({
      ok: true,
      credential: 'previous',
    });
    // Halves of different credentials do not make one.
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'old-pw') }), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
    expect(
      verifyCallout(request({ authorization: basicAuthorization('zuora-old', 'new-pw') }), auth, now),
    ).toMatchObject({ ok: false, kind: 'invalid' });
  });

  it('header secret: the previous value', () => {
    const auth: CalloutAuth = {
      mode: 'header',
      headerName: 'X-Callout-Token',
      value: 'tok-new',
      previousValue: 'tok-old',
    };
    expect(verifyCallout(request({ 'x-callout-token': 'tok-new' }), auth, now)).toEqual({
      ok: true,
      credential: 'current',
    });
    expect(verifyCallout(request({ 'x-callout-token': 'tok-old' }), auth, now)).toEqual({
      ok: true,
      credential: 'previous',
    });
    expect(verifyCallout(request({ 'x-callout-token': 'tok-older' }), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
  });

  it('HMAC: the previous key', () => {
    const auth: CalloutAuth = {
      mode: 'hmac',
      key: 'key-new',
      previousKey: 'key-old',
      headerName: 'X-Zuora-Signature',
      algorithm: 'sha256',
      prefix: '',
      signedData: '{body}\\n',
      toleranceSeconds: 300,
    };
    const body = '{"subscriptionNumber":"A-S00000271"}';
    const signedWith = (key: string) =>
      request({ 'x-zuora-signature': computeSignature('sha256', key, `${body}\n`) }, body);
    expect(verifyCallout(signedWith('key-new'), auth, now)).toEqual({ ok: true, credential: 'current' });
    expect(verifyCallout(signedWith('key-old'), auth, now)).toEqual({ ok: true, credential: 'previous' });
    expect(verifyCallout(signedWith('key-older'), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
  });
});
