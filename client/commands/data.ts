import type { Command } from 'commander';
import { registerGenerateCommand } from '../data/generate-command';
import { registerSqlCommand } from '../data/sql-command';

/** Commands that write test data into the table and read the lake: `generate`, `sql`. */
export function registerDataCommands(program: Command): void {
  registerGenerateCommand(program);
  registerSqlCommand(program);
}
