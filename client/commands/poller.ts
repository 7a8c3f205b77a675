import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { awsClientConfig } from '../../core/aws';
import { resolveEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { LocalEventSourceMapping } from '../../stack/poller/poller';
import { ESM_DEFAULTS, settingsProblems, type EsmSettings } from '../../stack/poller/settings';

interface PollerFlags {
  table?: string[];
  landing?: string;
  batchSize: string;
  batchWindow: string;
  maxRetries: string;
  bisect: boolean;
  maxWriteSeconds: string;
  functionTimeout: string;
  pollInterval: string;
  discoverInterval: string;
  esmDir?: string;
}

const FLAG_OF: Record<keyof EsmSettings, string> = {
  batchSize: '--batch-size',
  batchWindowSeconds: '--batch-window',
  maxRetryAttempts: '--max-retries',
  bisectBatchOnFunctionError: '--no-bisect',
  maxWriteSeconds: '--max-write-seconds',
  functionTimeoutSeconds: '--function-timeout',
  pollIntervalMs: '--poll-interval',
  discoverIntervalSeconds: '--discover-interval',
  statusIntervalSeconds: '(status interval)',
};

/**
 * Defaults a stack can set for the poller it starts (`up` passes its environment to its services; the
 * freshness benchmark uses them): DDB_LAKE_ESM_BATCH_SIZE, DDB_LAKE_ESM_BATCH_WINDOW. Flags win.
 */
export const POLLER_ENV = {
  batchSize: 'DDB_LAKE_ESM_BATCH_SIZE',
  batchWindowSeconds: 'DDB_LAKE_ESM_BATCH_WINDOW',
} as const;

function fromEnv(name: string, fallback: number): string {
  const v = process.env[name];
  return v !== undefined && v.trim() !== '' ? v.trim() : String(fallback);
}

export function registerPollerCommand(program: Command): void {
  const d = ESM_DEFAULTS;
  program
    .command('poller')
    .description('run the local event source mapping: stream of every table → stream handler → landing minute files')
    .option(
      '--table <name>',
      'capture only this table (repeat for several); default: every table with a stream',
      collect,
    )
    .option(
      '--landing <s3uri>',
      'landing location of the one table named by --table (default: mappings.json, else s3://ddb-lake-local/landing/<table>/)',
    )
    .option(
      '--batch-size <n>',
      `records per handler invocation (Lambda BatchSize, 1-10000; default $${POLLER_ENV.batchSize} or ${d.batchSize})`,
      fromEnv(POLLER_ENV.batchSize, d.batchSize),
    )
    .option(
      '--batch-window <seconds>',
      `seconds to gather records before invoking with a partial batch (MaximumBatchingWindowInSeconds; default $${POLLER_ENV.batchWindowSeconds} or ${d.batchWindowSeconds})`,
      fromEnv(POLLER_ENV.batchWindowSeconds, d.batchWindowSeconds),
    )
    .option(
      '--max-retries <n>',
      'retries of a failing batch before it is discarded to <esm>/failed/ (-1: until it succeeds)',
      String(d.maxRetryAttempts),
    )
    .option('--no-bisect', 'do not split a batch in two when the handler throws (BisectBatchOnFunctionError)')
    .option(
      '--max-write-seconds <s>',
      "the handler's write deadline (docs/landing.md rule 2)",
      String(d.maxWriteSeconds),
    )
    .option(
      '--function-timeout <s>',
      'an invocation running longer is a function error (the Lambda timeout)',
      String(d.functionTimeoutSeconds),
    )
    .option('--poll-interval <ms>', 'pause between GetRecords calls on a caught-up shard', String(d.pollIntervalMs))
    .option(
      '--discover-interval <s>',
      'how often tables, streams and shards are rediscovered',
      String(d.discoverIntervalSeconds),
    )
    .option('--esm-dir <dir>', 'checkpoints, mappings.json and status.json (default: <state>/esm)')
    .addHelpText(
      'after',
      '\nCheckpoints: <esm>/checkpoints/<table>/<stream>/<shard>.json (last delivered sequence number).\n' +
        'Lag: <esm>/status.json, rewritten every few seconds. SIGTERM/SIGINT: finish the batch in flight, then exit.',
    )
    .action(async (flags: PollerFlags) => {
      await runPollerCommand(flags);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function numberFlag(flag: string, text: string, integer = true): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
    throw new UserError(`${flag} ${text} is not ${integer ? 'a whole number' : 'a number'}`);
  return n;
}

export function pollerSettings(flags: PollerFlags): EsmSettings {
  const maxWriteSeconds = numberFlag('--max-write-seconds', flags.maxWriteSeconds);
  const settings: EsmSettings = {
    batchSize: numberFlag('--batch-size', flags.batchSize),
    batchWindowSeconds: numberFlag('--batch-window', flags.batchWindow, false),
    maxRetryAttempts: numberFlag('--max-retries', flags.maxRetries),
    bisectBatchOnFunctionError: flags.bisect,
    maxWriteSeconds,
    functionTimeoutSeconds: numberFlag('--function-timeout', flags.functionTimeout),
    pollIntervalMs: numberFlag('--poll-interval', flags.pollInterval),
    discoverIntervalSeconds: numberFlag('--discover-interval', flags.discoverInterval, false),
    statusIntervalSeconds: ESM_DEFAULTS.statusIntervalSeconds,
  };
  const problems = settingsProblems(settings);
  if (problems.length) {
    const named = problems.map((p) =>
      p.replace(/\b(\w+)\b/g, (w) => (w in FLAG_OF ? FLAG_OF[w as keyof EsmSettings] : w)),
    );
    throw new UserError(
      `invalid poller options:\n  - ${named.join('\n  - ')}`,
      'fix the options above (ddb-lake poller --help lists them)',
    );
  }
  return settings;
}

async function runPollerCommand(flags: PollerFlags): Promise<void> {
  const settings = pollerSettings(flags);
  if (flags.landing && flags.table?.length !== 1)
    throw new UserError(
      '--landing needs exactly one --table',
      'name the table whose landing it is: ddb-lake poller --table T --landing s3://bucket/prefix/',
    );
  const env = resolveEnvironment();
  if (env.kind !== 'local')
    throw new UserError(
      'the poller stands in for AWS Lambda on the local stack only',
      'on AWS, deploy lambda/ (handler index.handler) with a DynamoDB event source mapping',
    );
  const clientConfig = awsClientConfig(env);
  const poller = new LocalEventSourceMapping(
    {
      settings,
      esmDir: flags.esmDir ?? join(env.stateDir, 'esm'),
      tables: flags.table,
      landingOverrides: flags.landing ? { [flags.table![0]!]: flags.landing } : undefined,
      region: env.aws.region,
      endpoint: env.aws.endpoint,
    },
    {
      dynamodb: new DynamoDBClient(clientConfig),
      streams: new DynamoDBStreamsClient(clientConfig),
      s3: new S3Client(clientConfig),
      log: printLogEntry,
    },
  );
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal forces the exit; one arriving within a second is the same signal sent
    // twice (to the process and to its group, as `timeout` does) and is ignored.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 1000) return;
      console.error(`poller: second ${signal}; exiting now (checkpoints stay at the last delivered batch)`);
      process.exit(130);
    }
    firstSignalAt = Date.now();
    console.error(`poller: ${signal}: finishing the batch in flight, then exiting`);
    poller.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  console.error(
    `poller: reading streams on ${env.aws.endpoint} (batch size ${settings.batchSize}, window ${settings.batchWindowSeconds} s); status in ${join(flags.esmDir ?? join(env.stateDir, 'esm'), 'status.json')}`,
  );
  try {
    await poller.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function printLogEntry(entry: Record<string, unknown>): void {
  const { level = 'info', component, table, message, ...rest } = entry;
  const extras = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const line = `${new Date().toISOString()} ${text(level).padEnd(5)} ${text(component)}${table ? ` ${text(table)}` : ''}: ${text(message)}${extras ? ` ${extras}` : ''}`;
  if (level === 'error' || level === 'warn') console.error(line);
  else console.log(line);
}
