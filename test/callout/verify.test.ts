import type { CalloutAuth } from '../../functions/callout/auth-config';
import { computeSignature } from '../../functions/callout/hmac';
import { normaliseEvent } from '../../functions/callout/request';
import { sameSecret, verifyCallout } from '../../functions/callout/verify';
import { basicAuthorization, httpApiEvent } from './events';

const now = new Date('2026-11-25T10:00:00Z');
const request = (headers: Record<string, string>, body = '{"subscriptionNumber":"A-S00000271"}') =>
  normaliseEvent(httpApiEvent({ headers: { 'content-type': 'application/json', ...headers }, body }));

describe('verifyCallout: Basic', () => {
  const auth: CalloutAuth = { mode: 'basic', username: 'zuora', password: 'pa:ss wörd' };

  it('accepts the right credentials, a password with a colon and non-ASCII included', () => {
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'pa:ss wörd') }), auth, now)).toEqual({ ok: true });
    expect(verifyCallout(request({ authorization: `basic ${Buffer.from('zuora:pa:ss wörd').toString('base64')}` }), auth, now)).toEqual({ ok: true });
  });

  it("calls Zuora's first, credential-less request missing (so it is challenged)", () => {
    expect(verifyCallout(request({}), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
    expect(verifyCallout(request({ authorization: 'Bearer abc' }), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
  });

  it('calls wrong or malformed credentials invalid', () => {
    expect(verifyCallout(request({ authorization: basicAuthorization('zuora', 'wrong') }), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
    expect(verifyCallout(request({ authorization: basicAuthorization('other', 'pa:ss wörd') }), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
    expect(verifyCallout(request({ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }), auth, now)).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
  });
});

describe('verifyCallout: header secret', () => {
  const auth: CalloutAuth = { mode: 'header', headerName: 'X-Callout-Token', value: 'tok-123456' };
  it('accepts the right value, whatever the header name case', () => {
    expect(verifyCallout(request({ 'X-CALLOUT-TOKEN': 'tok-123456' }), auth, now)).toEqual({ ok: true });
  });
  it('refuses a missing header as missing and a wrong value (even a prefix of it) as invalid', () => {
    expect(verifyCallout(request({}), auth, now)).toMatchObject({ ok: false, kind: 'missing' });
    expect(verifyCallout(request({ 'x-callout-token': 'tok-12345' }), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
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
    expect(verifyCallout(request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', `${body}\n`) }, body), auth, now)).toEqual({ ok: true });
    expect(verifyCallout(request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', `${body}\n`, 'base64') }, body), auth, now)).toEqual({ ok: true });
  });
  it('refuses the signature of the body without the line feed, and a missing header', () => {
    expect(verifyCallout(request({ 'x-zuora-signature': computeSignature('sha256', 'hmac-key', body) }, body), auth, now)).toMatchObject({ ok: false, kind: 'invalid' });
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
