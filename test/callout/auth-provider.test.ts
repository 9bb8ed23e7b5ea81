import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { createAuthProvider } from '../../functions/callout/auth-provider';
import { ConfigError } from '../../functions/shared/config-error';

// Secrets Manager has no local emulator: this is the one AWS service the tests mock.
describe('createAuthProvider', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  afterEach(() => secretsManager.reset());
  afterAll(() => client.destroy());

  it('reads the secret once per cache period, sharing one read between concurrent callouts', async () => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'callout-auth' })
      .resolves({ SecretString: '{"mode":"basic","username":"zuora","password":"pw"}' });
    let clock = 0;
    const provider = createAuthProvider(
      { kind: 'secret', secretId: 'callout-auth' },
      { secretsManager: client, now: () => new Date(clock), cacheSeconds: 300 },
    );
    const [first, second] = await Promise.all([provider(), provider()]);
    expect(first).toEqual({ mode: 'basic', username: 'zuora', password: 'pw' });
    expect(second).toBe(first);
    clock = 299_000;
    await provider();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock = 300_000;
    await provider();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads again after a credential mismatch only when the cached copy is older than 30 s', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: '{"mode":"header","headerName":"X-T","value":"v"}' });
    let clock = 0;
    const provider = createAuthProvider(
      { kind: 'secret', secretId: 'callout-auth' },
      { secretsManager: client, now: () => new Date(clock), cacheSeconds: 300 },
    );
    await provider();
    clock = 29_000;
    await provider({ staleAfterRotation: true });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    clock = 30_000;
    await provider({ staleAfterRotation: true });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('does not cache a failed read', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: '{"mode":"header","headerName":"X-T","value":"v"}' });
    const provider = createAuthProvider(
      { kind: 'secret', secretId: 'callout-auth' },
      { secretsManager: client, now: () => new Date(0) },
    );
    await expect(provider()).rejects.toThrow('throttled');
    await expect(provider()).resolves.toMatchObject({ mode: 'header' });
  });

  it('turns an unusable secret into a ConfigError', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    const provider = createAuthProvider(
      { kind: 'secret', secretId: 'callout-auth' },
      { secretsManager: client, now: () => new Date(0) },
    );
    await expect(provider()).rejects.toBeInstanceOf(ConfigError);
  });

  it('serves static (local) settings without Secrets Manager', async () => {
    const auth = { mode: 'header', headerName: 'X-T', value: 'v' } as const;
    await expect(createAuthProvider({ kind: 'static', auth }, { now: () => new Date(0) })()).resolves.toBe(auth);
  });
});
