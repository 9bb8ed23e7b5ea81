import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * The `context` Lambda hands a handler, for the local runtime: a fresh request id per invocation and a real
 * deadline, so code that reads getRemainingTimeInMillis() (Powertools, the sync handler's own time budget)
 * behaves as it does in AWS.
 */
export function createLambdaContext(functionName: string, timeoutMs: number, now: () => number = Date.now): Context {
  const deadline = now() + timeoutMs;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const unsupported = () => {
    throw new Error('the legacy done/fail/succeed callbacks are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
