import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { emptyRecord, mediaType, type CalloutRequest } from './request';

/**
 * Reading a callout's body, whatever Zuora's template made of it: JSON, form parameters or XML, by its
 * Content-Type or, when that says nothing (none, or text/plain), by its first characters. Extraction looks for
 * ids in the parsed body (extract-ids.ts), the tenant check for the tenant id (tenant.ts).
 */

/** Deeper than any template needs; keeps a hostile body from costing more than a bounded walk. */
export const MAX_DOCUMENT_DEPTH = 16;

/** Whether ids are looked for in the body: a GET's body (which API Gateway may still pass on) is not read. */
export function readsBody(request: Pick<CalloutRequest, 'method' | 'body'>): boolean {
  return request.method !== 'GET' && request.method !== 'HEAD' && request.body.length > 0;
}

/** The body as text, without a byte order mark. */
export function bodyText(request: CalloutRequest): string {
  return request.body.toString('utf8').replace(/^\uFEFF/, '');
}

/**
 * The parsed body, for looking up fields other than ids (the tenant id): a JSON or XML document, or form
 * parameters as {name: [values]}. Undefined when there is no body to read or it cannot be read; extraction
 * reports that itself.
 */
export function bodyDocument(request: CalloutRequest): unknown {
  if (!readsBody(request)) return undefined;
  const text = bodyText(request);
  switch (bodyKind(request)) {
    case 'form':
      return parseForm(text);
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    case 'xml':
      return parseXml(text);
    case 'unsupported':
      return undefined;
  }
}

export type BodyKind = 'json' | 'form' | 'xml';

/** What a callout's body is, by its Content-Type or, without a telling one, by its first characters. */
export function bodyKind(request: CalloutRequest): BodyKind | 'unsupported' {
  const type = mediaType(request);
  if (type === undefined || type === 'text/plain') return sniff(request.body);
  if (type === 'application/json' || type === 'text/json' || type.endsWith('+json')) return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml')) return 'xml';
  return 'unsupported';
}

/** Zuora templates without a Content-Type (or text/plain) still carry JSON, XML or form text. */
function sniff(body: Buffer): BodyKind {
  const start = body
    .toString('utf8', 0, Math.min(body.length, 64))
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (start.startsWith('{') || start.startsWith('[')) return 'json';
  if (start.startsWith('<')) return 'xml';
  return 'form';
}

export function parseForm(text: string): Record<string, string[]> {
  const result = emptyRecord<string[]>();
  for (const [name, value] of new URLSearchParams(text)) (result[name] ??= []).push(value);
  return result;
}

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Ids stay text: "00012" must not become 12.
  parseTagValue: false,
  parseAttributeValue: false,
  // No entity expansion: ids never need one, and it closes the door on entity tricks.
  processEntities: false,
  htmlEntities: false,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  maxNestedTags: 64,
});

/** Parses XML and turns Zuora's `<parameter name="X">value</parameter>` into `{X: value}` so one walk reads both shapes. */
export function parseXml(text: string): unknown {
  if (XMLValidator.validate(text) !== true) return undefined;
  try {
    return namedParameters(xmlParser.parse(text), 0);
  } catch {
    return undefined;
  }
}

function namedParameters(node: unknown, depth: number): unknown {
  if (depth > MAX_DOCUMENT_DEPTH + 2 || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((item) => namedParameters(item, depth + 1));
  const record = node as Record<string, unknown>;
  const name = record['@_name'];
  if (typeof name === 'string') {
    const { ['@_name']: _ignored, ...rest } = record;
    const inner = rest['#text'] ?? namedParameters(rest, depth + 1);
    const parameter = emptyRecord<unknown>();
    parameter[name] = inner;
    return parameter;
  }
  const result = emptyRecord<unknown>();
  for (const [key, child] of Object.entries(record)) {
    if (key.startsWith('@_')) continue;
    result[key] = namedParameters(child, depth + 1);
  }
  return result;
}
