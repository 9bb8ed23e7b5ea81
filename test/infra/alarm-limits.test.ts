import { Template } from 'aws-cdk-lib/assertions';
import { customisedRestBridge, defaultBridge, httpBridge, ownStackBridge, sweepBridge, wafBridge } from './fixtures';

/**
 * CloudFormation refuses an alarm whose AlarmDescription is over 1,024 characters, and only at deploy time
 * (`cdk synth` merely warns): every alarm of every fixture, so a longer runbook text cannot reach a deploy.
 */
const CLOUDFORMATION_MAX_ALARM_DESCRIPTION = 1024;

const fixtures: ReadonlyArray<[string, () => Template]> = [
  ['default', () => Template.fromStack(defaultBridge())],
  ['HTTP API', () => Template.fromStack(httpBridge())],
  ['customised REST', () => Template.fromStack(customisedRestBridge())],
  ['WAF', () => Template.fromStack(wafBridge())],
  ['sweep on', () => Template.fromStack(sweepBridge())],
  ['own stack', () => ownStackBridge().template],
];

describe.each(fixtures)('alarms of the %s bridge', (_name, templateOf) => {
  it('keep every AlarmDescription within what CloudFormation accepts', () => {
    const alarms = Object.entries(templateOf().findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    const tooLong = alarms
      .map(([logicalId, alarm]) => ({ logicalId, length: String(alarm.Properties.AlarmDescription ?? '').length }))
      .filter(({ length }) => length > CLOUDFORMATION_MAX_ALARM_DESCRIPTION);
    expect(tooLong).toEqual([]);
  });
});
