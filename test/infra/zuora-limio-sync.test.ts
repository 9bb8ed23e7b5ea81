import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createCalloutHandler } from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { LEDGER_DEFAULTS, loadLedgerConfig } from '../../functions/ledger/config';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../../functions/ledger/dynamodb-ledger-store';
import { SWEEP_DEFAULTS } from '../../functions/sweep/config';
import { sweepWatermarkKey } from '../../functions/sweep/dynamodb-watermark-store';
import { loadSweepLambdaConfig, SWEEP_METRICS, SWEEP_SERVICE_NAME } from '../../functions/sweep/lambda-sweep';
import { ConfigError } from '../../functions/shared/config-error';
import { METRICS_NAMESPACE, SYNC_METRICS, SYNC_SERVICE_NAME } from '../../functions/sync/telemetry';
import { DEFAULTS, mainQueueVisibilityTimeoutSeconds, redriveMaxReceiveCount } from '../../functions/shared/defaults';
import { LIMIO_SECRET_PLACEHOLDER, ZUORA_SECRET_PLACEHOLDER } from '../../infra/secret-templates';
import { ZuoraLimioSync, type ZuoraLimioSyncProps } from '../../infra/zuora-limio-sync';
import { STACK_OUTPUTS, SWEEP_STACK_OUTPUTS, ZuoraLimioSyncStack, type BridgeStackSettings } from '../../infra/zuora-limio-sync-stack';
import { basicAuthorization, restApiEvent } from '../callout/events';
import { captureOutput } from '../support/capture-output';

/**
 * Template tests of the construct and stack. Bundling is stubbed (no stack listed in aws:cdk:bundling-stacks)
 * so these stay fast; test/infra/bundling.test.ts bundles for real.
 */
const limioBaseUrl = 'https://acme.prod.limio.com';
const region = 'eu-west-1';
const account = '123456789012';
const limioSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:limio-client-AbCdEf`;
const calloutAuthSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:zuora-callout-GhIjKl`;
const alarmTopicArn = `arn:aws:sns:${region}:${account}:ops-alarms`;

function unbundledApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

function stackWith(bridge: BridgeStackSettings): ZuoraLimioSyncStack {
  return new ZuoraLimioSyncStack(unbundledApp(), 'Bridge', { bridge });
}

/** A user's own stack with the construct dropped in (for props the stack does not take, e.g. a KMS key). */
function constructInOwnStack(
  props: Omit<ZuoraLimioSyncProps, 'limioBaseUrl' | 'alarmTopic'> & { limioBaseUrl?: string; alarmTopic?: (stack: Stack) => sns.ITopic },
) {
  const stack = new Stack(unbundledApp(), 'Own', { env: { account, region } });
  const key = new kms.Key(stack, 'QueueKey', { enableKeyRotation: true });
  const bridge = new ZuoraLimioSync(stack, 'Bridge', { limioBaseUrl, ...props, queueEncryptionKey: key, alarmTopic: props.alarmTopic?.(stack) });
  return { stack, bridge, key, template: Template.fromStack(stack) };
}

/** Each fixture stack is built once and shared by the template tests and the cdk-nag checks. */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

const defaultBridge = once(() => stackWith({ limioBaseUrl, alarmEmail: 'ops@example.com' }));
const httpBridge = once(() => stackWith({ limioBaseUrl, apiKind: 'http', throttleRateLimit: 20, throttleBurstLimit: 40, alarmTopicArn }));
const customisedRestBridge = once(() => stackWith({
  limioBaseUrl, calloutAuthMode: 'header', allowedIpRanges: ['203.0.113.0/24', '198.51.100.7'], limioSecretArn, calloutAuthSecretArn,
  syncTimeoutSeconds: 60, maxAttempts: 4, retryBudgetSeconds: 7200, batchSize: 25, batchingWindowSeconds: 5, syncInvocationConcurrency: 3, syncConcurrency: 2,
  calloutDelaySeconds: 30, subscriptionIdPattern: '^SUB-[0-9]+$', calloutIdField: 'Data.Subscription.Name', probeSubscriptionId: 'SUB-42',
}));
const secretsKmsKeyArn = `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const wafBridge = once(() => stackWith({
  limioBaseUrl, wafRateLimitPerIp: 300, allowedIpRanges: ['203.0.113.0/24', '198.51.100.7', '2001:db8::/32'],
  expectedZuoraTenantId: '12345', apiSecurityPolicy: 'TLS_1_2', retainStatefulResources: false, secretsKmsKeyArn,
}));
const zuoraBaseUrl = 'https://rest.apisandbox.zuora.com';
const zuoraSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:zuora-oauth-MnOpQr`;
const sweepBridge = once(() => stackWith({
  limioBaseUrl, alarmEmail: 'ops@example.com', zuoraBaseUrl, zuoraEntityId: 'abc-123', sweepIntervalSeconds: 600, missingCalloutsAlarmThreshold: 5,
  syncCooldownSeconds: 10, syncClockMarginSeconds: 2,
}));
const sweepWithExistingSecretAndKeys = once(() => constructInOwnStack({ zuoraBaseUrl, zuoraSecretArn, secretsKmsKeyArn, calloutAuthMode: 'header' }));
let ownTopic: sns.Topic | undefined;
const ownStackBridge = once(() => constructInOwnStack({
  calloutAuthMode: 'hmac',
  alarmEmail: 'ignored@example.com',
  limioBaseUrl: 'https://your-tenant.prod.limio.com',
  alarmTopic: (stack) => (ownTopic = new sns.Topic(stack, 'Ops', { enforceSSL: true })),
}));

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;

function onlyResource(template: Template, type: string, props: object = {}): { id: string; resource: Resources[string] } {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined)) as [string, Resources[string]][];
  expect(found).toHaveLength(1);
  return { id: found[0][0], resource: found[0][1] };
}

function functionNamed(template: Template, describing: string) {
  return onlyResource(template, 'AWS::Lambda::Function', { Description: Match.stringLikeRegexp(describing) });
}

