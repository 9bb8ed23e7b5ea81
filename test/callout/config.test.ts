import { calloutAuthFromEnv, parseCalloutAuthSecret } from '../../functions/callout/auth-config';
import { loadCalloutConfig } from '../../functions/callout/config';
import { ConfigError } from '../../functions/shared/config-error';

const QUEUE = { QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/zuora-limio-sync' };
const BASIC = { CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'correct horse battery' };

function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadCalloutConfig', () => {
  it('refuses to start without callout authentication, naming what to set', () => {
    const error = configError(() => loadCalloutConfig(QUEUE));
    expect(error.variable).toBe('CALLOUT_AUTH_SECRET_ID');
    expect(error.message).toContain('CALLOUT_AUTH_MODE');
  });

  it('refuses a secret and local auth settings at once', () => {
    expect(
      configError(() => loadCalloutConfig({ ...QUEUE, ...BASIC, CALLOUT_AUTH_SECRET_ID: 'callout-auth' })).variable,
    ).toBe('CALLOUT_AUTH_MODE');
  });

  it('reads ACCOUNT_QUEUE_URL (absent: no fan-out queue) and ACCOUNT_NUMBER_PATTERN (issue #22)', () => {
    expect(loadCalloutConfig({ ...QUEUE, ...BASIC }).accountQueueUrl).toBeUndefined();
    const config = loadCalloutConfig({
      ...QUEUE,
      ...BASIC,
      ACCOUNT_QUEUE_URL: 'https://sqs/accounts',
      ACCOUNT_NUMBER_PATTERN: 'CUST-X-[0-9]+',
    });
    expect(config.accountQueueUrl).toBe('https://sqs/accounts');
    expect(config.accountKeyRule.numberPattern.test('CUST-X-42')).toBe(true);
    expect(configError(() => loadCalloutConfig({ ...QUEUE, ...BASIC, ACCOUNT_NUMBER_PATTERN: '[' })).variable).toBe(
      'ACCOUNT_NUMBER_PATTERN',
    );
  });

  it('reads CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: fan-out by default, ignore when set, anything else refused', () => {
    expect(loadCalloutConfig({ ...QUEUE, ...BASIC }).accountsBesideSubscriptions).toBe('fan-out');
    expect(
      loadCalloutConfig({ ...QUEUE, ...BASIC, CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: 'ignore' })
        .accountsBesideSubscriptions,
    ).toBe('ignore');
    expect(
      configError(() => loadCalloutConfig({ ...QUEUE, ...BASIC, CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: 'skip' }))
        .variable,
    ).toBe('CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS');
  });

  it('requires QUEUE_URL', () => {
    expect(configError(() => loadCalloutConfig(BASIC)).variable).toBe('QUEUE_URL');
  });

  it('reads the defaults and the limits', () => {
    const config = loadCalloutConfig({ ...QUEUE, CALLOUT_AUTH_SECRET_ID: 'callout-auth' });
    expect(config).toMatchObject({
      auth: { kind: 'secret', secretId: 'callout-auth' },
      realm: 'zuora-limio-sync',
      delaySeconds: 0,
      maxIds: 100,
      maxBodyBytes: 262144,
    });
    expect(config.idField).toBeUndefined();
    const tuned = loadCalloutConfig({
      ...QUEUE,
      ...BASIC,
      CALLOUT_REALM: 'Zuora callouts',
      CALLOUT_DELAY_SECONDS: '5',
      CALLOUT_MAX_IDS: '20',
      CALLOUT_MAX_BODY_BYTES: '4096',
      CALLOUT_ID_FIELD: 'Data.Subscription.Name',
      SUBSCRIPTION_ID_PATTERN: 'SUB-[0-9]+',
    });
    expect(tuned).toMatchObject({
      realm: 'Zuora callouts',
      delaySeconds: 5,
      maxIds: 20,
      maxBodyBytes: 4096,
      idField: 'Data.Subscription.Name',
    });
    expect(tuned.idRule.numberPattern.test('SUB-12')).toBe(true);
    expect(tuned.auth).toEqual({
      kind: 'static',
      auth: { mode: 'basic', username: 'zuora', password: 'correct horse battery' },
    });
    expect(config.expectedTenantId).toBeUndefined();
    expect(loadCalloutConfig({ ...QUEUE, ...BASIC, CALLOUT_EXPECTED_TENANT_ID: ' 12345 ' }).expectedTenantId).toBe(
      '12345',
    );
  });

  it.each([
    ['CALLOUT_DELAY_SECONDS', '901'],
    ['CALLOUT_MAX_IDS', '0'],
    ['CALLOUT_MAX_BODY_BYTES', 'lots'],
    // Above what a synchronous Lambda invocation takes once an HTTP API has base64-encoded the body.
    ['CALLOUT_MAX_BODY_BYTES', String(4 * 1024 * 1024 + 1)],
    ['CALLOUT_REALM', 'say "hi"'],
    ['CALLOUT_ID_FIELD', 'Data..Name'],
    ['SUBSCRIPTION_ID_PATTERN', '(['],
    ['CALLOUT_EXPECTED_TENANT_ID', 'https://apisandbox.zuora.com'],
    ['CALLOUT_EXPECTED_TENANT_ID', '123 45'],
  ])('names %s when its value is wrong', (variable, value) => {
    expect(configError(() => loadCalloutConfig({ ...QUEUE, ...BASIC, [variable]: value })).variable).toBe(variable);
  });
});

