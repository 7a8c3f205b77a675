/**
 * What the deploy commands refuse, and how: each problem one line naming the fix, exit code 2,
 * no stack trace (the CLI as a user runs it, and the checks behind it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../../core/toolchain';
import { isUserError } from '../../core/errors';
import { deploymentTargets, minuteFoldersPrefix } from '../../deploy/targets';
import { awsExample, scratch, writeConfigs } from './support';

const dir = scratch('deploy-bad-input');

function refusal(configs: Record<string, unknown>[]): string {
  try {
    deploymentTargets(writeConfigs(dir, configs));
  } catch (err) {
    assert.ok(isUserError(err), `a UserError, not ${String(err)}`);
    return `${err.message}${err.hint ? ` → ${err.hint}` : ''}`;
  }
  assert.fail('the configs were accepted');
}

/** The deploy CLI with no AWS region: nothing it runs here may reach AWS. */
function deployCli(...args: string[]) {
  const env = { ...process.env };
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete env[name];
  return spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'deploy', 'cli.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
  });
}

describe('deploy: bad input', () => {
  test('the CLI: one line naming the fix, exit code 2, no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [
        ['deploy', '--config', 'configs/transaction.json'],
        /lake\.location file:\/\/.* is not in S3.*set lake\.location to s3:\/\/<bucket>\/lake\/transaction\/ \(configs\/transaction-aws\.json is an example for AWS\)$/,
      ],
      [
        ['synth', '--config', 'no-such.json'],
        /cannot read config file no-such\.json: ENOENT; pass the path of a pipeline config JSON file$/,
      ],
      [['synth', '--config', 'package.json'], /package\.json is not a valid pipeline config/],
      [
        ['deploy', '--config', 'configs/transaction-aws.json', '--stack-name', 'has space'],
        /--stack-name has space is not a CloudFormation stack name; use letters/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = deployCli(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^ddb-lake deploy: /);
      assert.match(r.stderr.split('\n')[0]!, expected);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
    const missing = deployCli('synth');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--config/);
  });

  test('a warm engine is refused for AWS (Glue runs a job per batch), with the fix', () => {
    const aws = JSON.parse(readFileSync(join(REPO_ROOT, 'configs', 'transaction-aws.json'), 'utf8')) as {
      jobs?: { incremental?: Record<string, unknown> };
    };
    aws.jobs = { ...aws.jobs, incremental: { ...aws.jobs?.incremental, engine: 'warm' } };
    const file = join(scratch('warm-config'), 'warm.json');
    writeFileSync(file, JSON.stringify(aws));
    const r = deployCli('deploy', '--config', file);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr.split('\n')[0]!,
      /jobs\.incremental\.engine "warm" runs on the local stack only.*set it to "perBatch"/,
    );
  });

  test('synth of the local example writes a preview and lists what `deploy` would refuse', () => {
    const r = deployCli('synth', '--config', 'configs/transaction.json', '--out', join(scratch('preview'), 'cdk.out'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /PREVIEW ONLY — `npm run deploy` refuses this config until these are fixed:/);
    assert.match(r.stderr, /lake\.location file:\/\/.* is not in S3/);
    assert.match(r.stderr, /landing\.location names bucket ddb-lake-local, the local stack's bucket/);
  });

  test('deploy checks the account before anything else: no region, then (moto) a table and a secret that are not there', () => {
    const noRegion = deployCli('deploy', '--config', 'configs/transaction-aws.json');
    assert.equal(noRegion.status, 2, noRegion.stderr);
    assert.equal(
      noRegion.stderr.trim(),
      'ddb-lake deploy: no AWS region is configured; set AWS_REGION (or a profile with a region: AWS_PROFILE) to the region to deploy to',
    );
    // The test run points every SDK client at moto (AWS_ENDPOINT_URL): nothing is there.
    const table = `Absent-${Date.now()}`;
    const [config] = writeConfigs(dir, [{ ...awsExample(), table }]);
    const r = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'dist', 'deploy', 'cli.js'),
        'deploy',
        '--config',
        config!,
        '--temporal-secret',
        'ddb-lake/absent',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^ddb-lake deploy: cannot deploy in us-east-1 \\(2 problems\\):\n  - transaction: table "${table}" does not exist: create it, or fix "table" in the config\n  - the Temporal secret "ddb-lake/absent" does not exist in us-east-1`,
      ),
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  test("locations: the local stack's bucket, overlapping landing zones or lakes, anything inside a landing zone", () => {
    const local = { ...awsExample(), export: { location: 's3://ddb-lake-local/export/Transaction/' } };
    assert.match(
      refusal([local]),
      /export\.location names bucket ddb-lake-local, the local stack's bucket → name a bucket of your own/,
    );
    const twin = { ...awsExample(), name: 'twin', lake: { location: 's3://my-ddb-lake-data/lake/twin/' } };
    assert.match(
      refusal([awsExample(), twin]),
      /landing\.location of "transaction" and landing\.location of "twin" overlap/,
    );
    const rootLanding = {
      ...awsExample(),
      landing: { location: 's3://my-ddb-lake-data/' },
      export: { location: 's3://other-bucket/export/' },
      lake: { location: 's3://other-bucket/lake/' },
    };
    const exportInLanding = {
      ...awsExample(),
      name: 'orders',
      table: 'Orders',
      landing: { location: 's3://other-bucket/landing/' },
      export: { location: 's3://my-ddb-lake-data/2020-exports/' },
      lake: { location: 's3://other-bucket/orders/' },
    };
    assert.match(
      refusal([rootLanding, exportInLanding]),
      /landing\.location of "transaction" and export\.location of "orders" overlap \(s3:\/\/my-ddb-lake-data\/, s3:\/\/my-ddb-lake-data\/2020-exports\/\) → give each its own prefix/,
    );
    const sharedExports = { ...exportInLanding, export: rootLanding.export };
    assert.equal(
      deploymentTargets(writeConfigs(dir, [rootLanding, sharedExports])).pipelines.length,
      2,
      'exports may share a place',
    );
    assert.equal(
      minuteFoldersPrefix('landing/T/'),
      'landing/T/2',
      'minute folders are YYYY-…: the millennium digit; reserved folders start with _',
    );
  });

  test('Glue jobs: one shared job has one size and runs one script', () => {
    const orders = (jobs: unknown) => ({
      ...awsExample(),
      name: 'orders',
      table: 'Orders',
      landing: { location: 's3://my-ddb-lake-data/landing/Orders/' },
      lake: { location: 's3://my-ddb-lake-data/lake/orders/' },
      jobs,
    });
    assert.match(
      refusal([awsExample(), orders({ incremental: { glueJobName: 'ddb-lake-incremental', workerType: 'G.2X' } })]),
      /Glue job ddb-lake-incremental is shared by "transaction" \(G\.1X × 2\) and "orders" \(G\.2X × 2\); a job has one size → give both the same/,
    );
    assert.match(
      refusal([awsExample(), orders({ initialLoad: { glueJobName: 'ddb-lake-incremental' } })]),
      /is the incremental job of "transaction" and the initialLoad job of "orders"/,
    );
    const shared = deploymentTargets(writeConfigs(dir, [awsExample(), orders({})]));
    assert.deepEqual(
      shared.jobs.map((j) => [j.name, j.pipelines]),
      [
        ['ddb-lake-initial-load', ['transaction', 'orders']],
        ['ddb-lake-incremental', ['transaction', 'orders']],
      ],
    );
  });

  test('alarms: the stalled alarm must outlast the quiet time between two cycles or two attempts', () => {
    const slow = { ...awsExample(), retry: { maxIntervalSeconds: 3600 } };
    assert.match(
      refusal([slow]),
      /alarms\.stalledMinutes \(15\) is not longer than the pipeline's longest quiet time \(3600 s.*→ raise alarms\.stalledMinutes above 60/,
    );
  });
});
