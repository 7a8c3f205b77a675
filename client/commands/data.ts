import type { Command } from 'commander';
import { registerGenerateCommand } from '../../tools/generate/generate-command';
import { registerSqlCommand } from '../sql/sql-command';
import { registerVerifyCommand } from '../verify/verify-command';
import { registerDemoCommand } from '../../tools/demo/demo-command';

/** Commands that write test data, read and check the lake, and show it all: `generate`, `sql`, `verify`, `demo`. */
export function registerDataCommands(program: Command): void {
  registerGenerateCommand(program);
  registerSqlCommand(program);
  registerVerifyCommand(program);
  registerDemoCommand(program);
}
