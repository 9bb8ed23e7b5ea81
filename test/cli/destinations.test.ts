import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { runCli } from '../../cli/main';
import { destinationOf } from '../../cli/destinations';
import { resolveTargets } from '../../cli/targets';
import { closeServer, listen } from '../../local/listen';
import { captureIo } from './queues';

/**
 * Issue #12 item 16: the CLI signs SQS requests with the operator's AWS credentials and a callout carries the
 * callout's credentials; neither may go to a host the operator did not mean, nor in clear over a network.
 */
const AWS_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAOPERATORKEY',
  AWS_SECRET_ACCESS_KEY: 'operator-secret',
  AWS_SESSION_TOKEN: 'operator-session-token',
};
const AWS_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ZuoraLimioSync-Main';

describe('where the CLI may send credentials', () => {
  it('tells this machine, AWS endpoints and everything else apart', () => {
    expect(destinationOf('http://127.0.0.1:9324/000000000000/q')).toMatchObject({ local: true, tls: false });
    expect(destinationOf('http://127.3.4.5:1/x').local).toBe(true);
    expect(destinationOf('http://localhost:3000/zuora/callout').local).toBe(true);
    expect(destinationOf('http://[::1]:3000/zuora/callout').local).toBe(true);
    expect(destinationOf(AWS_QUEUE)).toMatchObject({
      local: false,
      tls: true,
      aws: true,
      host: 'sqs.eu-west-1.amazonaws.com',
    });
    expect(destinationOf('https://sqs.cn-north-1.amazonaws.com.cn/1/q').aws).toBe(true);
    expect(destinationOf('https://vpce-1a2b.sqs.eu-west-1.vpce.amazonaws.com/1/q').aws).toBe(true);
    // Look-alikes are not AWS, nor is a host hidden behind user info, nor "localhost" as a subdomain.
    expect(destinationOf('https://sqs.eu-west-1.amazonaws.com.evil.example/1/q').aws).toBe(false);
    expect(destinationOf('https://notamazonaws.com/1/q').aws).toBe(false);
    expect(destinationOf('https://sqs.eu-west-1.amazonaws.com@evil.example/1/q')).toMatchObject({
      host: 'evil.example',
      aws: false,
    });
    expect(destinationOf('http://localhost.evil.example/x').local).toBe(false);
    expect(destinationOf('http://127.0.0.1.evil.example/x').local).toBe(false);
    expect(destinationOf('http://0.0.0.0:1/x').local).toBe(false);
  });

  it('refuses a queue URL that is not AWS, or not https, naming the flag that allows it', async () => {
    await expect(
      resolveTargets({ queueUrl: 'https://sqs.evil.example/123456789012/q' }, AWS_ENV, { mainQueue: true }),
    ).rejects.toThrow(
      /^--queue-url: https:\/\/sqs\.evil\.example\/123456789012\/q is not an AWS endpoint: requests signed with your AWS credentials .* pass --allow-non-aws-endpoint/,
    );
    await expect(
      resolveTargets({ queueUrl: 'http://sqs.eu-west-1.amazonaws.com/123456789012/q' }, AWS_ENV, { mainQueue: true }),
    ).rejects.toThrow(
      /^--queue-url: .* is plain http .* would cross the network in clear\. Use https .* or pass --allow-insecure-target/,
    );
    await expect(
      resolveTargets({}, { ...AWS_ENV, ZLS_DLQ_URL: 'https://evil.example/1/dlq' }, { deadLetterQueue: true }),
    ).rejects.toThrow(/^ZLS_DLQ_URL: .* is not an AWS endpoint/);
    // The endpoint variable is where SQS calls go when it is set: it is checked instead of the queue URLs.
    await expect(
      resolveTargets(
        { queueUrl: AWS_QUEUE },
        { ...AWS_ENV, AWS_ENDPOINT_URL_SQS: 'http://10.1.2.3:4566' },
        { mainQueue: true },
      ),
    ).rejects.toThrow(/^AWS_ENDPOINT_URL_SQS: http:\/\/10\.1\.2\.3:4566 is plain http/);

    const allowed = await resolveTargets(
      { queueUrl: 'https://sqs.internal.example/1/q', allowNonAwsEndpoint: true },
      AWS_ENV,
      { mainQueue: true },
    );
    allowed.sqs.destroy();
    const local = await resolveTargets(
      { queueUrl: AWS_QUEUE },
      { ...AWS_ENV, AWS_ENDPOINT_URL_SQS: 'http://localhost:4566' },
      { mainQueue: true },
    );
    local.sqs.destroy();
    const aws = await resolveTargets({ queueUrl: AWS_QUEUE }, AWS_ENV, { mainQueue: true });
    aws.sqs.destroy();
  });

  it('refuses endpoint variables for the breaker table and CloudFormation the same way', async () => {
    await expect(
      resolveTargets(
        { breakerTable: 'Breaker' },
        { ...AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: 'https://ddb.evil.example' },
        { breaker: 'required' },
      ),
    ).rejects.toThrow(/^AWS_ENDPOINT_URL_DYNAMODB: .* is not an AWS endpoint/);
    await expect(
      resolveTargets(
        { stack: 'ZuoraLimioSync' },
        { ...AWS_ENV, AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://cfn.evil.example' },
        { mainQueue: true },
      ),
    ).rejects.toThrow(/^AWS_ENDPOINT_URL_CLOUDFORMATION: .* is plain http/);
  });

  it('checks queue and callout URLs read from stack outputs too', async () => {
    const outputs = {
      MainQueueUrl: 'https://sqs.evil.example/1/main',
      CalloutUrl: 'http://callout.evil.example/zuora/callout',
    };
    await expect(
      resolveTargets({ stack: 'S' }, AWS_ENV, { mainQueue: true }, { readStackOutputs: async () => outputs }),
    ).rejects.toThrow(/^--stack: https:\/\/sqs\.evil\.example\/1\/main is not an AWS endpoint/);
    await expect(
      resolveTargets({ stack: 'S' }, AWS_ENV, { callout: true }, { readStackOutputs: async () => outputs }),
    ).rejects.toThrow(/^--stack: http:\/\/callout\.evil\.example\/zuora\/callout is plain http/);
  });

  it('lets a callout go to any https URL or to this machine, but plain http elsewhere only with --allow-insecure-target', async () => {
    for (const url of [
      'https://zuora-hooks.example.com/zuora/callout',
      'http://127.0.0.1:3000/zuora/callout',
      'http://localhost:3000/zuora/callout',
    ]) {
      const targets = await resolveTargets({ url }, {}, { callout: true });
      expect(targets.calloutUrl).toBe(url);
      targets.sqs.destroy();
    }
    await expect(
      resolveTargets({ url: 'http://zuora-hooks.example.com/zuora/callout' }, {}, { callout: true }),
    ).rejects.toThrow(
      /^--url: .* the callout's credentials \(Basic password, header secret or HMAC signature\) would cross the network in clear\. .*--allow-insecure-target/,
    );
  });

  // A host the rule does not count as this machine, so the test can see whether anything reached it: 0.0.0.0 as
  // a destination is delivered by the kernel to loopback, so nothing leaves this machine.
  const outsideAddress = '0.0.0.0';

  describe('against a listener the rule counts as another host', () => {
    let server: Server;
    let port: number;
    const seen: IncomingHttpHeaders[] = [];
    beforeAll(async () => {
      server = createServer((request, response) => {
        seen.push(request.headers);
        request.resume();
        request.on('end', () => response.writeHead(500, { 'content-type': 'text/plain' }).end('not a real service'));
      });
      port = await listen(server, 0, '127.0.0.1', 'PORT');
    });
    afterAll(() => closeServer(server));
    beforeEach(() => {
      seen.length = 0;
    });

    it('callout: sends nothing in clear there without the flag, and the credentials with it', async () => {
      const url = `http://${outsideAddress}:${port}/zuora/callout`;
      const env = {
        CALLOUT_AUTH_MODE: 'header',
        CALLOUT_HEADER_NAME: 'X-Callout-Token',
        CALLOUT_HEADER_VALUE: 'header-secret',
      };
      const refused = captureIo(env);
      expect(await runCli(['callout', '--url', url, 'A-S1'], refused.io)).toBe(2);
      expect(refused.stderr()).toContain('--allow-insecure-target');
      expect(seen).toEqual([]);

      const allowed = captureIo(env);
      expect(await runCli(['callout', '--url', url, '--allow-insecure-target', 'A-S1'], allowed.io)).toBe(1);
      expect(seen.map((headers) => headers['x-callout-token'])).toEqual(['header-secret']);
    });

    it('dlq list: signs nothing for that host without both flags, and does with them', async () => {
      const env = { ...AWS_ENV, ZLS_DLQ_URL: `http://${outsideAddress}:${port}/123456789012/dlq` };
      const refused = captureIo(env);
      expect(await runCli(['dlq', 'list'], refused.io)).toBe(2);
      expect(refused.stderr()).toMatch(/error: ZLS_DLQ_URL: .* is plain http .*--allow-insecure-target/);
      const halfAllowed = captureIo(env);
      expect(await runCli(['dlq', 'list', '--allow-insecure-target'], halfAllowed.io)).toBe(2);
      expect(halfAllowed.stderr()).toMatch(/error: ZLS_DLQ_URL: .* is not an AWS endpoint.*--allow-non-aws-endpoint/);
      expect(seen).toEqual([]);

      const allowed = captureIo(env);
      await runCli(['dlq', 'list', '--allow-insecure-target', '--allow-non-aws-endpoint'], allowed.io);
      expect(seen.length).toBeGreaterThan(0);
      expect(String(seen[0].authorization)).toContain('AKIAOPERATORKEY');
      expect(seen[0]['x-amz-security-token']).toBe('operator-session-token');
    });
  });
});
