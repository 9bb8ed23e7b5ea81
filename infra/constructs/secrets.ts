import { RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ConfigError } from '../../functions/shared/config-error';
import {
  CALLOUT_AUTH_SECRET_TEMPLATES,
  GENERATED_SECRET_LENGTH,
  LIMIO_SECRET_PLACEHOLDER,
  ZUORA_SECRET_PLACEHOLDER,
} from '../secret-templates';
import type { CalloutAuthMode } from '../settings';
import { keepParentLogicalIds } from './logical-ids';

/**
 * How the Limio secret is created: a placeholder clientId and a generated stand-in clientSecret. Never change it:
 * CloudFormation generates a new value (over the operator's real credentials) whenever this block changes.
 */
const LIMIO_SECRET_GENERATION: secretsmanager.SecretStringGenerator = {
  secretStringTemplate: JSON.stringify({ clientId: LIMIO_SECRET_PLACEHOLDER.clientId }),
  generateStringKey: 'clientSecret',
  excludePunctuation: true,
  passwordLength: 32,
};

/**
 * How the Zuora secret is created, as for Limio: a placeholder clientId and a generated stand-in clientSecret,
 * both replaced by the operator. Never change it: a changed block makes CloudFormation generate a new value over
 * the operator's credentials.
 */
const ZUORA_SECRET_GENERATION: secretsmanager.SecretStringGenerator = {
  secretStringTemplate: JSON.stringify({ clientId: ZUORA_SECRET_PLACEHOLDER.clientId }),
  generateStringKey: 'clientSecret',
  excludePunctuation: true,
  passwordLength: 32,
};

export interface BridgeSecretsProps {
  /** Complete ARN of an existing Limio secret; default a new one with stand-in values. */
  readonly limioSecretArn?: string;
  /** Complete ARN of an existing callout auth secret; default a new one for `calloutAuthMode`. */
  readonly calloutAuthSecretArn?: string;
  readonly calloutAuthMode: CalloutAuthMode;
  /** Creates (or imports) the Zuora secret the sweep reads. */
  readonly sweepOn: boolean;
  /** Complete ARN of an existing Zuora secret (sweep only); default a new one with stand-in values. */
  readonly zuoraSecretArn?: string;
  /** Customer managed key of the secrets (`secretsKmsKeyArn`). */
  readonly secretsKmsKeyArn?: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The bridge's secrets: Limio's OAuth client, the callout credentials Zuora presents and, with the sweep, Zuora's
 * OAuth client. The real credentials are put by the operator, outside the template, so the template holds no value
 * an update could push back over them: a SecretString is written again whenever CloudFormation updates it, a
 * GenerateSecretString only when its own block changes, which the *_SECRET_GENERATION constants pin. The generated
 * clientSecrets are stand-ins (refused, like the placeholder clientIds) until the operator's put.
 */
export class BridgeSecrets extends Construct {
  readonly limioSecret: secretsmanager.ISecret;
  readonly calloutAuthSecret: secretsmanager.ISecret;
  readonly zuoraSecret?: secretsmanager.ISecret;
  /** The secrets' customer managed key (`secretsKmsKeyArn`), when there is one. */
  readonly key?: kms.IKey;

  constructor(scope: Construct, id: string, props: BridgeSecretsProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { removalPolicy } = props;
    this.key =
      props.secretsKmsKeyArn === undefined ? undefined : kms.Key.fromKeyArn(this, 'SecretsKey', props.secretsKmsKeyArn);
    this.limioSecret =
      props.limioSecretArn !== undefined
        ? secretsmanager.Secret.fromSecretCompleteArn(
            this,
            'LimioSecret',
            completeSecretArn('limioSecretArn', props.limioSecretArn),
          )
        : new secretsmanager.Secret(this, 'LimioSecret', {
            description:
              'zuora-limio-sync: Limio OAuth client credentials {"clientId","clientSecret"}; put the ones from Limio (the created values are stand-ins)',
            generateSecretString: LIMIO_SECRET_GENERATION,
            encryptionKey: this.key,
            removalPolicy,
          });
    this.calloutAuthSecret = this.calloutAuthSecretFor(
      props.calloutAuthSecretArn,
      props.calloutAuthMode,
      removalPolicy,
    );
    if (props.zuoraSecretArn !== undefined && !props.sweepOn) {
      throw new ConfigError('zuoraBaseUrl', 'is required for zuoraSecretArn: the sweep is off without it');
    }
    if (props.sweepOn) {
      this.zuoraSecret =
        props.zuoraSecretArn !== undefined
          ? secretsmanager.Secret.fromSecretCompleteArn(
              this,
              'ZuoraSecret',
              completeSecretArn('zuoraSecretArn', props.zuoraSecretArn),
            )
          : new secretsmanager.Secret(this, 'ZuoraSecret', {
              description:
                'zuora-limio-sync: Zuora OAuth client credentials {"clientId","clientSecret"} for the reconciliation sweep; put your own (the created values are stand-ins)',
              generateSecretString: ZUORA_SECRET_GENERATION,
              encryptionKey: this.key,
              removalPolicy,
            });
    }
    for (const secret of [this.limioSecret, this.calloutAuthSecret, this.zuoraSecret]) {
      if (secret instanceof secretsmanager.Secret) {
        Validations.of(secret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'The secrets are shared with a third party (Limio and Zuora issue the OAuth client credentials; the callout secret is typed into Zuora): rotation has to happen there, in step, so automatic rotation would break the integration.',
        });
      }
    }
  }

  /**
   * GetSecretValue on exactly this secret and, with a customer managed key, kms:Decrypt on that key only when
   * Secrets Manager asks on the function's behalf (kms:ViaService) for this very secret (its encryption context).
   */
  grantRead(role: iam.IRole, sid: string, secret: secretsmanager.ISecret): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    if (this.key === undefined) return;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `${sid}Key`,
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:SecretARN': secret.secretArn,
          },
        },
      }),
    );
  }

  private calloutAuthSecretFor(
    arn: string | undefined,
    mode: CalloutAuthMode,
    removalPolicy: RemovalPolicy,
  ): secretsmanager.ISecret {
    if (arn !== undefined) {
      return secretsmanager.Secret.fromSecretCompleteArn(
        this,
        'CalloutAuthSecret',
        completeSecretArn('calloutAuthSecretArn', arn),
      );
    }
    // The shared secret is ours to choose: generated strong at deploy time, never in the template.
    const { fields, generatedField } = CALLOUT_AUTH_SECRET_TEMPLATES[mode];
    return new secretsmanager.Secret(this, 'CalloutAuthSecret', {
      description: `zuora-limio-sync: how Zuora callouts authenticate (mode ${mode}); copy the generated "${generatedField}" into Zuora`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(fields),
        generateStringKey: generatedField,
        // Letters and digits only: survives Zuora's UI, Basic's user:password split and header quoting.
        excludePunctuation: true,
        passwordLength: GENERATED_SECRET_LENGTH,
      },
      encryptionKey: this.key,
      removalPolicy,
    });
  }
}

/**
 * The functions are granted GetSecretValue on exactly this ARN, so it must be the complete one (with the
 * 6-character suffix Secrets Manager appends): a name-only ARN would deploy and then be denied at run time.
 */
function completeSecretArn(prop: string, arn: string): string {
  if (Token.isUnresolved(arn)) return arn;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
    throw new ConfigError(
      prop,
      `must be a secret's complete ARN, ending in its 6-character suffix (as the console shows it), got "${arn}"`,
    );
  }
  return arn;
}
