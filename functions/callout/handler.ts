import { createCalloutHandler } from './callout-handler';
import { loadCalloutConfig } from './config';

/** Lambda entry point for API Gateway (REST API payload 1.0, or HTTP API payload 2.0). */
export const handler = createCalloutHandler(loadCalloutConfig(process.env));
