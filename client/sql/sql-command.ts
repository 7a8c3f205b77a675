import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { hudiStorageOptions } from '../../core/aws';
import { normaliseLakeLocation } from '../../core/config';
import { resolveEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';
import { PipelineClient } from '../pipeline-client';

interface SqlFlags {
  pipeline?: string;
  lake?: string;
  json?: boolean;
  csv?: boolean;
  maxRows: string;
}

export const LAKE_SQL_SCRIPT = join(REPO_ROOT, 'python', 'lake_sql.py');

export function registerSqlCommand(program: Command): void {
  program
    .command('sql')
    .description("SQL over the lake's current snapshot, without Spark (hudi-rs → Arrow → DuckDB)")
    .argument('<query>', 'a DuckDB SQL query; the snapshot is the view `lake`, also named after the Hudi table')
    .option('--pipeline <name>', "query this pipeline's lake")
    .option('--lake <location>', 'query the Hudi table at this location (s3://…, file://… or a folder)')
    .option('--json', 'print the rows as a JSON array of objects')
    .option('--csv', 'print the rows as CSV with a header line')
    .option('--max-rows <n>', 'table output: show at most this many rows', '1000')
    .addHelpText(
      'after',
      '\nExamples:\n  ddb-lake sql --lake .ddb-lake/lake/transactions "select count(*) from lake"\n' +
        '  ddb-lake sql --pipeline transactions "select create_day, count(*) from lake group by 1 order by 1" --csv',
    )
    .action(async (query: string, flags: SqlFlags) => {
      process.exitCode = await runSql(query, flags);
    });
}

async function runSql(query: string, flags: SqlFlags): Promise<number> {
  if (!query.trim())
    throw new UserError('the query is empty', 'e.g. ddb-lake sql --lake <location> "select count(*) from lake"');
  if (flags.json && flags.csv) throw new UserError('--json and --csv exclude each other', 'pick one output format');
  if (flags.pipeline !== undefined && flags.lake !== undefined)
    throw new UserError('--pipeline and --lake exclude each other', 'name the pipeline or the lake location, not both');
  if (!/^\d+$/.test(flags.maxRows.trim()))
    throw new UserError(`--max-rows must be a whole number (got "${flags.maxRows}")`);
  let location: string;
  if (flags.lake !== undefined) location = normaliseLakeLocation(flags.lake);
  else if (flags.pipeline !== undefined) location = await lakeLocationOfPipeline(flags.pipeline);
  else throw new UserError('say which lake to query', 'pass --pipeline <name> or --lake <location>');

  const storageOptions = location.startsWith('s3://') ? await hudiStorageOptions(resolveEnvironment()) : {};
  const format = flags.json ? 'json' : flags.csv ? 'csv' : 'table';
  return runLakeSql({ location, query, format, maxRows: Number(flags.maxRows), storageOptions });
}

/**
 * The lake location of a pipeline: its config's lake.location, read from the workflow input of its
 * latest run (so it also works for a pipeline that has been stopped).
 */
export async function lakeLocationOfPipeline(name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(name))
    throw new UserError(
      `"${name}" is not a pipeline name`,
      'pipeline names are 1-100 characters of a-z, 0-9, "-" and "_" (the "name" in its config)',
    );
  const client = await PipelineClient.connect(resolveEnvironment());
  try {
    return (await client.config(name)).lake.location;
  } finally {
    await client.close();
  }
}

export interface LakeSqlRequest {
  /** s3://…, or a file:// URI / absolute path. */
  location: string;
  query: string;
  format: 'table' | 'json' | 'csv';
  maxRows: number;
  storageOptions: Record<string, string>;
}

/**
 * Runs python/lake_sql.py with the cache venv's python; its rows go straight to our stdout. Exit 2
 * from the script is a problem the user can fix (its stderr is one line), anything else is a bug.
 */
export async function runLakeSql(request: LakeSqlRequest): Promise<number> {
  const { python } = toolchainPaths();
  if (!existsSync(python))
    throw new UserError(`the Python toolchain is not installed (no ${python})`, 'run `ddb-lake setup`');
  const args = [
    LAKE_SQL_SCRIPT,
    '--lake',
    request.location,
    '--query',
    request.query,
    '--format',
    request.format,
    '--max-rows',
    String(request.maxRows),
  ];
  const child = spawn(python, args, {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, DDB_LAKE_STORAGE_OPTIONS: JSON.stringify(request.storageOptions), PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  if (code === 0) {
    process.stderr.write(stderr);
    return 0;
  }
  if (code === 2) throw new UserError(stderr.trim().split('\n').pop() || 'the query failed');
  throw new Error(`lake_sql.py exited with code ${code}:\n${stderr.trim()}`);
}
