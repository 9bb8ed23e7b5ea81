import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../../functions/shared/config-error';
import { ZuoraLimioSync } from '../../infra/zuora-limio-sync';
import { STACK_OUTPUTS, SWEEP_STACK_OUTPUTS, ZuoraLimioSyncStack } from '../../infra/zuora-limio-sync-stack';
import {
  limioBaseUrl,
  region,
  account,
  unbundledApp,
  constructInOwnStack,
  defaultBridge,
  httpBridge,
  customisedRestBridge,
  wafBridge,
  sweepBridge,
  sweepWithExistingSecretAndKeys,
  ownStackBridge,
  onlyResource,
  defaultBridgeFixture,
  type Resources,
} from './fixtures';

/**
 * The construct and stack as a whole: outputs, what must outlive the stack, warnings, refused settings and the
 * cdk-nag checks. Each part's own tests are under test/infra/constructs/.
 */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;
  let mainQueueId: string;
  let deadLetterQueueId: string;
  let breakerTableId: string;
  let ledgerTableId: string;

  beforeAll(() => {
    ({ template, mainQueueId, deadLetterQueueId, breakerTableId, ledgerTableId } = defaultBridgeFixture());
  });

  describe('data that must outlive the stack', () => {
    const stateful = () =>
      [
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
        expect(Object.keys(template.findResources(type)).sort()).toEqual(
          stateful()
            .filter(([t]) => t === type)
            .map(([, id]) => id)
            .sort(),
        );
      }
    });

    it('retains them when the stack is deleted or a resource replaced', () => {
      const resources = template.toJSON().Resources as Record<
        string,
        { DeletionPolicy?: string; UpdateReplacePolicy?: string }
      >;
      for (const [, id] of stateful()) {
        expect({
          id,
          DeletionPolicy: resources[id]!.DeletionPolicy,
          UpdateReplacePolicy: resources[id]!.UpdateReplacePolicy,
        }).toEqual({ id, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      }
    });
  });

  describe('observability', () => {
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
});

describe('REST API with header auth, allowlist, existing secrets and custom sizing', () => {
  let stack: ZuoraLimioSyncStack;

  beforeAll(() => {
    stack = customisedRestBridge();
  });

  it('does not warn about the example Limio URL once a real one is set', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('limioBaseUrl'));
  });
});

describe('REST API with WAF, TLS_1_2, tenant check, secrets key and nothing retained', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(wafBridge());
  });

  it('deletes the stateful resources with the stack when told to', () => {
    for (const type of ['AWS::SQS::Queue', 'AWS::SecretsManager::Secret', 'AWS::DynamoDB::Table']) {
      for (const resource of Object.values(template.findResources(type)) as { DeletionPolicy?: string }[])
        expect(resource.DeletionPolicy).toBe('Delete');
    }
  });
});

describe("the construct in a user's own stack (KMS key, own topic, HMAC)", () => {
  let own: ReturnType<typeof constructInOwnStack>;

  beforeAll(() => {
    own = ownStackBridge();
  });

  it('warns while limioBaseUrl is still the cdk.json example', () => {
    Annotations.fromStack(own.stack).hasWarning('*', Match.stringLikeRegexp('limioBaseUrl is still the example'));
  });

  it('refuses settings that cannot work, naming the setting', () => {
    const stack = new Stack(unbundledApp(), 'Refused');
    expect(
      () => new ZuoraLimioSync(stack, 'Http', { limioBaseUrl, apiKind: 'http', allowedIpRanges: ['203.0.113.0/24'] }),
    ).toThrow(ConfigError);
    expect(() => new ZuoraLimioSync(stack, 'Lone', { limioBaseUrl, syncInvocationConcurrency: 1 })).toThrow(
      /syncInvocationConcurrency/,
    );
    // A name-only ARN would deploy, then be denied at run time: the grant is on the exact ARN.
    const nameOnly = `arn:aws:secretsmanager:${region}:${account}:secret:zuora/limio`;
    expect(() => new ZuoraLimioSync(stack, 'Partial', { limioBaseUrl, limioSecretArn: nameOnly })).toThrow(
      /limioSecretArn/,
    );
    expect(() => new ZuoraLimioSync(stack, 'PartialCallout', { limioBaseUrl, calloutAuthSecretArn: nameOnly })).toThrow(
      /calloutAuthSecretArn/,
    );
    // WAF cannot be associated with an HTTP API: refused rather than synthesised as protection that is not there.
    expect(
      () => new ZuoraLimioSync(stack, 'HttpWaf', { limioBaseUrl, apiKind: 'http', wafRateLimitPerIp: 1000 }),
    ).toThrow(/wafRateLimitPerIp.*HTTP API/);
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
    expect(report.violations.map((violation) => violation.ruleName).sort()).toEqual([
      'AwsSolutions-SQS2',
      'AwsSolutions-SQS3',
      'AwsSolutions-SQS4',
    ]);
  });

  it('gives every acknowledgement a reason', () => {
    const stack = defaultBridge();
    const acknowledgements = stack.node
      .findAll()
      .flatMap((node) =>
        node.node.metadata
          .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((entry) => Object.entries(entry.data as Record<string, string>)),
      );
    expect(acknowledgements.length).toBeGreaterThanOrEqual(7);
    for (const [id, reason] of acknowledgements) {
      expect(id).toMatch(/AwsSolutions-/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});
