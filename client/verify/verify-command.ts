import type { Command } from 'commander';
import { normaliseLakeLocation } from '../../core/config';
import { resolveEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { PipelineClient } from '../pipeline-client';
import { ProgressLine } from './progress-line';
import { formatVerifyReport } from './report';
import { verifyPipeline, type VerifyOptions } from './verify';

interface VerifyFlags {
  json?: boolean;
  timeout: string;
  sample: string;
  segments: string;
  wait: boolean;
  lake?: string;
  table?: string;
  quietSeconds: string;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'prove the lake equals the table: wait until the pipeline has caught up, then compare key by key, value by value',
    )
    .argument('<pipeline>', 'the pipeline whose table and lake to compare')
    .option('--json', 'print the result as JSON (docs/cli-json.md)')
    .option('--timeout <seconds>', 'longest wait for the pipeline to catch up', '600')
    .option('--sample <n>', 'rows listed per kind of difference', '10')
    .option('--segments <n>', 'parallel Scan segments', '4')
    .option('--no-wait', 'compare the lake as it is now, without waiting for the pipeline')
    .option(
      '--lake <location>',
      "compare with the Hudi table at this location instead of the pipeline's (e.g. a copy); implies --no-wait",
    )
    .option(
      '--table <name>',
      "compare with this DynamoDB table instead of the pipeline's (e.g. a restored copy); implies --no-wait",
    )
    .option(
      '--quiet-seconds <s>',
      'AWS: seconds without a new landing file after which the stream counts as landed',
      '60',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 the lake equals the table, 1 it differs, 2 bad input, 3 could not decide (the pipeline did not\n' +
        'catch up within --timeout, or is stalled, paused or stopped). The rules: docs/verify.md.\n' +
        '\nExamples:\n  ddb-lake verify transaction\n  ddb-lake verify transaction --json --sample 3',
    )
    .action(async (pipeline: string, flags: VerifyFlags) => {
      process.exitCode = await runVerify(pipeline, flags);
    });
}

async function runVerify(pipeline: string, flags: VerifyFlags): Promise<number> {
  if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(pipeline))
    throw new UserError(
      `"${pipeline}" is not a pipeline name`,
      'pipeline names are 1-100 characters of a-z, 0-9, "-" and "_" (the "name" in its config)',
    );
  const options: VerifyOptions = {
    pipeline,
    timeoutSeconds: wholeNumber('--timeout', flags.timeout, 1, 86400),
    sample: wholeNumber('--sample', flags.sample, 0, 10000),
    segments: wholeNumber('--segments', flags.segments, 1, 64),
    quietSeconds: wholeNumber('--quiet-seconds', flags.quietSeconds, 1, 3600),
    // A copy of either side does not follow the pipeline: nothing to wait for.
    wait: flags.wait && flags.table === undefined && flags.lake === undefined,
    lake: flags.lake !== undefined ? normaliseLakeLocation(flags.lake) : undefined,
    table: flags.table,
  };
  if (flags.table !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(flags.table))
    throw new UserError(`--table ${flags.table} is not a DynamoDB table name`);
  const env = resolveEnvironment();
  const client = await PipelineClient.connect(env);
  const line = new ProgressLine();
  try {
    const report = await verifyPipeline(env, client, {
      ...options,
      onProgress: (p) =>
        line.update(
          `verify: waiting for ${pipeline} to catch up · ${p.landing} · ${p.lake} · ${Math.round(p.elapsedSeconds)} s of ${p.timeoutSeconds} s`,
        ),
    });
    line.end();
    if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(formatVerifyReport(report));
    return report.equal ? 0 : 1;
  } finally {
    line.end();
    await client.close();
  }
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max)
    throw new UserError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  return n;
}
