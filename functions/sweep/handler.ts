import { createSweepLambda, loadSweepLambdaConfig } from './lambda-sweep';

/** The deployed reconciliation sweep (EventBridge schedule, SWEEP_INTERVAL_SECONDS). Config is checked at cold start. */
export const handler = createSweepLambda(loadSweepLambdaConfig(process.env));
