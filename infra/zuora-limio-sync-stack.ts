import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ZuoraLimioSync, type ZuoraLimioSyncProps } from './zuora-limio-sync';

/** The construct's props as plain values (what cdk.json context can express). */
export type BridgeStackSettings = Omit<ZuoraLimioSyncProps, 'alarmTopic' | 'queueEncryptionKey'> & {
  /** An existing SNS topic for the alarms (takes precedence over alarmEmail). */
  readonly alarmTopicArn?: string;
};

export interface ZuoraLimioSyncStackProps extends StackProps {
  readonly bridge: BridgeStackSettings;
}

/**
 * Output keys read by the operator CLI (`--stack`); part of the contract, do not rename.
 */
export const STACK_OUTPUTS = [
  'CalloutUrl',
  'MainQueueUrl',
  'DeadLetterQueueUrl',
  'LimioSecretArn',
  'CalloutAuthSecretArn',
  'DashboardName',
  'BreakerTableName',
  'LedgerTableName',
] as const;

/** Output keys present only when the reconciliation sweep is on (`zuoraBaseUrl` set). */
export const SWEEP_STACK_OUTPUTS = ['ZuoraBaseUrl', 'ZuoraSecretArn', 'SweepFunctionName'] as const;

/** Output keys present only with the account fan-out (a Zuora connection: `zuoraBaseUrl` set). */
export const FAN_OUT_STACK_OUTPUTS = ['AccountQueueUrl'] as const;

/** A stack holding one bridge and the outputs operators and the CLI need. */
export class ZuoraLimioSyncStack extends Stack {
  readonly bridge: ZuoraLimioSync;

  constructor(scope: Construct, id: string, props: ZuoraLimioSyncStackProps) {
    super(scope, id, props);
    const { alarmTopicArn, ...bridgeProps } = props.bridge;
    const alarmTopic =
      alarmTopicArn === undefined ? undefined : sns.Topic.fromTopicArn(this, 'AlarmTopic', alarmTopicArn);
    const bridge = new ZuoraLimioSync(this, 'Bridge', { ...bridgeProps, alarmTopic });
    this.bridge = bridge;

    const outputs: Record<(typeof STACK_OUTPUTS)[number], { value: string; description: string }> = {
      CalloutUrl: {
        value: bridge.calloutUrl,
        description: 'Give this URL to Zuora (callout template / workflow callout task), POST or GET',
      },
      MainQueueUrl: { value: bridge.mainQueue.queueUrl, description: 'Main queue of subscription ids to sync' },
      DeadLetterQueueUrl: {
        value: bridge.deadLetterQueue.queueUrl,
        description: 'Dead letters: subscriptions that could not be synced, with the reason',
      },
      LimioSecretArn: {
        value: bridge.limioSecret.secretArn,
        description: 'Fill with {"clientId","clientSecret"} from Limio',
      },
      CalloutAuthSecretArn: {
        value: bridge.calloutAuthSecret.secretArn,
        description: 'Callout credentials to copy into Zuora',
      },
      DashboardName: { value: bridge.dashboard.dashboardName, description: 'CloudWatch dashboard of the bridge' },
      BreakerTableName: {
        value: bridge.breakerTable.tableName,
        description: 'Circuit breaker state (outage mode): the CLI reads and overrides it (status, breaker open/close)',
      },
      LedgerTableName: {
        value: bridge.ledgerTable.tableName,
        description:
          'Sync ledger (last sync per subscription) and the sweep watermark: the CLI reads it (trace, sweep)',
      },
    };
    for (const [key, output] of Object.entries(outputs)) new CfnOutput(this, key, output);
    const sweep = bridge.settings.sweep;
    if (sweep !== undefined && bridge.sweepFunction !== undefined && bridge.zuoraSecret !== undefined) {
      const sweepOutputs: Record<(typeof SWEEP_STACK_OUTPUTS)[number], { value: string; description: string }> = {
        ZuoraBaseUrl: { value: sweep.zuoraBaseUrl, description: 'Zuora tenant the reconciliation sweep reads' },
        ZuoraSecretArn: {
          value: bridge.zuoraSecret.secretArn,
          description: 'Fill with {"clientId","clientSecret"} of a Zuora OAuth client (read access to subscriptions)',
        },
        SweepFunctionName: {
          value: bridge.sweepFunction.functionName,
          description: 'Reconciliation sweep Lambda (scheduled); its logs show each sweep',
        },
      };
      for (const [key, output] of Object.entries(sweepOutputs)) new CfnOutput(this, key, output);
    }
    if (bridge.accountQueue !== undefined) {
      const fanOutOutputs: Record<(typeof FAN_OUT_STACK_OUTPUTS)[number], { value: string; description: string }> = {
        AccountQueueUrl: {
          value: bridge.accountQueue.queueUrl,
          description:
            'Account queue: account callouts waiting to be fanned out to their subscriptions (redriven to the same DLQ)',
        },
      };
      for (const [key, output] of Object.entries(fanOutOutputs)) new CfnOutput(this, key, output);
    }
  }
}
