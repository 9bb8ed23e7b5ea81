import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { awsCloudFormationClient } from './aws-clients';
import { awsTargets } from './aws-targets';
import { checkCalloutDestination, checkEndpointVariables, checkSqsDestinations } from './destinations';
import {
  STACK_OUTPUTS,
  type Env,
  type TargetDependencies,
  type TargetFlags,
  type TargetNeeds,
  type Targets,
} from './target-types';
import { UsageError } from './usage-error';
import { zuoraTarget } from './zuora-target';

/** A deployed stack: its queues, tables and callout URL from its CloudFormation outputs, checked like flags. */
export async function stackTargets(
  stackName: string,
  flags: TargetFlags,
  env: Env,
  needs: TargetNeeds,
  dependencies: TargetDependencies,
): Promise<Targets> {
  if (!dependencies.readStackOutputs)
    checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL']);
  const readOutputs = dependencies.readStackOutputs ?? ((name: string) => describeStackOutputs(name, env));
  const outputs = await readOutputs(stackName);
  const output = (name: string, needed: boolean | undefined) => {
    const value = outputs[name];
    if (needed && !value)
      throw new UsageError(
        '--stack',
        `stack "${stackName}" has no output ${name} (found: ${Object.keys(outputs).join(', ') || 'none'})`,
      );
    return value;
  };
  const mainQueueUrl = output(STACK_OUTPUTS.mainQueueUrl, needs.mainQueue);
  const deadLetterQueueUrl = output(STACK_OUTPUTS.deadLetterQueueUrl, needs.deadLetterQueue);
  const accountQueueUrl = needs.accountQueue ? output(STACK_OUTPUTS.accountQueueUrl, false) : undefined;
  const breakerTableName = output(STACK_OUTPUTS.breakerTableName, needs.breaker === 'required');
  const calloutUrl = output(STACK_OUTPUTS.calloutUrl, needs.callout);
  const ledgerTableName = output(STACK_OUTPUTS.ledgerTableName, needs.ledger === 'required');
  const zuora = needs.zuora ? zuoraTarget(flags, env, { stackName, outputs }) : undefined;
  // Outputs are data too: a stack (or whatever answered for CloudFormation) gets the same checks as a flag.
  checkSqsDestinations(flags, env, [
    ['--stack', needs.mainQueue ? mainQueueUrl : undefined],
    ['--stack', needs.deadLetterQueue ? deadLetterQueueUrl : undefined],
    ['--stack', accountQueueUrl],
  ]);
  if (calloutUrl) checkCalloutDestination(flags, '--stack', calloutUrl);
  return awsTargets(
    {
      mainQueueUrl,
      deadLetterQueueUrl,
      ...(accountQueueUrl && { accountQueueUrl }),
      ...(needs.accountQueue && !accountQueueUrl && { accountQueueAbsent: true }),
      missingAccountQueueReason: `stack "${stackName}" has no ${STACK_OUTPUTS.accountQueueUrl} output (no Zuora connection, so no fan-out queue, or deployed before account callouts)`,
      calloutUrl,
      breakerTableName,
      ledgerTableName,
      missingBreakerReason: `stack "${stackName}" has no ${STACK_OUTPUTS.breakerTableName} output (deployed before outage mode; redeploy)`,
      missingLedgerReason: `stack "${stackName}" has no ${STACK_OUTPUTS.ledgerTableName} output (deployed before the sync ledger; redeploy)`,
      description: `stack ${stackName}`,
    },
    () => zuora,
    flags,
    env,
    needs,
    dependencies,
  );
}

async function describeStackOutputs(stackName: string, env: Env): Promise<Record<string, string>> {
  const client = awsCloudFormationClient(env);
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (!stack) throw new UsageError('--stack', `stack "${stackName}" not found`);
    return Object.fromEntries(
      (stack.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]),
    );
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('--stack', `cannot read the outputs of stack "${stackName}": ${(error as Error).message}`);
  } finally {
    client.destroy();
  }
}
