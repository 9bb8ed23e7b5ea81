import { createHash, timingSafeEqual } from 'node:crypto';
import type { CalloutAuth } from './auth-config';
import { verifyHmacSignature } from './hmac';
import type { CalloutRequest } from './request';

/**
 * Did Zuora send this callout? `missing` means no credentials at all (answered 401, with the Basic challenge
 * in Basic mode, which is what makes Zuora's default non-preemptive Basic send them); `invalid` means
 * credentials that are wrong or unreadable (answered 403, no challenge: asking again cannot help).
 * The reason is for logs and never contains a credential.
 */
export type AuthVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'missing' | 'invalid'; readonly reason: string };

export function verifyCallout(request: CalloutRequest, auth: CalloutAuth, now: Date): AuthVerdict {
  switch (auth.mode) {
    case 'basic':
      return verifyBasic(request.headers.authorization, auth.username, auth.password);
    case 'header': {
      const name = auth.headerName.toLowerCase();
      const provided = Object.hasOwn(request.headers, name) ? request.headers[name] : undefined;
      if (provided === undefined) return { ok: false, kind: 'missing', reason: `header ${auth.headerName} is missing` };
      return sameSecret(provided, auth.value) ? { ok: true } : { ok: false, kind: 'invalid', reason: `header ${auth.headerName} does not match` };
    }
    case 'hmac': {
      const verdict = verifyHmacSignature(request, auth, now);
      if (verdict.ok) return verdict;
      return { ok: false, kind: verdict.missing ? 'missing' : 'invalid', reason: verdict.reason };
    }
  }
}

function verifyBasic(authorization: string | undefined, username: string, password: string): AuthVerdict {
  const match = authorization === undefined ? null : /^\s*basic\s+(\S*)\s*$/i.exec(authorization);
  if (authorization === undefined || authorization.trim() === '') {
    return { ok: false, kind: 'missing', reason: 'no Authorization header' };
  }
  if (!match) return { ok: false, kind: 'missing', reason: 'Authorization header is not Basic' };
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, kind: 'invalid', reason: 'Basic credentials are malformed' };
  // Both halves are always compared, so timing does not tell which one was wrong.
  const userMatches = sameSecret(decoded.slice(0, colon), username);
  const passwordMatches = sameSecret(decoded.slice(colon + 1), password);
  return userMatches && passwordMatches ? { ok: true } : { ok: false, kind: 'invalid', reason: 'Basic credentials do not match' };
}

/** Constant-time equality for secrets of any length: equal-length digests go to timingSafeEqual. */
export function sameSecret(provided: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(provided), digest(expected));
}
