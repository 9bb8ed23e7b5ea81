// The deployed module checks its configuration at cold start: a broken environment fails the import, naming
// the variable, instead of failing every message later.
describe('functions/sync/handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  const load = () => {
    let loaded: { handler: unknown } | undefined;
    jest.isolateModules(() => {
      loaded = require('../../functions/sync/handler') as { handler: unknown };
    });
    return loaded!;
  };

  it('fails at import with a ConfigError naming the missing variable', () => {
    for (const name of [
      'QUEUE_URL',
      'DLQ_URL',
      'LIMIO_BASE_URL',
      'LIMIO_SECRET_ID',
      'LIMIO_CLIENT_ID',
      'LIMIO_CLIENT_SECRET',
    ]) {
      delete process.env[name];
    }
    process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123/main';
    // isolateModules loads its own copy of ConfigError, so the class is checked by name.
    expect(load).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        variable: 'DLQ_URL',
        message: 'DLQ_URL: is required but not set',
      }),
    );
  });

  it('exports the handler when the environment is complete', () => {
    Object.assign(process.env, {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123/main',
      DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123/dlq',
      LIMIO_BASE_URL: 'https://acme.prod.limio.com',
      LIMIO_SECRET_ID: 'zuora-limio-sync/limio',
      AWS_REGION: 'eu-west-1',
    });
    delete process.env.LIMIO_CLIENT_ID;
    delete process.env.LIMIO_CLIENT_SECRET;
    expect(typeof load().handler).toBe('function');
  });
});