/** All statements of every inline policy attached to the function's role. */
function roleStatements(template: Template, functionResource: Resources[string]): any[] {
  const roleId = functionResource.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resources[string][];
  return policies
    .filter((policy) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

function alarmProperties(template: Template, name: string): Record<string, any> {
  return onlyResource(template, 'AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp(`${name}$`) }).resource.Properties;
}

type DashboardWidget = { type: string; properties: { title?: string; alarms?: string[]; metrics?: unknown[][] } };

/** The dashboard body as JSON, CloudFormation tokens written out as text. */
function dashboardOf(template: Template): { widgets: DashboardWidget[] } {
  const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody;
  const tokenText = (part: unknown) => typeof part === 'string' ? part : `TOKEN(${JSON.stringify(part).replace(/"/g, "'")})`;
  return JSON.parse((body['Fn::Join'][1] as unknown[]).map(tokenText).join('')) as { widgets: DashboardWidget[] };
}

function logicalIdOf(template: Template, type: string, description: RegExp): string {
  const entries = Object.entries(template.findResources(type)) as [string, Resources[string]][];
  const match = entries.filter(([, resource]) => description.test(JSON.stringify(resource.Properties)));
  expect(match).toHaveLength(1);
  return match[0][0];
}

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let mainQueueId: string;
  let deadLetterQueueId: string;
  let breakerTableId: string;
  let ledgerTableId: string;

  beforeAll(() => {
    stack = defaultBridge();
    template = Template.fromStack(stack);
    deadLetterQueueId = stack.getLogicalId(stack.bridge.deadLetterQueue.node.defaultChild as never);
    mainQueueId = stack.getLogicalId(stack.bridge.mainQueue.node.defaultChild as never);
    breakerTableId = stack.getLogicalId(stack.bridge.breakerTable.node.defaultChild as never);
    ledgerTableId = stack.getLogicalId(stack.bridge.ledgerTable.node.defaultChild as never);
  });

  describe('Lambdas', () => {
    it('run Node.js 24 on arm64 with tight timeouts and JSON logs in their own retained log groups', () => {
      for (const [describing, timeout] of [['authenticates Zuora callouts', 10], ['asks Limio to sync', DEFAULTS.syncFunctionTimeoutSeconds]] as const) {
        const { resource } = functionNamed(template, describing);
        expect(resource.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Timeout: timeout,
          Handler: 'index.handler',
          LoggingConfig: { LogFormat: 'JSON' },
        });
        const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
        expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(90);
      }
    });

    it('give the callout Lambda exactly the contract variables, secrets by id only', () => {
      const { resource } = functionNamed(template, 'authenticates Zuora callouts');
      const variables = resource.Properties.Environment.Variables;
      expect(variables).toEqual({
        QUEUE_URL: { Ref: mainQueueId },
        CALLOUT_AUTH_SECRET_ID: { Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /how Zuora callouts authenticate/) },
        CALLOUT_REALM: 'zuora-limio-sync',
        CALLOUT_DELAY_SECONDS: '0',
        CALLOUT_MAX_IDS: String(DEFAULTS.calloutMaxIds),
        CALLOUT_MAX_BODY_BYTES: String(DEFAULTS.calloutMaxBodyBytes),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
    });

    it('give the sync Lambda exactly the contract variables, secrets by id only', () => {
      const { resource } = functionNamed(template, 'asks Limio to sync');
      expect(resource.Properties.Environment.Variables).toEqual({
        QUEUE_URL: { Ref: mainQueueId },
        DLQ_URL: { Ref: deadLetterQueueId },
        LIMIO_BASE_URL: limioBaseUrl,
        LIMIO_SECRET_ID: { Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Limio OAuth client credentials/) },
        SYNC_CONCURRENCY: String(DEFAULTS.syncConcurrency),
        BREAKER_TABLE_NAME: { Ref: breakerTableId },
        RETRY_BUDGET_SECONDS: String(24 * 60 * 60),
        MAX_ATTEMPTS: String(DEFAULTS.maxAttempts),
        LIMIO_TIMEOUT_MS: String(DEFAULTS.limioTimeoutMs),
        BACKOFF_BASE_SECONDS: String(DEFAULTS.backoffBaseSeconds),
        BACKOFF_MAX_SECONDS: String(DEFAULTS.backoffMaxSeconds),
        LEDGER_TABLE_NAME: { Ref: ledgerTableId },
        SYNC_COOLDOWN_SECONDS: String(LEDGER_DEFAULTS.cooldownSeconds),
        SYNC_CLOCK_MARGIN_SECONDS: String(LEDGER_DEFAULTS.clockMarginSeconds),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
      // The sync Lambda's own loader accepts what the construct gives it.
      const { SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS } = resource.Properties.Environment.Variables as Record<string, string>;
      expect(loadLedgerConfig({ SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS }).timing)
        .toEqual({ cooldownSeconds: LEDGER_DEFAULTS.cooldownSeconds, clockMarginSeconds: LEDGER_DEFAULTS.clockMarginSeconds });
    });
  });

  describe('queues', () => {
    it('encrypt both queues (SSE-SQS) and keep messages 14 days', () => {
      for (const id of [mainQueueId, deadLetterQueueId]) {
        expect(template.toJSON().Resources[id].Properties).toMatchObject({
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 14 * 24 * 60 * 60,
        });
      }
    });

    it('refuse any request without TLS on both queues', () => {
      for (const id of [mainQueueId, deadLetterQueueId]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            })]),
          },
        });
      }
    });

    it('give the main queue a visibility timeout of 6x the sync timeout and redrive one receive after the MAX_ATTEMPTS safety net', () => {
      expect(template.toJSON().Resources[mainQueueId].Properties).toMatchObject({
        VisibilityTimeout: mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
          maxReceiveCount: redriveMaxReceiveCount(DEFAULTS.maxAttempts),
        },
      });
      expect(mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds)).toBe(180);
      // The time budget decides; SQS's own redrive only backs up the sync Lambda's hard cap of 400 receives.
      expect(redriveMaxReceiveCount(DEFAULTS.maxAttempts)).toBe(401);
    });
  });

  describe('event source', () => {
    it('batches, reports item failures and caps concurrent invocations', () => {
      const { resource } = onlyResource(template, 'AWS::Lambda::EventSourceMapping');
      expect(resource.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        FunctionName: { Ref: stack.getLogicalId(stack.bridge.syncFunction.node.defaultChild as never) },
        BatchSize: DEFAULTS.syncBatchSize,
        MaximumBatchingWindowInSeconds: DEFAULTS.syncBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });

    it('is created only after the sync role may read the queue (Lambda checks it at creation)', () => {
      const { resource } = onlyResource(template, 'AWS::Lambda::EventSourceMapping');
      const syncPolicyId = Object.entries(template.findResources('AWS::IAM::Policy'))
        .find(([, policy]) => JSON.stringify(policy).includes('ConsumeMainQueue'))![0];
      expect(resource.DependsOn).toContain(syncPolicyId);
    });

    it('is exposed, with the sync function, for additions such as a circuit breaker', () => {
      expect(stack.resolve(stack.bridge.syncEventSourceMapping.eventSourceMappingId)).toEqual({
        Ref: onlyResource(template, 'AWS::Lambda::EventSourceMapping').id,
      });
      expect(stack.bridge.syncFunction.functionName).toBeDefined();
    });
  });

  describe('least privilege', () => {
    it('lets the callout Lambda only send to the main queue, read its auth secret and write its own logs', () => {
      const { resource } = functionNamed(template, 'authenticates Zuora callouts');
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      expect(roleStatements(template, resource)).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
        { Sid: 'QueueSubscriptionIds', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] } },
        { Sid: 'ReadCalloutAuthSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource.Properties.Environment.Variables.CALLOUT_AUTH_SECRET_ID },
      ]);
    });

    it('lets the sync Lambda only consume the main queue, send to the DLQ, read the Limio secret, read and write the breaker and the ledger and write its own logs', () => {
      const { resource } = functionNamed(template, 'asks Limio to sync');
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      expect(roleStatements(template, resource)).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
        {
          Sid: 'ConsumeMainQueue',
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
          Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        },
        { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] } },
        { Sid: 'ReadLimioSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource.Properties.Environment.Variables.LIMIO_SECRET_ID },
        {
          Sid: 'ReadWriteBreakerState',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [breakerTableId, 'Arn'] },
        },
        {
          Sid: 'ReadWriteLedger',
          Effect: 'Allow',
          // What DynamoDbLedgerStore sends (BatchGetItemCommand, UpdateItemCommand), nothing more.
          Action: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
        },
      ]);
    });

    it('attaches no managed policy to any function role', () => {
      for (const describing of ['authenticates Zuora callouts', 'asks Limio to sync', 'circuit breaker probe']) {
        const roleId = functionNamed(template, describing).resource.Properties.Role['Fn::GetAtt'][0];
        expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('secrets', () => {
    it('creates the Limio secret with no value in the template that an update could push over the real credentials', () => {
      const limioSecretId = logicalIdOf(template, 'AWS::SecretsManager::Secret', /Limio OAuth client credentials/);
      const properties = template.toJSON().Resources[limioSecretId].Properties;
      // A SecretString would be written again by CloudFormation on an update of it, over what the operator put.
      expect(properties.SecretString).toBeUndefined();
      // CloudFormation regenerates the value whenever this block changes: it is pinned, byte for byte.
      expect(properties.GenerateSecretString).toEqual({
        SecretStringTemplate: JSON.stringify({ clientId: LIMIO_SECRET_PLACEHOLDER.clientId }),
        GenerateStringKey: 'clientSecret',
        ExcludePunctuation: true,
        PasswordLength: 32,
      });
    });

    it('pins the generation block of each mode\'s callout secret (a changed block regenerates the secret copied into Zuora)', () => {
      const generationOf = (template: Template) =>
        (Object.values(template.findResources('AWS::SecretsManager::Secret')) as Resources[string][])
          .find((secret) => /how Zuora callouts authenticate/.test(secret.Properties.Description))!.Properties.GenerateSecretString;
      const pinned = (fields: object, key: string) => ({ SecretStringTemplate: JSON.stringify(fields), GenerateStringKey: key, ExcludePunctuation: true, PasswordLength: 48 });
      expect(generationOf(template)).toEqual(pinned({ mode: 'basic', username: 'zuora' }, 'password'));
      expect(generationOf(Template.fromStack(httpBridge()))).toEqual(pinned({ mode: 'basic', username: 'zuora' }, 'password'));
      expect(generationOf(ownStackBridge().template)).toEqual(
        pinned({ mode: 'hmac', headerName: 'X-Zuora-Signature', algorithm: 'sha256', signedData: '{body}\\n' }, 'key'),
      );
      const headerStack = new Stack(unbundledApp(), 'HeaderMode');
      new ZuoraLimioSync(headerStack, 'Bridge', { limioBaseUrl, calloutAuthMode: 'header' });
      expect(generationOf(Template.fromStack(headerStack))).toEqual(pinned({ mode: 'header', headerName: 'X-Callout-Token' }, 'value'));
    });

    it('puts no SecretString in any variant\'s template', () => {
      for (const template of [Template.fromStack(defaultBridge()), Template.fromStack(httpBridge()), ownStackBridge().template, Template.fromStack(wafBridge()), Template.fromStack(sweepBridge())]) {
        for (const secret of Object.values(template.findResources('AWS::SecretsManager::Secret')) as Resources[string][]) {
          expect(secret.Properties.SecretString).toBeUndefined();
        }
      }
    });

    it('generates the Basic password at deploy time, never in the template', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ mode: 'basic', username: 'zuora' }),
          GenerateStringKey: 'password',
          ExcludePunctuation: true,
          PasswordLength: 48,
        },
      });
    });
  });

  describe('REST API front door', () => {
    it('routes POST and GET /zuora/callout to the callout Lambda (proxy integration)', () => {
      const calloutFunctionId = functionNamed(template, 'authenticates Zuora callouts').id;
      for (const method of ['POST', 'GET']) {
        template.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: method,
          Integration: {
            Type: 'AWS_PROXY',
            IntegrationHttpMethod: 'POST',
            Uri: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [calloutFunctionId, 'Arn'] }])] },
          },
        });
      }
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'callout' });
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
      expect(template.findResources('AWS::ApiGateway::RestApi', { Properties: { Policy: Match.anyValue() } })).toEqual({});
    });

    it('answers a request without credentials with the Basic challenge from API Gateway itself', () => {
      // The method requires the Authorization header, so a credential-less request never reaches the Lambda...
      const validatorId = onlyResource(template, 'AWS::ApiGateway::RequestValidator', {
        ValidateRequestParameters: true,
        ValidateRequestBody: false,
      }).id;
      for (const method of ['POST', 'GET']) {
        template.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: method,
          RequestParameters: { 'method.request.header.Authorization': true },
          RequestValidatorId: { Ref: validatorId },
        });
      }
      // ...and the gateway response for a missing required parameter is the 401 Zuora waits for.
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'BAD_REQUEST_PARAMETERS',
        StatusCode: '401',
        ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': '\'Basic realm="zuora-limio-sync"\'' },
      });
    });

    it('throttles the stage and keeps execution logs to errors without request data', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        MethodSettings: [Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 500,
          ThrottlingBurstLimit: 1000,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        })],
      });
    });

    it('writes JSON access logs with no header in them (so never the Authorization header)', () => {
      const { resource } = onlyResource(template, 'AWS::ApiGateway::Stage');
      const { DestinationArn, Format } = resource.Properties.AccessLogSetting;
      expect(DestinationArn['Fn::GetAtt'][1]).toBe('Arn');
      const fields = JSON.parse(Format) as Record<string, string>;
      expect(fields).toMatchObject({ requestId: '$context.requestId', status: '$context.status', sourceIp: '$context.identity.sourceIp' });
      expect(Format).not.toMatch(/header|authorization|authorizer/i);
    });
  });

  describe('the public endpoint', () => {
    it('throttles the stage for a bill run\'s peak with room (500 requests/s, burst 1000)', () => {
      expect(onlyResource(template, 'AWS::ApiGateway::Stage').resource.Properties.MethodSettings[0]).toMatchObject({
        ThrottlingRateLimit: 500,
        ThrottlingBurstLimit: 1000,
      });
    });

    it('pins the REST API to TLS 1.3 and 1.2 (a regional REST API defaults to TLS 1.0) with strict endpoint access', () => {
      expect(onlyResource(template, 'AWS::ApiGateway::RestApi').resource.Properties).toMatchObject({
        SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PQ_2025_09',
        EndpointAccessMode: 'STRICT',
      });
    });

    it('counts every 429 of the access log as CalloutThrottled of this API, and alarms on one', () => {
      const apiId = onlyResource(template, 'AWS::ApiGateway::RestApi').id;
      const stage = onlyResource(template, 'AWS::ApiGateway::Stage').resource.Properties;
      const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
      // The fields the filter reads are what API Gateway writes: the answer's status (a JSON string) and the API id.
      expect(format).toMatchObject({ status: '$context.status', apiId: '$context.apiId' });
      const filter = onlyResource(template, 'AWS::Logs::MetricFilter').resource.Properties;
      expect(filter).toEqual({
        LogGroupName: { Ref: stage.AccessLogSetting.DestinationArn['Fn::GetAtt'][0] },
        FilterPattern: '{ $.status = "429" }',
        MetricTransformations: [{
          MetricNamespace: METRICS_NAMESPACE,
          MetricName: 'CalloutThrottled',
          MetricValue: '1',
          Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }],
          Unit: 'Count',
        }],
      });
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'CalloutThrottled' }).resource.Properties;
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: onlyResource(template, 'AWS::SNS::Topic').id }],
      });
      expect(alarm.AlarmDescription).toMatch(/sourceIp/);
      expect(alarm.AlarmDescription).toMatch(/allowedIpRanges or wafRateLimitPerIp/);
      expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
    });

    it('has no WAF unless asked for (it costs a monthly fee)', () => {
      expect(template.findResources('AWS::WAFv2::WebACL')).toEqual({});
      expect(template.findResources('AWS::WAFv2::WebACLAssociation')).toEqual({});
    });

    it('checks no Zuora tenant id unless one is given', () => {
      expect(functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables).not.toHaveProperty('CALLOUT_EXPECTED_TENANT_ID');
    });
  });

  describe('data that must outlive the stack', () => {
    const stateful = () => [
      ['AWS::SQS::Queue', 'BridgeDeadLetterQueue0C65B6E3'],
      ['AWS::SQS::Queue', 'BridgeMainQueue53677ECA'],
      ['AWS::SecretsManager::Secret', 'BridgeLimioSecretC4D07CDB'],
      ['AWS::SecretsManager::Secret', 'BridgeCalloutAuthSecret4AEC7CB0'],
      ['AWS::DynamoDB::Table', 'BridgeBreakerTableD37ED765'],
      ['AWS::DynamoDB::Table', 'BridgeLedgerTable63C41DC6'],
    ] as const;

    it('keeps the logical ids of the queues, secrets, breaker and ledger tables (a changed id would replace them on update)', () => {
      const resources = template.toJSON().Resources as Resources;
      for (const [type, id] of stateful()) expect(resources[id]?.Type).toBe(type);
      for (const type of new Set(stateful().map(([type]) => type))) {
        expect(Object.keys(template.findResources(type)).sort()).toEqual(stateful().filter(([t]) => t === type).map(([, id]) => id).sort());
      }
    });

    it('retains them when the stack is deleted or a resource replaced', () => {
      const resources = template.toJSON().Resources as Record<string, { DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
      for (const [, id] of stateful()) {
        expect({ id, DeletionPolicy: resources[id]!.DeletionPolicy, UpdateReplacePolicy: resources[id]!.UpdateReplacePolicy })
          .toEqual({ id, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    });
  });

  describe('observability', () => {
    const alarmOn = (metricName: string, namespace: string) =>
      onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: metricName, Namespace: namespace }).resource.Properties;

    it('alarms on any dead letter', () => {
      expect(alarmOn('ApproximateNumberOfMessagesVisible', 'AWS/SQS')).toMatchObject({
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterQueueId, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        Statistic: 'Maximum',
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when the oldest message on the main queue is older than the threshold', () => {
      expect(alarmOn('ApproximateAgeOfOldestMessage', 'AWS/SQS')).toMatchObject({
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [mainQueueId, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 3600,
      });
    });

    it('alarms on sync Lambda errors and throttles', () => {
      const syncFunctionId = functionNamed(template, 'asks Limio to sync').id;
      const syncDimension = { Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }] };
      for (const metric of ['Errors', 'Throttles']) {
        expect(onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: metric, Namespace: 'AWS/Lambda', ...syncDimension }).resource.Properties).toMatchObject({
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }],
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          Statistic: 'Sum',
        });
      }
    });

    it('alarms on API 5xx answers of this API', () => {
      const apiName = onlyResource(template, 'AWS::ApiGateway::RestApi').resource.Properties.Name;
      expect(alarmOn('5XXError', 'AWS/ApiGateway')).toMatchObject({
        Dimensions: [{ Name: 'ApiName', Value: apiName }],
        Threshold: 1,
        Statistic: 'Sum',
      });
    });

    it('alarms on any refused callout and says what to do about each kind of refusal', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      const alarm = alarmOn('CalloutRefused', METRICS_NAMESPACE);
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'service', Value: 'zuora-limio-callout' }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      const description = alarm.AlarmDescription as string;
      // CloudFormation refuses a longer AlarmDescription.
      expect(description.length).toBeLessThanOrEqual(1024);
      expect(description).toMatch(/callout Lambda's logs/);
      expect(description).toMatch(/rotated on one side only/);
      expect(description).toMatch(/template changed/);
      expect(description).toMatch(/SUBSCRIPTION_ID_PATTERN/);
      expect(description).toMatch(/too-many-ids/);
      expect(description).toMatch(/zuora-limio-sync enqueue/);
    });

    it('alarms on the very metric the deployed callout Lambda publishes when it refuses a callout', async () => {
      const alarm = alarmOn('CalloutRefused', METRICS_NAMESPACE);
      const calloutEnvironment = functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables as Record<string, unknown>;
      const deployedMetricsEnvironment = {
        POWERTOOLS_METRICS_NAMESPACE: calloutEnvironment.POWERTOOLS_METRICS_NAMESPACE as string,
        POWERTOOLS_SERVICE_NAME: calloutEnvironment.POWERTOOLS_SERVICE_NAME as string,
      };
      const saved = Object.fromEntries(Object.keys(deployedMetricsEnvironment).map((name) => [name, process.env[name]]));
      Object.assign(process.env, deployedMetricsEnvironment);
      // Refused before any queue call: the client only has to exist.
      const sqs = new SQSClient({ region, endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const output = captureOutput();
      try {
        const handler = createCalloutHandler(
          loadCalloutConfig({ QUEUE_URL: 'http://127.0.0.1:9/000000000000/main', CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'callout-password' }),
          { sqs },
        );
        const answer = await handler(restApiEvent({
          headers: { 'Content-Type': 'application/json', Authorization: basicAuthorization('zuora', 'callout-password') },
          body: JSON.stringify({ subscriptionNumber: 'not a subscription id' }),
        }));
        expect(answer.statusCode).toBe(400);
      } finally {
        output.restore();
        sqs.destroy();
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      type Emf = { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } } & Record<string, unknown>;
      const refusals = output.lines()
        .filter((line): line is Emf => '_aws' in line && 'CalloutRefused' in line)
        .flatMap((line) => line._aws.CloudWatchMetrics.flatMap((set) => set.Dimensions.map((dimensions) => ({
          namespace: set.Namespace,
          dimensions: Object.fromEntries(dimensions.map((name) => [name, line[name]])),
        }))));
      const alarmDimensions = Object.fromEntries((alarm.Dimensions as { Name: string; Value: string }[]).map(({ Name, Value }) => [Name, Value]));
      expect(refusals).toContainEqual({ namespace: alarm.Namespace, dimensions: alarmDimensions });
    });

    it('alarms on a visibility change SQS refused, watching the metric the sync Lambda publishes', () => {
      const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .map((resource) => resource.Properties)
        .find((properties) => String(properties.AlarmName).endsWith('-VisibilityRefusedAlarm'))!;
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: SYNC_METRICS.visibilityRefused,
        Dimensions: [{ Name: 'service', Value: SYNC_SERVICE_NAME }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('notifies the email subscription of a created topic on alarm and on recovery', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resources[string][];
      expect(alarms.map((alarm) => alarm.Properties.AlarmName.replace(/^Bridge-Bridge-[0-9A-F]{8}-/, '')).sort()).toEqual(
        ['Api5xxAlarm', 'BreakerOpenAlarm', 'CalloutRefusedAlarm', 'CalloutThrottledAlarm', 'DeadLettersAlarm', 'OldestMessageAgeAlarm', 'ProbeErrorsAlarm', 'SyncErrorsAlarm', 'SyncThrottlesAlarm', 'VisibilityRefusedAlarm'],
      );
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
      }
    });

    it('has a dashboard showing every alarm, the API, the queues and both functions', () => {
      const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody;
      const tokenText = (part: unknown) => typeof part === 'string' ? part : `TOKEN(${JSON.stringify(part).replace(/"/g, "'")})`;
      const dashboard = JSON.parse((body['Fn::Join'][1] as unknown[]).map(tokenText).join('')) as {
        widgets: { type: string; properties: { alarms?: string[]; metrics?: unknown[][] } }[];
      };
      const alarmWidget = dashboard.widgets.find((widget) => widget.type === 'alarm')!;
      expect(alarmWidget.properties.alarms).toHaveLength(10);
      const metricNames = dashboard.widgets.flatMap((widget) => (widget.properties.metrics ?? []).map((metric) => `${metric[0]}/${metric[1]}`));
      expect(metricNames).toEqual(expect.arrayContaining([
        'AWS/ApiGateway/5XXError', 'AWS/SQS/ApproximateAgeOfOldestMessage', 'AWS/SQS/ApproximateNumberOfMessagesVisible',
        'AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/Lambda/ConcurrentExecutions',
      ]));
      // The sync Lambda's own metrics, by the names and dimension it really emits.
      const syncMetrics = dashboard.widgets.flatMap((widget) => widget.properties.metrics ?? [])
        .filter((metric) => metric[0] === METRICS_NAMESPACE && metric[2] === 'service' && metric[3] === SYNC_SERVICE_NAME)
        .map((metric) => metric[1]);
      expect(syncMetrics.sort()).toEqual(Object.values(SYNC_METRICS).sort());
    });

    it('outputs exactly the names the operator CLI reads', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      for (const name of STACK_OUTPUTS) expect(outputs[name]).toBeDefined();
      expect(outputs.MainQueueUrl.Value).toEqual({ Ref: mainQueueId });
      expect(outputs.DeadLetterQueueUrl.Value).toEqual({ Ref: deadLetterQueueId });
      expect(outputs.DashboardName.Value).toEqual({ Ref: onlyResource(template, 'AWS::CloudWatch::Dashboard').id });
      expect(JSON.stringify(outputs.CalloutUrl.Value)).toMatch(/"\/zuora\/callout"\]\]/);
      expect(outputs.BreakerTableName.Value).toEqual({ Ref: breakerTableId });
      expect(outputs.LedgerTableName.Value).toEqual({ Ref: ledgerTableId });
      // No sweep without zuoraBaseUrl: none of its outputs.
      for (const name of SWEEP_STACK_OUTPUTS) expect(outputs[name]).toBeUndefined();
    });
  });

  describe('outage mode (circuit breaker)', () => {
    const probe = () => functionNamed(template, 'circuit breaker probe');
    const tableId = () => breakerTableId;

    it('keeps the breaker in one on-demand table keyed by pk, with TTL on expiresAt and point-in-time recovery', () => {
      expect((template.toJSON().Resources as Resources)[breakerTableId]!.Properties).toEqual({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('runs the probe Lambda every minute, never retrying a stale run', () => {
      const { id: probeId, resource } = probe();
      expect(resource.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 30, LoggingConfig: { LogFormat: 'JSON' } });
      expect(onlyResource(template, 'AWS::Events::Rule').resource.Properties).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [{ Arn: { 'Fn::GetAtt': [probeId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } }],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [probeId, 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [onlyResource(template, 'AWS::Events::Rule').id, 'Arn'] },
      });
    });

    it('gives the probe exactly what its config reads: the table, the mapping, the full-speed cap, Limio and its secret', () => {
      expect(probe().resource.Properties.Environment.Variables).toEqual({
        BREAKER_TABLE_NAME: { Ref: tableId() },
        SYNC_EVENT_SOURCE_MAPPING_ID: { Ref: onlyResource(template, 'AWS::Lambda::EventSourceMapping').id },
        SYNC_MAX_CONCURRENCY: '2',
        LIMIO_BASE_URL: limioBaseUrl,
        LIMIO_SECRET_ID: { Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Limio OAuth client credentials/) },
        LIMIO_TIMEOUT_MS: String(DEFAULTS.limioTimeoutMs),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
    });

    it('lets the probe touch only the breaker table, the one sync event source mapping and the Limio secret', () => {
      const { resource } = probe();
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      const mappingId = onlyResource(template, 'AWS::Lambda::EventSourceMapping').id;
      const statements = roleStatements(template, resource);
      expect(statements).toEqual([
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
        { Sid: 'ReadWriteBreakerState', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } },
        {
          Sid: 'PauseResumeSyncEventSource',
          Effect: 'Allow',
          Action: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
          Resource: stack.resolve(stack.bridge.syncEventSourceMapping.eventSourceMappingArn),
        },
        { Sid: 'ReadLimioSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource.Properties.Environment.Variables.LIMIO_SECRET_ID },
      ]);
      // The mapping's own ARN (…:event-source-mapping:<its UUID>), never a wildcard over Lambda.
      const mappingArn = JSON.stringify(statements[2].Resource);
      expect(mappingArn).toContain(':event-source-mapping:');
      expect(mappingArn).toContain(`{"Ref":"${mappingId}"}`);
      expect(JSON.stringify(statements)).not.toContain('*');
    });

    it('alarms while the breaker is not closed, and its OK notification says it closed', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'BreakerState' }).resource.Properties;
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: 'breaker' }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'ignore',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      expect(alarm.AlarmDescription).toMatch(/circuit breaker is open/);
      expect(alarm.AlarmDescription).toMatch(/OK notification means the breaker closed/);
      // A refused or unreadable Limio secret keeps the breaker open on purpose: the text must send the operator to it.
      expect(alarm.AlarmDescription).toMatch(/the Limio secret is wrong or unreadable/);
      expect(alarm.AlarmDescription).not.toMatch(/nothing to do/i);
      expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
    });

    it('does not send operators to the sync errors alarm for a Limio secret problem', () => {
      const syncFunctionId = functionNamed(template, 'asks Limio to sync').id;
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', {
        MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }],
      }).resource.Properties;
      expect(alarm.AlarmDescription).toMatch(/Limio secret does not show here/);
    });

    it('alarms when the probe fails most of its runs', () => {
      const probeDimension = { Dimensions: [{ Name: 'FunctionName', Value: { Ref: probe().id } }] };
      expect(onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', ...probeDimension }).resource.Properties).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('shows the breaker gauge, its transitions, held messages and the probe on the dashboard', () => {
      const body = JSON.stringify(onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody);
      for (const metric of ['BreakerState', 'BreakerOpened', 'BreakerClosed']) {
        expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"${metric}\\",\\"service\\",\\"breaker\\"`);
      }
      expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"held\\",\\"service\\",\\"sync\\"`);
      expect(body).toContain('Breaker probe');
    });
  });
});

