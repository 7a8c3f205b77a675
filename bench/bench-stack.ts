import { join } from 'node:path';
import { REPO_ROOT } from '../core/toolchain';
import { resolveStackOptions } from '../stack/options';

/**
 * The stack a bench runs on: its own state folder (`DDB_LAKE_BENCH_STATE`, else
 * `.ddb-lake/bench-<name>`) and its own ports (`DDB_LAKE_BENCH_TEMPORAL_PORT` 7433,
 * `DDB_LAKE_BENCH_TEMPORAL_UI_PORT` 8433, `DDB_LAKE_BENCH_AWS_PORT` 5455), apart from a user's stack.
 */
export function benchStack(name: string) {
  const stateDir = process.env.DDB_LAKE_BENCH_STATE ?? join(REPO_ROOT, '.ddb-lake', `bench-${name}`);
  const stackOptions = resolveStackOptions(
    { stateDir },
    {
      DDB_LAKE_TEMPORAL_PORT: process.env.DDB_LAKE_BENCH_TEMPORAL_PORT ?? '7433',
      DDB_LAKE_TEMPORAL_UI_PORT: process.env.DDB_LAKE_BENCH_TEMPORAL_UI_PORT ?? '8433',
      DDB_LAKE_AWS_PORT: process.env.DDB_LAKE_BENCH_AWS_PORT ?? '5455',
    },
  );
  return { stateDir, stackOptions };
}
