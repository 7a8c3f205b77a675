import type { Command } from 'commander';
import { UserError } from '../../core/errors';
import { numberFlag } from '../generate/generate-command';
import { consoleUi, DEMO_DEFAULTS, formatDemoSummary, runDemo, type DemoOptions } from './demo';

interface DemoFlags {
  duration: string;
  rate: string;
  initial: string;
  updateRatio: string;
  deleteRatio: string;
  seed?: string;
  verifyTimeout: string;
  stopPipeline?: boolean;
  json?: boolean;
}

export function registerDemoCommand(program: Command): void {
  const d = DEMO_DEFAULTS;
  program
    .command('demo')
    .description(
      'the brief end to end on the local stack (what `npm start` runs): table, first batch, pipeline, live writes, verify, freshness',
    )
    .option('--duration <seconds>', 'seconds of writes while the pipeline runs', String(d.durationSeconds))
    .option('--rate <writes/s>', 'writes per second while writing', String(d.rate))
    .option('--initial <items>', "items in the first batch (the brief's 7,269)", String(d.initialItems))
    .option('--update-ratio <0..1>', 'share of writes that update a note', String(d.updateRatio))
    .option('--delete-ratio <0..1>', 'share of writes that delete an item', String(d.deleteRatio))
    .option('--seed <seed>', 'same seed, same operations and values')
    .option(
      '--verify-timeout <seconds>',
      'longest wait for the pipeline to catch up before verifying',
      String(d.verifyTimeoutSeconds),
    )
    .option('--stop-pipeline', "stop the demo's pipeline at the end (default: it keeps running so you can explore)")
    .option('--json', 'print the summary as JSON on stdout (progress stays on stderr)')
    .addHelpText(
      'after',
      '\nEach run creates its own table (Transaction-demo-<time>), pipeline (demo-<time>) and lake (<state>/lake/demo-<time>).\n' +
        'The local stack is started if needed and left running; `ddb-lake down` stops it. Ctrl-C stops the writes and\n' +
        "this run's pipeline and leaves the stack running. Exit code: 0 when verify found the lake equal to the table.",
    )
    .action(async (flags: DemoFlags) => {
      process.exitCode = await runDemoCommand(flags);
    });
}

async function runDemoCommand(flags: DemoFlags): Promise<number> {
  const options: DemoOptions = {
    ...DEMO_DEFAULTS,
    durationSeconds: positive('--duration', flags.duration),
    rate: positive('--rate', flags.rate),
    initialItems: whole('--initial', flags.initial, 1),
    updateRatio: numberFlag('--update-ratio', flags.updateRatio)!,
    deleteRatio: numberFlag('--delete-ratio', flags.deleteRatio)!,
    seed: flags.seed,
    verifyTimeoutSeconds: whole('--verify-timeout', flags.verifyTimeout, 1),
    stopPipelineAtEnd: flags.stopPipeline === true,
  };
  if (options.updateRatio < 0 || options.deleteRatio < 0 || options.updateRatio + options.deleteRatio > 1)
    throw new UserError('--update-ratio and --delete-ratio must be between 0 and 1 and add up to at most 1');
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) {
      process.stderr.write(
        '\nsecond Ctrl-C: exiting now (the pipeline may still run: `ddb-lake list`, `ddb-lake stop <name>`; `ddb-lake down` stops the stack)\n',
      );
      process.exit(130);
    }
    process.stderr.write('\nCtrl-C: stopping the writes and the demo pipeline (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await runDemo(options, consoleUi(), abort.signal);
    if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(formatDemoSummary(summary));
    return summary.verify.equal ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function positive(flag: string, text: string): number {
  const n = numberFlag(flag, text)!;
  if (!(n > 0)) throw new UserError(`${flag} must be a positive number (got "${text}")`);
  return n;
}

function whole(flag: string, text: string, min: number): number {
  const n = numberFlag(flag, text)!;
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`${flag} must be a whole number of at least ${min} (got "${text}")`);
  return n;
}
