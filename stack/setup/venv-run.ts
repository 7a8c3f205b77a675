/**
 * `node dist/stack/setup/venv-run.js <tool> [args…]`: runs a tool of the toolchain's Python venv
 * (ruff, cfn-lint, pytest, …) with its exit code, for npm scripts. The venv comes from `ddb-lake setup`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';

const [tool, ...args] = process.argv.slice(2);
if (!tool) {
  console.error('usage: venv-run <tool> [args…]');
  process.exit(2);
}
const bin = join(toolchainPaths().venv, 'bin', tool);
if (!existsSync(bin)) {
  console.error(`${tool} is not in the toolchain venv (${bin}): run \`node bin/ddb-lake.js setup\``);
  process.exit(2);
}
const result = spawnSync(bin, args, {
  cwd: REPO_ROOT,
  stdio: 'inherit',
  env: { ...process.env, PYTHONNOUSERSITE: '1' },
});
process.exit(result.status ?? 1);
