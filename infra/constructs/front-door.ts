import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';
import { INFRA_DEFAULTS, isEnhancedSecurityPolicy, type BridgeSettings } from '../settings';
import { HTTP_ACCESS_LOG_FORMAT, REST_ACCESS_LOG_FORMAT } from './access-log-formats';
import { bridgeFunction, sharedEnvironment } from './bridge-function';
import { denyNonSubscriptionItemsStatement, markQueuedStatement } from './ledger';
import { keepParentLogicalIdAhead, keepParentLogicalIds } from './logical-ids';
import type { BridgeSecrets } from './secrets';
import { CalloutWebAcl } from './web-acl';

/** The path Zuora calls (POST and GET), on either kind of API. */
const CALLOUT_PATH = 'zuora/callout';

export interface CalloutFrontDoorProps {
  readonly settings: BridgeSettings;
  /** Where accepted callouts' subscription ids go. */
  readonly mainQueue: sqs.IQueue;
  /**
   * Where account callouts' account keys go (the fan-out's queue): set with a Zuora connection only. Without it the
   * callout Lambda refuses account callouts (422) and ignores the accounts of mixed ones.
   */
  readonly accountQueue?: sqs.IQueue;
  /** The queues' customer managed key, if any. */
  readonly queueEncryptionKey?: kms.IKey;
  readonly calloutAuthSecret: secretsmanager.ISecret;
  /** The sync ledger: the callout Lambda marks lastQueuedAt there after queueing (the sweep tells pending from missing). */
  readonly ledgerTable: dynamodb.ITable;
  /** Grants the callout Lambda read access to the callout auth secret (and its key). */
  readonly secrets: BridgeSecrets;
  /** The API's name, unique per bridge: REST API metrics (and so the 5xx alarm) are keyed by it. */
  readonly apiName: string;
  /** The web ACL's name when `wafRateLimitPerIp` is set (see CalloutWebAcl). */
  readonly webAclName: string;
  /** REST API only: create API Gateway's account-wide logging role. */
  readonly createApiGatewayCloudWatchRole: boolean;
}

/**
 * What Zuora calls: the API (REST or HTTP, throttled, JSON access logs, an optional IP allowlist and WAF) and the
 * callout Lambda behind it, which authenticates each callout and queues its subscription ids.
 */
export class CalloutFrontDoor extends Construct {
  readonly calloutFunction: nodejs.NodejsFunction;
  /** Set when `apiKind` is `rest`. */
  readonly restApi?: apigw.RestApi;
  /** Set when `apiKind` is `http`. */
  readonly httpApi?: apigwv2.HttpApi;
  /** The API's JSON access log; its status-429 lines feed the CalloutThrottled metric. */
  readonly apiAccessLogs: logs.LogGroup;
  /** Set when `wafRateLimitPerIp` is: the web ACL on the REST API stage. */
  readonly webAcl?: wafv2.CfnWebACL;
  /** The full URL to give Zuora. */
  readonly calloutUrl: string;

