/**
 * The code the stack ships as CDK assets, staged from the repository: the stream handler exactly as
 * `ddb-lake package-aws` packs it (the compiled lambda/ and the core/ modules it requires; the
 * Lambda runtime provides the AWS SDK), the Glue jobs' package, and the two job scripts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { lambdaClosure } from '../client/deploy/package-aws';
import { UserError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';

export interface StagedArtifacts {
  /** Folder holding `lambda/index.js` and what it requires: the Lambda's code asset (handler `lambda/index.handler`). */
  lambdaDir: string;
  /** Folder holding `ddb_lake_glue/`: zipped by the CDK as the jobs' `--extra-py-files`. */
  gluePackageDir: string;
  initialLoadScript: string;
  incrementalScript: string;
}

let staged: StagedArtifacts | undefined;

/** Stages once per process into a temporary folder (removed at exit); the CDK hashes the content, not the path. */
export function stageArtifacts(): StagedArtifacts {
  if (staged) return staged;
  const root = mkdtempSync(join(tmpdir(), 'ddb-lake-deploy-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));

  const dist = join(REPO_ROOT, 'dist');
  if (!existsSync(join(dist, 'lambda', 'index.js')))
    throw new UserError(
      'the stream handler is not built (dist/lambda/index.js is missing)',
      'run `npm run build` first',
    );
  const lambdaDir = join(root, 'lambda-code');
  for (const file of lambdaClosure()) {
    mkdirSync(dirname(join(lambdaDir, file)), { recursive: true });
    cpSync(join(dist, file), join(lambdaDir, file));
  }

  const glue = join(REPO_ROOT, 'glue');
  const gluePackageDir = join(root, 'glue-package');
  cpSync(join(glue, 'ddb_lake_glue'), join(gluePackageDir, 'ddb_lake_glue'), {
    recursive: true,
    filter: (src) => !src.includes('__pycache__') && !src.endsWith('.pyc'),
  });
  staged = {
    lambdaDir,
    gluePackageDir,
    initialLoadScript: join(glue, 'initial_load.py'),
    incrementalScript: join(glue, 'incremental.py'),
  };
  return staged;
}
