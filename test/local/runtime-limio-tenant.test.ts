import { createServer } from 'node:http';
import { loadRuntimeConfig } from '../../local/config';
import { startLimioSandbox } from '../../local/limio-sandbox';
import { closeServer, listen } from '../../local/listen';
import { LimioUnreachableError, startRuntime, type Runtime } from '../../local/runtime';
import { EPHEMERAL, postJson, recorder, start } from './runtime-harness';

describe('local runtime against a Limio tenant (LIMIO_BASE_URL)', () => {
  it('syncs against the tenant given, with its client credentials, and starts no sandbox', async () => {
    const tenant = await startLimioSandbox();
    const rec = recorder();
    let runtime: Runtime | undefined;
    try {
      runtime = await start(
        {
          LIMIO_BASE_URL: tenant.baseUrl,
          LIMIO_CLIENT_ID: tenant.clientId,
          LIMIO_CLIENT_SECRET: tenant.clientSecret,
          CALLOUT_AUTH_MODE: 'header',
          CALLOUT_HEADER_NAME: 'X-Callout-Token',
          CALLOUT_HEADER_VALUE: 'local-token-value',
          SYNC_BATCHING_WINDOW_SECONDS: '0',
        },
        rec,
      );
      expect(runtime.limioSandbox).toBeUndefined();
      expect(runtime.limioBaseUrl).toBe(tenant.baseUrl);
      // Header mode is not Basic: a callout without the header reaches the handler and is refused there.
      expect((await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000901' })).status).toBe(401);
      const ok = await postJson(
        runtime.calloutUrl,
        { subscriptionNumber: 'A-S00000901' },
        { 'X-Callout-Token': 'local-token-value' },
      );
      expect(ok.status).toBe(200);
      await rec.waitFor('A-S00000901', 'synced');
      expect(tenant.stats.synced.has('A-S00000901')).toBe(true);
    } finally {
      await runtime?.stop();
      await tenant.stop();
    }
  });

  it('fails fast, naming LIMIO_BASE_URL, when the tenant does not answer', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    const port = await listen(probe, 0, '127.0.0.1', 'PORT');
    await closeServer(probe);
    const config = loadRuntimeConfig({
      ...EPHEMERAL,
      LIMIO_BASE_URL: `http://127.0.0.1:${port}`,
      LIMIO_CLIENT_ID: 'id',
      LIMIO_CLIENT_SECRET: 'secret',
    });
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(LimioUnreachableError);
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(
      /LIMIO_BASE_URL http:\/\/127\.0\.0\.1:\d+: the Limio token endpoint could not be reached/,
    );
  });

  it('fails fast when the tenant refuses the client credentials', async () => {
    const tenant = await startLimioSandbox();
    try {
      const config = loadRuntimeConfig({
        ...EPHEMERAL,
        LIMIO_BASE_URL: tenant.baseUrl,
        LIMIO_CLIENT_ID: tenant.clientId,
        LIMIO_CLIENT_SECRET: 'wrong',
      });
      await expect(startRuntime({ config, quiet: true })).rejects.toThrow(
        /refused the client credentials.*LIMIO_CLIENT_SECRET/,
      );
    } finally {
      await tenant.stop();
    }
  });
});
