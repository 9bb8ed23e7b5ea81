import { checkSubscriptionId, DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';
import { bodyKind, bodyText, MAX_DOCUMENT_DEPTH as MAX_DEPTH, parseForm, parseXml, readsBody } from './callout-body';
import { mediaType, type CalloutRequest } from './request';

/**
 * Finds the subscription identifiers a callout names, wherever Zuora's template put them: a JSON body, a
 * form body, query parameters or an XML body. A callout is all or nothing: one unreadable or invalid id
 * refuses the whole callout, so a broken template is noticed instead of half-working.
 *
 * Field names are matched without regard to case, "_", "-" or "." (subscriptionNumber, SubscriptionNumber,
 * subscription_number and Subscription.Name all match). When a callout carries both a subscription number
 * and an object id, the number wins: a subscription keeps its number across versions, its object id changes.
 */
export interface ExtractOptions {
  /** CALLOUT_ID_FIELD: a dot path such as "Data.Subscription.Name" (arrays are walked through). Looked at first. */
  readonly idField?: string;
  readonly maxIds: number;
  readonly rule?: SubscriptionIdRule;
}

export type ExtractionRefusal = 'unsupported-media-type' | 'malformed-body' | 'no-ids' | 'invalid-id' | 'too-many-ids';

export type Extraction =
  | { readonly ok: true; readonly ids: readonly string[] }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly refusal: ExtractionRefusal; readonly message: string };

/** Fields holding subscription numbers (normalised: lower case, no "_", "-", "."). */
const NUMBER_FIELDS = new Set([
  'subscriptionnumber',
  'subscriptionnumbers',
  'subscriptionname',
  'subscriptionnames',
]);
/** Fields holding Zuora object ids; used only when no number is present. */
const OBJECT_ID_FIELDS = new Set(['subscriptionid', 'subscriptionids']);
/** Containers whose own name / number / id fields are the subscription's. */
const CONTAINER_FIELDS = new Set(['subscription', 'subscriptions']);
const CONTAINER_NUMBER_FIELDS = new Set(['name', 'number', ...NUMBER_FIELDS]);
const CONTAINER_ID_FIELDS = new Set(['id', ...OBJECT_ID_FIELDS]);

export const FIELDS_LOOKED_AT = [
  'subscriptionNumber(s)',
  'subscriptionName(s)',
  'Subscription.Name',
  'subscriptions[].subscriptionNumber|name|number',
  'subscriptionId(s)',
  'subscription.id',
] as const;

type Tier = 'configured' | 'number' | 'objectId';

class Candidates {
  readonly byTier: Record<Tier, unknown[]> = { configured: [], number: [], objectId: [] };
  /** Blank values are skipped (a template whose merge field was empty); anything else is judged later. */
  add(tier: Tier, value: unknown): void {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined || (typeof item === 'string' && item.trim() === '')) continue;
      this.byTier[tier].push(typeof item === 'string' ? item.trim() : item);
    }
  }
  chosen(): unknown[] {
    for (const tier of ['configured', 'number', 'objectId'] as const) if (this.byTier[tier].length > 0) return this.byTier[tier];
    return [];
  }
}

export function extractSubscriptionIds(request: CalloutRequest, options: ExtractOptions): Extraction {
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  const candidates = new Candidates();

  collectParameters(request.query, options.idField, candidates);

  const hasBody = readsBody(request);
  if (hasBody) {
    const bodyResult = collectFromBody(request, options.idField, candidates);
    if (bodyResult !== undefined) return bodyResult;
  }

  const chosen = candidates.chosen();
  if (chosen.length === 0) {
    const looked = [...(options.idField ? [options.idField] : []), ...FIELDS_LOOKED_AT].join(', ');
    return {
      ok: false,
      status: 400,
      refusal: 'no-ids',
      message: `no subscription id found; looked at ${looked} in the query string${hasBody ? ' and the body' : ''}`,
    };
  }

  const ids: string[] = [];
  const seen = new Set<string>();
  for (const value of chosen) {
    const checked = checkSubscriptionId(typeof value === 'number' ? String(value) : value, rule);
    if (!checked.ok) return { ok: false, status: 400, refusal: 'invalid-id', message: checked.reason };
    if (!seen.has(checked.id)) {
      seen.add(checked.id);
      ids.push(checked.id);
    }
  }
  if (ids.length > options.maxIds) {
    return {
      ok: false,
      status: 413,
      refusal: 'too-many-ids',
      message: `${ids.length} subscription ids in one callout; at most ${options.maxIds} are accepted (CALLOUT_MAX_IDS)`,
    };
  }
  return { ok: true, ids };
}