describe('HTTP API bridge (preemptive Basic, existing alarm topic)', () => {
  let template: Template;
  let stack: ZuoraLimioSyncStack;

  beforeAll(() => {
    stack = httpBridge();
    template = Template.fromStack(stack);
  });

  it('routes POST and GET /zuora/callout with payload 2.0', () => {
    const api = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    for (const routeKey of ['POST /zuora/callout', 'GET /zuora/callout']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { ApiId: { Ref: api }, RouteKey: routeKey });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    expect(template.findResources('AWS::ApiGateway::RestApi')).toEqual({});
  });

  it('throttles the stage and writes header-free JSON access logs', () => {
    const { resource } = onlyResource(template, 'AWS::ApiGatewayV2::Stage');
    expect(resource.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    const format = resource.Properties.AccessLogSettings.Format as string;
    expect(JSON.parse(format)).toMatchObject({ requestId: '$context.requestId', routeKey: '$context.routeKey' });
    expect(format).not.toMatch(/header|authorization|authorizer/i);
  });

  it('has no Basic challenge pieces, and warns that Zuora must send Basic preemptively', () => {
    expect(template.findResources('AWS::ApiGateway::GatewayResponse')).toEqual({});
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('Preemptive Authentication'));
  });

  it('counts 429s of its access log as CalloutThrottled of this API and alarms on them', () => {
    const apiId = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage').resource.Properties;
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ status: '$context.status', apiId: '$context.apiId' });
    expect(onlyResource(template, 'AWS::Logs::MetricFilter').resource.Properties).toMatchObject({
      LogGroupName: { Ref: stage.AccessLogSettings.DestinationArn['Fn::GetAtt'][0] },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [expect.objectContaining({ MetricName: 'CalloutThrottled', Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }] })],
    });
    expect(onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'CalloutThrottled' }).resource.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
      AlarmActions: [alarmTopicArn],
    });
  });

  it('alarms on the HTTP API\'s 5xx and notifies the existing topic, creating none', () => {
    const api = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: '5xx' }).resource.Properties;
    expect(alarm).toMatchObject({ Namespace: 'AWS/ApiGateway', Dimensions: [{ Name: 'ApiId', Value: { Ref: api } }] });
    expect(alarm.AlarmActions).toEqual([alarmTopicArn]);
    expect(template.findResources('AWS::SNS::Topic')).toEqual({});
  });

  it('outputs the callout URL on the $default stage', () => {
    const apiId = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    expect(template.toJSON().Outputs.CalloutUrl.Value).toEqual({
      'Fn::Join': ['', ['https://', { Ref: apiId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/zuora/callout']],
    });
  });
});

describe('REST API with header auth, allowlist, existing secrets and custom sizing', () => {
  let template: Template;
  let stack: ZuoraLimioSyncStack;

  beforeAll(() => {
    stack = customisedRestBridge();
    template = Template.fromStack(stack);
  });

  it('sizes queue timing, redrive, batching and concurrency from the settings', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 360, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25, MaximumBatchingWindowInSeconds: 5, ScalingConfig: { MaximumConcurrency: 3 },
    });
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties).toMatchObject({
      Timeout: 60,
      Environment: { Variables: { MAX_ATTEMPTS: '4', RETRY_BUDGET_SECONDS: '7200', SYNC_CONCURRENCY: '2', SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$' } },
    });
    // Closing the breaker restores this bridge's own cap, and the probe validates ids by the same pattern.
    expect(functionNamed(template, 'circuit breaker probe').resource.Properties.Environment.Variables).toMatchObject({
      SYNC_MAX_CONCURRENCY: '3', SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$', PROBE_SUBSCRIPTION_ID: 'SUB-42',
    });
    expect(functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables).toMatchObject({
      CALLOUT_DELAY_SECONDS: '30', CALLOUT_ID_FIELD: 'Data.Subscription.Name', SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$',
    });
  });

  it('uses the existing secrets by ARN, creating none, and grants read on exactly those', () => {
    expect(template.findResources('AWS::SecretsManager::Secret')).toEqual({});
    const sync = functionNamed(template, 'asks Limio to sync').resource;
    const callout = functionNamed(template, 'authenticates Zuora callouts').resource;
    expect(sync.Properties.Environment.Variables.LIMIO_SECRET_ID).toBe(limioSecretArn);
    expect(callout.Properties.Environment.Variables.CALLOUT_AUTH_SECRET_ID).toBe(calloutAuthSecretArn);
    expect(roleStatements(template, sync)).toContainEqual({ Sid: 'ReadLimioSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: limioSecretArn });
    expect(roleStatements(template, callout)).toContainEqual({ Sid: 'ReadCalloutAuthSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: calloutAuthSecretArn });
    expect(template.toJSON().Outputs.LimioSecretArn.Value).toBe(limioSecretArn);
    expect(template.toJSON().Outputs.CalloutAuthSecretArn.Value).toBe(calloutAuthSecretArn);
  });

  it('neither requires an Authorization header nor sends a Basic challenge', () => {
    expect(template.findResources('AWS::ApiGateway::GatewayResponse')).toEqual({});
    expect(template.findResources('AWS::ApiGateway::RequestValidator')).toEqual({});
    template.allResourcesProperties('AWS::ApiGateway::Method', { RequestParameters: Match.absent() });
  });

  it('restricts the REST API to the allowlisted source addresses with a resource policy', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Policy: {
        Statement: [
          { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
          {
            Effect: 'Deny', Principal: { AWS: '*' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*',
            Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.7'] } },
          },
        ],
      },
    });
  });

  it('does not warn about the example Limio URL once a real one is set', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('limioBaseUrl'));
  });
});

