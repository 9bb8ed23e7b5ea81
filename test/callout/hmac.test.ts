import {
  checkSignedDataCoversIds,
  computeSignature,
  formatSignatureHeader,
  normaliseHmacAlgorithm,
  parseSignedDataTemplate,
  parseTimestamp,
  readSignature,
  renderSignedData,
  SignedDataError,
  signedQueryParameters,
  timestampHeaders,
  verifyHmacSignature,
  type HmacSettings,
  type SignableRequest,
} from '../../functions/callout/hmac';

const request = (overrides: Partial<SignableRequest> = {}): SignableRequest => ({
  method: 'POST',
  path: '/zuora/callout',
  headers: { 'x-zuora-timestamp': '1795600000', 'content-type': 'application/json' },
  query: { tenant: ['acme'] },
  body: '{"subscriptionNumber":"A-S00000271"}',
  ...overrides,
});

const settings = (overrides: Partial<HmacSettings> = {}): HmacSettings => ({
  key: 'a-shared-key-of-some-length',
  headerName: 'X-Zuora-Signature',
  algorithm: 'sha256',
  prefix: '',
  signedData: '{body}\\n',
  toleranceSeconds: 300,
  ...overrides,
});

describe('computeSignature', () => {
  // RFC 4231 test case 2: an independent check that the algorithm is really HMAC-SHA-256/512.
  it('matches the RFC 4231 test vectors', () => {
    expect(computeSignature('sha256', 'Jefe', 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(computeSignature('sha512', 'Jefe', 'what do ya want for nothing?')).toBe(
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    );
    expect(computeSignature('sha256', 'Jefe', 'what do ya want for nothing?', 'base64')).toBe(
      Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString('base64'),
    );
  });
});

describe('signed-data templates', () => {
  it('renders body, method, path, headers, timestamps and query values, with escapes', () => {
    const data = renderSignedData(
      '{method} {path}\\n{timestamp:X-Zuora-Timestamp}\\n{query:tenant}\\n{body}\\n',
      request(),
    );
    expect(data.toString('utf8')).toBe('POST /zuora/callout\n1795600000\nacme\n{"subscriptionNumber":"A-S00000271"}\n');
  });

  it('treats real line feeds like \\n and finds header names whatever their case', () => {
    expect(renderSignedData('{header:CONTENT-TYPE}\n{body}\n', request()).toString()).toBe(
      'application/json\n{"subscriptionNumber":"A-S00000271"}\n',
    );
  });

  it('signs the body bytes exactly as sent', () => {
    const body = Buffer.from([0xc3, 0x28, 0x0a]);
    expect(renderSignedData('{body}', request({ body })).equals(body)).toBe(true);
  });

  it('refuses unknown placeholders, escapes and stray braces', () => {
    expect(() => parseSignedDataTemplate('{bodyy}\\n')).toThrow(SignedDataError);
    expect(() => parseSignedDataTemplate('{body}\\q')).toThrow(/unknown escape/);
    expect(() => parseSignedDataTemplate('{body\\n')).toThrow(/unbalanced/);
    expect(() => parseSignedDataTemplate('')).toThrow(/empty/);
    expect(parseSignedDataTemplate('\\{literal\\}')).toEqual([{ kind: 'text', text: '{literal}' }]);
  });

  it('reports a missing signed header or query parameter', () => {
    expect(() => renderSignedData('{header:Date}\\n', request())).toThrow('signed header Date is missing');
    expect(() => renderSignedData('{query:nope}', request())).toThrow('signed query parameter nope is missing');
  });

  it('refuses a template that signs neither the body nor a query parameter: it would not cover the ids', () => {
    expect(() => checkSignedDataCoversIds('{timestamp:X-Ts}\\n')).toThrow(
      /signs neither \{body\} nor a \{query:name\}/,
    );
    expect(() => checkSignedDataCoversIds('{method} {path}\\n{header:Date}\\n')).toThrow(SignedDataError);
    expect(() => checkSignedDataCoversIds('{header:Date}\\n{body}\\n')).not.toThrow();
    expect(() => checkSignedDataCoversIds('{query:subscriptionNumber}\\n')).not.toThrow();
    expect(signedQueryParameters('{query:a}{body}{query:b}')).toEqual(['a', 'b']);
  });

  it('lists the headers signed as timestamps', () => {
    expect(timestampHeaders('{timestamp:X-Ts}\\n{header:Date}\\n{body}\\n')).toEqual(['X-Ts']);
  });
});

describe('readSignature', () => {
  const digest = Buffer.alloc(32, 0xab);
  it('accepts hex (either case), base64 and base64url, behind the configured prefix', () => {
    expect(readSignature(digest.toString('hex'), '', 32)).toEqual(digest);
    expect(readSignature(digest.toString('hex').toUpperCase(), '', 32)).toEqual(digest);
    expect(readSignature(`v1:${digest.toString('base64')}`, 'v1:', 32)).toEqual(digest);
    expect(readSignature(` sha256=${digest.toString('base64url')} `, 'sha256=', 32)).toEqual(digest);
  });
  it('refuses a missing prefix, the wrong length and garbage', () => {
    expect(readSignature(digest.toString('hex'), 'v1:', 32)).toBeUndefined();
    expect(readSignature(digest.subarray(0, 31).toString('hex'), '', 32)).toBeUndefined();
    expect(readSignature('not a signature!', '', 32)).toBeUndefined();
  });
});

describe('verifyHmacSignature', () => {
  const now = new Date(1795600000 * 1000);
  const signed = (s: HmacSettings, r: SignableRequest, encoding: 'hex' | 'base64' = 'hex'): SignableRequest => ({
    ...r,
    headers: {
      ...r.headers,
      [s.headerName.toLowerCase()]: formatSignatureHeader(
        s.prefix,
        computeSignature(s.algorithm, s.key, renderSignedData(s.signedData, r), encoding),
      ),
    },
  });

  it('accepts the recommended setup ({body}\\n, hex) and its base64 form', () => {
    expect(verifyHmacSignature(signed(settings(), request()), settings(), now)).toEqual({ ok: true, key: 'current' });
    expect(verifyHmacSignature(signed(settings(), request(), 'base64'), settings(), now)).toEqual({
      ok: true,
      key: 'current',
    });
  });

  it('accepts a prefixed signature in Authorization with SHA-512', () => {
    const s = settings({ headerName: 'Authorization', prefix: 'HMAC ', algorithm: 'sha512' });
    expect(verifyHmacSignature(signed(s, request()), s, now)).toEqual({ ok: true, key: 'current' });
  });

  it('refuses a changed body, the wrong key, and a signature without the prefix', () => {
    const good = signed(settings(), request());
    expect(
      verifyHmacSignature({ ...good, body: '{"subscriptionNumber":"A-S00000272"}' }, settings(), now),
    ).toMatchObject({ ok: false, missing: false, reason: 'signature does not match' });
    expect(verifyHmacSignature(good, settings({ key: 'another-key' }), now)).toMatchObject({
      ok: false,
      missing: false,
    });
    expect(verifyHmacSignature(good, settings({ prefix: 'v1:' }), now)).toMatchObject({
      ok: false,
      reason: 'signature header is not a well-formed signature',
    });
  });

  it('refuses a signed text with nothing of the request in it, which would be a signature for any request', () => {
    const empty = request({ body: '', query: {} });
    expect(verifyHmacSignature(signed(settings(), empty), settings(), now)).toMatchObject({
      ok: false,
      missing: false,
      reason: expect.stringContaining('nothing from the request'),
    });
    // Method and path are the same for every callout: they do not make it depend on the request.
    const fixed = settings({ signedData: '{method} {path}\\n{body}\\n' });
    expect(verifyHmacSignature(signed(fixed, empty), fixed, now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('nothing from the request'),
    });
  });

  it('accepts the previous key during a rotation and says which key matched', () => {
    const rotating = settings({ key: 'the-new-key', previousKey: 'the-old-key' });
    expect(verifyHmacSignature(signed(settings({ key: 'the-old-key' }), request()), rotating, now)).toEqual({
      ok: true,
      key: 'previous',
    });
    expect(verifyHmacSignature(signed(settings({ key: 'the-new-key' }), request()), rotating, now)).toEqual({
      ok: true,
      key: 'current',
    });
    expect(verifyHmacSignature(signed(settings({ key: 'an-older-key' }), request()), rotating, now)).toMatchObject({
      ok: false,
      reason: 'signature does not match',
    });
  });

  it('says the signature is missing when its header is absent', () => {
    expect(verifyHmacSignature(request(), settings(), now)).toMatchObject({ ok: false, missing: true });
  });

  it('enforces the tolerance on a signed timestamp, in both directions', () => {
    const s = settings({ signedData: '{timestamp:X-Zuora-Timestamp}\\n{body}\\n', toleranceSeconds: 60 });
    const at = (seconds: number) => signed(s, request({ headers: { 'x-zuora-timestamp': String(seconds) } }));
    expect(verifyHmacSignature(at(1795600000 - 60), s, now)).toEqual({ ok: true, key: 'current' });
    expect(verifyHmacSignature(at(1795600000 + 60), s, now)).toEqual({ ok: true, key: 'current' });
    expect(verifyHmacSignature(at(1795600000 - 61), s, now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('60s'),
    });
    expect(verifyHmacSignature(at(1795600000 + 61), s, now)).toMatchObject({ ok: false });
    const notATime = signed(s, request({ headers: { 'x-zuora-timestamp': 'yesterday-ish' } }));
    expect(verifyHmacSignature(notATime, s, now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a time'),
    });
  });
});

describe('parseTimestamp and normaliseHmacAlgorithm', () => {
  it('reads unix seconds, unix milliseconds, ISO-8601 and HTTP-dates', () => {
    expect(parseTimestamp('1795600000')).toBe(1795600000000);
    expect(parseTimestamp('1795600000123')).toBe(1795600000123);
    expect(parseTimestamp('2026-11-25T10:00:00Z')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseTimestamp('Wed, 25 Nov 2026 10:00:00 GMT')).toBe(Date.UTC(2026, 10, 25, 10));
    expect(parseTimestamp('soon')).toBeUndefined();
  });
  it('accepts the spellings Zuora and others use for algorithms', () => {
    expect(normaliseHmacAlgorithm('SHA-256')).toBe('sha256');
    expect(normaliseHmacAlgorithm('HmacSHA512')).toBe('sha512');
    expect(normaliseHmacAlgorithm('hmac-sha1')).toBe('sha1');
    expect(normaliseHmacAlgorithm('md5')).toBeUndefined();
  });
});