describe('callout auth from the environment', () => {
  it('reads each mode', () => {
    expect(calloutAuthFromEnv(BASIC)).toEqual({ mode: 'basic', username: 'zuora', password: 'correct horse battery' });
    expect(
      calloutAuthFromEnv({
        CALLOUT_AUTH_MODE: 'header',
        CALLOUT_HEADER_NAME: 'X-Callout-Token',
        CALLOUT_HEADER_VALUE: 's3cret-token',
      }),
    ).toEqual({
      mode: 'header',
      headerName: 'X-Callout-Token',
      value: 's3cret-token',
    });
    expect(calloutAuthFromEnv({ CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'k' })).toEqual({
      mode: 'hmac',
      key: 'k',
      headerName: 'X-Zuora-Signature',
      algorithm: 'sha256',
      prefix: '',
      signedData: '{body}\\n',
      toleranceSeconds: 300,
    });
    expect(
      calloutAuthFromEnv({
        CALLOUT_AUTH_MODE: 'hmac',
        CALLOUT_HMAC_KEY: 'k',
        CALLOUT_HMAC_HEADER: 'Authorization',
        CALLOUT_HMAC_ALGORITHM: 'SHA-512',
        CALLOUT_HMAC_PREFIX: 'v1:',
        CALLOUT_HMAC_SIGNED_DATA: '{timestamp:X-Ts}\\n{body}\\n',
        CALLOUT_HMAC_TOLERANCE_SECONDS: '60',
      }),
    ).toMatchObject({ headerName: 'Authorization', algorithm: 'sha512', prefix: 'v1:', toleranceSeconds: 60 });
  });

  it('reads the previous credential of a rotation for each mode', () => {
    expect(calloutAuthFromEnv({ ...BASIC, CALLOUT_PREVIOUS_PASSWORD: 'old pw' })).toEqual({
      mode: 'basic',
      username: 'zuora',
      password: 'correct horse battery',
      previous: { username: 'zuora', password: 'old pw' },
    });
    expect(
      calloutAuthFromEnv({ ...BASIC, CALLOUT_PREVIOUS_USERNAME: 'zuora-old', CALLOUT_PREVIOUS_PASSWORD: 'old pw' }),
    ).toMatchObject({
      previous: { username: 'zuora-old', password: 'old pw' },
    });
    expect(
      calloutAuthFromEnv({
        CALLOUT_AUTH_MODE: 'header',
        CALLOUT_HEADER_NAME: 'X-Callout-Token',
        CALLOUT_HEADER_VALUE: 'new',
        CALLOUT_PREVIOUS_HEADER_VALUE: 'old',
      }),
    ).toMatchObject({ value: 'new', previousValue: 'old' });
    expect(
      calloutAuthFromEnv({ CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'new', CALLOUT_PREVIOUS_HMAC_KEY: 'old' }),
    ).toMatchObject({ key: 'new', previousKey: 'old' });
    expect(calloutAuthFromEnv(BASIC)).not.toHaveProperty('previous');
  });

  it.each([
    [{ CALLOUT_AUTH_MODE: 'none' }, 'CALLOUT_AUTH_MODE'],
    [{ CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora' }, 'CALLOUT_PASSWORD'],
    [{ CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zu:ora', CALLOUT_PASSWORD: 'x' }, 'CALLOUT_USERNAME'],
    [{ CALLOUT_AUTH_MODE: 'header', CALLOUT_HEADER_VALUE: 'x' }, 'CALLOUT_HEADER_NAME'],
    [
      { CALLOUT_AUTH_MODE: 'header', CALLOUT_HEADER_NAME: 'Authorization', CALLOUT_HEADER_VALUE: 'x' },
      'CALLOUT_HEADER_NAME',
    ],
    [{ CALLOUT_AUTH_MODE: 'header', CALLOUT_HEADER_NAME: 'X Token', CALLOUT_HEADER_VALUE: 'x' }, 'CALLOUT_HEADER_NAME'],
    [{ CALLOUT_AUTH_MODE: 'header', CALLOUT_HEADER_NAME: 'X-Token' }, 'CALLOUT_HEADER_VALUE'],
    [{ CALLOUT_AUTH_MODE: 'hmac' }, 'CALLOUT_HMAC_KEY'],
    [{ CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'k', CALLOUT_HMAC_ALGORITHM: 'md5' }, 'CALLOUT_HMAC_ALGORITHM'],
    [
      { CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'k', CALLOUT_HMAC_SIGNED_DATA: '{payload}' },
      'CALLOUT_HMAC_SIGNED_DATA',
    ],
    [
      { CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'k', CALLOUT_HMAC_TOLERANCE_SECONDS: '0' },
      'CALLOUT_HMAC_TOLERANCE_SECONDS',
    ],
    // A signature that covers neither the body nor a query parameter covers no subscription id.
    [
      { CALLOUT_AUTH_MODE: 'hmac', CALLOUT_HMAC_KEY: 'k', CALLOUT_HMAC_SIGNED_DATA: '{timestamp:X-Ts}\\n' },
      'CALLOUT_HMAC_SIGNED_DATA',
    ],
    [
      {
        CALLOUT_AUTH_MODE: 'basic',
        CALLOUT_USERNAME: 'zuora',
        CALLOUT_PASSWORD: 'x',
        CALLOUT_PREVIOUS_USERNAME: 'old',
      },
      'CALLOUT_PREVIOUS_PASSWORD',
    ],
    [
      {
        CALLOUT_AUTH_MODE: 'basic',
        CALLOUT_USERNAME: 'zuora',
        CALLOUT_PASSWORD: 'x',
        CALLOUT_PREVIOUS_USERNAME: 'o:ld',
        CALLOUT_PREVIOUS_PASSWORD: 'y',
      },
      'CALLOUT_PREVIOUS_USERNAME',
    ],
  ])('refuses %j naming %s', (env, variable) => {
    expect(configError(() => calloutAuthFromEnv(env)).variable).toBe(variable);
  });
});

describe('callout auth secret', () => {
  it('reads each documented shape', () => {
    expect(parseCalloutAuthSecret('{"mode":"basic","username":"zuora","password":"pw"}', 'callout-auth')).toEqual({
      mode: 'basic',
      username: 'zuora',
      password: 'pw',
    });
    expect(
      parseCalloutAuthSecret('{"mode":"header","headerName":"X-Callout-Token","value":"tok"}', 'callout-auth'),
    ).toEqual({
      mode: 'header',
      headerName: 'X-Callout-Token',
      value: 'tok',
    });
    expect(
      parseCalloutAuthSecret(
        '{"mode":"hmac","key":"k","headerName":"X-Signature","algorithm":"SHA-256","prefix":"v1:","signedData":"{body}\\n","toleranceSeconds":120}',
        'callout-auth',
      ),
    ).toEqual({
      mode: 'hmac',
      key: 'k',
      headerName: 'X-Signature',
      algorithm: 'sha256',
      prefix: 'v1:',
      signedData: '{body}\n',
      toleranceSeconds: 120,
    });
  });

  it('reads the previous credential fields of a rotation', () => {
    expect(
      parseCalloutAuthSecret(
        '{"mode":"basic","username":"zuora","password":"new","previousPassword":"old"}',
        'callout-auth',
      ),
    ).toEqual({
      mode: 'basic',
      username: 'zuora',
      password: 'new',
      previous: { username: 'zuora', password: 'old' },
    });
    expect(
      parseCalloutAuthSecret(
        '{"mode":"header","headerName":"X-T","value":"new","previousValue":"old"}',
        'callout-auth',
      ),
    ).toMatchObject({ previousValue: 'old' });
    expect(parseCalloutAuthSecret('{"mode":"hmac","key":"new","previousKey":"old"}', 'callout-auth')).toMatchObject({
      key: 'new',
      previousKey: 'old',
    });
    const unpaired = configError(() =>
      parseCalloutAuthSecret(
        '{"mode":"basic","username":"zuora","password":"new","previousUsername":"old"}',
        'callout-auth',
      ),
    );
    expect(unpaired.message).toContain('field "previousPassword"');
  });

  it('names the secret and the field, and never repeats a secret value', () => {
    const missing = configError(() => parseCalloutAuthSecret('{"mode":"basic","username":"zuora"}', 'callout-auth'));
    expect(missing.message).toContain('secret callout-auth, field "password"');
    const notJson = configError(() => parseCalloutAuthSecret('password=hunter2-very-secret', 'callout-auth'));
    expect(notJson.message).not.toContain('hunter2');
    const wrongType = configError(() =>
      parseCalloutAuthSecret(
        '{"mode":"header","headerName":"X-T","value":{"v":"hunter2-very-secret"}}',
        'callout-auth',
      ),
    );
    expect(wrongType.message).toContain('"value" must be a string');
    expect(wrongType.message).not.toContain('hunter2');
    expect(configError(() => parseCalloutAuthSecret('[]', 'callout-auth')).message).toContain('not a JSON object');
  });
});
