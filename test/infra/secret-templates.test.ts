import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { parseCalloutAuthSecret } from '../../functions/callout/auth-config';
import { secretsManagerCredentials } from '../../functions/limio';
import {
  CALLOUT_AUTH_SECRET_TEMPLATES,
  GENERATED_SECRET_LENGTH,
  LIMIO_SECRET_PLACEHOLDER,
} from '../../infra/secret-templates';
import { CALLOUT_AUTH_MODES } from '../../infra/settings';

/** The secrets the construct creates must be readable by the Lambdas' own parsers, as created. */
describe('secrets the construct creates', () => {
  const secretId = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:created-AbCdEf';
  // What Secrets Manager generates with excludePunctuation: letters and digits.
  const generated = 'aB3'.repeat(GENERATED_SECRET_LENGTH / 3);

  it.each(CALLOUT_AUTH_MODES)('the %s callout secret, once generated, is accepted by the callout Lambda', (mode) => {
    const { fields, generatedField } = CALLOUT_AUTH_SECRET_TEMPLATES[mode];
    const auth = parseCalloutAuthSecret(JSON.stringify({ ...fields, [generatedField]: generated }), secretId);
    expect(auth.mode).toBe(mode);
    expect(Object.values(auth)).toContain(generated);
  });

  it.each(CALLOUT_AUTH_MODES)('the %s callout secret is refused until its generated field is there', (mode) => {
    const { fields, generatedField } = CALLOUT_AUTH_SECRET_TEMPLATES[mode];
    expect(() => parseCalloutAuthSecret(JSON.stringify(fields), secretId)).toThrow(`field "${generatedField}"`);
  });

  it.each(CALLOUT_AUTH_MODES)(
    'the %s callout secret in the middle of a rotation is read with its previous credential',
    (mode) => {
      const { fields, generatedField, previousField } = CALLOUT_AUTH_SECRET_TEMPLATES[mode];
      const previous = 'xY9'.repeat(GENERATED_SECRET_LENGTH / 3);
      const auth = parseCalloutAuthSecret(
        JSON.stringify({ ...fields, [generatedField]: generated, [previousField]: previous }),
        secretId,
      );
      expect(auth.mode).toBe(mode);
      expect(Object.values(auth)).toContain(generated);
      // Basic keeps the previous username and password together; the other modes keep one value.
      const previousValues = auth.mode === 'basic' ? Object.values(auth.previous ?? {}) : Object.values(auth);
      expect(previousValues).toContain(previous);
    },
  );

  it('the Limio placeholder has the shape the sync Lambda reads', async () => {
    const secretsManager = mockClient(SecretsManagerClient);
    try {
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(LIMIO_SECRET_PLACEHOLDER) });
      const credentials = await secretsManagerCredentials(
        secretId,
        new SecretsManagerClient({ region: 'eu-west-1' }),
      ).read();
      expect(credentials).toEqual(LIMIO_SECRET_PLACEHOLDER);
    } finally {
      secretsManager.restore();
    }
  });
});
