import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC signing as Zuora's callout HMAC settings do it (Algorithm, Key, Data, Signed Header Key, Value), as
 * plain functions: the callout Lambda verifies with them and the operator CLI signs test callouts with them,
 * so both sides can never disagree about what is signed.
 *
 * The signed data is described by a template the receiver can rebuild from the request:
 *   {body}                the raw request body
 *   {method} {path}       the HTTP method (upper case) and the request path
 *   {header:Name}         a header's value
 *   {timestamp:Name}      a header's value that is also a time (unix seconds or ms, ISO-8601 or HTTP-date),
 *                         checked against the accepted clock skew
 *   {query:name}          a query parameter's value
 *   \n \r \t \\           escapes, so a one-line setting can say "line feed"; real line feeds work too
 * Zuora ends every line of its Data, the last one included, with a line feed: the simplest template is
 * "{body}\n"; "{timestamp:Name}\n{body}\n" also stops a captured callout being replayed later.
 *
 * A signature lets in only what it covers: the template must sign {body} or a {query:name}
 * (checkSignedDataCoversIds), and the verifier refuses ids from anything the template does not sign and a
 * signed text with nothing of the request in it (the signature of "\n" would be a reusable token).
 */

export const HMAC_ALGORITHMS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type SignatureEncoding = 'hex' | 'base64';

export const DEFAULT_HMAC_HEADER = 'X-Zuora-Signature';
export const DEFAULT_HMAC_ALGORITHM: HmacAlgorithm = 'sha256';
export const DEFAULT_SIGNED_DATA = '{body}\\n';
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** What signing needs from a request; header names lower-cased as in CalloutRequest. */
export interface SignableRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, readonly string[]>>;
  readonly body: Buffer | string;
}

type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'body' | 'method' | 'path' }
  | { readonly kind: 'header' | 'timestamp' | 'query'; readonly name: string };

export class SignedDataError extends Error {
  override readonly name = 'SignedDataError';
}

/** Accepts "SHA-256", "sha256", "HmacSHA256", "HMAC-SHA256"...; undefined for anything else. */
export function normaliseHmacAlgorithm(raw: string): HmacAlgorithm | undefined {
  const compact = raw
    .trim()
    .toLowerCase()
    .replace(/^hmac[-_]?/, '')
    .replace(/[-_]/g, '');
  return (HMAC_ALGORITHMS as readonly string[]).includes(compact) ? (compact as HmacAlgorithm) : undefined;
}

/** Parses a signed-data template; throws SignedDataError naming the first thing it does not understand. */
export function parseSignedDataTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  const flushText = () => {
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
  };
  const pattern = /\\(.)|\{([^{}]*)\}|([{}])|([^\\{}]+)|(\\)$/gs;
  for (const match of template.matchAll(pattern)) {
    const [, escaped, placeholder, strayBrace, plain, trailingBackslash] = match;
    if (plain !== undefined) {
      text += plain;
    } else if (escaped !== undefined) {
      const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '{': '{', '}': '}' };
      if (!Object.hasOwn(escapes, escaped))
        throw new SignedDataError(`unknown escape "\\${escaped}" in the signed-data template`);
      text += escapes[escaped];
    } else if (placeholder !== undefined) {
      flushText();
      parts.push(parsePlaceholder(placeholder));
    } else if (strayBrace !== undefined || trailingBackslash !== undefined) {
      throw new SignedDataError(
        `unbalanced "${strayBrace ?? '\\'}" in the signed-data template (write \\{ or \\} for a literal brace)`,
      );
    }
  }
  flushText();
  if (parts.length === 0) throw new SignedDataError('the signed-data template is empty');
  return parts;
}

