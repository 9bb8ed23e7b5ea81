import { regionOfQueueUrl } from '../../cli/aws-clients';
import { resolveTargets } from '../../cli/targets';
import { UsageError } from '../../cli/usage-error';
import { createQueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startCloudFormation } from './cloudformation';

const AWS_ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

describe('choosing the target', () => {
  it('refuses two targets at once, naming the flag', async () => {
    await expect(resolveTargets({ local: true, stack: 'Prod' }, {}, { mainQueue: true })).rejects.toThrow(
      new UsageError('--stack', 'cannot be combined with --local; pick one target'),
    );
    await expect(
      resolveTargets({ stack: 'Prod', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, {}, { mainQueue: true }),
    ).rejects.toThrow(/^--queue-url: cannot be combined with --stack/);
  });

  it('says which flag is missing when no target is given', async () => {
    await expect(resolveTargets({}, {}, { mainQueue: true, deadLetterQueue: true })).rejects.toThrow(
      '--queue-url: no target given: use --local, --stack NAME, or --queue-url (or ZLS_QUEUE_URL) and --dlq-url (or ZLS_DLQ_URL)',
    );
    await expect(resolveTargets({ queueUrl: 'sqs://nope' }, AWS_ENV, { mainQueue: true })).rejects.toThrow(
      /^--queue-url: expected an http\(s\) URL/,
    );
    await expect(resolveTargets({ local: true }, { SQS_PORT: '99999' }, { mainQueue: true })).rejects.toThrow(
      /^SQS_PORT: expected a port/,
    );
  });

  it('takes queue URLs from ZLS_QUEUE_URL / ZLS_DLQ_URL, flags first, and the region from the URL', async () => {
    const targets = await resolveTargets(
      { dlqUrl: 'https://sqs.eu-central-1.amazonaws.com/123456789012/flag-dlq' },
      {
        ZLS_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/main',
        ZLS_DLQ_URL: 'https://sqs.eu-central-1.amazonaws.com/123456789012/env-dlq',
      },
      { mainQueue: true, deadLetterQueue: true },
    );
    expect(targets.mainQueueUrl).toBe('https://sqs.eu-central-1.amazonaws.com/123456789012/main');
    expect(targets.deadLetterQueueUrl).toBe('https://sqs.eu-central-1.amazonaws.com/123456789012/flag-dlq');
    expect(await targets.sqs.config.region()).toBe('eu-central-1');
    targets.sqs.destroy();
    expect(regionOfQueueUrl('https://sqs.us-gov-west-1.amazonaws.com/1/q')).toBe('us-gov-west-1');
  });

  it('reads MainQueueUrl, DeadLetterQueueUrl and CalloutUrl from the stack outputs', async () => {
    const cloudFormation = await startCloudFormation({
      ZuoraLimioSync: {
        MainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Main',
        DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Dlq',
        CalloutUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/zuora/callout',
      },
      Partial: { CalloutUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/zuora/callout' },
    });
    try {
      const env = { ...AWS_ENV, AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint };
      const targets = await resolveTargets({ stack: 'ZuoraLimioSync' }, env, {
        mainQueue: true,
        deadLetterQueue: true,
        callout: true,
      });
      expect(targets).toMatchObject({
        mainQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Main',
        deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Dlq',
        calloutUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/zuora/callout',
        description: 'stack ZuoraLimioSync',
      });
      targets.sqs.destroy();
      expect(cloudFormation.requests[0]).toContain('Action=DescribeStacks');

      await expect(resolveTargets({ stack: 'Partial' }, env, { mainQueue: true })).rejects.toThrow(
        '--stack: stack "Partial" has no output MainQueueUrl (found: CalloutUrl)',
      );
      await expect(resolveTargets({ stack: 'Missing' }, env, { mainQueue: true })).rejects.toThrow(
        /^--stack: cannot read the outputs of stack "Missing": Stack with id Missing does not exist/,
      );
    } finally {
      await cloudFormation.close();
    }
  });

  describe('--local', () => {
    const emulator = useSqsEmulator();

    it('says to start the local runtime when its queues are not there', async () => {
      await expect(
        resolveTargets({ local: true }, { SQS_PORT: String(emulator.port) }, { mainQueue: true }),
      ).rejects.toThrow(
        /^--local: cannot reach the local runtime's SQS emulator at http:\/\/127\.0\.0\.1:\d+ \(queue "zuora-limio-sync" does not exist\); is `npm start` running\?/,
      );
    });

    it('finds the npm start queues by name on SQS_PORT and the callout endpoint on PORT', async () => {
      const created = await createQueuePair(emulator.sqs);
      const targets = await resolveTargets(
        { local: true },
        { SQS_PORT: String(emulator.port), PORT: '3999' },
        { mainQueue: true, deadLetterQueue: true },
      );
      expect(targets.mainQueueUrl).toBe(created.mainQueueUrl);
      expect(targets.deadLetterQueueUrl).toBe(created.deadLetterQueueUrl);
      expect(targets.calloutUrl).toBe('http://127.0.0.1:3999/zuora/callout');
      targets.sqs.destroy();
    });
  });
});
