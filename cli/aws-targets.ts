import { awsSqsClient } from './aws-clients';
import { checkEndpointVariables } from './destinations';
import type { Env, TargetDependencies, TargetFlags, TargetNeeds, Targets } from './target-types';

/** What a deployed bridge's targets were found to be, by flags or by stack outputs, before they become Targets. */
export interface FoundAwsTargets {
  readonly mainQueueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly accountQueueUrl?: string;
  /** Why the fan-out queue is unknown, when it is. */
  readonly missingAccountQueueReason?: string;
  /** The target is known to have none (a stack without the output), not merely not told of one. */
  readonly accountQueueAbsent?: boolean;
  readonly calloutUrl?: string;
  readonly breakerTableName?: string;
  readonly ledgerTableName?: string;
  /** Why a table the command can do without is missing: what the operator can do about it. */
  readonly missingBreakerReason: string;
  readonly missingLedgerReason: string;
  readonly description: string;
}

/**
 * The Targets of a deployed bridge, however they were found: one SQS client, the tables the command needs (or why
 * each is unavailable), the Zuora tenant. The DynamoDB endpoint variables are checked before the Zuora target is
 * resolved, so the first problem an operator is told of stays the same whichever way the targets came.
 */
export function awsTargets(
  found: FoundAwsTargets,
  zuoraTarget: () => Targets['zuora'],
  flags: TargetFlags,
  env: Env,
  needs: TargetNeeds,
  dependencies: TargetDependencies,
): Targets {
  const { mainQueueUrl, deadLetterQueueUrl, calloutUrl, breakerTableName, ledgerTableName } = found;
  if ((needs.breaker && breakerTableName) || (needs.ledger && ledgerTableName))
    checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL']);
  const zuora = zuoraTarget();
  return {
    sqs: (dependencies.sqsClient ?? awsSqsClient)(env, mainQueueUrl ?? deadLetterQueueUrl),
    mainQueueUrl,
    deadLetterQueueUrl,
    ...(needs.accountQueue &&
      (found.accountQueueUrl
        ? { accountQueueUrl: found.accountQueueUrl }
        : {
            accountQueueUnknown:
              found.missingAccountQueueReason ??
              'the fan-out queue is known only with --local or --stack (its AccountQueueUrl output)',
            ...(found.accountQueueAbsent === true && { accountQueueAbsent: true }),
          })),
    calloutUrl,
    ...(needs.breaker && {
      breaker: breakerTableName
        ? { kind: 'table', tableName: breakerTableName }
        : { kind: 'unavailable', reason: found.missingBreakerReason },
    }),
    ...(needs.ledger && {
      ledger: ledgerTableName
        ? { kind: 'table', tableName: ledgerTableName }
        : { kind: 'unavailable', reason: found.missingLedgerReason },
    }),
    ...(zuora && { zuora }),
    description: found.description,
  };
}
