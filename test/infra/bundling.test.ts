import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ZuoraLimioSyncStack } from '../../infra/zuora-limio-sync-stack';

/**
 * The one test that bundles for real: synth runs the project's own esbuild for both functions. Docker is made
 * unusable (CDK_DOCKER points at a command that always fails), so a fallback to Docker bundling would fail the
 * synth. The output goes under the repository's cdk.out/ so the bundles can be loaded with the repository's
 * node_modules providing the AWS SDK, as the Lambda runtime does.
 */
const repositoryRoot = path.join(__dirname, '..', '..');
const entries = {
  callout: 'functions/callout/handler.ts',
  sync: 'functions/sync/handler.ts',
  probe: 'functions/breaker/handler.ts',
  sweep: 'functions/sweep/handler.ts',
  fanout: 'functions/fanout/handler.ts',
} as const;

describe('synth bundles every function with local esbuild', () => {
  let outdir: string;
  let bundles: Record<keyof typeof entries, string>;
  const savedDocker = process.env.CDK_DOCKER;

  beforeAll(() => {
    fs.mkdirSync(path.join(repositoryRoot, 'cdk.out'), { recursive: true });
    outdir = fs.mkdtempSync(path.join(repositoryRoot, 'cdk.out', 'bundling-test-'));
    process.env.CDK_DOCKER = 'false';
    const app = new App({ outdir });
    // With the sweep on (and so the fan-out), so every function is bundled.
    const stack = new ZuoraLimioSyncStack(app, 'Bundled', {
      bridge: { limioBaseUrl: 'https://acme.prod.limio.com', zuoraBaseUrl: 'https://rest.zuora.com' },
    });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: { Description?: string; Code?: { S3Key: string } } }>;
    };
    const assetDirOf = (describing: RegExp) => {
      const fn = Object.values(template.Resources).find(
        (resource) =>
          resource.Type === 'AWS::Lambda::Function' && describing.test(resource.Properties.Description ?? ''),
      )!;
      return path.join(outdir, `asset.${fn.Properties.Code!.S3Key.replace(/\.zip$/, '')}`);
    };
    bundles = {
      callout: assetDirOf(/authenticates Zuora callouts/),
      sync: assetDirOf(/asks Limio to sync/),
      probe: assetDirOf(/circuit breaker probe/),
      sweep: assetDirOf(/reconciliation sweep/),
      fanout: assetDirOf(/fans each account callout out/),
    };
  });

  afterAll(() => {
    if (savedDocker === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = savedDocker;
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it.each(Object.keys(entries) as (keyof typeof entries)[])(
    '%s: one minified file with its source map, AWS SDK left to the runtime',
    (name) => {
      expect(fs.readdirSync(bundles[name]).sort()).toEqual(['index.js', 'index.js.map']);
      const code = fs.readFileSync(path.join(bundles[name], 'index.js'), 'utf8');
      expect(code.split('\n').length).toBeLessThan(40);
      expect(code.trimEnd()).toMatch(/\/\/# sourceMappingURL=index\.js\.map$/);
      expect(code).toMatch(/require\("@aws-sdk\/client-(sqs|secrets-manager|dynamodb)"\)/);
      const map = JSON.parse(fs.readFileSync(path.join(bundles[name], 'index.js.map'), 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown;
      };
      expect(map.sources.some((source) => source.endsWith(entries[name]))).toBe(true);
      expect(map.sourcesContent).toBeUndefined();
    },
  );

  /** Loads a bundle the way Lambda does (module scope runs the cold-start config check) with the given env. */
  function loadBundle(name: keyof typeof entries, env: Record<string, string>): unknown {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      let handler: unknown;
      // A fresh module registry each time, so module scope (the cold start) runs again.
      jest.isolateModules(() => {
        handler = (require(path.join(bundles[name], 'index.js')) as { handler: unknown }).handler;
      });
      return handler;
    } finally {
      for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
    }
  }

  it('callout bundle is the real handler: loads with the deployed variables, refuses without them', () => {
    const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/main';
    expect(
      typeof loadBundle('callout', {
        AWS_REGION: 'eu-west-1',
        QUEUE_URL: queueUrl,
        CALLOUT_AUTH_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf',
      }),
    ).toBe('function');
    expect(() => loadBundle('callout', { AWS_REGION: 'eu-west-1', CALLOUT_AUTH_SECRET_ID: 'x' })).toThrow(/QUEUE_URL/);
  });

  it('sync bundle is the real handler: loads with the deployed variables, refuses without them', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      LIMIO_BASE_URL: 'https://acme.prod.limio.com',
      LIMIO_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:limio-AbCdEf',
    };
    expect(typeof loadBundle('sync', env)).toBe('function');
    const { LIMIO_SECRET_ID: _omitted, ...withoutSecret } = env;
    expect(() => loadBundle('sync', withoutSecret)).toThrow(/LIMIO_SECRET_ID/);
    // With the deployed breaker table too (outage mode on).
    expect(
      typeof loadBundle('sync', { ...env, BREAKER_TABLE_NAME: 'Bundled-BreakerTable', RETRY_BUDGET_SECONDS: '86400' }),
    ).toBe('function');
  });

  it('probe bundle is the real handler: loads with the deployed variables, refuses without them', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      BREAKER_TABLE_NAME: 'Bundled-BreakerTable',
      SYNC_EVENT_SOURCE_MAPPING_ID: '2f6c6d0a-1b2c-4d5e-8f90-1a2b3c4d5e6f',
      SYNC_MAX_CONCURRENCY: '2',
      LIMIO_BASE_URL: 'https://acme.prod.limio.com',
      LIMIO_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:limio-AbCdEf',
    };
    expect(typeof loadBundle('probe', env)).toBe('function');
    const { SYNC_EVENT_SOURCE_MAPPING_ID: _omitted, ...withoutMapping } = env;
    expect(() => loadBundle('probe', withoutMapping)).toThrow(/SYNC_EVENT_SOURCE_MAPPING_ID/);
  });

  it('sweep bundle is the real handler: loads with the deployed variables, refuses without them', () => {
    const env = {
      AWS_REGION: 'eu-west-1',
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      LEDGER_TABLE_NAME: 'Bundled-LedgerTable',
      ZUORA_BASE_URL: 'https://rest.zuora.com',
      ZUORA_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zuora-AbCdEf',
      SWEEP_INTERVAL_SECONDS: '900',
    };
    expect(typeof loadBundle('sweep', env)).toBe('function');
    const { LEDGER_TABLE_NAME: _omitted, ...withoutLedger } = env;
    expect(() => loadBundle('sweep', withoutLedger)).toThrow(/LEDGER_TABLE_NAME/);
  });
});
