import type { Command } from 'commander';
import { registerGenerateCommand } from '../data/generate-command';
import { registerSqlCommand } from '../data/sql-command';
import { registerVerifyCommand } from '../verify/verify-command';
import { registerDemoCommand } from '../demo/demo-command';

/** Commands that write test data, read and check the lake, and show it all: `generate`, `sql`, `verify`, `demo`. */
export function registerDataCommands(program: Command): void {
  registerGenerateCommand(program);
  registerSqlCommand(program);
  registerVerifyCommand(program);
  registerDemoCommand(program);
}
