import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConfigError } from '../../../functions/shared/config-error';
import { BridgeSecrets } from '../../../infra/constructs/secrets';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LIMIO_SECRET_PLACEHOLDER, ZUORA_SECRET_PLACEHOLDER } from '../../../infra/secret-templates';
import { ZuoraLimioSync } from '../../../infra/zuora-limio-sync';
import {
  limioBaseUrl,
  region,
  account,
  limioSecretArn,
  calloutAuthSecretArn,
  unbundledApp,
  constructInOwnStack,
  defaultBridge,
  httpBridge,
  customisedRestBridge,
  secretsKmsKeyArn,
  wafBridge,
  zuoraBaseUrl,
  zuoraSecretArn,
  sweepBridge,
  ownStackBridge,
  functionNamed,
  roleStatements,
  logicalIdOf,
  defaultBridgeFixture,
  type Resources,
} from '../fixtures';

/** The Limio, callout and Zuora secrets (constructs/secrets.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = defaultBridgeFixture());
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

    it("pins the generation block of each mode's callout secret (a changed block regenerates the secret copied into Zuora)", () => {
      const generationOf = (template: Template) =>
        (Object.values(template.findResources('AWS::SecretsManager::Secret')) as Resources[string][]).find((secret) =>
          /how Zuora callouts authenticate/.test(secret.Properties.Description),
        )!.Properties.GenerateSecretString;
      const pinned = (fields: object, key: string) => ({
        SecretStringTemplate: JSON.stringify(fields),
        GenerateStringKey: key,
        ExcludePunctuation: true,
        PasswordLength: 48,
      });
      expect(generationOf(template)).toEqual(pinned({ mode: 'basic', username: 'zuora' }, 'password'));
      expect(generationOf(Template.fromStack(httpBridge()))).toEqual(
        pinned({ mode: 'basic', username: 'zuora' }, 'password'),
      );
      expect(generationOf(ownStackBridge().template)).toEqual(
        pinned({ mode: 'hmac', headerName: 'X-Zuora-Signature', algorithm: 'sha256', signedData: '{body}\\n' }, 'key'),
      );
      const headerStack = new Stack(unbundledApp(), 'HeaderMode');
      new ZuoraLimioSync(headerStack, 'Bridge', { limioBaseUrl, calloutAuthMode: 'header' });
      expect(generationOf(Template.fromStack(headerStack))).toEqual(
        pinned({ mode: 'header', headerName: 'X-Callout-Token' }, 'value'),
      );
    });

    it("puts no SecretString in any variant's template", () => {
      for (const template of [
        Template.fromStack(defaultBridge()),
        Template.fromStack(httpBridge()),
        ownStackBridge().template,
        Template.fromStack(wafBridge()),
        Template.fromStack(sweepBridge()),
      ]) {
        for (const secret of Object.values(
          template.findResources('AWS::SecretsManager::Secret'),
        ) as Resources[string][]) {
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
});

describe('REST API with header auth, allowlist, existing secrets and custom sizing', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(customisedRestBridge());
  });

  it('uses the existing secrets by ARN, creating none, and grants read on exactly those', () => {
    expect(template.findResources('AWS::SecretsManager::Secret')).toEqual({});
    const sync = functionNamed(template, 'asks Limio to sync').resource;
    const callout = functionNamed(template, 'authenticates Zuora callouts').resource;
    expect(sync.Properties.Environment.Variables.LIMIO_SECRET_ID).toBe(limioSecretArn);
    expect(callout.Properties.Environment.Variables.CALLOUT_AUTH_SECRET_ID).toBe(calloutAuthSecretArn);
    expect(roleStatements(template, sync)).toContainEqual({
      Sid: 'ReadLimioSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: limioSecretArn,
    });
    expect(roleStatements(template, callout)).toContainEqual({
      Sid: 'ReadCalloutAuthSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: calloutAuthSecretArn,
    });
    expect(template.toJSON().Outputs.LimioSecretArn.Value).toBe(limioSecretArn);
    expect(template.toJSON().Outputs.CalloutAuthSecretArn.Value).toBe(calloutAuthSecretArn);
  });
});

describe('REST API with WAF, TLS_1_2, tenant check, secrets key and nothing retained', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(wafBridge());
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
      expect(statements).toContainEqual({
        Sid: sid,
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: secretArn,
      });
      const keyStatements = statements.filter((statement) => JSON.stringify(statement.Action).includes('kms:'));
      expect(keyStatements).toEqual([
        {
          Sid: `${sid}Key`,
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: secretsKmsKeyArn,
          Condition: {
            StringEquals: { 'kms:ViaService': viaSecretsManager, 'kms:EncryptionContext:SecretARN': secretArn },
          },
        },
      ]);
    }
  });
});

describe("the construct in a user's own stack (KMS key, own topic, HMAC)", () => {
  let own: ReturnType<typeof constructInOwnStack>;

  beforeAll(() => {
    own = ownStackBridge();
  });

  it("generates an HMAC key with the callout handler's default header, algorithm and signed data", () => {
    own.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({
          mode: 'hmac',
          headerName: 'X-Zuora-Signature',
          algorithm: 'sha256',
          signedData: '{body}\\n',
        }),
        GenerateStringKey: 'key',
      }),
    });
  });
});

describe('sync ledger and reconciliation sweep (zuoraBaseUrl set)', () => {
  let template: Template;
  const resources = () => template.toJSON().Resources as Resources;

  beforeAll(() => {
    template = Template.fromStack(sweepBridge());
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

  it('refuses sweep settings without zuoraBaseUrl, and a secret ARN without its suffix', () => {
    const refused = new Stack(unbundledApp(), 'RefusedSweep');
    expect(() => new ZuoraLimioSync(refused, 'SecretOnly', { limioBaseUrl, zuoraSecretArn })).toThrow(
      /^zuoraBaseUrl: is required for zuoraSecretArn/,
    );
    expect(
      () =>
        new ZuoraLimioSync(refused, 'Partial', {
          limioBaseUrl,
          zuoraBaseUrl,
          zuoraSecretArn: `arn:aws:secretsmanager:${region}:${account}:secret:zuora`,
        }),
    ).toThrow(/^zuoraSecretArn: /);
  });
});

describe('BridgeSecrets on its own', () => {
  const props = { calloutAuthMode: 'header', removalPolicy: RemovalPolicy.DESTROY } as const;

  it('creates the Zuora secret only with the sweep on, and refuses one given without it', () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    expect(new BridgeSecrets(stack, 'Off', { ...props, sweepOn: false }).zuoraSecret).toBeUndefined();
    expect(new BridgeSecrets(stack, 'On', { ...props, sweepOn: true }).zuoraSecret).toBeDefined();
    expect(() => new BridgeSecrets(stack, 'Orphan', { ...props, sweepOn: false, zuoraSecretArn })).toThrow(ConfigError);
  });

  it('grants exactly GetSecretValue on the secret, and no key use without a secrets key', () => {
    const stack = new Stack(unbundledApp(), 'Grants');
    const secrets = new BridgeSecrets(stack, 'Secrets', { ...props, sweepOn: false, limioSecretArn });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    secrets.grantRead(role, 'ReadLimioSecret', secrets.limioSecret);
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))[0] as {
      Properties: { PolicyDocument: { Statement: unknown[] } };
    };
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Sid: 'ReadLimioSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: limioSecretArn },
    ]);
  });
});
