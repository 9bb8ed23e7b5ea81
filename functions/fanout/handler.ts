// PLACEHOLDER, to be replaced by functions/fanout/handler.ts of the fan-out branch (i22-fanout22) at merge: it exists only so the CDK stack bundles.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Deleting nothing and failing loudly, should this ever be deployed: the account messages stay on their queue
 * (then the DLQ) and FanOutErrorsAlarm fires, instead of accounts being dropped silently.
 */
export const handler = async (_event: SQSEvent): Promise<SQSBatchResponse> => {
  throw new Error('functions/fanout/handler.ts is a placeholder: deploy the fan-out branch\'s handler');
};
