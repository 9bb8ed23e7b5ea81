import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isJsonContentType,
  isLoopbackAddress,
  MAX_CONTROL_BODY_BYTES,
  readJsonObject,
  refusedAsCrossSite,
  sendJson,
} from './control-request';
import { SANDBOX_CAPACITY_BOUNDS, SANDBOX_LATENCY_BOUNDS } from './limio-capacity';
import { SHARE_ROUNDING, type LimioFaults } from './limio-faults';
import type { LimioSandbox, LimioServiceModel } from './limio-sandbox';

/**
 * Changes the Limio sandbox while `npm start` runs, so every failure path can be walked without a restart (which
 * would lose the queues): its capacity model (local/limio-capacity.ts), so a user can move Limio's capacity under
 * the bridge and watch it follow, and its faults.
 *   GET  /_local/limio/capacity                                  -> {"capacity": 8 | null, "latencyMs": 200}
 *   POST /_local/limio/capacity {"capacity"?: 8 | null, "latencyMs"?: 200} -> the same, after the change
 *   GET  /_local/limio/faults  -> every fault and the capacity model (LimioControlView)
 *   POST /_local/limio/faults {any of its fields} -> the same, after the change; the fields not given are kept
 * null capacity is unlimited; notFoundIds is replaced as a whole ([] clears it). Served on the runtime's own HTTP
 * server (127.0.0.1 only); cross-site requests are refused as control-request.ts explains.
 */
const LOCAL_LIMIO_PATH = '/_local/limio';
export const LOCAL_LIMIO_CAPACITY_PATH = `${LOCAL_LIMIO_PATH}/capacity`;
export const LOCAL_LIMIO_FAULTS_PATH = `${LOCAL_LIMIO_PATH}/faults`;

/** Subscriptions the 404 list may hold, and how long each id may be: the control body is small anyway. */
const NOT_FOUND_IDS_MAX = 100;
const SUBSCRIPTION_ID_MAX_LENGTH = 100;
const RETRY_AFTER_BOUNDS = { min: 0, max: 3600 } as const;

/** What GET and POST /_local/limio/faults answer. */
export interface LimioControlView {
  readonly rate502: number;
  readonly rate429: number;
  readonly retryAfterSeconds: number;
  readonly hangRate: number;
  readonly down: boolean;
  readonly notFoundIds: readonly string[];
  /** null: unlimited. */
  readonly capacity: number | null;
  readonly latencyMs: number;
}

export interface LocalLimioControlOptions {
  /** Absent when the runtime syncs to a real tenant (LIMIO_BASE_URL): its capacity is its own. */
  readonly sandbox?: LimioSandbox;
  /** Each change of the capacity model, for the runtime's output. */
  readonly onChanged?: (model: LimioServiceModel) => void;
  /** Each change through the faults route (its capacity and latency included), for the runtime's output. */
  readonly onFaultsChanged?: (view: LimioControlView) => void;
}

export interface CapacityChange {
  /** null: unlimited. */
  readonly capacity?: number | null;
  readonly latencyMs?: number;
}

