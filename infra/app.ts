import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/shared/config-error';
import { bridgeSettingsFromContext } from './context';
import { ZuoraLimioSyncStack } from './zuora-limio-sync-stack';

/**
 * The CDK app behind `npm run synth` / `npm run deploy`. Settings come from cdk.json "context" (see
 * infra/context.ts). Without AWS credentials the stack is environment-agnostic, so synth works offline; with
 * them, the CLI's account and region are used.
 */
const app = new App();
try {
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'ZuoraLimioSync';
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  new ZuoraLimioSyncStack(app, stackName, {
    description: 'zuora-limio-sync: Zuora callouts -> SQS -> Limio subscription sync',
    env: account !== undefined && region !== undefined ? { account, region } : undefined,
    bridge: bridgeSettingsFromContext((key) => app.node.tryGetContext(key)),
  });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`zuora-limio-sync: invalid setting ${error.message}`);
  process.exit(1);
}
// The same checks the test suite runs: a setting that weakens the stack fails synth instead of shipping.
if (app.node.tryGetContext('cdkNag') !== false && app.node.tryGetContext('cdkNag') !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
