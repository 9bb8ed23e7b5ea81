import { createServer, type Server } from 'node:http';
import type { CalloutConfig } from '../functions/callout/config';
import type { ApiKind } from './api-gateway';
import { createApiGatewayListener, type ProxyHandler } from './api-gateway-adapter';
import { handleLocalBreakerRequest, type LocalBreakerControlOptions } from './breaker-control';
import { LOCAL_DEFAULTS } from './defaults';
import { handleLocalLimioRequest, type LimioControlView } from './limio-control';
import type { LimioSandbox, LimioServiceModel } from './limio-sandbox';
import { tenantDateTime } from './zoql';
import { handleLocalZuoraRequest } from './zuora-control';
import type { ZuoraSandbox } from './zuora-sandbox';

/**
 * The local runtime's one HTTP port: the callout route behind the API Gateway adapter, as Zuora reaches the
 * deployed stack, and beside it the control endpoints the CLI's --local commands use (the breaker, and changes
 * made in the Zuora sandbox without a callout) and the ones that change the Limio sandbox's capacity and faults.
 */
export interface FrontDoorOptions {
  readonly apiKind: ApiKind;
  readonly calloutConfig: CalloutConfig;
  readonly calloutHandler: ProxyHandler;
  /** The CLI's `status --local` and `breaker open|close --local` reach the breaker here. */
  readonly breakerControl: LocalBreakerControlOptions;
  readonly zuoraSandbox: ZuoraSandbox | undefined;
  readonly onZuoraTouched?: (names: readonly string[]) => void;
  readonly onZuoraAccountsTouched?: (changes: readonly string[]) => void;
  readonly limioSandbox: LimioSandbox | undefined;
  readonly onLimioCapacityChanged?: (model: LimioServiceModel) => void;
  readonly onLimioFaultsChanged?: (view: LimioControlView) => void;
  readonly onError?: (error: unknown) => void;
}

/** The sandbox's default time zone, as it reports UpdatedDate. */
const SANDBOX_TENANT_OFFSET_MINUTES = -480;

export function createFrontDoor(options: FrontDoorOptions): Server {
  const { calloutConfig, apiKind, zuoraSandbox } = options;
  const basicAuth = calloutConfig.auth.kind === 'static' && calloutConfig.auth.auth.mode === 'basic';
  const calloutListener = createApiGatewayListener({
    kind: apiKind,
    handler: options.calloutHandler,
    path: LOCAL_DEFAULTS.calloutPath,
    // The deployed REST API challenges credential-less requests itself; an HTTP API cannot.
    ...(apiKind === 'rest' && basicAuth && { basicChallengeRealm: calloutConfig.realm }),
    functionName: 'callout',
    ...(options.onError && { onIntegrationError: options.onError }),
  });
  const zuoraControl = {
    ...(zuoraSandbox && { sandbox: zuoraSandbox }),
    describeUpdatedDate: (updatedMs: number) => tenantDateTime(updatedMs, SANDBOX_TENANT_OFFSET_MINUTES),
    ...(options.onZuoraTouched && { onTouched: options.onZuoraTouched }),
    ...(options.onZuoraAccountsTouched && { onAccountsTouched: options.onZuoraAccountsTouched }),
  };
  const limioControl = {
    ...(options.limioSandbox && { sandbox: options.limioSandbox }),
    ...(options.onLimioCapacityChanged && { onChanged: options.onLimioCapacityChanged }),
    ...(options.onLimioFaultsChanged && { onFaultsChanged: options.onLimioFaultsChanged }),
  };
  return createServer((request, response) => {
    if (handleLocalBreakerRequest(request, response, options.breakerControl)) return;
    if (handleLocalZuoraRequest(request, response, zuoraControl)) return;
    if (handleLocalLimioRequest(request, response, limioControl)) return;
    void calloutListener(request, response);
  });
}