  constructor(scope: Construct, id: string, props: CalloutFrontDoorProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings } = props;
    this.calloutFunction = this.createCalloutFunction(props);
    this.apiAccessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (settings.apiKind === 'rest') {
      this.restApi = this.createRestApi(settings, props.apiName, props.createApiGatewayCloudWatchRole);
      this.calloutUrl = `${this.restApi.url}${CALLOUT_PATH}`;
      if (settings.wafRateLimitPerIp !== undefined) {
        this.webAcl = new CalloutWebAcl(this, 'Waf', {
          stage: this.restApi.deploymentStage,
          name: props.webAclName,
          limitPerIp: settings.wafRateLimitPerIp,
          exemptRanges: settings.wafExemptIpRanges,
        }).webAcl;
      }
    } else {
      const { api, stage } = this.createHttpApi(settings, props.apiName);
      this.httpApi = api;
      this.calloutUrl = `${stage.url}${CALLOUT_PATH}`;
    }
    // A throttled callout is answered by API Gateway and never reaches the Lambda, so only the access log sees it:
    // every status-429 line counts one CalloutThrottled, by API id (unique per bridge in an account).
    new logs.MetricFilter(this, 'CalloutThrottledFilter', {
      logGroup: this.apiAccessLogs,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: INFRA_DEFAULTS.metricsNamespace,
      metricName: 'CalloutThrottled',
      metricValue: '1',
      dimensions: { ApiId: '$.apiId' },
      unit: cloudwatch.Unit.COUNT,
    });
    this.acknowledgeAcceptedFindings(settings);
  }

  /** Requests, 4xx and 5xx answers of the API, whichever kind it is. */
  apiMetrics(options: cloudwatch.MetricOptions): {
    count: cloudwatch.Metric;
    clientErrors: cloudwatch.Metric;
    serverErrors: cloudwatch.Metric;
  } {
    const api = this.restApi ?? this.httpApi!;
    return {
      count: api.metricCount(options),
      clientErrors: api.metricClientError(options),
      serverErrors: api.metricServerError(options),
    };
  }

  /** Callouts API Gateway answered 429 (from the access log's metric filter). */
  metricThrottledCallouts(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: INFRA_DEFAULTS.metricsNamespace,
      metricName: 'CalloutThrottled',
      dimensionsMap: { ApiId: this.restApi?.restApiId ?? this.httpApi!.apiId },
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.SUM,
    });
  }

  private createCalloutFunction(props: CalloutFrontDoorProps): nodejs.NodejsFunction {
    const { settings } = props;
    const calloutFunction = bridgeFunction(
      this,
      'Callout',
      {
        entry: 'functions/callout/handler.ts',
        description: 'zuora-limio-sync: authenticates Zuora callouts and queues their subscription ids',
        timeout: Duration.seconds(INFRA_DEFAULTS.calloutTimeoutSeconds),
        environment: {
          QUEUE_URL: props.mainQueue.queueUrl,
          LEDGER_TABLE_NAME: props.ledgerTable.tableName,
          ...(props.accountQueue !== undefined && { ACCOUNT_QUEUE_URL: props.accountQueue.queueUrl }),
          ...(settings.accountNumberPattern !== undefined && { ACCOUNT_NUMBER_PATTERN: settings.accountNumberPattern }),
          CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: settings.calloutAccountsBesideSubscriptions,
          CALLOUT_AUTH_SECRET_ID: props.calloutAuthSecret.secretArn,
          CALLOUT_REALM: settings.calloutRealm,
          CALLOUT_DELAY_SECONDS: String(settings.calloutDelaySeconds),
          CALLOUT_MAX_IDS: String(settings.calloutMaxIds),
          CALLOUT_MAX_BODY_BYTES: String(settings.calloutMaxBodyBytes),
          ...(settings.calloutIdField === undefined ? {} : { CALLOUT_ID_FIELD: settings.calloutIdField }),
          ...(settings.expectedZuoraTenantId === undefined
            ? {}
            : { CALLOUT_EXPECTED_TENANT_ID: settings.expectedZuoraTenantId }),
          ...sharedEnvironment(settings),
        },
      },
      settings,
    );
    const role = calloutFunction.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueueSubscriptionIds',
        actions: ['sqs:SendMessage'],
        resources: [props.mainQueue.queueArn],
      }),
    );
    if (props.accountQueue !== undefined) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'QueueAccountKeys',
          actions: ['sqs:SendMessage'],
          resources: [props.accountQueue.queueArn],
        }),
      );
    }
    props.secrets.grantRead(role, 'ReadCalloutAuthSecret', props.calloutAuthSecret);
    role.addToPrincipalPolicy(markQueuedStatement(props.ledgerTable));
    role.addToPrincipalPolicy(denyNonSubscriptionItemsStatement(props.ledgerTable));
    // SSE-KMS: sending needs a data key, receiving needs to decrypt it.
    props.queueEncryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    return calloutFunction;
  }

  private createRestApi(settings: BridgeSettings, apiName: string, createCloudWatchRole: boolean): apigw.RestApi {
    // The REST API names its deployment after the deployment's logical id while it is built.
    keepParentLogicalIdAhead(this, 'CalloutApi', 'Deployment', 'Resource');
    const api = new apigw.RestApi(this, 'CalloutApi', {
      restApiName: apiName,
      description: 'zuora-limio-sync: Zuora callout endpoint',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: createCloudWatchRole,
      policy: settings.allowedIpRanges.length > 0 ? ipAllowlistPolicy(settings.allowedIpRanges) : undefined,
      deployOptions: {
        stageName: 'live',
        throttlingRateLimit: settings.throttleRateLimit,
        throttlingBurstLimit: settings.throttleBurstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.apiAccessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(REST_ACCESS_LOG_FORMAT),
        // Execution logs for errors only, and never request/response data (it would hold the Authorization header).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });
    // The L2 RestApi has no security policy prop yet; CloudFormation's RestApi has (2025).
    const cfnApi = api.node.defaultChild as apigw.CfnRestApi;
    cfnApi.securityPolicy = settings.apiSecurityPolicy;
    if (isEnhancedSecurityPolicy(settings.apiSecurityPolicy)) cfnApi.endpointAccessMode = 'STRICT';
    // API Gateway applies a changed security policy once the API is deployed again: a new policy, a new deployment.
    api.latestDeployment?.addToLogicalId({
      securityPolicy: cfnApi.securityPolicy,
      endpointAccessMode: cfnApi.endpointAccessMode,
    });
    const resource = api.root.resourceForPath(CALLOUT_PATH);
    const integration = new apigw.LambdaIntegration(this.calloutFunction, { proxy: true, allowTestInvoke: false });
    const methodOptions = settings.calloutAuthMode === 'basic' ? basicChallenge(api, settings.calloutRealm) : {};
    for (const method of ['POST', 'GET']) resource.addMethod(method, integration, methodOptions);
    return api;
  }

  /** Its default endpoint needs no TLS setting: API Gateway enforces TLS_1_2 (TLS 1.2 and 1.3) on every HTTP API. */
  private createHttpApi(settings: BridgeSettings, apiName: string): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage } {
    const api = new apigwv2.HttpApi(this, 'CalloutHttpApi', {
      apiName,
      description: 'zuora-limio-sync: Zuora callout endpoint',
      createDefaultStage: false,
    });
    const stage = new apigwv2.HttpStage(this, 'CalloutHttpStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.apiAccessLogs),
        format: apigw.AccessLogFormat.custom(HTTP_ACCESS_LOG_FORMAT),
      },
    });
    api.addRoutes({
      path: `/${CALLOUT_PATH}`,
      methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET],
      integration: new HttpLambdaIntegration('CalloutIntegration', this.calloutFunction, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    return { api, stage };
  }

  /**
   * cdk-nag (AwsSolutions) findings that do not fit a callout endpoint, acknowledged on the API with the reason.
   * Acknowledgements are plain construct metadata: the construct needs no cdk-nag.
   */
  private acknowledgeAcceptedFindings(settings: BridgeSettings): void {
    const accept = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    const api: IConstruct = this.restApi ?? this.httpApi!;
    accept(
      api,
      'AwsSolutions-APIG4',
      'Zuora cannot present IAM or Cognito credentials: callouts authenticate with Basic, a header secret or HMAC, which the callout Lambda verifies on every request.',
    );
    if (this.restApi === undefined) return;
    accept(this.restApi, 'AwsSolutions-COG4', 'Zuora callouts cannot present Cognito tokens; see AwsSolutions-APIG4.');
    if (this.webAcl === undefined) {
      accept(
        this.restApi,
        'AwsSolutions-APIG3',
        'Stage throttling, authentication in the callout Lambda and the optional IP allowlist (resource policy) protect the endpoint; wafRateLimitPerIp adds a WAF web ACL with a per-IP rate rule (off by default: it costs a monthly fee).',
      );
    }
    accept(
      this.restApi,
      'AwsSolutions-APIG2',
      settings.calloutAuthMode === 'basic'
        ? 'Request parameters are validated (the Authorization header is required, which gives Zuora its Basic challenge); callout bodies are free-form (JSON, form or XML per Zuora template), so there is no body model to validate.'
        : 'Header-secret and HMAC callouts are verified by the callout Lambda (the header name lives in the secret), and callout bodies are free-form (JSON, form or XML per Zuora template): there is no model to validate.',
    );
    const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      accept(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "The AWS managed policy documented for API Gateway's account-wide logging role, which REST API access and execution logs need.",
      );
    }
  }
}

