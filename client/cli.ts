import { Command, CommanderError } from 'commander';
import { describeError, isUserError } from '../core/errors';
import { registerStackCommands } from './commands/stack';
import { registerSetupCommand } from './commands/setup';
import { registerPollerCommand } from './commands/poller';
import { registerPipelineCommands } from './commands/pipeline';
import { registerWorkerCommand } from './commands/worker';
import { registerDataCommands } from './commands/data';
import { registerPackageAwsCommand } from './commands/package-aws';

/** Builds the `ddb-lake` program; every command's one-line purpose shows in `--help`. */
export function buildProgram(): Command {
  const program = new Command('ddb-lake')
    .description('Replicate DynamoDB tables into an Apache Hudi lake, orchestrated by Temporal.')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .exitOverride();
  registerSetupCommand(program);
  registerStackCommands(program);
  registerPollerCommand(program);
  registerWorkerCommand(program);
  registerPipelineCommands(program);
  registerDataCommands(program);
  registerPackageAwsCommand(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. Errors the user can fix print without a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isUserError(err)) {
      console.error(`ddb-lake: ${describeError(err)}`);
      return err.exitCode;
    }
    console.error('ddb-lake: unexpected error (a bug; please report it with this output):');
    console.error(err);
    return 1;
  }
}
