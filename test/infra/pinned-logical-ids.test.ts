import { Template } from 'aws-cdk-lib/assertions';
import { defaultBridge, httpBridge, sweepBridge, wafBridge } from './fixtures';

/**
 * CloudFormation replaces a resource whose logical id changes. These are the ids a deployed bridge has (since the
 * construct was one body; the split into infra/constructs/ kept them): a refactor that moves a resource must keep
 * its id (constructs/logical-ids.ts), or an update would replace it:
 * - stateful: queues and tables lose their messages and items, created secrets the credentials operators put,
 *   log groups their logs, the alarm topic its confirmed email subscription;
 * - named: alarms and the web ACL have fixed names, so a replacement fails (the new one's name is taken);
 * - what people hold on to: the API's id is in the callout URL Zuora calls, the dashboard's name in bookmarks,
 *   the functions' names in log searches, the mapping's UUID in the probe's environment.
 * Ids of other resources (policies, permissions, rules) may change.
 */
const PINNED = [
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
  'AWS::SNS::Topic',
  'AWS::SNS::Subscription',
  'AWS::CloudWatch::Alarm',
  'AWS::WAFv2::WebACL',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Stage',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Stage',
  'AWS::CloudWatch::Dashboard',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
] as const;

const COMMON = {
  'AWS::SQS::Queue': ['BridgeDeadLetterQueue0C65B6E3', 'BridgeMainQueue53677ECA'],
  'AWS::DynamoDB::Table': ['BridgeBreakerTableD37ED765', 'BridgeLedgerTable63C41DC6'],
  'AWS::SecretsManager::Secret': ['BridgeCalloutAuthSecret4AEC7CB0', 'BridgeLimioSecretC4D07CDB'],
  'AWS::Logs::LogGroup': [
    'BridgeApiAccessLogs1B5FD4DC',
    'BridgeCalloutLogsF38CCED0',
    'BridgeProbeLogsE2FD38F3',
    'BridgeSyncLogs07BFB08B',
  ],
  'AWS::CloudWatch::Alarm': [
    'BridgeApi5xxAlarm97247103',
    'BridgeBreakerOpenAlarm6A44A207',
    'BridgeCalloutRefusedAlarm9E3540EA',
    'BridgeCalloutThrottledAlarm9C6D77F3',
    'BridgeDeadLettersAlarmD5A37480',
    'BridgeOldestMessageAgeAlarm5417D7E8',
    'BridgeProbeErrorsAlarm53D7E21A',
    'BridgeSyncErrorsAlarmBC6BF183',
    'BridgeSyncThrottlesAlarm7F890260',
    'BridgeVisibilityRefusedAlarm57F31401',
  ],
  'AWS::CloudWatch::Dashboard': ['BridgeDashboard2B90EEA7'],
  'AWS::Lambda::Function': [
    'BridgeCalloutFunctionAEAB5430',
    'BridgeProbeFunctionA821B5A0',
    'BridgeSyncFunction6EEFF766',
  ],
  'AWS::Lambda::EventSourceMapping': ['BridgeSyncEventSourceAE107E79'],
};
const REST = {
  'AWS::ApiGateway::RestApi': ['BridgeCalloutApiD42D91B4'],
  'AWS::ApiGateway::Stage': ['BridgeCalloutApiDeploymentStageliveBC6B1156'],
};
const EMAIL_TOPIC = {
  'AWS::SNS::Topic': ['BridgeAlarmTopic65B533E9'],
  'AWS::SNS::Subscription': ['BridgeAlarmTopicopsexamplecomA3C6C78A'],
};

const cases: [string, () => Template, Partial<Record<(typeof PINNED)[number], string[]>>][] = [
  ['default (REST, alarm email)', () => Template.fromStack(defaultBridge()), { ...COMMON, ...REST, ...EMAIL_TOPIC }],
  [
    'HTTP API',
    () => Template.fromStack(httpBridge()),
    {
      ...COMMON,
      'AWS::ApiGatewayV2::Api': ['BridgeCalloutHttpApi5EFD783A'],
      'AWS::ApiGatewayV2::Stage': ['BridgeCalloutHttpStageB236B62E'],
    },
  ],
  [
    'REST + WAF',
    () => Template.fromStack(wafBridge()),
    { ...COMMON, ...REST, 'AWS::WAFv2::WebACL': ['BridgeCalloutWebAcl5575B9A2'] },
  ],
  // A Zuora connection brings the sweep and the account fan-out (its queue holds account callouts not yet fanned out).
  [
    'sweep and fan-out on',
    () => Template.fromStack(sweepBridge()),
    {
      ...COMMON,
      ...REST,
      ...EMAIL_TOPIC,
      'AWS::SQS::Queue': [...COMMON['AWS::SQS::Queue'], 'BridgeAccountQueue1C8A1CCF'],
      'AWS::SecretsManager::Secret': [...COMMON['AWS::SecretsManager::Secret'], 'BridgeZuoraSecret11FAC190'],
      'AWS::Logs::LogGroup': [...COMMON['AWS::Logs::LogGroup'], 'BridgeSweepLogs4C20CF3A', 'BridgeFanOutLogsB4543D75'],
      'AWS::CloudWatch::Alarm': [
        ...COMMON['AWS::CloudWatch::Alarm'],
        'BridgeMissingCalloutsAlarm3F9A3CD3',
        'BridgeSweepFailedAlarmFCE44AC4',
        'BridgeFanOutErrorsAlarm704EFB2D',
      ],
      'AWS::Lambda::Function': [
        ...COMMON['AWS::Lambda::Function'],
        'BridgeSweepFunctionF8BF6987',
        'BridgeFanOutFunction6D617B57',
      ],
      'AWS::Lambda::EventSourceMapping': [
        ...COMMON['AWS::Lambda::EventSourceMapping'],
        'BridgeFanOutEventSource9B50925D',
      ],
    },
  ],
];

describe('logical ids a deployed bridge depends on', () => {
  it.each(cases)('are unchanged: %s', (_name, template, expected) => {
    const resources = template().toJSON().Resources as Record<string, { Type: string }>;
    const actual = Object.fromEntries(
      PINNED.map(
        (type) =>
          [
            type,
            Object.keys(resources)
              .filter((id) => resources[id].Type === type)
              .sort(),
          ] as const,
      ).filter(([, ids]) => ids.length > 0),
    );
    const wanted = Object.fromEntries(Object.entries(expected).map(([type, ids]) => [type, [...ids].sort()]));
    expect(actual).toEqual(wanted);
  });
});
