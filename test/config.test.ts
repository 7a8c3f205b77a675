import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPipelineConfig, parsePipelineConfig } from '../core/config';
import { UserError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';

const minimal = {
  name: 'transaction',
  table: 'Transaction',
  export: { location: 's3://ddb-lake-local/export/Transaction' },
  landing: { location: 's3://ddb-lake-local/landing/Transaction' },
  lake: { location: '/tmp/lake' },
};

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected an error');
}

describe('pipeline config', () => {
  test('configs/transaction.json is valid: the brief Transaction table, lake under <repo>/.ddb-lake', () => {
    const c = loadPipelineConfig(join(REPO_ROOT, 'configs', 'transaction.json'));
    assert.deepEqual(c.keyFields, ['account', 'create_at']);
    assert.equal(c.orderingField, 'update_at');
    assert.deepEqual(c.partitionFields, ['create_year', 'create_month', 'create_day', 'create_hour', 'create_minute']);
    assert.deepEqual(
      c.derivedColumns.map((d) => d.part),
      ['year', 'month', 'day', 'hour', 'minute'],
    );
    assert.equal(c.landing.location, 's3://ddb-lake-local/landing/Transaction/');
    assert.equal(c.lake.location, `file://${join(REPO_ROOT, '.ddb-lake', 'lake', 'transaction')}`);
  });

  test('defaults fill every section; locations get a trailing slash', () => {
    const c = parsePipelineConfig(minimal);
    assert.equal(c.export.location, 's3://ddb-lake-local/export/Transaction/');
    assert.equal(c.landing.closeAfterSeconds, 120);
    assert.equal(c.landing.sweepEveryCycles, 30);
    assert.equal(c.schedule.intervalSeconds, 10);
    assert.equal(c.schedule.continueAsNewAfterCycles, 200);
    assert.equal(c.retry.maxAttempts, 5);
    assert.equal(c.jobs.incremental.glueJobName, 'ddb-lake-incremental');
    assert.equal(c.jobs.initialLoad.script, 'glue/initial_load.py');
    assert.equal(c.lake.tableName, 'transaction');
    assert.equal(c.lake.location, 'file:///tmp/lake');
  });

  test('errors name the field and what to fix', () => {
    const m = messageOf(() =>
      parsePipelineConfig(
        { ...minimal, name: 'Bad Name', landing: { location: 'landing/' }, extra: 1, schedule: { intervalSeconds: 0 } },
        'my.json',
      ),
    );
    assert.match(m, /^my\.json is not a valid pipeline config \(\d problems\):/);
    assert.match(m, /name: must be 1-100 characters of a-z/);
    assert.match(m, /landing\.location: must be an S3 URI like s3:\/\/bucket\/prefix\//);
    assert.match(m, /unknown field\(s\) "extra"/);
    assert.match(m, /schedule\.intervalSeconds/);
    assert.match(
      messageOf(() => parsePipelineConfig({ ...minimal, table: undefined })),
      /table: is required/,
    );
    assert.match(
      messageOf(() => parsePipelineConfig({ ...minimal, landing: { location: 's3://b/l/', closeAfterSeconds: 30 } })),
      /closeAfterSeconds: must be at least 60: a minute folder receives files/,
    );
    assert.match(
      messageOf(() =>
        parsePipelineConfig({ ...minimal, landing: { location: 's3://ddb-lake-local/export/Transaction/landing/' } }),
      ),
      /must not contain each other/,
    );
    assert.match(
      messageOf(() =>
        parsePipelineConfig({ ...minimal, retry: { initialIntervalSeconds: 60, maxIntervalSeconds: 10 } }),
      ),
      /retry\.maxIntervalSeconds: must be at least retry\.initialIntervalSeconds/,
    );
    assert.match(
      messageOf(() =>
        parsePipelineConfig({ ...minimal, export: { location: 's3://b/e/', existingExportArn: 'nope' } }),
      ),
      /must be a DynamoDB export ARN/,
    );
    assert.match(
      messageOf(() => parsePipelineConfig({ ...minimal, lake: { location: 'hdfs://x/y' } })),
      /unsupported scheme/,
    );
  });

  test('landing.onFailureDestination: optional, a bucket only (Lambda writes at its root), with a trailing slash', () => {
    assert.equal(parsePipelineConfig(minimal).landing.onFailureDestination, undefined);
    const c = parsePipelineConfig({
      ...minimal,
      landing: { ...minimal.landing, onFailureDestination: 's3://my-failures' },
    });
    assert.equal(c.landing.onFailureDestination, 's3://my-failures/');
    assert.match(
      messageOf(() =>
        parsePipelineConfig({
          ...minimal,
          landing: { ...minimal.landing, onFailureDestination: 's3://my-failures/x/' },
        }),
      ),
      /landing\.onFailureDestination: must be a bucket, s3:\/\/<bucket>\/ \(Lambda writes its records under aws\/lambda\/ at the root of the bucket; no prefix\)/,
    );
  });

  test('a missing or broken file is a one-line UserError', () => {
    assert.match(
      messageOf(() => loadPipelineConfig('/nonexistent/config.json')),
      /cannot read config file \/nonexistent\/config\.json: ENOENT/,
    );
  });
});
