import type { RuntimeConfig } from './config';
import { startLimioSandbox, type LimioSandbox } from './limio-sandbox';
import { PortInUseError } from './listen';
import { startZuoraSandbox, type ZuoraSandbox } from './zuora-sandbox';

/**
 * The two tenants the local runtime talks to, each its sandbox on its port or, when the config names one, the
 * real tenant. Whoever gets a sandbox stops it.
 */
export interface TenantAccess {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

export async function startLimioTarget(
  config: RuntimeConfig,
): Promise<{ access: TenantAccess; sandbox?: LimioSandbox }> {
  if (config.limio.kind !== 'sandbox') return { access: config.limio };
  const target = config.limio;
  const sandbox = await startLimioSandbox({
    port: target.port,
    host: config.host,
    ...target.faults,
    ...(target.capacity !== undefined && { capacity: target.capacity }),
    ...(target.clientId !== undefined && { clientId: target.clientId, clientSecret: target.clientSecret }),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' || /EADDRINUSE/.test(error.message)
      ? new PortInUseError(target.port, 'LIMIO_SANDBOX_PORT')
      : error;
  });
  return {
    access: { baseUrl: sandbox.baseUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
    sandbox,
  };
}

export async function startZuoraTarget(
  config: RuntimeConfig,
): Promise<{ access: TenantAccess; sandbox?: ZuoraSandbox }> {
  if (config.zuora.kind !== 'sandbox') return { access: config.zuora };
  const target = config.zuora;
  const sandbox = await startZuoraSandbox({
    port: target.port,
    host: config.host,
    ...target.faults,
    clientId: target.clientId,
    clientSecret: target.clientSecret,
    ...(target.entityId !== undefined && { entityId: target.entityId }),
  }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new PortInUseError(target.port, 'ZUORA_SANDBOX_PORT') : error;
  });
  return {
    access: { baseUrl: sandbox.baseUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
    sandbox,
  };
}
