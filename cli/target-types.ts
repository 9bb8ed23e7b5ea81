import type { SQSClient } from '@aws-sdk/client-sqs';

/** What a command acts on, and the flags and stack outputs that say so: shared by every way of finding it. */

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a command acts: chosen by exactly one of --local, --stack NAME, or explicit URLs (flags or env). */
export interface TargetFlags {
  local?: boolean;
  stack?: string;
  queueUrl?: string;
  dlqUrl?: string;
  url?: string;
  /** The circuit breaker's DynamoDB table (or env ZLS_BREAKER_TABLE). */
  breakerTable?: string;
  /** The sync ledger's DynamoDB table (or env ZLS_LEDGER_TABLE). */
  ledgerTable?: string;
  /** The Zuora tenant's REST root (or the stack output ZuoraBaseUrl, or env ZUORA_BASE_URL). */
  zuoraUrl?: string;
  /** The Secrets Manager secret {"clientId","clientSecret"} of the Zuora OAuth client (or the stack output ZuoraSecretArn). */
  zuoraSecret?: string;
  /** Lets signed AWS requests go to an https host that is not AWS's (an SQS-compatible service the operator trusts). */
  allowNonAwsEndpoint?: boolean;
  /** Lets signed AWS requests or a callout's credentials go over plain http to a host that is not this machine. */
  allowInsecureTarget?: boolean;
}

/** Where the circuit breaker lives. */
type BreakerTarget =
  | { readonly kind: 'table'; readonly tableName: string }
  /** The `npm start` runtime's in-memory breaker, at this base URL's /_local/breaker. */
  | { readonly kind: 'local'; readonly baseUrl: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Where the sync ledger lives. */
export type LedgerTarget =
  /** `localEndpoint`: the `npm start` runtime's DynamoDB emulator (no AWS credentials are sent there). */
  | { readonly kind: 'table'; readonly tableName: string; readonly localEndpoint?: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * The Zuora tenant a sweep reads, as the variables the sweep's own configuration reads (ZUORA_BASE_URL and
 * ZUORA_SECRET_ID or ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET), so loadSweepConfig checks them exactly as it does for
 * the Lambda; `inputs` says which flag, output or variable gave each, for error messages.
 */
export interface ZuoraTarget {
  readonly variables: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, string>>;
  /** One line for the operator: which tenant, and where its credentials come from (never their value). */
  readonly description: string;
}

export interface Targets {
  readonly sqs: SQSClient;
  readonly mainQueueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  /**
   * The fan-out queue, where `dlq replay` sends account letters back: known locally (npm start's) and from a stack
   * with the AccountQueueUrl output. Set when the command asked for it and it is known; `accountQueueUnknown` says
   * why it is not.
   */
  readonly accountQueueUrl?: string;
  readonly accountQueueUnknown?: string;
  /**
   * The target is known to have no fan-out queue (a stack without the AccountQueueUrl output, npm start's runtime
   * without one), so nothing puts account letters on its DLQ; unset where it has one or cannot tell (explicit URLs).
   */
  readonly accountQueueAbsent?: boolean;
  readonly calloutUrl?: string;
  /**
   * --local: the runtime's callout authentication as CALLOUT_* variables (its record, local/runtime-record.ts), the
   * generated password included; the environment's own variables and the flags go over them.
   */
  readonly calloutVariables?: Readonly<Record<string, string>>;
  /** --local: the runtime's front door is an HTTP API, which never challenges: Basic goes with the first request. */
  readonly calloutPreemptive?: boolean;
  /** Set when the command asked for the breaker. */
  readonly breaker?: BreakerTarget;
  /** Set when the command asked for the ledger. */
  readonly ledger?: LedgerTarget;
  /** Set when the command asked for Zuora. */
  readonly zuora?: ZuoraTarget;
  /** One line for the operator: which deployment this is about. */
  readonly description: string;
}

export interface TargetNeeds {
  mainQueue?: boolean;
  deadLetterQueue?: boolean;
  /** Optional always: without it account letters are listed but not replayed, and the command says why. */
  accountQueue?: boolean;
  callout?: boolean;
  /** `required`: refuse to run without it; `optional`: say why it is unavailable (status). */
  breaker?: 'required' | 'optional';
  /** `required`: refuse to run without it; `optional`: say why it is unavailable (trace). */
  ledger?: 'required' | 'optional';
  zuora?: boolean;
}

/** The CloudFormation outputs of the deployed stack (see the infra construct). */
export const STACK_OUTPUTS = {
  mainQueueUrl: 'MainQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  /** The fan-out queue; a stack deployed without a Zuora connection (or before issue #22) has none. */
  accountQueueUrl: 'AccountQueueUrl',
  calloutUrl: 'CalloutUrl',
  breakerTableName: 'BreakerTableName',
  ledgerTableName: 'LedgerTableName',
  zuoraBaseUrl: 'ZuoraBaseUrl',
  zuoraSecretArn: 'ZuoraSecretArn',
} as const;

export interface TargetDependencies {
  /** Reads a stack's outputs; defaults to CloudFormation DescribeStacks. */
  readStackOutputs?: (stackName: string) => Promise<Record<string, string>>;
  /** Makes the SQS client for a stack or explicit queue URLs; defaults to awsSqsClient (tests wrap it). */
  sqsClient?: (env: Env, queueUrl: string | undefined) => SQSClient;
}
