import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What the runtime's /_local/* control endpoints share. They have no authentication (the server listens on
 * 127.0.0.1 only), so they must not be reachable from a web page open in a browser on the same machine
 * (cross-site request forgery): a browser names the page's site in an Origin header on every cross-origin
 * request, and cannot send `Content-Type: application/json` cross-origin without a CORS preflight this server
 * never grants. So a request with an Origin header is refused, and so is a POST of any other content type. The
 * CLI and curl send neither an Origin nor anything but JSON.
 */

export const MAX_CONTROL_BODY_BYTES = 4 * 1024;

/** Answers 403 and returns true when the request comes from a web page (it carries an Origin header). */
export function refusedAsCrossSite(request: IncomingMessage, response: ServerResponse, what: string): boolean {
  if (request.headers.origin === undefined) return false;
  sendJson(response, 403, { message: `refused: requests from a web page (with an Origin header) cannot ${what}` });
  return true;
}

/** 127.0.0.0/8 or ::1, IPv4 ones also as IPv6-mapped (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const ipv4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ipv4);
}

/** `application/json`, parameters such as `; charset=utf-8` allowed. */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0].trim().toLowerCase() === 'application/json';
}

/** The body as a JSON object ({} when empty); undefined when it is too long or not an object. */
export async function readJsonObject(
  request: IncomingMessage,
  maxBytes = MAX_CONTROL_BODY_BYTES,
): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
