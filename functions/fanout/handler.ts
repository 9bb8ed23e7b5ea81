import { loadFanOutConfig } from './config';
import { createFanOutHandler } from './fanout-handler';

/** The deployed fan-out Lambda: the account queue's event source, with ReportBatchItemFailures. Config is checked at cold start. */
export const handler = createFanOutHandler(loadFanOutConfig(process.env));
