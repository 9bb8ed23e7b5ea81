// The Lambda entry point reads its configuration while the module loads, so a misconfigured function fails
// its cold start (and says why) instead of answering callouts.
describe('functions/callout/handler.ts', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  const load = () => {
    let loaded: unknown;
    jest.isolateModules(() => {
      loaded = require('../../functions/callout/handler');
    });
    return loaded as { handler: unknown };
  };

  it('refuses to start without callout authentication', () => {
    process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/zuora-limio-sync';
    for (const name of Object.keys(process.env)) if (name.startsWith('CALLOUT_')) delete process.env[name];
    // isolateModules loads its own copy of ConfigError, so the class is checked by name.
    expect(load).toThrow(expect.objectContaining({ name: 'ConfigError', variable: 'CALLOUT_AUTH_SECRET_ID' }));
  });

  it('exports the handler when configured', () => {
    process.env.QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/zuora-limio-sync';
    process.env.CALLOUT_AUTH_SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:callout-auth-AbCdEf';
    expect(typeof load().handler).toBe('function');
  });
});
