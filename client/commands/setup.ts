import type { Command } from 'commander';
import { UserError } from '../../core/errors';

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('install the toolchain (Temporal CLI, Python venv, Spark/Hudi jars) into the cache')
    .action(() => {
      throw new UserError('setup is not implemented yet');
    });
}
