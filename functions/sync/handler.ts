import { loadSyncConfig } from './config';
import { createSyncHandler } from './sync-handler';

/** The deployed sync Lambda: SQS event source with ReportBatchItemFailures. Config is checked at cold start. */
export const handler = createSyncHandler(loadSyncConfig(process.env));
