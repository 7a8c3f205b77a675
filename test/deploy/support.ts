import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize, type Synthesized } from '../../deploy/app';
import { deploymentTargets, type DeploySettings, type DeploymentTargets } from '../../deploy/targets';
import { REPO_ROOT, toolchainPaths } from '../../core/toolchain';

/** configs/transaction-aws.json, the AWS example the README deploys. */
export const AWS_EXAMPLE = join(REPO_ROOT, 'configs', 'transaction-aws.json');

export function awsExample(): Record<string, any> {
  return JSON.parse(readFileSync(AWS_EXAMPLE, 'utf8'));
}

/** A scratch folder removed when the process exits. */
export function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ddb-lake-${prefix}-`));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes each config to `dir` and returns the files. */
export function writeConfigs(dir: string, configs: Record<string, unknown>[]): string[] {
  return configs.map((c, i) => {
    const file = join(dir, `pipeline-${i}.json`);
    writeFileSync(file, JSON.stringify(c));
    return file;
  });
}

export interface SynthesizedFor extends Synthesized {
  targets: DeploymentTargets;
  template: Record<string, any>;
}

export function synthFiles(files: string[], out: string, settings?: DeploySettings): SynthesizedFor {
  const targets = deploymentTargets(files, settings);
  const s = synthesize(targets, out);
  return { ...s, targets, template: JSON.parse(readFileSync(s.templateFile, 'utf8')) };
}

/** Resources of one type: logical id → resource. */
export function resourcesOf(template: Record<string, any>, type: string): [string, any][] {
  return Object.entries(template.Resources as Record<string, any>).filter(([, r]) => r.Type === type);
}

/** Runs the venv's cfn-lint on the templates in `dir`; its output, and exit code 0 when clean. */
export function cfnLint(dir: string): { templates: string[]; status: number | null; output: string } {
  const templates = readdirSync(dir)
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => join(dir, f));
  const r = spawnSync(join(toolchainPaths().venv, 'bin', 'cfn-lint'), ['--format', 'parseable', ...templates], {
    encoding: 'utf8',
  });
  if (r.error)
    throw new Error(`cannot run cfn-lint from the venv (${r.error.message}): run \`node bin/ddb-lake.js setup\``);
  return { templates, status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
