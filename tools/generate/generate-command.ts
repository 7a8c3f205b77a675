import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { awsClientConfig } from '../../core/aws';
import { resolveEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import {
  DEFAULT_CONCURRENCY,
  resolveGenerateOptions,
  type GenerateProgress,
  type GenerateSummary,
} from './generate-options';
import { generateTransactions } from './generator';
import { INITIAL_BATCH_SIZE } from './transaction-model';
import { ensureTransactionTable } from './transaction-table';

interface GenerateFlags {
  table: string;
  rate?: string;
  duration?: string;
  count?: string;
  updateRatio: string;
  deleteRatio: string;
  seed?: string;
  concurrency: string;
  createTable?: boolean;
  initialBatch?: boolean;
  singleWrites?: boolean;
  log?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description("write the brief's Transaction items to DynamoDB: inserts, note updates and deletes at a steady rate")
    .option('--table <name>', 'DynamoDB table', 'Transaction')
    .option('--rate <writes/s>', 'target writes per second (default: as fast as --concurrency allows)')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--count <writes>', 'stop after this many writes (with --duration: whichever comes first)')
    .option('--update-ratio <0..1>', "share of writes that change an existing item's note (and update_at)", '0')
    .option('--delete-ratio <0..1>', 'share of writes that delete an existing item', '0')
    .option('--seed <seed>', 'same seed, same operations and values (all but the timestamps); default: random, printed')
    .option('--concurrency <n>', 'writes in flight at once', String(DEFAULT_CONCURRENCY))
    .option(
      '--create-table',
      'create the table first (on-demand, NEW_AND_OLD_IMAGES stream, point-in-time recovery); harmless if it exists',
    )
    .option(
      '--initial-batch',
      `the brief's first batch: ${INITIAL_BATCH_SIZE} inserts as fast as allowed (same as --count ${INITIAL_BATCH_SIZE})`,
    )
    .option(
      '--single-writes',
      'write inserts one by one even without a rate (by default a run of only inserts uses BatchWriteItem)',
    )
    .option('--log <file>', 'append one JSON line per write: {seq, op, account, create_at, update_at, writtenAtMs}')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress line')
    .addHelpText(
      'after',
      '\nExamples:\n  ddb-lake generate --create-table --initial-batch\n  ddb-lake generate --rate 100 --duration 300 --update-ratio 0.3 --delete-ratio 0.05 --seed 42 --log writes.jsonl',
    )
    .action(async (flags: GenerateFlags) => {
      process.exitCode = await runGenerate(flags);
    });
}

async function runGenerate(flags: GenerateFlags): Promise<number> {
  if (flags.initialBatch && (flags.count !== undefined || flags.duration !== undefined || flags.rate !== undefined))
    throw new UserError(
      '--initial-batch already sets the count and the rate',
      'leave out --count, --duration and --rate, or leave out --initial-batch',
    );
  const options = resolveGenerateOptions({
    table: flags.table,
    count: flags.initialBatch ? INITIAL_BATCH_SIZE : numberFlag('--count', flags.count),
    durationSeconds: numberFlag('--duration', flags.duration),
    rate: numberFlag('--rate', flags.rate),
    updateRatio: numberFlag('--update-ratio', flags.updateRatio),
    deleteRatio: numberFlag('--delete-ratio', flags.deleteRatio),
    concurrency: numberFlag('--concurrency', flags.concurrency),
    seed: flags.seed,
    batchWrites: flags.singleWrites ? false : undefined,
  });

  const client = new DynamoDBClient(awsClientConfig(resolveEnvironment()));
  try {
    if (flags.createTable) {
      const t = await ensureTransactionTable(client, options.table);
      if (!flags.quiet)
        process.stderr.write(
          `${t.created ? 'created' : 'using'} table ${t.table} (stream NEW_AND_OLD_IMAGES, point-in-time recovery on)\n`,
        );
    }
    const status = flags.quiet ? undefined : new StatusLine(options.count, options.durationSeconds);
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
      process.stderr.write('\nstopping: finishing the writes in flight (Ctrl-C again to quit at once)\n');
    };
    process.on('SIGINT', onSigint);
    let summary: GenerateSummary;
    try {
      const { liveKeys: _unused, ...rest } = await generateTransactions(client, {
        ...options,
        logFile: flags.log,
        signal: abort.signal,
        onProgress: status ? (p) => status.update(p) : undefined,
      });
      summary = rest;
    } finally {
      process.off('SIGINT', onSigint);
      status?.end();
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(describeSummary(summary));
    return summary.errors > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

/** A flag's text as a number; the range is checked by resolveGenerateOptions. */
export function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text))
    throw new UserError(`${flag} must be a number (got "${raw}")`);
  return Number(text);
}

export function describeSummary(s: GenerateSummary): string {
  const target =
    s.targetRate === null
      ? `as fast as allowed${s.batchWrites ? ', 25 per BatchWriteItem' : ''}`
      : `target ${s.targetRate}/s`;
  const lines = [
    `wrote ${s.written} of ${s.planned} writes to ${s.table} in ${s.durationSeconds.toFixed(1)} s: ${s.ratePerSecond}/s (${target}, concurrency ${s.concurrency}; stopped by ${s.stoppedBy})`,
    `  inserts ${s.inserts} · updates ${s.updates} · deletes ${s.deletes} · errors ${s.errors}`,
    `  latency p50 ${s.latencyMs.p50} ms · p95 ${s.latencyMs.p95} ms · max ${s.latencyMs.max} ms`,
  ];
  for (const [name, e] of Object.entries(s.errorsByKind)) lines.push(`  ${name} ×${e.count}: ${e.example}`);
  lines.push(`  seed ${s.seed} (the same --seed repeats these operations and values)`);
  return `${lines.join('\n')}\n`;
}

/** One status line on a terminal (rewritten in place); a line every 10 s when stderr is a file or pipe. */
class StatusLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrinted = 0;
  private shown = false;

  constructor(
    private readonly count: number | undefined,
    private readonly durationSeconds: number | undefined,
  ) {}

  update(p: GenerateProgress): void {
    const of = this.count !== undefined ? `/${this.count}` : '';
    const time =
      this.durationSeconds !== undefined
        ? `${p.elapsedSeconds.toFixed(0)}/${this.durationSeconds}s`
        : `${p.elapsedSeconds.toFixed(0)}s`;
    const line = `written ${p.written}${of} (ins ${p.inserts} upd ${p.updates} del ${p.deletes}) · ${p.currentRate.toFixed(1)}/s · errors ${p.errors} · ${time}`;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${line}`);
      this.shown = true;
    } else if (p.elapsedSeconds - this.lastPrinted >= 10) {
      process.stderr.write(`${line}\n`);
      this.lastPrinted = p.elapsedSeconds;
    }
  }

  end(): void {
    if (this.tty && this.shown) process.stderr.write('\n');
  }
}
