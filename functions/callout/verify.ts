import { createHash, timingSafeEqual } from 'node:crypto';
import type { BasicCredentials, CalloutAuth } from './auth-config';
import { readsBody } from './callout-body';
import { queryParametersWithIds } from './extract-ids';
import { signedQueryParameters, signsBody, verifyHmacSignature } from './hmac';
import type { CalloutRequest } from './request';

/**
 * Did Zuora send this callout? `missing` means no credentials at all (answered 401, with the Basic challenge
 * in Basic mode, which is what makes Zuora's default non-preemptive Basic send them); `invalid` means
 * credentials that are wrong or unreadable (answered 403, no challenge: asking again cannot help).
 * `credential` says which one matched: `previous` only during a rotation, until Zuora has switched.
 * The reason is for logs and never contains a credential.
 */
export type AuthVerdict =
  | { readonly ok: true; readonly credential: 'current' | 'previous' }
  | { readonly ok: false; readonly kind: 'missing' | 'invalid'; readonly reason: string };

export interface VerifyOptions {
  /** CALLOUT_ID_FIELD: a query parameter of this name carries ids too, so HMAC must sign it. */
  readonly idField?: string;
}

export function verifyCallout(
  request: CalloutRequest,
  auth: CalloutAuth,
  now: Date,
  options: VerifyOptions = {},
): AuthVerdict {
  switch (auth.mode) {
    case 'basic': {
      const previous = auth.previous === undefined ? [] : [auth.previous];
      return verifyBasic(request, [auth, ...previous]);
    }
    case 'header': {
      const name = auth.headerName.toLowerCase();
      const provided = Object.hasOwn(request.headers, name) ? request.headers[name] : undefined;
      if (provided === undefined) return { ok: false, kind: 'missing', reason: `header ${auth.headerName} is missing` };
      if (request.repeatedHeaders.has(name))
        return { ok: false, kind: 'invalid', reason: `header ${auth.headerName} was sent more than once` };
      // Both compared every time, so timing does not tell whether a rotation is under way.
      const matchesCurrent = sameSecret(provided, auth.value);
      const matchesPrevious = auth.previousValue !== undefined && sameSecret(provided, auth.previousValue);
      if (matchesCurrent) return { ok: true, credential: 'current' };
      if (matchesPrevious) return { ok: true, credential: 'previous' };
      return { ok: false, kind: 'invalid', reason: `header ${auth.headerName} does not match` };
    }
    case 'hmac': {
      if (request.repeatedHeaders.has(auth.headerName.toLowerCase())) {
        return { ok: false, kind: 'invalid', reason: `signature header ${auth.headerName} was sent more than once` };
      }
      const verdict = verifyHmacSignature(request, auth, now);
      if (!verdict.ok) return { ok: false, kind: verdict.missing ? 'missing' : 'invalid', reason: verdict.reason };
      const unsigned = unsignedIdSources(request, auth.signedData, options.idField);
      if (unsigned !== undefined) return { ok: false, kind: 'invalid', reason: unsigned };
      return { ok: true, credential: verdict.key };
    }
  }
}

/**
 * A valid signature vouches only for what it signed. Ids are read from the body and from query parameters,
 * so each of those that carries ids must be in the signed data: otherwise one captured callout with
 * `?subscriptionNumber=…` added would queue any id. Returns why the callout is refused, or undefined.
 */
function unsignedIdSources(
  request: Pick<CalloutRequest, 'method' | 'body' | 'query'>,
  signedData: string,
  idField: string | undefined,
): string | undefined {
  if (readsBody(request) && !signsBody(signedData)) {
    return 'the body is read for subscription ids but the signed data does not sign {body}';
  }
  const signed = new Set(signedQueryParameters(signedData));
  const unsigned = queryParametersWithIds(request.query, idField).filter((name) => !signed.has(name));
  if (unsigned.length > 0) {
    const names = unsigned.slice(0, 3).map((name) => JSON.stringify(name.slice(0, 40)));
    return `query parameter ${names.join(', ')} carries ids extraction reads but is not signed (the signed data has no {query:name} for it)`;
  }
  return undefined;
}

