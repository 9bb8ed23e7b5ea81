import { checkCalloutDestination, checkSqsDestinations } from './destinations';
import type { Env, TargetDependencies, TargetFlags, TargetNeeds, Targets } from './target-types';
import { UsageError } from './usage-error';

/**
 * Where a command acts, from exactly one of --local (local-targets.ts), --stack NAME (stack-targets.ts) or
 * explicit URLs and tables (flags or env, below); every destination is checked before credentials go there.
 */
export async function resolveTargets(
  flags: TargetFlags,
  env: Env,
  needs: TargetNeeds,
  dependencies: TargetDependencies = {},
): Promise<Targets> {
  const explicitFlag =
    flags.queueUrl !== undefined
      ? '--queue-url'
      : flags.dlqUrl !== undefined
        ? '--dlq-url'
        : flags.url !== undefined
          ? '--url'
          : flags.breakerTable !== undefined
            ? '--breaker-table'
            : flags.ledgerTable !== undefined
              ? '--ledger-table'
              : undefined;
  if (flags.local && flags.stack !== undefined)
    throw new UsageError('--stack', 'cannot be combined with --local; pick one target');
  if (explicitFlag && (flags.local || flags.stack !== undefined)) {
    throw new UsageError(
      explicitFlag,
      `cannot be combined with ${flags.local ? '--local' : '--stack'}; pick one target`,
    );
  }

  // Each way of finding targets is imported when chosen: they make AWS clients, and main.ts imports this module
  // only once a command runs, so --help and usage errors load no AWS SDK.
  const zuoraTarget = needs.zuora ? (await import('./zuora-target')).zuoraTarget : undefined;
  if (flags.local) {
    const { localTargets } = await import('./local-targets');
    return localTargets(env, needs, flags);
  }

  if (flags.stack !== undefined) {
    const stackName = flags.stack.trim();
    if (stackName === '') throw new UsageError('--stack', 'needs the CloudFormation stack name');
    return (await import('./stack-targets')).stackTargets(stackName, flags, env, needs, dependencies);
  }

  return explicitTargets(flags, env, needs, dependencies, zuoraTarget);
}

/** Queue URLs, callout URL and tables given one by one (flags, or ZLS_* variables). */
async function explicitTargets(
  flags: TargetFlags,
  env: Env,
  needs: TargetNeeds,
  dependencies: TargetDependencies,
  zuoraTarget: typeof import('./zuora-target').zuoraTarget | undefined,
): Promise<Targets> {
  const mainQueueUrl = urlFrom('--queue-url', flags.queueUrl) ?? urlFrom('ZLS_QUEUE_URL', env.ZLS_QUEUE_URL);
  const deadLetterQueueUrl = urlFrom('--dlq-url', flags.dlqUrl) ?? urlFrom('ZLS_DLQ_URL', env.ZLS_DLQ_URL);
  const calloutUrl = urlFrom('--url', flags.url);
  const breakerTableName =
    tableNameFrom('--breaker-table', flags.breakerTable) ?? tableNameFrom('ZLS_BREAKER_TABLE', env.ZLS_BREAKER_TABLE);
  const ledgerTableName =
    tableNameFrom('--ledger-table', flags.ledgerTable) ?? tableNameFrom('ZLS_LEDGER_TABLE', env.ZLS_LEDGER_TABLE);
  const missing = [
    needs.mainQueue && !mainQueueUrl && '--queue-url (or ZLS_QUEUE_URL)',
    needs.deadLetterQueue && !deadLetterQueueUrl && '--dlq-url (or ZLS_DLQ_URL)',
    needs.callout && !calloutUrl && '--url',
    needs.breaker === 'required' && !breakerTableName && '--breaker-table (or ZLS_BREAKER_TABLE)',
    needs.ledger === 'required' && !ledgerTableName && '--ledger-table (or ZLS_LEDGER_TABLE)',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(
      String(missing[0]).split(' ')[0],
      `no target given: use --local, --stack NAME, or ${missing.join(' and ')}`,
    );
  }
  const mainQueueInput = flags.queueUrl?.trim() ? '--queue-url' : 'ZLS_QUEUE_URL';
  const deadLetterQueueInput = flags.dlqUrl?.trim() ? '--dlq-url' : 'ZLS_DLQ_URL';
  checkSqsDestinations(flags, env, [
    [mainQueueInput, mainQueueUrl],
    [deadLetterQueueInput, deadLetterQueueUrl],
  ]);
  if (calloutUrl) checkCalloutDestination(flags, '--url', calloutUrl);
  const { awsTargets } = await import('./aws-targets');
  return awsTargets(
    {
      mainQueueUrl,
      deadLetterQueueUrl,
      calloutUrl,
      breakerTableName,
      ledgerTableName,
      missingBreakerReason: 'give --breaker-table NAME (or ZLS_BREAKER_TABLE): the stack output BreakerTableName',
      missingLedgerReason: 'give --ledger-table NAME (or ZLS_LEDGER_TABLE): the stack output LedgerTableName',
      description: 'queues given explicitly',
    },
    () => zuoraTarget?.(flags, env, {}),
    flags,
    env,
    needs,
    dependencies,
  );
}

function urlFrom(input: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  // Not new URL(): emulator queue URLs such as http://sqs.us-east-1.127.0.0.1:9324/000000000000/q are valid for
  // SQS but not for the WHATWG parser (a host ending in a number must be an IPv4 address).
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw.trim()))
    throw new UsageError(input, `expected an http(s) URL, got "${raw}"`);
  return raw.trim();
}

/** DynamoDB table names: 3-255 of letters, digits, "_", "-", ".". */
function tableNameFrom(input: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(raw.trim()))
    throw new UsageError(input, `expected a DynamoDB table name, got "${raw}"`);
  return raw.trim();
}
