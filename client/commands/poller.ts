import type { Command } from 'commander';

export function registerPollerCommand(_program: Command): void {}
