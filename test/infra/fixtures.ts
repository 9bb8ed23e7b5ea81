import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ZuoraLimioSync, type ZuoraLimioSyncProps } from '../../infra/zuora-limio-sync';
import { ZuoraLimioSyncStack, type BridgeStackSettings } from '../../infra/zuora-limio-sync-stack';

/**
 * Fixtures and helpers of the template tests of the construct and stack (test/infra/zuora-limio-sync.test.ts and
 * test/infra/constructs/). Bundling is stubbed (no stack listed in aws:cdk:bundling-stacks) so these stay fast;
 * test/infra/bundling.test.ts bundles for real.
 */
export const limioBaseUrl = 'https://acme.prod.limio.com';
export const region = 'eu-west-1';
export const account = '123456789012';
export const limioSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:limio-client-AbCdEf`;
export const calloutAuthSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:zuora-callout-GhIjKl`;
export const alarmTopicArn = `arn:aws:sns:${region}:${account}:ops-alarms`;

export function unbundledApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

export function stackWith(bridge: BridgeStackSettings): ZuoraLimioSyncStack {
  return new ZuoraLimioSyncStack(unbundledApp(), 'Bridge', { bridge });
}

/** A user's own stack with the construct dropped in (for props the stack does not take, e.g. a KMS key). */
export function constructInOwnStack(
  props: Omit<ZuoraLimioSyncProps, 'limioBaseUrl' | 'alarmTopic'> & {
    limioBaseUrl?: string;
    alarmTopic?: (stack: Stack) => sns.ITopic;
  },
) {
  const stack = new Stack(unbundledApp(), 'Own', { env: { account, region } });
  const key = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
  const bridge = new ZuoraLimioSync(stack, 'Bridge', {
    limioBaseUrl,
    ...props,
    queueEncryptionKey: key,
    alarmTopic: props.alarmTopic?.(stack),
  });
  return { stack, bridge, key, template: Template.fromStack(stack) };
}

/** Each fixture stack is built once and shared by the template tests and the cdk-nag checks. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

export const defaultBridge = once(() => stackWith({ limioBaseUrl, alarmEmail: 'ops@example.com' }));
export const httpBridge = once(() =>
  stackWith({ limioBaseUrl, apiKind: 'http', throttleRateLimit: 20, throttleBurstLimit: 40, alarmTopicArn }),
);
export const customisedRestBridge = once(() =>
  stackWith({
    limioBaseUrl,
    calloutAuthMode: 'header',
    allowedIpRanges: ['203.0.113.0/24', '198.51.100.7'],
    limioSecretArn,
    calloutAuthSecretArn,
    syncTimeoutSeconds: 60,
    maxAttempts: 4,
    retryBudgetSeconds: 7200,
    batchSize: 25,
    batchingWindowSeconds: 5,
    syncInvocationConcurrency: 3,
    syncConcurrency: 2,
    calloutDelaySeconds: 30,
    subscriptionIdPattern: '^SUB-[0-9]+$',
    calloutIdField: 'Data.Subscription.Name',
    probeSubscriptionId: 'SUB-42',
  }),
);
export const secretsKmsKeyArn = `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const wafBridge = once(() =>
  stackWith({
    limioBaseUrl,
    wafRateLimitPerIp: 300,
    allowedIpRanges: ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32'],
    expectedZuoraTenantId: '12345',
    apiSecurityPolicy: 'TLS_1_2',
    retainStatefulResources: false,
    secretsKmsKeyArn,
  }),
);
export const zuoraBaseUrl = 'https://rest.apisandbox.zuora.com';
export const zuoraSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:zuora-oauth-MnOpQr`;
export const sweepBridge = once(() =>
  stackWith({
    limioBaseUrl,
    alarmEmail: 'ops@example.com',
    zuoraBaseUrl,
    zuoraEntityId: 'abc-123',
    sweepIntervalSeconds: 600,
    missingCalloutsAlarmThreshold: 5,
    sweepSliceSeconds: 1800,
    sweepCommitLagSeconds: 5,
    syncCooldownSeconds: 10,
    syncClockMarginSeconds: 2,
    accountNumberPattern: '^ACC[0-9]{6}$',
    fanOutBatchSize: 4,
    fanOutMaxConcurrency: 3,
  }),
);
export const sweepWithExistingSecretAndKeys = once(() =>
  constructInOwnStack({ zuoraBaseUrl, zuoraSecretArn, secretsKmsKeyArn, calloutAuthMode: 'header' }),
);
let ownTopic: sns.Topic | undefined;
export const ownStackBridge = once(() =>
  constructInOwnStack({
    calloutAuthMode: 'hmac',
    alarmEmail: 'ignored@example.com',
    limioBaseUrl: 'https://your-tenant.prod.limio.com',
    alarmTopic: (stack) => (ownTopic = new sns.Topic(stack, 'Ops', { enforceSSL: true })),
  }),
);

export type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;

export function onlyResource(
  template: Template,
  type: string,
  props: object = {},
): { id: string; resource: Resources[string] } {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined)) as [
    string,
    Resources[string],
  ][];
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] };
}

export function functionNamed(template: Template, describing: string) {
  return onlyResource(template, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp(describing) });
}

/** All statements of every inline policy attached to the function's role. */
export function roleStatements(template: Template, functionResource: Resources[string]): any[] {
  const roleId = functionResource.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resources[string][];
  return policies
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

export function alarmProperties(template: Template, name: string): Record<string, any> {
  return onlyResource(template, 'AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp(`${name}$`) }).resource
    .Properties;
}

export type DashboardWidget = {
  type: string;
  properties: { title?: string; alarms?: string[]; metrics?: unknown[][] };
};

/** The dashboard body as JSON, CloudFormation tokens written out as text. */
export function dashboardOf(template: Template): { widgets: DashboardWidget[] } {
  const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody;
  const tokenText = (part: unknown) =>
    typeof part === 'string' ? part : `TOKEN(${JSON.stringify(part).replace(/"/g, "'")})`;
  return JSON.parse((body['Fn::Join'][1] as unknown[]).map(tokenText).join('')) as { widgets: DashboardWidget[] };
}

export function logicalIdOf(template: Template, type: string, description: RegExp): string {
  const entries = Object.entries(template.findResources(type)) as [string, Resources[string]][];
  const match = entries.filter(([, resource]) => description.test(JSON.stringify(resource.Properties)));
  expect(match).toHaveLength(1);
  return match[0][0];
}

/** The default bridge with the logical ids its tests refer to (read after synthesis, which settles them). */
export const defaultBridgeFixture = once(() => {
  const stack = defaultBridge();
  const template = Template.fromStack(stack);
  const idOf = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  return {
    stack,
    template,
    mainQueueId: idOf(stack.bridge.mainQueue),
    deadLetterQueueId: idOf(stack.bridge.deadLetterQueue),
    breakerTableId: idOf(stack.bridge.breakerTable),
    ledgerTableId: idOf(stack.bridge.ledgerTable),
  };
});

/** The topic ownStackBridge passes as a prop. */
export function ownTopicOf(): sns.Topic | undefined {
  return ownTopic;
}