function parsePlaceholder(inner: string): TemplatePart {
  const trimmed = inner.trim();
  if (trimmed === 'body' || trimmed === 'method' || trimmed === 'path') return { kind: trimmed };
  const named = /^(header|timestamp|query):\s*([^\s{}]+)$/.exec(trimmed);
  if (named) return { kind: named[1] as 'header' | 'timestamp' | 'query', name: named[2]! };
  throw new SignedDataError(
    `unknown placeholder "{${inner}}" in the signed-data template; use {body}, {method}, {path}, {header:Name}, {timestamp:Name} or {query:name}`,
  );
}

/** Header names a template signs as timestamps; the verifier checks their age. */
export function timestampHeaders(template: string): string[] {
  return parseSignedDataTemplate(template).flatMap((part) => (part.kind === 'timestamp' ? [part.name] : []));
}

/** Whether the template signs the request body. */
export function signsBody(template: string): boolean {
  return parseSignedDataTemplate(template).some((part) => part.kind === 'body');
}

/** Query parameter names the template signs, exactly as written in {query:name}. */
export function signedQueryParameters(template: string): string[] {
  return parseSignedDataTemplate(template).flatMap((part) => (part.kind === 'query' ? [part.name] : []));
}

/**
 * Subscription ids come from the body or the query string. A template signing neither would let anyone with
 * one captured signature queue any ids, so it is refused when the settings are read.
 */
export function checkSignedDataCoversIds(template: string): void {
  if (!signsBody(template) && signedQueryParameters(template).length === 0) {
    throw new SignedDataError(
      'the signed-data template signs neither {body} nor a {query:name}, so a signature would not cover the subscription ids; use e.g. {body}\\n',
    );
  }
}

/** The exact bytes to sign for this request. Throws SignedDataError when a referenced header or parameter is absent. */
export function renderSignedData(template: string, request: SignableRequest): Buffer {
  return Buffer.concat(renderSignedParts(template, request).map((part) => part.bytes));
}

/** Fixed text, method and path are the same for every callout; only these parts make a signature depend on it. */
const REQUEST_DEPENDENT: ReadonlySet<TemplatePart['kind']> = new Set(['body', 'header', 'timestamp', 'query']);

/** How many bytes of the signed data come from the request itself (body, headers, query values). */
function requestDependentLength(parts: readonly { kind: TemplatePart['kind']; bytes: Buffer }[]): number {
  return parts.reduce((sum, part) => sum + (REQUEST_DEPENDENT.has(part.kind) ? part.bytes.length : 0), 0);
}

function renderSignedParts(
  template: string,
  request: SignableRequest,
): { kind: TemplatePart['kind']; bytes: Buffer }[] {
  return parseSignedDataTemplate(template).map((part) => ({ kind: part.kind, bytes: renderPart(part, request) }));
}

function renderPart(part: TemplatePart, request: SignableRequest): Buffer {
  switch (part.kind) {
    case 'text':
      return Buffer.from(part.text, 'utf8');
    case 'body':
      return typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    case 'method':
      return Buffer.from(request.method.toUpperCase(), 'utf8');
    case 'path':
      return Buffer.from(request.path, 'utf8');
    case 'header':
    case 'timestamp': {
      const value = headerValue(request.headers, part.name);
      if (value === undefined) throw new SignedDataError(`signed header ${part.name} is missing`);
      return Buffer.from(value, 'utf8');
    }
    case 'query': {
      const values = Object.hasOwn(request.query, part.name) ? request.query[part.name] : undefined;
      if (values === undefined || values.length === 0)
        throw new SignedDataError(`signed query parameter ${part.name} is missing`);
      return Buffer.from(values.join(','), 'utf8');
    }
  }
}

export function computeSignature(
  algorithm: HmacAlgorithm,
  key: string,
  data: Buffer | string,
  encoding: SignatureEncoding = 'hex',
): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/** The header value Zuora sends: the signature behind an optional prefix such as "v1:" or "sha256=". */
export function formatSignatureHeader(prefix: string, signature: string): string {
  return `${prefix}${signature}`;
}

