import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, isLoopbackAddress, MAX_CONTROL_BODY_BYTES, readJsonObject, refusedAsCrossSite, sendJson } from './control-request';
import { SANDBOX_CAPACITY_BOUNDS, SANDBOX_LATENCY_BOUNDS } from './limio-capacity';
import type { LimioSandbox, LimioServiceModel } from './limio-sandbox';

/**
 * Changes the Limio sandbox's capacity model (local/limio-capacity.ts) while `npm start` runs, so a user can move
 * Limio's capacity under the bridge and watch it follow:
 *   GET  /_local/limio/capacity                                  -> {"capacity": 8 | null, "latencyMs": 200}
 *   POST /_local/limio/capacity {"capacity"?: 8 | null, "latencyMs"?: 200} -> the same, after the change
 * null capacity is unlimited. Served on the runtime's own HTTP server (127.0.0.1 only); cross-site requests are
 * refused as control-request.ts explains.
 */
const LOCAL_LIMIO_PATH = '/_local/limio';
export const LOCAL_LIMIO_CAPACITY_PATH = `${LOCAL_LIMIO_PATH}/capacity`;

export interface LocalLimioControlOptions {
  /** Absent when the runtime syncs to a real tenant (LIMIO_BASE_URL): its capacity is its own. */
  readonly sandbox?: LimioSandbox;
  /** Each change, for the runtime's output. */
  readonly onChanged?: (model: LimioServiceModel) => void;
}

export interface CapacityChange {
  /** null: unlimited. */
  readonly capacity?: number | null;
  readonly latencyMs?: number;
}

/** Handles the request if it is for the Limio control endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalLimioRequest(request: IncomingMessage, response: ServerResponse, options: LocalLimioControlOptions): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_LIMIO_PATH && !path.startsWith(`${LOCAL_LIMIO_PATH}/`)) return false;
  void answer(request, response, path, options).catch((error: unknown) => {
    sendJson(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(request: IncomingMessage, response: ServerResponse, path: string, options: LocalLimioControlOptions): Promise<void> {
  const usage = `use GET or POST ${LOCAL_LIMIO_CAPACITY_PATH}`;
  // The runtime listens on 127.0.0.1 only; this holds should it ever listen wider.
  if (!isLoopbackAddress(request.socket.remoteAddress)) return sendJson(response, 403, { message: 'refused: the Limio sandbox is changed from this machine only' });
  if (refusedAsCrossSite(request, response, 'change the local Limio sandbox')) return;
  if (path !== LOCAL_LIMIO_CAPACITY_PATH) return sendJson(response, 404, { message: usage });
  if (request.method !== 'GET' && request.method !== 'POST') return sendJson(response, 405, { message: usage });
  const { sandbox } = options;
  if (sandbox === undefined) {
    return sendJson(response, 409, { message: 'this runtime syncs to the Limio tenant at LIMIO_BASE_URL, not the local sandbox: its capacity is its own' });
  }
  if (request.method === 'GET') return sendJson(response, 200, describeModel(sandbox.serviceModel()));
  if (!isJsonContentType(request.headers['content-type'])) return sendJson(response, 415, { message: 'expected Content-Type: application/json' });
  const change = capacityChange(await readJsonObject(request));
  if (typeof change === 'string') return sendJson(response, 400, { message: change });
  if (change.capacity !== undefined) sandbox.setCapacity(change.capacity ?? undefined);
  if (change.latencyMs !== undefined) sandbox.setFaults({ latencyMs: change.latencyMs });
  const model = sandbox.serviceModel();
  options.onChanged?.(model);
  sendJson(response, 200, describeModel(model));
}

/** JSON has no undefined: an unlimited capacity is null. */
function describeModel(model: LimioServiceModel): { capacity: number | null; latencyMs: number } {
  return { capacity: model.capacity ?? null, latencyMs: model.latencyMs };
}

/** The change a request body asks for, or what is wrong with it. */
export function capacityChange(body: Record<string, unknown> | undefined): CapacityChange | string {
  const capacityBounds = SANDBOX_CAPACITY_BOUNDS;
  const latencyBounds = SANDBOX_LATENCY_BOUNDS;
  const usage = `expected {"capacity": ${capacityBounds.min} to ${capacityBounds.max} or null (unlimited), "latencyMs": ${latencyBounds.min} to ${latencyBounds.max}}, either or both, in at most ${MAX_CONTROL_BODY_BYTES} bytes`;
  if (body === undefined) return usage;
  const unknown = Object.keys(body).filter((key) => key !== 'capacity' && key !== 'latencyMs');
  if (unknown.length > 0 || Object.keys(body).length === 0) return usage;
  const { capacity, latencyMs } = body;
  if (capacity !== undefined && capacity !== null && !isWholeNumberWithin(capacity, capacityBounds)) return usage;
  if (latencyMs !== undefined && !isWholeNumberWithin(latencyMs, latencyBounds)) return usage;
  return {
    ...(capacity !== undefined && { capacity: capacity as number | null }),
    ...(latencyMs !== undefined && { latencyMs: latencyMs as number }),
  };
}

function isWholeNumberWithin(value: unknown, bounds: { readonly min: number; readonly max: number }): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= bounds.min && value <= bounds.max;
}