/**
 * Zuora's default Basic auth is not preemptive: it sends credentials only after a 401 carrying
 * `WWW-Authenticate`. API Gateway renames that header when a Lambda returns it, so the challenge must come
 * from API Gateway itself: the method requires an Authorization header, and the gateway response for a
 * missing required parameter becomes that 401. Requests that carry credentials reach the Lambda, which
 * verifies them (a request validator rather than a Lambda authorizer: no second function, no authorizer
 * cache, and the one credential check is the callout handler's own, the same code the local runtime runs).
 */
function basicChallenge(api: apigw.RestApi, realm: string): apigw.MethodOptions {
  const validator = api.addRequestValidator('RequireAuthorizationHeader', {
    requestValidatorName: 'require-authorization-header',
    validateRequestParameters: true,
    validateRequestBody: false,
  });
  api.addGatewayResponse('BasicChallenge', {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    statusCode: '401',
    responseHeaders: { 'WWW-Authenticate': `'Basic realm="${realm}"'` },
    templates: { 'application/json': '{"success":false,"message":"authentication required"}' },
  });
  return {
    requestValidator: validator,
    requestParameters: { 'method.request.header.Authorization': true },
  };
}

/** Every source IP may call only if it is in the list; authentication still applies to listed ones. */
function ipAllowlistPolicy(ranges: readonly string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': [...ranges] } },
      }),
    ],
  });
}