describe('REST API with WAF, TLS_1_2, tenant check, secrets key and nothing retained', () => {
  let template: Template;
  let stack: ZuoraLimioSyncStack;

  beforeAll(() => {
    stack = wafBridge();
    template = Template.fromStack(stack);
  });

  it('puts a per-IP rate-based rule in front of the stage, Zuora\'s addresses exempt', () => {
    const v4 = onlyResource(template, 'AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV4' });
    const v6 = onlyResource(template, 'AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV6' });
    // WAF takes CIDRs only: a lone address becomes its /32.
    expect(v4.resource.Properties).toMatchObject({ Scope: 'REGIONAL', Addresses: ['203.0.113.0/24', '198.51.100.7/32'] });
    expect(v6.resource.Properties).toMatchObject({ Scope: 'REGIONAL', Addresses: ['2001:db8::/32'] });
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.resource.Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    const rules = acl.resource.Properties.Rules as any[];
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({
      Action: { Block: {} },
      Statement: {
        RateBasedStatement: {
          Limit: 300,
          AggregateKeyType: 'IP',
          EvaluationWindowSec: 300,
          ScopeDownStatement: {
            NotStatement: {
              Statement: {
                OrStatement: {
                  Statements: [
                    { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [v4.id, 'Arn'] } } },
                    { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [v6.id, 'Arn'] } } },
                  ],
                },
              },
            },
          },
        },
      },
    });
    // Sampled requests would show the Authorization header in the WAF console.
    for (const config of [acl.resource.Properties.VisibilityConfig, rules[0].VisibilityConfig]) expect(config.SampledRequestsEnabled).toBe(false);
    const stageId = onlyResource(template, 'AWS::ApiGateway::Stage').id;
    const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation').resource.Properties;
    expect(association.WebACLArn).toEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
    // The stage's own ARN: …/restapis/<this API>/stages/<this stage>.
    expect(JSON.stringify(association.ResourceArn)).toContain(`"::/restapis/",{"Ref":"${onlyResource(template, 'AWS::ApiGateway::RestApi').id}"},"/stages/",{"Ref":"${stageId}"}`);
  });

  it('shows the rate rule\'s blocked requests of this web ACL on the dashboard', () => {
    const aclName = onlyResource(template, 'AWS::WAFv2::WebACL').resource.Properties.Name as string;
    expect(aclName).toMatch(/^[\w-]{1,128}$/);
    const body = JSON.stringify(onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody);
    expect(aclName).toMatch(/^Bridge-Bridge-[0-9A-F]{8}-callout$/);
    expect(body).toContain('[\\"AWS/WAFV2\\",\\"BlockedRequests\\",\\"Region\\",');
    expect(body).toContain(`\\"Rule\\",\\"PerIpRateLimit\\",\\"WebACL\\",\\"${aclName}\\"`);
  });

  it('uses the legacy TLS_1_2 policy when asked, which takes no endpoint access mode', () => {
    const api = onlyResource(template, 'AWS::ApiGateway::RestApi').resource.Properties;
    expect(api.SecurityPolicy).toBe('TLS_1_2');
    expect(api.EndpointAccessMode).toBeUndefined();
  });

  it('deploys the API again when its security policy changes (API Gateway applies it on a deployment)', () => {
    const deploymentOf = (apiSecurityPolicy: string | undefined) => {
      const built = new ZuoraLimioSyncStack(unbundledApp(), 'Bridge', { bridge: { limioBaseUrl, ...(apiSecurityPolicy && { apiSecurityPolicy }) } });
      return onlyResource(Template.fromStack(built), 'AWS::ApiGateway::Deployment').id;
    };
    expect(deploymentOf('TLS_1_2')).not.toBe(deploymentOf(undefined));
    expect(deploymentOf(undefined)).toBe(onlyResource(Template.fromStack(defaultBridge()), 'AWS::ApiGateway::Deployment').id);
  });

  it('gives the callout Lambda the expected Zuora tenant id', () => {
    expect(functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables.CALLOUT_EXPECTED_TENANT_ID).toBe('12345');
  });

  it('deletes the stateful resources with the stack when told to', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::DynamoDB::Table']) {
      for (const resource of Object.values(template.findResources(type)) as { DeletionPolicy?: string }[]) expect(resource.DeletionPolicy).toBe('Delete');
    }
  });

  it('encrypts the secrets it creates with the given key', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret')) as Resources[string][];
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) expect(secret.Properties.KmsKeyId).toBe(secretsKmsKeyArn);
  });

  it('lets each function decrypt with the secrets key only through Secrets Manager and only for its own secret', () => {
    const viaSecretsManager = { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] };
    const cases = [
      ['authenticates Zuora callouts', 'ReadCalloutAuthSecret', 'CALLOUT_AUTH_SECRET_ID'],
      ['asks Limio to sync', 'ReadLimioSecret', 'LIMIO_SECRET_ID'],
      ['circuit breaker probe', 'ReadLimioSecret', 'LIMIO_SECRET_ID'],
    ] as const;
    for (const [describing, sid, variable] of cases) {
      const { resource } = functionNamed(template, describing);
      const secretArn = resource.Properties.Environment.Variables[variable];
      const statements = roleStatements(template, resource);
      expect(statements).toContainEqual({ Sid: sid, Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn });
      const keyStatements = statements.filter((statement) => JSON.stringify(statement.Action).includes('kms:'));
      expect(keyStatements).toEqual([{
        Sid: `${sid}Key`,
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: secretsKmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': viaSecretsManager, 'kms:EncryptionContext:SecretARN': secretArn } },
      }]);
    }
  });
});

