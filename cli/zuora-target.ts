import { LOCAL_ZUORA_CLIENT } from '../local/defaults';
import { checkEndpointVariables } from './destinations';
import { STACK_OUTPUTS, type Env, type TargetFlags, type ZuoraTarget } from './target-types';
import { UsageError } from './usage-error';

/**
 * The Zuora tenant and its credentials, first found of: the flags, the stack's outputs, the environment's own
 * ZUORA_* variables and, for --local only, what the runtime sweeps (`local`, from local-targets.ts: its Zuora sandbox,
 * whose fixed client the CLI knows, or the tenant it recorded). A Secrets Manager secret is read with signed
 * requests, so it gets the same destination check as every AWS call.
 */
export function zuoraTarget(
  flags: TargetFlags,
  env: Env,
  stack: { stackName?: string; outputs?: Record<string, string> },
  local?: { readonly value: string; readonly input: string; readonly sandbox: boolean },
): ZuoraTarget {
  const fromStack = (name: string) =>
    stack.outputs?.[name] ? { value: stack.outputs[name], input: `stack output ${name}` } : undefined;
  const given = (input: string, raw: string | undefined) =>
    raw !== undefined && raw.trim() !== '' ? { value: raw.trim(), input } : undefined;
  const localTarget = flags.local ? local : undefined;
  const baseUrl =
    given('--zuora-url', flags.zuoraUrl) ??
    fromStack(STACK_OUTPUTS.zuoraBaseUrl) ??
    given('ZUORA_BASE_URL', env.ZUORA_BASE_URL) ??
    localTarget;
  if (baseUrl === undefined) {
    throw new UsageError(
      '--zuora-url',
      stack.stackName !== undefined
        ? `stack "${stack.stackName}" has no ${STACK_OUTPUTS.zuoraBaseUrl} output (its sweep is off): give the tenant's REST root, e.g. https://rest.zuora.com (or ZUORA_BASE_URL)`
        : "give the Zuora tenant's REST root, e.g. https://rest.zuora.com (or ZUORA_BASE_URL)",
    );
  }
  const secret =
    given('--zuora-secret', flags.zuoraSecret) ??
    fromStack(STACK_OUTPUTS.zuoraSecretArn) ??
    given('ZUORA_SECRET_ID', env.ZUORA_SECRET_ID);
  const variables: Record<string, string> = { ZUORA_BASE_URL: baseUrl.value };
  const inputs: Record<string, string> = { ZUORA_BASE_URL: baseUrl.input };
  let credentialsFrom: string;
  if (secret !== undefined) {
    variables.ZUORA_SECRET_ID = secret.value;
    inputs.ZUORA_SECRET_ID = secret.input;
    credentialsFrom = `Secrets Manager secret ${secret.value}`;
    checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL']);
  } else if (env.ZUORA_CLIENT_ID !== undefined || env.ZUORA_CLIENT_SECRET !== undefined) {
    variables.ZUORA_CLIENT_ID = env.ZUORA_CLIENT_ID ?? '';
    variables.ZUORA_CLIENT_SECRET = env.ZUORA_CLIENT_SECRET ?? '';
    inputs.ZUORA_CLIENT_ID = 'ZUORA_CLIENT_ID';
    inputs.ZUORA_CLIENT_SECRET = 'ZUORA_CLIENT_SECRET';
    credentialsFrom = 'ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET';
  } else if (baseUrl === localTarget && localTarget.sandbox) {
    variables.ZUORA_CLIENT_ID = LOCAL_ZUORA_CLIENT.clientId;
    variables.ZUORA_CLIENT_SECRET = LOCAL_ZUORA_CLIENT.clientSecret;
    credentialsFrom = "the sandbox's local client";
  } else {
    throw new UsageError(
      '--zuora-secret',
      `no credentials for ${baseUrl.value}: give the Secrets Manager secret {"clientId","clientSecret"} (or ZUORA_SECRET_ID), or ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET`,
    );
  }
  return {
    variables,
    inputs,
    description: `Zuora ${baseUrl.value} (from ${baseUrl.input}), credentials from ${credentialsFrom}`,
  };
}