/** Decodes the signature from a header value (hex, base64 or base64url), or undefined when it cannot be one. */
export function readSignature(headerValueText: string, prefix: string, digestBytes: number): Buffer | undefined {
  const trimmed = headerValueText.trim();
  if (!trimmed.startsWith(prefix)) return undefined;
  const signature = trimmed.slice(prefix.length).trim();
  if (/^[0-9a-fA-F]+$/.test(signature) && signature.length === digestBytes * 2) return Buffer.from(signature, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(signature)) {
    const decoded = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (decoded.length === digestBytes) return decoded;
  }
  return undefined;
}

function digestLength(algorithm: HmacAlgorithm): number {
  return { sha1: 20, sha256: 32, sha384: 48, sha512: 64 }[algorithm];
}

export interface HmacSettings {
  readonly key: string;
  /** During a key rotation, the key Zuora may still sign with; accepted like the current one. */
  readonly previousKey?: string;
  readonly headerName: string;
  readonly algorithm: HmacAlgorithm;
  readonly prefix: string;
  readonly signedData: string;
  readonly toleranceSeconds: number;
}

export type HmacVerdict =
  | { readonly ok: true; readonly key: 'current' | 'previous' }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/**
 * Checks the signature against the current key and, during a rotation, the previous one (both always
 * computed and compared in constant time), then the age of any signed timestamp.
 */
export function verifyHmacSignature(request: SignableRequest, settings: HmacSettings, now: Date): HmacVerdict {
  const header = headerValue(request.headers, settings.headerName);
  if (header === undefined)
    return { ok: false, missing: true, reason: `signature header ${settings.headerName} is missing` };
  const provided = readSignature(header, settings.prefix, digestLength(settings.algorithm));
  if (provided === undefined)
    return { ok: false, missing: false, reason: 'signature header is not a well-formed signature' };
  let parts: { kind: TemplatePart['kind']; bytes: Buffer }[];
  try {
    parts = renderSignedParts(settings.signedData, request);
  } catch (error) {
    if (error instanceof SignedDataError) return { ok: false, missing: false, reason: error.message };
    throw error;
  }
  if (requestDependentLength(parts) === 0) {
    return {
      ok: false,
      missing: false,
      reason:
        'the signed data has nothing from the request in it (empty body, no signed header or parameter value), so its signature would fit any request',
    };
  }
  const data = Buffer.concat(parts.map((part) => part.bytes));
  const matchesCurrent = timingSafeEqual(createHmac(settings.algorithm, settings.key).update(data).digest(), provided);
  const matchesPrevious =
    settings.previousKey !== undefined &&
    timingSafeEqual(createHmac(settings.algorithm, settings.previousKey).update(data).digest(), provided);
  if (!matchesCurrent && !matchesPrevious) return { ok: false, missing: false, reason: 'signature does not match' };
  // Checked only after the signature: an attacker learns nothing about the clock from an unsigned request.
  for (const name of timestampHeaders(settings.signedData)) {
    const signedAt = parseTimestamp(headerValue(request.headers, name)!);
    if (signedAt === undefined) return { ok: false, missing: false, reason: `signed timestamp ${name} is not a time` };
    if (Math.abs(now.getTime() - signedAt) > settings.toleranceSeconds * 1000) {
      return {
        ok: false,
        missing: false,
        reason: `signed timestamp ${name} is more than ${settings.toleranceSeconds}s away from now`,
      };
    }
  }
  return { ok: true, key: matchesCurrent ? 'current' : 'previous' };
}

/** Unix seconds, unix milliseconds, ISO-8601 or an HTTP-date, as milliseconds since the epoch. */
export function parseTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d{1,16}$/.test(trimmed)) {
    const numeric = Number(trimmed);
    return numeric >= 1e12 ? numeric : numeric * 1000;
  }
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function headerValue(headers: Readonly<Record<string, string>>, name: string): string | undefined {
  const lower = name.toLowerCase();
  if (Object.hasOwn(headers, lower)) return headers[lower];
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}