describe('the construct in a user\'s own stack (KMS key, own topic, HMAC)', () => {
  let own: ReturnType<typeof constructInOwnStack>;

  beforeAll(() => {
    own = ownStackBridge();
  });

  it('encrypts both queues with the customer managed key and grants each function exactly its use of it', () => {
    const { stack, template, key } = own;
    const keyArn = stack.resolve(key.keyArn);
    const keyId = stack.getLogicalId(key.node.defaultChild as never);
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Resources[string][];
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    for (const describing of ['authenticates Zuora callouts', 'asks Limio to sync']) {
      const statements = roleStatements(template, functionNamed(template, describing).resource);
      expect(statements).toContainEqual({ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn });
    }
  });

  it('generates an HMAC key with the callout handler\'s default header, algorithm and signed data', () => {
    own.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ mode: 'hmac', headerName: 'X-Zuora-Signature', algorithm: 'sha256', signedData: '{body}\\n' }),
        GenerateStringKey: 'key',
      }),
    });
  });

  it('notifies the topic given as a prop instead of creating one for the email', () => {
    expect(own.bridge.alarmTopic).toBe(ownTopic);
    expect(Object.keys(own.template.findResources('AWS::SNS::Topic'))).toHaveLength(1);
    expect(own.template.findResources('AWS::SNS::Subscription')).toEqual({});
  });

  it('warns while limioBaseUrl is still the cdk.json example', () => {
    Annotations.fromStack(own.stack).hasWarning('*', Match.stringLikeRegexp('limioBaseUrl is still the example'));
  });

  it('refuses settings that cannot work, naming the setting', () => {
    const stack = new Stack(unbundledApp(), 'Refused');
    expect(() => new ZuoraLimioSync(stack, 'Http', { limioBaseUrl, apiKind: 'http', allowedIpRanges: ['203.0.113.0/24'] })).toThrow(ConfigError);
    expect(() => new ZuoraLimioSync(stack, 'Lone', { limioBaseUrl, syncInvocationConcurrency: 1 })).toThrow(/syncInvocationConcurrency/);
    // A name-only ARN would deploy, then be denied at run time: the grant is on the exact ARN.
    const nameOnly = `arn:aws:secretsmanager:${region}:${account}:secret:zuora/limio`;
    expect(() => new ZuoraLimioSync(stack, 'Partial', { limioBaseUrl, limioSecretArn: nameOnly })).toThrow(/limioSecretArn/);
    expect(() => new ZuoraLimioSync(stack, 'PartialCallout', { limioBaseUrl, calloutAuthSecretArn: nameOnly })).toThrow(/calloutAuthSecretArn/);
    // WAF cannot be associated with an HTTP API: refused rather than synthesised as protection that is not there.
    expect(() => new ZuoraLimioSync(stack, 'HttpWaf', { limioBaseUrl, apiKind: 'http', wafRateLimitPerIp: 1000 })).toThrow(/wafRateLimitPerIp.*HTTP API/);
  });
});

