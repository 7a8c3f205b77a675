import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../core/toolchain';
import { packageAws } from '../client/deploy/package-aws';

const out = mkdtempSync(join(tmpdir(), 'ddb-lake-package-aws-'));
after(() => rmSync(out, { recursive: true, force: true }));

/** Loads the zipped handler the way Lambda does: its own folder, only the runtime's AWS SDK beside it. */
function loadHandler(dir: string, env: Record<string, string>) {
  const script = "const m = require('./lambda/index.js'); console.log(typeof m.handler);";
  return spawnSync(process.execPath, ['-e', script], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_PATH: join(REPO_ROOT, 'node_modules'), ...env },
  });
}

test('package-aws: a Lambda zip that loads on its own, and the Glue package with both scripts', () => {
  const a = packageAws(out);
  assert.deepEqual(a.lambdaFiles.filter((f) => f.startsWith('lambda/')).sort(), [
    'lambda/encoding.js',
    'lambda/exact-json.js',
    'lambda/handler.js',
    'lambda/index.js',
  ]);
  assert.ok(
    a.lambdaFiles.every((f) => f.startsWith('lambda/') || f.startsWith('core/')),
    'nothing from the client or the workflow',
  );

  const unzipped = join(out, 'unzipped');
  const py = process.env.DDB_LAKE_PYTHON || 'python3';
  assert.equal(spawnSync(py, ['-m', 'zipfile', '-e', a.lambdaZip, unzipped]).status, 0);
  const ok = loadHandler(unzipped, { DDB_LAKE_LANDING: 's3://landing-bucket/landing/Transaction/' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'function');
  const bad = loadHandler(unzipped, {});
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /stream handler configuration: .*DDB_LAKE_LANDING/);

  const listing = spawnSync(py, ['-m', 'zipfile', '-l', a.glueZip], { encoding: 'utf8' }).stdout;
  for (const m of ['ddb_lake_glue/__init__.py', 'ddb_lake_glue/jobs.py', 'ddb_lake_glue/args.py'])
    assert.ok(listing.includes(m), `${m} in the Glue zip`);
  assert.deepEqual(
    a.glueScripts.map((s) => s.split('/').at(-1)),
    ['initial_load.py', 'incremental.py'],
  );
});
