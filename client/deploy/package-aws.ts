import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../../core/errors';
import { REPO_ROOT } from '../../core/toolchain';

/** What `ddb-lake package-aws` produced (docs/aws.md says where each goes). */
export interface AwsArtifacts {
  outDir: string;
  lambdaZip: string;
  lambdaFiles: string[];
  glueZip: string;
  glueScripts: string[];
}

const DIST = join(REPO_ROOT, 'dist');
// The Lambda Node.js runtime ships the AWS SDK v3: these imports need not be in the zip.
const RUNTIME_PROVIDED = /^@aws-sdk\//;

/**
 * The compiled files the Lambda entry point needs, found by following its relative `require`s,
 * so the zip holds exactly the handler and the `core/` modules it uses.
 */
export function lambdaClosure(entry = join(DIST, 'lambda', 'index.js')): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    if (!existsSync(file))
      throw new UserError(`${relative(REPO_ROOT, file)} is missing`, 'build first: `npm run build`');
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.endsWith('.js') ? spec : `${spec}.js`));
      else if (!spec.startsWith('node:') && !RUNTIME_PROVIDED.test(spec) && !isBuiltin(spec))
        throw new UserError(
          `the stream handler imports "${spec}", which the Lambda runtime does not provide`,
          'bundle it or remove the import (lambda/ must stay dependency-free)',
        );
    }
  };
  visit(entry);
  return [...seen].map((f) => relative(DIST, f)).sort();
}

function isBuiltin(spec: string): boolean {
  return ['crypto', 'fs', 'path', 'os', 'util', 'stream', 'zlib', 'events', 'buffer'].includes(spec);
}

function zip(cwd: string, out: string, entries: string[]): void {
  // Python's zipfile CLI: present wherever the toolchain is, and no npm dependency for one zip.
  const r = spawnSync(process.env.DDB_LAKE_PYTHON || 'python3', ['-m', 'zipfile', '-c', out, ...entries], {
    cwd,
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new UserError(
      `could not write ${out}: ${(r.stderr || r.error?.message || '').trim()}`,
      'check that python3 is on PATH (or set DDB_LAKE_PYTHON)',
    );
}

/** Builds `<out>/ddb-lake-stream-handler.zip`, `<out>/ddb_lake_glue.zip` and copies the two job scripts. */
export function packageAws(outDir = join(DIST, 'aws')): AwsArtifacts {
  const files = lambdaClosure();
  rmSync(outDir, { recursive: true, force: true });
  const stage = join(outDir, 'lambda-stage');
  for (const f of files) {
    mkdirSync(dirname(join(stage, f)), { recursive: true });
    cpSync(join(DIST, f), join(stage, f));
  }
  const lambdaZip = join(outDir, 'ddb-lake-stream-handler.zip');
  zip(stage, lambdaZip, [...new Set(files.map((f) => f.split('/')[0]!))]);
  rmSync(stage, { recursive: true, force: true });

  const glueDir = join(REPO_ROOT, 'glue');
  const glueZip = join(outDir, 'ddb_lake_glue.zip');
  rmSync(join(glueDir, 'ddb_lake_glue', '__pycache__'), { recursive: true, force: true });
  zip(glueDir, glueZip, ['ddb_lake_glue']);
  const glueScripts = ['initial_load.py', 'incremental.py'].map((s) => {
    cpSync(join(glueDir, s), join(outDir, s));
    return join(outDir, s);
  });
  for (const f of [lambdaZip, glueZip]) if (statSync(f).size === 0) throw new Error(`${f} is empty`);
  return { outDir, lambdaZip, lambdaFiles: files, glueZip, glueScripts };
}