/** RFC 7230 whitespace: what may surround the scheme and the credentials. */
const isSpaceOrTab = (code: number) => code === 0x20 || code === 0x09;
const STRICT_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads `Basic <base64>` strictly and in linear time (a hand-written scan, no backtracking regex: the header
 * is read before the caller is known). The credentials must be canonical base64 that decodes to UTF-8 and
 * re-encodes to exactly what was sent, so `!!<b64>` or `<b64>.junk` are refused rather than decoded leniently.
 */
export function parseBasicAuthorization(
  authorization: string,
):
  | { readonly ok: true; readonly username: string; readonly password: string }
  | { readonly ok: false; readonly kind: 'missing' | 'invalid'; readonly reason: string } {
  let start = 0;
  let end = authorization.length;
  while (start < end && isSpaceOrTab(authorization.charCodeAt(start))) start++;
  while (end > start && isSpaceOrTab(authorization.charCodeAt(end - 1))) end--;
  if (start === end) return { ok: false, kind: 'missing', reason: 'no Authorization header' };
  let schemeEnd = start;
  while (schemeEnd < end && !isSpaceOrTab(authorization.charCodeAt(schemeEnd))) schemeEnd++;
  if (authorization.slice(start, schemeEnd).toLowerCase() !== 'basic')
    return { ok: false, kind: 'missing', reason: 'Authorization header is not Basic' };
  let credentialsStart = schemeEnd;
  while (credentialsStart < end && isSpaceOrTab(authorization.charCodeAt(credentialsStart))) credentialsStart++;
  const encoded = authorization.slice(credentialsStart, end);
  // Base64 has no comma: an HTTP API joins a repeated Authorization header with one.
  if (encoded.includes(','))
    return { ok: false, kind: 'invalid', reason: 'Authorization header was sent more than once' };
  if (encoded.length % 4 !== 0 || !STRICT_BASE64.test(encoded))
    return { ok: false, kind: 'invalid', reason: 'Basic credentials are not base64' };
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.toString('base64') !== encoded)
    return { ok: false, kind: 'invalid', reason: 'Basic credentials are not canonical base64' };
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    return { ok: false, kind: 'invalid', reason: 'Basic credentials are not UTF-8' };
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, kind: 'invalid', reason: 'Basic credentials are malformed' };
  return { ok: true, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function verifyBasic(
  request: CalloutRequest,
  accepted: readonly [BasicCredentials, ...BasicCredentials[]],
): AuthVerdict {
  const authorization = Object.hasOwn(request.headers, 'authorization') ? request.headers.authorization : undefined;
  if (authorization === undefined) return { ok: false, kind: 'missing', reason: 'no Authorization header' };
  if (request.repeatedHeaders.has('authorization'))
    return { ok: false, kind: 'invalid', reason: 'Authorization header was sent more than once' };
  const parsed = parseBasicAuthorization(authorization);
  if (!parsed.ok) return parsed;
  // Every half of every accepted credential is compared, so timing tells neither which half was wrong nor
  // whether a rotation is under way.
  const matches = accepted.map((credentials) => {
    const userMatches = sameSecret(parsed.username, credentials.username);
    const passwordMatches = sameSecret(parsed.password, credentials.password);
    return userMatches && passwordMatches;
  });
  if (matches[0]) return { ok: true, credential: 'current' };
  if (matches.slice(1).some(Boolean)) return { ok: true, credential: 'previous' };
  return { ok: false, kind: 'invalid', reason: 'Basic credentials do not match' };
}

/** Constant-time equality for secrets of any length: equal-length digests go to timingSafeEqual. */
export function sameSecret(provided: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(provided), digest(expected));
}
