import { loadProbeConfig } from './probe-config';
import { createProbeLambda } from './probe-lambda';

/** The deployed breaker probe Lambda (EventBridge schedule, every minute). Config is checked at cold start. */
const runProbe = createProbeLambda(loadProbeConfig(process.env));

export const handler = async (): Promise<void> => {
  await runProbe();
};