/** Handles the request if it is for the Limio control endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalLimioRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalLimioControlOptions,
): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_LIMIO_PATH && !path.startsWith(`${LOCAL_LIMIO_PATH}/`)) return false;
  void answer(request, response, path, options).catch((error: unknown) => {
    sendJson(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  options: LocalLimioControlOptions,
): Promise<void> {
  const usage = `use GET or POST ${LOCAL_LIMIO_CAPACITY_PATH} or ${LOCAL_LIMIO_FAULTS_PATH}`;
  // The runtime listens on 127.0.0.1 only; this holds should it ever listen wider.
  if (!isLoopbackAddress(request.socket.remoteAddress))
    return sendJson(response, 403, { message: 'refused: the Limio sandbox is changed from this machine only' });
  if (refusedAsCrossSite(request, response, 'change the local Limio sandbox')) return;
  if (path !== LOCAL_LIMIO_CAPACITY_PATH && path !== LOCAL_LIMIO_FAULTS_PATH)
    return sendJson(response, 404, { message: usage });
  if (request.method !== 'GET' && request.method !== 'POST') return sendJson(response, 405, { message: usage });
  const { sandbox } = options;
  if (sandbox === undefined) {
    return sendJson(response, 409, {
      message:
        'this runtime syncs to the Limio tenant at LIMIO_BASE_URL, not the local sandbox: its capacity and faults are its own',
    });
  }
  if (path === LOCAL_LIMIO_FAULTS_PATH) return answerFaults(request, response, sandbox, options);
  if (request.method === 'GET') return sendJson(response, 200, describeModel(sandbox.serviceModel()));
  if (!isJsonContentType(request.headers['content-type']))
    return sendJson(response, 415, { message: 'expected Content-Type: application/json' });
  const change = capacityChange(await readJsonObject(request));
  if (typeof change === 'string') return sendJson(response, 400, { message: change });
  if (change.capacity !== undefined) sandbox.setCapacity(change.capacity ?? undefined);
  if (change.latencyMs !== undefined) sandbox.setFaults({ latencyMs: change.latencyMs });
  const model = sandbox.serviceModel();
  options.onChanged?.(model);
  sendJson(response, 200, describeModel(model));
}

async function answerFaults(
  request: IncomingMessage,
  response: ServerResponse,
  sandbox: LimioSandbox,
  options: LocalLimioControlOptions,
): Promise<void> {
  if (request.method === 'GET') return sendJson(response, 200, describeControl(sandbox));
  if (!isJsonContentType(request.headers['content-type']))
    return sendJson(response, 415, { message: 'expected Content-Type: application/json' });
  const change = faultsChange(await readJsonObject(request), sandbox.currentFaults());
  if (typeof change === 'string') return sendJson(response, 400, { message: change });
  const { capacity, ...faults } = change;
  if (capacity !== undefined) sandbox.setCapacity(capacity ?? undefined);
  sandbox.setFaults(faults);
  const view = describeControl(sandbox);
  options.onFaultsChanged?.(view);
  sendJson(response, 200, view);
}

function describeControl(sandbox: Pick<LimioSandbox, 'currentFaults' | 'serviceModel'>): LimioControlView {
  const { rate502, rate429, retryAfterSeconds, hangRate, down, notFoundIds } = sandbox.currentFaults();
  return { rate502, rate429, retryAfterSeconds, hangRate, down, notFoundIds, ...describeModel(sandbox.serviceModel()) };
}

export type FaultsChange = LimioFaults & { readonly capacity?: number | null };

const FAULT_FIELDS = [
  'rate502',
  'rate429',
  'retryAfterSeconds',
  'hangRate',
  'down',
  'notFoundIds',
  'capacity',
  'latencyMs',
] as const;

/** The change a faults request asks for, or what is wrong with it; rates are checked together with the ones kept. */
export function faultsChange(
  body: Record<string, unknown> | undefined,
  current: Required<LimioFaults>,
): FaultsChange | string {
  const usage =
    `expected any of {"rate502", "rate429", "hangRate": 0 to 1 (adding up to at most 1), "retryAfterSeconds": ${RETRY_AFTER_BOUNDS.min} to ${RETRY_AFTER_BOUNDS.max}, ` +
    `"down": true | false, "notFoundIds": [up to ${NOT_FOUND_IDS_MAX} subscription ids], "capacity": ${SANDBOX_CAPACITY_BOUNDS.min} to ${SANDBOX_CAPACITY_BOUNDS.max} or null, ` +
    `"latencyMs": ${SANDBOX_LATENCY_BOUNDS.min} to ${SANDBOX_LATENCY_BOUNDS.max}} in at most ${MAX_CONTROL_BODY_BYTES} bytes`;
  if (body === undefined) return usage;
  const unknown = Object.keys(body).filter((key) => !(FAULT_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) return `unknown field ${unknown[0]}: ${usage}`;
  if (Object.keys(body).length === 0) return usage;
  const { rate502, rate429, hangRate, retryAfterSeconds, down, notFoundIds, capacity, latencyMs } = body;
  for (const [name, value] of [
    ['rate502', rate502],
    ['rate429', rate429],
    ['hangRate', hangRate],
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1))
      return `${name} must be a share from 0 to 1, such as 0.2: ${usage}`;
  }
  const shareOf = (value: unknown, kept: number) => (value === undefined ? kept : (value as number));
  const shares =
    shareOf(rate502, current.rate502) + shareOf(rate429, current.rate429) + shareOf(hangRate, current.hangRate);
  if (shares > 1 + SHARE_ROUNDING)
    return `rate502 + rate429 + hangRate would add up to ${shares}, more than 1 (the ones not given are kept): ${usage}`;
  if (retryAfterSeconds !== undefined && !isWholeNumberWithin(retryAfterSeconds, RETRY_AFTER_BOUNDS))
    return `retryAfterSeconds: ${usage}`;
  if (down !== undefined && typeof down !== 'boolean') return `down must be true or false: ${usage}`;
  if (notFoundIds !== undefined && !isIdList(notFoundIds))
    return `notFoundIds must be a list of up to ${NOT_FOUND_IDS_MAX} subscription ids: ${usage}`;
  if (capacity !== undefined && capacity !== null && !isWholeNumberWithin(capacity, SANDBOX_CAPACITY_BOUNDS))
    return `capacity: ${usage}`;
  if (latencyMs !== undefined && !isWholeNumberWithin(latencyMs, SANDBOX_LATENCY_BOUNDS)) return `latencyMs: ${usage}`;
  return {
    ...(rate502 !== undefined && { rate502: rate502 as number }),
    ...(rate429 !== undefined && { rate429: rate429 as number }),
    ...(hangRate !== undefined && { hangRate: hangRate as number }),
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds: retryAfterSeconds as number }),
    ...(down !== undefined && { down }),
    ...(notFoundIds !== undefined && { notFoundIds: notFoundIds as string[] }),
    ...(capacity !== undefined && { capacity: capacity as number | null }),
    ...(latencyMs !== undefined && { latencyMs: latencyMs as number }),
  };
}

function isIdList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length <= NOT_FOUND_IDS_MAX &&
    value.every((id) => typeof id === 'string' && id.trim() !== '' && id.length <= SUBSCRIPTION_ID_MAX_LENGTH)
  );
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
