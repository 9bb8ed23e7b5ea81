import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { cdkLogicalId } from '../../../infra/constructs/logical-ids';
import { CalloutWebAcl } from '../../../infra/constructs/web-acl';
import { METRICS_NAMESPACE } from '../../../functions/sync/telemetry';
import { DEFAULTS } from '../../../functions/shared/defaults';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import {
  limioBaseUrl,
  alarmTopicArn,
  unbundledApp,
  defaultBridge,
  httpBridge,
  customisedRestBridge,
  wafBridge,
  onlyResource,
  functionNamed,
  roleStatements,
  logicalIdOf,
  defaultBridgeFixture,
} from '../fixtures';

/** The callout API, its WAF and the callout Lambda (constructs/front-door.ts, constructs/web-acl.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;
  let mainQueueId: string;
  let ledgerTableId: string;

  beforeAll(() => {
    ({ template, mainQueueId, ledgerTableId } = defaultBridgeFixture());
  });

  describe('Lambdas', () => {
    it('give the callout Lambda exactly the contract variables, secrets by id only', () => {
      const { resource } = functionNamed(template, 'authenticates Zuora callouts');
      const variables = resource.Properties.Environment.Variables;
      expect(variables).toEqual({
        QUEUE_URL: { Ref: mainQueueId },
        LEDGER_TABLE_NAME: { Ref: ledgerTableId },
        CALLOUT_AUTH_SECRET_ID: {
          Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /how Zuora callouts authenticate/),
        },
        CALLOUT_REALM: 'zuora-limio-sync',
        CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: 'fan-out',
        CALLOUT_DELAY_SECONDS: '0',
        CALLOUT_MAX_IDS: String(DEFAULTS.calloutMaxIds),
        CALLOUT_MAX_BODY_BYTES: String(DEFAULTS.calloutMaxBodyBytes),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
    });
  });

  describe('least privilege', () => {
    it('lets the callout Lambda only send to the main queue, read its auth secret, mark lastQueuedAt on subscription items of the ledger and write its own logs', () => {
      const { resource } = functionNamed(template, 'authenticates Zuora callouts');
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      expect(roleStatements(template, resource)).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'QueueSubscriptionIds',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        },
        {
          Sid: 'ReadCalloutAuthSecret',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: resource.Properties.Environment.Variables.CALLOUT_AUTH_SECRET_ID,
        },
        {
          Sid: 'MarkQueuedInLedger',
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
          // Only the mark (with the key and the TTL), and no item that is not a subscription's.
          Condition: {
            'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['*#*'] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['subscriptionId', 'lastQueuedAt', 'expiresAt'] },
          },
        },
        {
          Sid: 'WriteOnlySubscriptionItemsOfLedger',
          Effect: 'Deny',
          Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
          Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
          Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['*#*'] } },
        },
      ]);
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
      expect(template.findResources('AWS::ApiGateway::RestApi', { Properties: { Policy: Match.anyValue() } })).toEqual(
        {},
      );
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
        MethodSettings: [
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 500,
            ThrottlingBurstLimit: 1000,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        ],
      });
    });

    it('writes JSON access logs with no header in them (so never the Authorization header)', () => {
      const { resource } = onlyResource(template, 'AWS::ApiGateway::Stage');
      const { DestinationArn, Format } = resource.Properties.AccessLogSetting;
      expect(DestinationArn['Fn::GetAtt'][1]).toBe('Arn');
      const fields = JSON.parse(Format) as Record<string, string>;
      expect(fields).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        sourceIp: '$context.identity.sourceIp',
      });
      expect(Format).not.toMatch(/header|authorization|authorizer/i);
    });
  });

  describe('the public endpoint', () => {
    it("throttles the stage for a bill run's peak with room (500 requests/s, burst 1000)", () => {
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
        MetricTransformations: [
          {
            MetricNamespace: METRICS_NAMESPACE,
            MetricName: 'CalloutThrottled',
            MetricValue: '1',
            Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }],
            Unit: 'Count',
          },
        ],
      });
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'CalloutThrottled' }).resource
        .Properties;
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
      expect(
        functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables,
      ).not.toHaveProperty('CALLOUT_EXPECTED_TENANT_ID');
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
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
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
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({
      status: '$context.status',
      apiId: '$context.apiId',
    });
    expect(onlyResource(template, 'AWS::Logs::MetricFilter').resource.Properties).toMatchObject({
      LogGroupName: { Ref: stage.AccessLogSettings.DestinationArn['Fn::GetAtt'][0] },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [
        expect.objectContaining({ MetricName: 'CalloutThrottled', Dimensions: [{ Key: 'ApiId', Value: '$.apiId' }] }),
      ],
    });
    expect(
      onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'CalloutThrottled' }).resource.Properties,
    ).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId } }],
      AlarmActions: [alarmTopicArn],
    });
  });

  it("alarms on the HTTP API's 5xx and notifies the existing topic, creating none", () => {
    const api = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: '5xx' }).resource.Properties;
    expect(alarm).toMatchObject({ Namespace: 'AWS/ApiGateway', Dimensions: [{ Name: 'ApiId', Value: { Ref: api } }] });
    expect(alarm.AlarmActions).toEqual([alarmTopicArn]);
    expect(template.findResources('AWS::SNS::Topic')).toEqual({});
  });

  it('outputs the callout URL on the $default stage', () => {
    const apiId = onlyResource(template, 'AWS::ApiGatewayV2::Api').id;
    expect(template.toJSON().Outputs.CalloutUrl.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          { Ref: apiId },
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/zuora/callout',
        ],
      ],
    });
  });
});

describe('REST API with header auth, allowlist, existing secrets and custom sizing', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(customisedRestBridge());
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
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'execute-api:Invoke',
            Resource: 'execute-api:/*',
            Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.7'] } },
          },
        ],
      },
    });
  });
});

describe('REST API with WAF, TLS_1_2, tenant check, secrets key and nothing retained', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(wafBridge());
  });

  it("puts a per-IP rate-based rule in front of the stage, Zuora's addresses exempt", () => {
    const v4 = onlyResource(template, 'AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV4' });
    const v6 = onlyResource(template, 'AWS::WAFv2::IPSet', { IPAddressVersion: 'IPV6' });
    // WAF takes CIDRs only: a lone address becomes its /32.
    expect(v4.resource.Properties).toMatchObject({
      Scope: 'REGIONAL',
      Addresses: ['203.0.113.0/24', '198.51.100.7/32'],
    });
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
    for (const config of [acl.resource.Properties.VisibilityConfig, rules[0].VisibilityConfig])
      expect(config.SampledRequestsEnabled).toBe(false);
    const stageId = onlyResource(template, 'AWS::ApiGateway::Stage').id;
    const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation').resource.Properties;
    expect(association.WebACLArn).toEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
    // The stage's own ARN: …/restapis/<this API>/stages/<this stage>.
    expect(JSON.stringify(association.ResourceArn)).toContain(
      `"::/restapis/",{"Ref":"${onlyResource(template, 'AWS::ApiGateway::RestApi').id}"},"/stages/",{"Ref":"${stageId}"}`,
    );
  });

  it("shows the rate rule's blocked requests of this web ACL on the dashboard", () => {
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
      const built = new ZuoraLimioSyncStack(unbundledApp(), 'Bridge', {
        bridge: { limioBaseUrl, ...(apiSecurityPolicy && { apiSecurityPolicy }) },
      });
      return onlyResource(Template.fromStack(built), 'AWS::ApiGateway::Deployment').id;
    };
    expect(deploymentOf('TLS_1_2')).not.toBe(deploymentOf(undefined));
    expect(deploymentOf(undefined)).toBe(
      onlyResource(Template.fromStack(defaultBridge()), 'AWS::ApiGateway::Deployment').id,
    );
  });

  it('gives the callout Lambda the expected Zuora tenant id', () => {
    expect(
      functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables
        .CALLOUT_EXPECTED_TENANT_ID,
    ).toBe('12345');
  });
});

describe('CalloutWebAcl on its own', () => {
  it("exempts a single IP set directly (no OR of one statement) and keeps its parent's logical ids", () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    const api = new apigw.RestApi(stack, 'Api');
    api.root.addMethod('GET', new apigw.MockIntegration());
    new CalloutWebAcl(stack, 'Waf', {
      stage: api.deploymentStage,
      name: 'alone-callout',
      limitPerIp: 500,
      exemptRanges: ['203.0.113.9'],
    });
    const template = Template.fromStack(stack);
    const ipSetId = cdkLogicalId(['ZuoraAddressesV4']);
    expect(Object.keys(template.findResources('AWS::WAFv2::IPSet'))).toEqual([ipSetId]);
    const acl = template.findResources('AWS::WAFv2::WebACL') as Record<
      string,
      { Properties: { Name: string; Rules: any[] } }
    >;
    expect(Object.keys(acl)).toEqual([cdkLogicalId(['CalloutWebAcl'])]);
    const { Name, Rules } = Object.values(acl)[0].Properties;
    expect(Name).toBe('alone-callout');
    expect(Rules[0].Statement.RateBasedStatement).toMatchObject({
      Limit: 500,
      ScopeDownStatement: {
        NotStatement: { Statement: { IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [ipSetId, 'Arn'] } } } },
      },
    });
  });
});
