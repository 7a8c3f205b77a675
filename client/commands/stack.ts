import type { Command } from 'commander';
import { UserError } from '../../core/errors';

export function registerStackCommands(program: Command): void {
  program.command('up').description('start the local stack (Temporal dev server, moto, stream poller)').action(() => {
    throw new UserError('up is not implemented yet');
  });
  program.command('down').description('stop the local stack started by `up`').action(() => {
    throw new UserError('down is not implemented yet');
  });
}
