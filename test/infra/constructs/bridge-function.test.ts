import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULTS } from '../../../functions/shared/defaults';
import { functionNamed, defaultBridgeFixture } from '../fixtures';

/** Every Lambda of the bridge (constructs/bridge-function.ts): runtime, logs, role. */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = defaultBridgeFixture());
  });

  describe('Lambdas', () => {
    it('run Node.js 24 on arm64 with tight timeouts and JSON logs in their own retained log groups', () => {
      for (const [describing, timeout] of [
        ['authenticates Zuora callouts', 10],
        ['asks Limio to sync', DEFAULTS.syncFunctionTimeoutSeconds],
      ] as const) {
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
  });

  describe('least privilege', () => {
    it('attaches no managed policy to any function role', () => {
      for (const describing of ['authenticates Zuora callouts', 'asks Limio to sync', 'circuit breaker probe']) {
        const roleId = functionNamed(template, describing).resource.Properties.Role['Fn::GetAtt'][0];
        expect(template.toJSON().Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });
});
