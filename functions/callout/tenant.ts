import { ConfigError } from '../shared/config-error';
import { optionalString, type Env } from '../shared/env';
import { bodyDocument } from './callout-body';
import { normaliseName } from './extract-ids';
import type { CalloutRequest } from './request';

/**
 * The optional check that a callout comes from the Zuora tenant this bridge serves, so a sandbox pointed at
 * production by mistake is refused instead of syncing its subscription numbers into the production Limio.
 *
 * A callout is refused only when it names a tenant and that tenant is another one. A callout naming no tenant
 * is accepted: Zuora adds a tenant id only where the template puts the `tenantId` merge field, and refusing
 * every template without it would turn an opt-in safety check into an outage. Add the field to the templates
 * to be protected.
 */

/** Zuora tenant ids are numbers; letters and dashes are allowed too, but nothing a typo or a URL would bring. */
export const ZUORA_TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;

/** Field names (normalised: lower case, no "_", "-", ".") holding the tenant id; `Tenant.Id` counts too. */
const TENANT_FIELDS = new Set(['tenantid', 'zuoratenantid']);
const TENANT_CONTAINERS = new Set(['tenant']);
const TENANT_HEADERS = ['zuora-tenant-id', 'x-zuora-tenant-id'] as const;
const MAX_DEPTH = 16;
/** Enough to see a mismatch; a body listing more tenant ids than this is not a callout template. */
const MAX_FOUND = 20;

/** CALLOUT_EXPECTED_TENANT_ID, checked at cold start. */
export function expectedTenantIdFrom(env: Env): string | undefined {
  const value = optionalString(env, 'CALLOUT_EXPECTED_TENANT_ID');
  if (value === undefined) return undefined;
  if (!ZUORA_TENANT_ID.test(value)) {
    throw new ConfigError(
      'CALLOUT_EXPECTED_TENANT_ID',
      'must be a Zuora tenant id (letters, digits and "-", at most 64, e.g. 12345), as shown under your Zuora user menu or Settings > Company',
    );
  }
  return value;
}

export type TenantVerdict =
  | { readonly ok: true; readonly tenantId?: string }
  | { readonly ok: false; readonly reason: string };

/** Every tenant id the callout carries: headers, query parameters and the body (JSON, form or XML). */
export function findTenantIds(request: CalloutRequest): string[] {
  const found: string[] = [];
  const add = (value: unknown) => {
    if (found.length >= MAX_FOUND) return;
    if (typeof value === 'number' && Number.isFinite(value)) found.push(String(value));
    else if (typeof value === 'string' && value.trim() !== '') found.push(value.trim());
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      // An XML element with attributes keeps its text under "#text".
      const text = (value as Record<string, unknown>)['#text'];
      if (text !== undefined) add(text);
    } else if (Array.isArray(value)) for (const item of value) add(item);
  };
  for (const name of TENANT_HEADERS) if (Object.hasOwn(request.headers, name)) add(request.headers[name]);
  for (const [name, values] of Object.entries(request.query)) if (TENANT_FIELDS.has(normaliseName(name))) add(values);
  walk(bodyDocument(request), 0, add);
  return found;
}

function walk(value: unknown, depth: number, add: (value: unknown) => void): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, depth + 1, add);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (TENANT_FIELDS.has(key)) add(child);
    else if (TENANT_CONTAINERS.has(key) && child !== null && typeof child === 'object' && !Array.isArray(child)) {
      for (const [inner, id] of Object.entries(child)) if (normaliseName(inner) === 'id') add(id);
      walk(child, depth + 1, add);
    } else walk(child, depth + 1, add);
  }
}

/** Refuses a callout naming a tenant other than the expected one; run only after authentication. */
export function checkTenant(request: CalloutRequest, expectedTenantId: string): TenantVerdict {
  const found = findTenantIds(request);
  const other = found.find((tenantId) => tenantId !== expectedTenantId);
  if (other !== undefined) {
    const shown = ZUORA_TENANT_ID.test(other) ? `tenant ${other}` : 'a tenant id that is not one';
    return {
      ok: false,
      reason: `callout is from Zuora ${shown}, not the tenant this endpoint serves (CALLOUT_EXPECTED_TENANT_ID)`,
    };
  }
  return found.length > 0 ? { ok: true, tenantId: expectedTenantId } : { ok: true };
}