describe('sync ledger and reconciliation sweep (zuoraBaseUrl set)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let ledgerTableId: string;
  let mainQueueId: string;
  const sweepFunction = () => functionNamed(template, 'reconciliation sweep');
  const resources = () => template.toJSON().Resources as Resources;

  beforeAll(() => {
    stack = sweepBridge();
    template = Template.fromStack(stack);
    ledgerTableId = stack.getLogicalId(stack.bridge.ledgerTable.node.defaultChild as never);
    mainQueueId = stack.getLogicalId(stack.bridge.mainQueue.node.defaultChild as never);
  });

  it('keeps the ledger in one on-demand table keyed by subscriptionId, with TTL on expiresAt and point-in-time recovery, retained', () => {
    expect(resources()[ledgerTableId]).toMatchObject({
      Properties: {
        KeySchema: [{ AttributeName: LEDGER_PARTITION_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LEDGER_PARTITION_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('gives the sync Lambda the ledger timings from the props', () => {
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties.Environment.Variables).toMatchObject({
      LEDGER_TABLE_NAME: { Ref: ledgerTableId },
      SYNC_COOLDOWN_SECONDS: '10',
      SYNC_CLOCK_MARGIN_SECONDS: '2',
    });
  });

  it('runs the sweep one at a time within 5 minutes, never retrying or running a stale invocation', () => {
    const { id, resource } = sweepFunction();
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 300, ReservedConcurrentExecutions: 1, LoggingConfig: { LogFormat: 'JSON' },
    });
    expect(onlyResource(template, 'AWS::Lambda::EventInvokeConfig').resource.Properties).toMatchObject({
      FunctionName: { Ref: id }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600,
    });
    const schedule = onlyResource(template, 'AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    expect(schedule.resource.Properties).toMatchObject({
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 } }],
    });
  });

  it('gives the sweep exactly the environment its cold start reads, which it accepts', () => {
    const { resource } = sweepFunction();
    const variables = resource.Properties.Environment.Variables as Record<string, unknown>;
    const zuoraSecretId = logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/);
    expect(variables).toEqual({
      QUEUE_URL: { Ref: mainQueueId },
      LEDGER_TABLE_NAME: { Ref: ledgerTableId },
      ZUORA_SECRET_ID: { Ref: zuoraSecretId },
      ZUORA_BASE_URL: zuoraBaseUrl,
      ZUORA_ENTITY_ID: 'abc-123',
      SWEEP_INTERVAL_SECONDS: '600',
      SWEEP_SETTLE_SECONDS: String(SWEEP_DEFAULTS.settleSeconds),
      SWEEP_OVERLAP_SECONDS: String(SWEEP_DEFAULTS.overlapSeconds),
      SWEEP_INITIAL_LOOKBACK_SECONDS: String(SWEEP_DEFAULTS.initialLookbackSeconds),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
    });
    const deployed = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `resolved-${name}`]));
    expect(loadSweepLambdaConfig(deployed).sweep).toMatchObject({ zuoraBaseUrl, entityId: 'abc-123', intervalSeconds: 600, credentials: { source: 'secrets-manager' } });
  });

  it('lets the sweep only send to the main queue, read the ledger, read and write its own watermark item, read the Zuora secret and write its logs', () => {
    const { resource } = sweepFunction();
    const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
    expect(roleStatements(template, resource)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
      { Sid: 'QueueMissedChanges', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] } },
      { Sid: 'ReadLedger', Effect: 'Allow', Action: 'dynamodb:BatchGetItem', Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] } },
      {
        Sid: 'ReadWriteSweepWatermark',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
        // The very key the Lambda writes (sweepWatermarkKey), so no item a sync wrote can be touched.
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [sweepWatermarkKey({ zuoraBaseUrl, entityId: 'abc-123' })] } },
      },
      { Sid: 'ReadZuoraSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: resource.Properties.Environment.Variables.ZUORA_SECRET_ID },
    ]);
    expect(template.toJSON().Resources[resource.Properties.Role['Fn::GetAtt'][0]].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('creates the Zuora secret with a pinned generation block and no value an update could push over the real credentials, retained', () => {
    const id = logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/);
    expect(resources()[id]).toMatchObject({
      Properties: {
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ clientId: ZUORA_SECRET_PLACEHOLDER.clientId }),
          GenerateStringKey: 'clientSecret',
          ExcludePunctuation: true,
          PasswordLength: 32,
        },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(resources()[id]!.Properties.SecretString).toBeUndefined();
    expect(id).toBe('BridgeZuoraSecret11FAC190');
  });

  it('alarms when the sweep fails (a Lambda error or sweepFailed) or falls behind in 2 sweeps in a row, saying what each error kind means', () => {
    const { id: sweepId } = sweepFunction();
    const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('SweepFailedAlarm$') }).resource.Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
    const metrics = alarm.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] }; Period: number; Stat: string } }[];
    // Falling behind: the watermark more than two intervals behind where a complete run leaves it (300 + 300 + 2 x 600).
    expect(metrics.find((metric) => metric.Expression !== undefined)?.Expression).toBe('FILL(errors, 0) + FILL(failed, 0) + IF(FILL(lag, 0) > 1800, 1, 0)');
    expect(metrics.filter((metric) => metric.MetricStat).map((metric) => [metric.Id, metric.MetricStat!.Metric, metric.MetricStat!.Period, metric.MetricStat!.Stat])).toEqual(expect.arrayContaining([
      ['errors', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: sweepId } }] }, 600, 'Sum'],
      ['failed', { MetricName: SWEEP_METRICS.failed, Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }] }, 600, 'Sum'],
      ['lag', { MetricName: SWEEP_METRICS.lagSeconds, Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }] }, 600, 'Maximum'],
    ]));
    expect(alarm.AlarmDescription).toMatch(/credentials = the Zuora secret/);
    expect(alarm.AlarmDescription).toMatch(/ZuoraSecretArn/);
  });

  it('alarms when subscriptions changed in Zuora without a sync in 3 sweeps in a row, pointing at the Zuora workflow or notification', () => {
    const alarm = alarmProperties(template, 'MissingCalloutsAlarm');
    expect(alarm).toMatchObject({
      MetricName: SWEEP_METRICS.queued,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 600,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    expect(alarm.AlarmDescription).toMatch(/workflow or notification/);
    expect(alarm.AlarmDescription).toMatch(/CalloutRefusedAlarm/);
    expect(alarm.AlarmActions).toEqual([{ Ref: onlyResource(template, 'AWS::SNS::Topic').id }]);
  });

  it('shows both sweep alarms among the alarms, and the ledger and the sweep on the dashboard', () => {
    const dashboard = dashboardOf(template);
    expect(dashboard.widgets.find((widget) => widget.type === 'alarm')!.properties.alarms).toHaveLength(12);
    const titled = (title: RegExp) => dashboard.widgets.find((widget) => title.test(widget.properties.title ?? ''))!;
    const names = (widget: { properties: { metrics?: unknown[][] } }) => (widget.properties.metrics ?? []).map((metric) => `${metric[1]}/${metric[3]}`);
    expect(names(titled(/^Sync ledger/))).toEqual([
      `${SYNC_METRICS.coveredByLedger}/${SYNC_SERVICE_NAME}`, `${SYNC_METRICS.heldForCooldown}/${SYNC_SERVICE_NAME}`, `${SYNC_METRICS.ledgerUnavailable}/${SYNC_SERVICE_NAME}`,
    ]);
    expect([...names(titled(/^Reconciliation sweep/)), ...names(titled(/^Sweep duration/))]).toEqual(expect.arrayContaining(
      [SWEEP_METRICS.read, SWEEP_METRICS.covered, SWEEP_METRICS.queued, SWEEP_METRICS.failed, SWEEP_METRICS.durationMs, SWEEP_METRICS.lagSeconds].map((name) => `${name}/${SWEEP_SERVICE_NAME}`),
    ));
  });

  it('outputs the ledger table, the Zuora tenant, its secret and the sweep function', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.LedgerTableName.Value).toEqual({ Ref: ledgerTableId });
    expect(outputs.ZuoraBaseUrl.Value).toBe(zuoraBaseUrl);
    expect(outputs.ZuoraSecretArn.Value).toEqual({ Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/) });
    expect(outputs.SweepFunctionName.Value).toEqual({ Ref: sweepFunction().id });
  });

  it('uses an existing Zuora secret by ARN, decrypted with the secrets key only through Secrets Manager, and may encrypt what it queues', () => {
    const { template: own, stack: ownStack, key } = sweepWithExistingSecretAndKeys();
    expect(JSON.stringify(own.findResources('AWS::SecretsManager::Secret'))).not.toMatch(/Zuora OAuth/);
    const statements = roleStatements(own, functionNamed(own, 'reconciliation sweep').resource);
    expect(statements).toContainEqual({ Sid: 'ReadZuoraSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: zuoraSecretArn });
    expect(statements).toContainEqual({
      Sid: 'ReadZuoraSecretKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: secretsKmsKeyArn,
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': zuoraSecretArn } },
    });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: ownStack.resolve(key.keyArn) });
  });

  it('refuses sweep settings without zuoraBaseUrl, and a secret ARN without its suffix', () => {
    const refused = new Stack(unbundledApp(), 'RefusedSweep');
    expect(() => new ZuoraLimioSync(refused, 'SecretOnly', { limioBaseUrl, zuoraSecretArn })).toThrow(/^zuoraBaseUrl: is required for zuoraSecretArn/);
    expect(() => new ZuoraLimioSync(refused, 'Partial', { limioBaseUrl, zuoraBaseUrl, zuoraSecretArn: `arn:aws:secretsmanager:${region}:${account}:secret:zuora` }))
      .toThrow(/^zuoraSecretArn: /);
  });
});

