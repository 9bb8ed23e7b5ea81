import type { Env, TargetFlags } from './target-types';
import { UsageError } from './usage-error';

const ALLOW_NON_AWS_ENDPOINT_FLAG = '--allow-non-aws-endpoint';
const ALLOW_INSECURE_TARGET_FLAG = '--allow-insecure-target';

/** Where a URL points, as far as sending credentials there is concerned. */
export interface Destination {
  readonly host: string;
  /** This machine: 127.0.0.0/8, localhost or ::1. Nothing crosses a network. */
  readonly local: boolean;
  readonly tls: boolean;
  /** An AWS service endpoint (amazonaws.com, amazonaws.com.cn, api.aws). */
  readonly aws: boolean;
}

export function destinationOf(url: string): Destination {
  // Not new URL(): emulator queue URLs such as http://sqs.us-east-1.127.0.0.1:9324/… are valid for SQS but not for it.
  const match = /^(https?):\/\/(?:[^@/\s]*@)?(\[[^\]]*\]|[^/:?#\s]+)/i.exec(url.trim());
  const host = (match?.[2] ?? '').toLowerCase().replace(/\.$/, '');
  const bare = host.replace(/^\[|\]$/g, '');
  return {
    host,
    local: /^127(?:\.\d{1,3}){3}$/.test(bare) || bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1',
    tls: match?.[1].toLowerCase() === 'https',
    aws: /(?:^|\.)amazonaws\.com(?:\.cn)?$/.test(bare) || /(?:^|\.)api\.aws$/.test(bare),
  };
}

/**
 * Every SQS call is signed with the operator's AWS credentials (the access key id and any session token travel
 * with it) and goes to the configured endpoint or, without one, to the host of the queue URL: refuse to send them
 * anywhere but AWS over TLS, or this machine, unless a flag says the operator means it.
 */
export function checkSqsDestinations(
  flags: TargetFlags,
  env: Env,
  queueUrls: ReadonlyArray<readonly [string, string | undefined]>,
): void {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    checkSignedDestination(flags, env.AWS_ENDPOINT_URL_SQS ? 'AWS_ENDPOINT_URL_SQS' : 'AWS_ENDPOINT_URL', endpoint);
    return;
  }
  for (const [input, url] of queueUrls) if (url) checkSignedDestination(flags, input, url);
}

export function checkEndpointVariables(flags: TargetFlags, env: Env, names: readonly string[]): void {
  const name = names.find((candidate) => env[candidate]);
  if (name) checkSignedDestination(flags, name, env[name]!);
}

function checkSignedDestination(flags: TargetFlags, input: string, url: string): void {
  const destination = destinationOf(url);
  if (destination.local) return;
  const what = 'requests signed with your AWS credentials (the access key id and session token travel with them)';
  if (!destination.tls && !flags.allowInsecureTarget) {
    throw new UsageError(
      input,
      `${url} is plain http to ${destination.host || 'a host'} that is not this machine: ${what} would cross the network in clear. ` +
        `Use https (AWS endpoints always have it), or pass ${ALLOW_INSECURE_TARGET_FLAG} if you really mean it`,
    );
  }
  if (!destination.aws && !flags.allowNonAwsEndpoint) {
    throw new UsageError(
      input,
      `${url} is not an AWS endpoint: ${what} would go to ${destination.host || 'an unknown host'}. ` +
        `Use the queue URL SQS gave you (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), or pass ${ALLOW_NON_AWS_ENDPOINT_FLAG} if this host is an SQS-compatible service you trust`,
    );
  }
}

/** A callout carries the Basic password, the header secret or an HMAC signature: never in clear over a network. */
export function checkCalloutDestination(flags: TargetFlags, input: string, url: string): void {
  const destination = destinationOf(url);
  if (destination.local || destination.tls || flags.allowInsecureTarget) return;
  throw new UsageError(
    input,
    `${url} is plain http to ${destination.host || 'a host'} that is not this machine: the callout's credentials (Basic password, header secret or HMAC signature) ` +
      `would cross the network in clear. Use the https URL, or pass ${ALLOW_INSECURE_TARGET_FLAG} if you really mean it`,
  );
}
