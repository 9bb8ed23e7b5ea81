import { createServer } from 'node:http';
import { loadRuntimeConfig } from '../../local/config';
import { closeServer, listen, PortInUseError } from '../../local/listen';
import { startRuntime } from '../../local/runtime';
import { EPHEMERAL, recorder, start } from './runtime-harness';

describe('local runtime lifecycle', () => {
  it('names PORT when the callout port is taken, and leaves nothing running behind', async () => {
    const squatter = createServer();
    const port = await listen(squatter, 0, '127.0.0.1', 'PORT');
    try {
      const config = loadRuntimeConfig({ ...EPHEMERAL, PORT: String(port) });
      const failure = startRuntime({ config, quiet: true });
      await expect(failure).rejects.toThrow(PortInUseError);
      await expect(failure).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      await closeServer(squatter);
    }
  });

  it.each(['DYNAMODB_PORT', 'ZUORA_SANDBOX_PORT'])(
    'names %s when its port is taken, and leaves nothing running behind',
    async (variable) => {
      const squatter = createServer();
      const port = await listen(squatter, 0, '127.0.0.1', variable);
      try {
        const config = loadRuntimeConfig({ ...EPHEMERAL, [variable]: String(port) });
        const failure = startRuntime({ config, quiet: true });
        await expect(failure).rejects.toThrow(PortInUseError);
        await expect(failure).rejects.toThrow(
          `port ${port} is already in use; stop what is listening there or set ${variable} to another port`,
        );
      } finally {
        await closeServer(squatter);
      }
    },
  );

  it('refuses a plain-http Zuora tenant off this machine before starting anything, naming ZUORA_BASE_URL', async () => {
    const config = loadRuntimeConfig({
      ...EPHEMERAL,
      ZUORA_BASE_URL: 'http://rest.zuora.com',
      ZUORA_CLIENT_ID: 'id',
      ZUORA_CLIENT_SECRET: 'secret',
    });
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(
      expect.objectContaining({ name: 'ConfigError', variable: 'ZUORA_BASE_URL' }),
    );
  });

  it('stop() closes every port it opened and restores the environment', async () => {
    const endpointBefore = process.env.AWS_ENDPOINT_URL_SQS;
    const dynamoDbEndpointBefore = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    const runtime = await start({}, recorder());
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(runtime.sqsEndpoint);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(runtime.dynamoDbEndpoint);
    const urls = [
      runtime.calloutUrl,
      runtime.sqsEndpoint,
      `${runtime.limioBaseUrl}/oauth2/token`,
      runtime.dynamoDbEndpoint,
      `${runtime.zuoraBaseUrl}/oauth/token`,
    ];
    for (const url of urls) expect(new URL(url).port).not.toBe('');
    await runtime.stop();
    for (const url of urls) {
      await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
    }
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(endpointBefore);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(dynamoDbEndpointBefore);
  });
});