describe('cdk-nag AwsSolutions', () => {
  const variants: [string, () => Stack][] = [
    ['REST + Basic + new secrets + alarm email', defaultBridge],
    ['REST + header + allowlist + existing secrets', customisedRestBridge],
    ['HTTP + existing topic', httpBridge],
    ['own stack + KMS + own topic + HMAC', () => ownStackBridge().stack],
    ['REST + WAF + TLS_1_2 + secrets key + nothing retained', wafBridge],
    ['sweep on + created Zuora secret + entity', sweepBridge],
    ['sweep on + existing Zuora secret + secrets key + queue key', () => sweepWithExistingSecretAndKeys().stack],
  ];

  it.each(variants)('finds nothing unacknowledged: %s', (_name, build) => {
    const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(build());
    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.description}`)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('reports what is not acknowledged (so the checks above really run)', () => {
    const stack = new Stack(unbundledApp(), 'Careless');
    new sqs.Queue(stack, 'CarelessQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    expect(report.violations.map((violation) => violation.ruleName).sort()).toEqual(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
  });

  it('gives every acknowledgement a reason', () => {
    const stack = defaultBridge();
    const acknowledgements = stack.node.findAll().flatMap((node) => node.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>)));
    expect(acknowledgements.length).toBeGreaterThanOrEqual(7);
    for (const [id, reason] of acknowledgements) {
      expect(id).toMatch(/AwsSolutions-/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});
