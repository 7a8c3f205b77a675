import type { Command } from 'commander';

export function registerPipelineCommands(_program: Command): void {}
