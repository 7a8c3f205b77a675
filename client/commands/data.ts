import type { Command } from 'commander';
import { registerGenerateCommand } from '../data/generate-command';
import { registerSqlCommand } from '../data/sql-command';
import { registerVerifyCommand } from '../verify/verify-command';

/** Commands that write test data into the table and read the lake: `generate`, `sql`, `verify`. */
export function registerDataCommands(program: Command): void {
  registerGenerateCommand(program);
  registerSqlCommand(program);
  registerVerifyCommand(program);
}
