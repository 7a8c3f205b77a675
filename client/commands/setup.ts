import type { Command } from 'commander';
import { runSetup } from '../../stack/setup';

export function registerSetupCommand(program: Command): void {
  program
    .command('setup')
    .description('install the toolchain (Temporal CLI, Python venv, Spark/Hudi jars) into the cache')
    .addHelpText(
      'after',
      '\nIdempotent: what is already in the cache is reused. Cache: $DDB_LAKE_CACHE or ~/.cache/ddb-lake.\n' +
        'Needs Java 17 and Python 3.11; Go ≥ 1.25 to build the Temporal CLI (unless $TEMPORAL_CLI or a new\n' +
        'enough `temporal` on PATH is there) and Maven to fetch jars not yet cached.',
    )
    .action(async () => {
      await runSetup();
    });
}