/** Names of the query parameters extraction takes ids from (those with a non-blank value), as sent. */
export function queryParametersWithIds(query: Readonly<Record<string, readonly string[]>>, idField: string | undefined): string[] {
  return Object.entries(query)
    .filter(([name, values]) => parameterTier(name, idField) !== undefined && values.some((value) => value.split(',').some((part) => part.trim() !== '')))
    .map(([name]) => name);
}

function collectFromBody(request: CalloutRequest, idField: string | undefined, candidates: Candidates): Extraction | undefined {
  const kind = bodyKind(request);
  const text = bodyText(request);
  switch (kind) {
    case 'unsupported':
      return {
        ok: false,
        status: 415,
        refusal: 'unsupported-media-type',
        message: `content type ${mediaType(request)} is not supported; send application/json, application/x-www-form-urlencoded or application/xml`,
      };
    case 'form':
      collectParameters(parseForm(text), idField, candidates);
      return undefined;
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, status: 400, refusal: 'malformed-body', message: 'body is not valid JSON' };
      }
      collectFromDocument(value, idField, candidates);
      return undefined;
    }
    case 'xml': {
      const document = parseXml(text);
      if (document === undefined) return { ok: false, status: 400, refusal: 'malformed-body', message: 'body is not well-formed XML' };
      collectFromDocument(document, idField, candidates);
      return undefined;
    }
  }
}

function collectParameters(parameters: Readonly<Record<string, readonly string[]>>, idField: string | undefined, candidates: Candidates): void {
  for (const [name, values] of Object.entries(parameters)) {
    const tier = parameterTier(name, idField);
    // API Gateway HTTP APIs join repeated parameters with ","; ids never contain one.
    if (tier !== undefined) candidates.add(tier, values.flatMap((value) => value.split(',')));
  }
}

/** Which kind of id a form or query parameter of this name holds, if any. */
function parameterTier(name: string, idField: string | undefined): Tier | undefined {
  const key = normaliseName(name);
  if (idField !== undefined && (name === idField || key === normaliseName(idField))) return 'configured';
  if (NUMBER_FIELDS.has(key) || CONTAINER_FIELDS.has(key)) return 'number';
  if (OBJECT_ID_FIELDS.has(key)) return 'objectId';
  return undefined;
}

function collectFromDocument(document: unknown, idField: string | undefined, candidates: Candidates): void {
  if (idField !== undefined) candidates.add('configured', valuesAtPath(document, idField.split('.')));
  walk(document, 0, candidates);
}

function walk(value: unknown, depth: number, candidates: Candidates): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    // A top-level list of ids: ["A-S00000271", "A-S00000272"].
    if (depth === 0) for (const item of value) if (typeof item === 'string') candidates.add('number', item);
    for (const item of value) walk(item, depth + 1, candidates);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (NUMBER_FIELDS.has(key)) candidates.add('number', scalarsOf(child));
    else if (OBJECT_ID_FIELDS.has(key)) candidates.add('objectId', scalarsOf(child));
    else if (CONTAINER_FIELDS.has(key)) collectContainer(child, depth + 1, candidates);
    else walk(child, depth + 1, candidates);
  }
}

/** `subscription` / `subscriptions`: a string, a list of strings, or objects whose name / number / id is the subscription's. */
function collectContainer(value: unknown, depth: number, candidates: Candidates): void {
  if (depth > MAX_DEPTH || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) collectContainer(item, depth + 1, candidates);
    return;
  }
  if (typeof value !== 'object') {
    candidates.add('number', value);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (CONTAINER_NUMBER_FIELDS.has(key)) candidates.add('number', scalarsOf(child));
    else if (CONTAINER_ID_FIELDS.has(key)) candidates.add('objectId', scalarsOf(child));
    else walk(child, depth + 1, candidates);
  }
}

/** The values a field holds: a scalar, or a list of scalars. Objects are reported as what they are. */
function scalarsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => (Array.isArray(item) ? [item] : scalarsOf(item)));
  if (value !== null && typeof value === 'object') {
    // An XML element with attributes keeps its text under "#text".
    const text = (value as Record<string, unknown>)['#text'];
    return text !== undefined ? [text] : [value];
  }
  return [value];
}

function valuesAtPath(value: unknown, path: readonly string[], depth = 0): unknown[] {
  if (depth > MAX_DEPTH) return [];
  if (Array.isArray(value)) return value.flatMap((item) => valuesAtPath(item, path, depth + 1));
  if (path.length === 0) return scalarsOf(value);
  if (value === null || typeof value !== 'object') return [];
  const [head, ...rest] = path;
  const record = value as Record<string, unknown>;
  const key =
    Object.hasOwn(record, head!) ? head! : Object.keys(record).find((candidate) => normaliseName(candidate) === normaliseName(head!));
  return key === undefined ? [] : valuesAtPath(record[key], rest, depth + 1);
}

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}
