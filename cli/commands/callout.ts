import { randomUUID } from 'node:crypto';
import { calloutAuthFromEnv, type CalloutAuth } from '../../functions/callout/auth-config';
import {
  computeSignature,
  formatSignatureHeader,
  renderSignedData,
  SignedDataError,
  timestampHeaders,
} from '../../functions/callout/hmac';
import { ConfigError } from '../../functions/shared/config-error';
import { EXIT, type Command } from '../command';
import { printable } from '../output';
import { UsageError } from '../usage-error';

export interface CalloutOptions {
  readonly url: string;
  readonly auth: CalloutAuth;
  readonly subscriptionIds: readonly string[];
  /** Extra headers, e.g. ones a signed-data template names. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Basic only. Without it the callout is sent as Zuora does by default: first without credentials, expecting
   * the 401 challenge, then with them. With it, credentials go with the first request (Zuora's "Enable
   * Preemptive Authentication").
   */
  readonly preemptive?: boolean;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

export interface CalloutResult {
  readonly url: string;
  readonly mode: CalloutAuth['mode'];
  /** HTTP status of the authenticated callout. */
  readonly status: number;
  /** 2xx with `success: true`, as Zuora's "parse response content" judges it. */
  readonly accepted: boolean;
  /** The response body (JSON when it is JSON), clipped. */
  readonly response: unknown;
  /** Names (never values) of the headers sent with the authenticated callout. */
  readonly headersSent: string[];
  /** The non-preemptive Basic handshake, when it was tried. */
  readonly challenge?: { readonly status: number; readonly wwwAuthenticate?: string; readonly ok: boolean };
  readonly zuoraRequestId: string;
}

/**
 * Sends one callout shaped like Zuora's, authenticated the way the callout Lambda is configured to check, and
 * reports how it was answered. HMAC signatures are made with the callout Lambda's own functions, so the two
 * sides cannot disagree about what is signed.
 */
export async function sendTestCallout(options: CalloutOptions): Promise<CalloutResult> {
  const send = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const url = new URL(options.url);
  const body = JSON.stringify({
    eventType: 'ZuoraLimioSyncTestCallout',
    subscriptions: options.subscriptionIds.map((subscriptionNumber) => ({ subscriptionNumber })),
  });
  const zuoraRequestId = `zls-cli-${randomUUID()}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'zuora-request-id': zuoraRequestId,
    ...lowerCaseKeys(options.headers ?? {}),
  };

  let challenge: CalloutResult['challenge'];
  if (options.auth.mode === 'basic' && !options.preemptive) {
    const first = await send(url, { method: 'POST', headers, body, redirect: 'manual' });
    await refuseRedirect(first, url);
    const wwwAuthenticate = first.headers.get('www-authenticate') ?? undefined;
    await first.arrayBuffer();
    challenge = {
      status: first.status,
      ...(wwwAuthenticate && { wwwAuthenticate }),
      ok: first.status === 401 && /^\s*basic\b/i.test(wwwAuthenticate ?? ''),
    };
  }

  const authenticated = {
    ...headers,
    ...authHeaders(options.auth, { method: 'POST', url, headers, body, now: now() }),
  };
  const response = await send(url, { method: 'POST', headers: authenticated, body, redirect: 'manual' });
  await refuseRedirect(response, url);
  const text = (await response.text()).slice(0, 2000);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a gateway error page, say): reported as text.
  }
  const accepted =
    response.ok && typeof parsed === 'object' && parsed !== null && (parsed as { success?: unknown }).success === true;
  return {
    url: options.url,
    mode: options.auth.mode,
    status: response.status,
    accepted,
    response: parsed,
    headersSent: Object.keys(authenticated).sort(),
    ...(challenge && { challenge }),
    zuoraRequestId,
  };
}

/**
 * Redirects are never followed, as the Limio and Zuora clients never follow them: the next request would carry
 * the credentials to wherever the Location points, past the https check made on the first URL only.
 */
async function refuseRedirect(response: Response, url: URL): Promise<void> {
  const location = response.headers.get('location');
  if (response.status < 300 || response.status >= 400 || location === null) return;
  await response.arrayBuffer();
  let target = location;
  try {
    target = new URL(location, url).href;
  } catch {
    // Not a URL: named as the server gave it.
  }
  throw new Error(
    `the callout URL answered ${response.status} with a redirect to ${target}; not followed (the credentials would go with it): give the final URL with --url`,
  );
}

interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly now: Date;
}

/** The headers that authenticate the request; a timestamp header the HMAC template signs is added when absent. */
function authHeaders(auth: CalloutAuth, request: OutgoingRequest): Record<string, string> {
  switch (auth.mode) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
    case 'header':
      return { [auth.headerName.toLowerCase()]: auth.value };
    case 'hmac': {
      const added: Record<string, string> = {};
      for (const name of timestampHeaders(auth.signedData)) {
        if (request.headers[name.toLowerCase()] === undefined)
          added[name.toLowerCase()] = String(Math.floor(request.now.getTime() / 1000));
      }
      const query: Record<string, string[]> = {};
      for (const [name, value] of request.url.searchParams) (query[name] ??= []).push(value);
      const data = renderSignedData(auth.signedData, {
        method: request.method,
        path: request.url.pathname,
        headers: { ...request.headers, ...added },
        query,
        body: request.body,
      });
      const signature = computeSignature(auth.algorithm, auth.key, data, 'hex');
      return { ...added, [auth.headerName.toLowerCase()]: formatSignatureHeader(auth.prefix, signature) };
    }
  }
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * The runtime's recorded CALLOUT_* settings, unless the environment chooses a mode of its own: a recorded user and
 * password are no use to a header or HMAC check, and half of them under someone else's would mislead.
 */
function authVariablesUnder(
  env: Readonly<Record<string, string | undefined>>,
  recorded: Readonly<Record<string, string>>,
): Record<string, string> {
  const mode = env.CALLOUT_AUTH_MODE?.trim();
  return mode && mode !== recorded.CALLOUT_AUTH_MODE ? {} : { ...recorded };
}

/** Callout flags and the callout Lambda's local environment variables they stand for. */
const CALLOUT_AUTH_FLAGS = {
  auth: 'CALLOUT_AUTH_MODE',
  username: 'CALLOUT_USERNAME',
  password: 'CALLOUT_PASSWORD',
  'header-name': 'CALLOUT_HEADER_NAME',
  'header-value': 'CALLOUT_HEADER_VALUE',
  'hmac-key': 'CALLOUT_HMAC_KEY',
  'hmac-header': 'CALLOUT_HMAC_HEADER',
  'hmac-algorithm': 'CALLOUT_HMAC_ALGORITHM',
  'hmac-prefix': 'CALLOUT_HMAC_PREFIX',
  'hmac-signed-data': 'CALLOUT_HMAC_SIGNED_DATA',
} as const;

export const CALLOUT_COMMAND: Command = {
  name: 'callout',
  summary: 'send one authenticated test callout, as Zuora would, to check a deployment end to end',
  usage:
    'zuora-limio-sync callout (--local | --stack NAME | --url URL) [--auth basic|header|hmac] [credentials] ID ...',
  options: {
    local: { type: 'boolean' },
    stack: { type: 'string' },
    url: { type: 'string' },
    ...Object.fromEntries(Object.keys(CALLOUT_AUTH_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    header: { type: 'string', multiple: true },
    preemptive: { type: 'boolean' },
    'allow-insecure-target': { type: 'boolean' },
  },
  positionals: true,
  needs: { callout: true },
  flags: `  ID ...                  subscription numbers the callout names (they are really queued and synced)
  --local                 the \`npm start\` callout endpoint (found by its runtime record, or PORT), signed as that
                          runtime checks (its generated Basic password, or its mode with your CALLOUT_* values)
  --stack NAME            the stack's CalloutUrl output
  --url URL               any https callout URL (plain http only to this machine: 127.0.0.0/8, localhost, ::1)
  --allow-insecure-target --url may be plain http to another host (the credentials then cross it in clear)
  --auth MODE             basic | header | hmac (default: CALLOUT_AUTH_MODE)
  --username U, --password P                       basic (CALLOUT_USERNAME, CALLOUT_PASSWORD)
  --header-name H, --header-value V                header secret (CALLOUT_HEADER_NAME, CALLOUT_HEADER_VALUE)
  --hmac-key K, --hmac-header H, --hmac-algorithm A, --hmac-prefix P, --hmac-signed-data T
                          hmac (CALLOUT_HMAC_KEY, _HEADER, _ALGORITHM, _PREFIX, _SIGNED_DATA; same defaults as
                          the callout Lambda: X-Zuora-Signature, sha256, no prefix, "{body}\\n")
  --header "Name: value"  an extra header (repeatable), e.g. one the signed-data template names
  --preemptive            basic: send credentials at once instead of first expecting the 401 challenge
  --json                  one JSON document on stdout
Credentials default to the same CALLOUT_* variables the callout Lambda reads locally; prefer them to flags,
which end up in shell history. Nothing secret is printed. Exit 1 when the callout is not accepted, or when
the Basic challenge that Zuora's default (non-preemptive) Basic auth needs is missing.`,
  examples: `  zuora-limio-sync callout --local A-S00000271
  CALLOUT_AUTH_MODE=basic CALLOUT_USERNAME=zuora CALLOUT_PASSWORD=... zuora-limio-sync callout --url http://127.0.0.1:3000/zuora/callout A-S00000271
  zuora-limio-sync callout --stack ZuoraLimioSync --auth hmac --hmac-key "$KEY" A-S00000271`,
  async run({ values, positionals, io, json, targets, flags }) {
    if (positionals.length === 0)
      throw new UsageError('ID', 'name at least one subscription for the callout to carry, e.g. A-S00000271');
    const overrides: Record<string, string> = {};
    for (const [flag, variable] of Object.entries(CALLOUT_AUTH_FLAGS)) {
      if (values[flag] !== undefined) overrides[variable] = String(values[flag]);
    }
    // --local: signed as the runtime checks (its record: mode, user, a generated password), under the variables.
    const local = flags.local ? await targets() : undefined;
    const recorded = authVariablesUnder({ ...io.env, ...overrides }, local?.calloutVariables ?? {});
    let auth: CalloutAuth;
    try {
      auth = calloutAuthFromEnv({ ...recorded, ...io.env, ...overrides });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const flag = Object.entries(CALLOUT_AUTH_FLAGS).find(([, variable]) => variable === error.variable)?.[0];
      // Without a record the runtime's own settings are unknown: say where they would have come from.
      const unrecorded =
        local !== undefined && local.calloutVariables === undefined
          ? '; no runtime record of `npm start` gave its callout settings (is it running?)'
          : '';
      throw new UsageError(
        flag ? `--${flag} (or ${error.variable})` : error.variable,
        `${error.message.slice(error.variable.length + 2)}${unrecorded}`,
      );
    }
    const headers: Record<string, string> = {};
    for (const header of (values.header as string[] | undefined) ?? []) {
      const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*:\s*(.*)$/.exec(header);
      if (!match) throw new UsageError('--header', `expected "Name: value", got "${header}"`);
      headers[match[1]] = match[2];
    }
    const { calloutUrl } = await targets();
    let result: CalloutResult;
    try {
      // Only when the runtime's own Basic credentials are used: its HTTP API front door never challenges.
      const preemptive =
        values.preemptive === true ||
        (local?.calloutPreemptive === true && auth.mode === 'basic' && recorded.CALLOUT_AUTH_MODE === 'basic');
      result = await sendTestCallout({ url: calloutUrl!, auth, subscriptionIds: positionals, headers, preemptive });
    } catch (error) {
      if (error instanceof SignedDataError)
        throw new UsageError(
          '--hmac-signed-data (or CALLOUT_HMAC_SIGNED_DATA)',
          `${error.message}; pass it with --header`,
        );
      throw error;
    }
    const challengeMissing = result.challenge !== undefined && !result.challenge.ok;
    if (json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      if (result.challenge) {
        io.stdout.write(
          result.challenge.ok
            ? `challenge: 401 with ${result.challenge.wwwAuthenticate} (Zuora's default non-preemptive Basic works)\n`
            : `challenge: MISSING: got ${result.challenge.status}${result.challenge.wwwAuthenticate ? ` with WWW-Authenticate ${result.challenge.wwwAuthenticate}` : ' without WWW-Authenticate'}; Zuora's default Basic would never send credentials here (enable Preemptive Authentication in Zuora, or use the REST API front door)\n`,
        );
      }
      io.stdout.write(
        `callout (${result.mode}) to ${result.url}: HTTP ${result.status}, ${result.accepted ? 'accepted' : 'NOT accepted'}\n`,
      );
      io.stdout.write(
        `response: ${printable(typeof result.response === 'string' ? result.response : JSON.stringify(result.response))}\n`,
      );
      io.stdout.write(`Zuora-Request-Id: ${result.zuoraRequestId} (search the callout Lambda's logs for it)\n`);
    }
    return result.accepted && !challengeMissing ? EXIT.ok : EXIT.partlyFailed;
  },
};
