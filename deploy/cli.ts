/**
 * `npm run deploy:synth -- --config <file>` and `npm run deploy -- --config <file>`: the CDK app's
 * front door. Synth writes the CloudFormation template and assets to deploy/cdk.out/ without any
 * AWS call; deploy checks the account (deploy/preflight.ts), synthesizes and hands the assembly to
 * the aws-cdk CLI with the parameters it found. Bad input is one line naming the fix, not a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { relative, resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describeError, isUserError, UserError } from '../core/errors';
import { REPO_ROOT } from '../core/toolchain';
import { synthesize, type Synthesized } from './app';
import { preflight } from './preflight';
import { DEFAULT_SETTINGS, deploymentTargets, type DeploySettings, type DeploymentTargets } from './targets';

export const DEFAULT_OUT = resolve(REPO_ROOT, 'deploy', 'cdk.out');

interface Options {
  config: string[];
  stackName: string;
  temporalSecret: string;
  out: string;
}

function withCommonOptions(command: Command): Command {
  return command
    .requiredOption(
      '--config <file>',
      'a pipeline config file (repeat it: one stack deploys every pipeline of a worker)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option('--stack-name <name>', 'CloudFormation stack name', DEFAULT_SETTINGS.stackName)
    .option(
      '--temporal-secret <name>',
      'Secrets Manager secret holding the Temporal connection',
      DEFAULT_SETTINGS.temporalSecretName,
    )
    .option('--out <dir>', 'where the cloud assembly (templates, assets) is written', DEFAULT_OUT);
}

export function buildProgram(): Command {
  const program = new Command('deploy')
    .description('Deploy ddb-lake pipelines to AWS with the AWS CDK (docs/aws.md).')
    .exitOverride();
  withCommonOptions(
    program.command('synth').description('write the CloudFormation template and assets (no AWS access needed)'),
  ).action((opts: Options) => {
    const { targets, synthesized } = synth(opts);
    report(targets, synthesized);
  });
  withCommonOptions(
    program
      .command('deploy')
      .description('check the account, then deploy the stack with the aws-cdk CLI (after `cdk bootstrap`)'),
  )
    .argument('[cdkArgs...]', 'more arguments for `cdk deploy` after a `--`, e.g. -- --require-approval never')
    .action(async (cdkArgs: string[], opts: Options) => {
      const targets = targetsOf(opts);
      const parameters = await preflight(targets);
      const synthesized = synthesizeOrExplain(targets, opts.out);
      report(targets, synthesized);
      cdkDeploy(synthesized, targets.settings, parameters, cdkArgs);
    });
  return program;
}

function targetsOf(opts: Options): DeploymentTargets {
  const settings: DeploySettings = { stackName: opts.stackName, temporalSecretName: opts.temporalSecret };
  return deploymentTargets(opts.config, settings);
}

function synth(opts: Options): { targets: DeploymentTargets; synthesized: Synthesized } {
  const targets = targetsOf(opts);
  return { targets, synthesized: synthesizeOrExplain(targets, opts.out) };
}

/** A construct's own validation (e.g. a bucket name S3 does not allow) is bad input too. */
function synthesizeOrExplain(targets: DeploymentTargets, out: string): Synthesized {
  try {
    return synthesize(targets, out);
  } catch (err) {
    if ((err as Error).name === 'ValidationError')
      throw new UserError(
        `the stack cannot be built: ${(err as Error).message.split('\n')[0]}`,
        'fix the config field it names',
      );
    throw err;
  }
}

function report(targets: DeploymentTargets, s: Synthesized): void {
  const stack = s.assembly.getStackByName(s.stack.stackName);
  const resources = Object.keys((stack.template as { Resources?: object }).Resources ?? {}).length;
  console.error(
    `ddb-lake deploy: stack ${stack.stackName} (${resources} resources) for pipeline(s) ${targets.pipelines.map((p) => p.config.name).join(', ')}`,
  );
  console.error(`  template    ${relative(process.cwd(), s.templateFile)}`);
  console.error(
    `  parameters  ${Object.keys((stack.template as { Parameters?: object }).Parameters ?? {})
      .filter((p) => p !== 'BootstrapVersion')
      .join(', ')} (filled by \`npm run deploy\`)`,
  );
  for (const m of stack.messages.filter((m) => m.level !== ('info' as typeof m.level)))
    console.error(
      `  ${m.level}     ${m.id}: ${typeof m.entry.data === 'string' ? m.entry.data : JSON.stringify(m.entry.data)}`,
    );
}

function cdkDeploy(
  s: Synthesized,
  settings: DeploySettings,
  parameters: Record<string, string>,
  cdkArgs: string[],
): void {
  let cdk: string;
  try {
    cdk = require.resolve('aws-cdk/bin/cdk');
  } catch {
    throw new UserError(
      'the aws-cdk CLI is not installed',
      'run `npm ci` (the deploy tools are development dependencies)',
    );
  }
  const args = [cdk, 'deploy', '--app', s.assembly.directory, settings.stackName];
  for (const [name, value] of Object.entries(parameters))
    args.push('--parameters', `${settings.stackName}:${name}=${value}`);
  const result = spawnSync(process.execPath, [...args, ...cdkArgs], { stdio: 'inherit' });
  if (result.status !== 0)
    throw new UserError(
      `cdk deploy failed (exit code ${result.status ?? result.signal})`,
      'its output above says why; `cdk bootstrap` must have run once in this account and region',
      1,
    );
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isUserError(err)) {
      console.error(`ddb-lake deploy: ${describeError(err).replace('\n  → ', '; ')}`);
      return err.exitCode;
    }
    console.error('ddb-lake deploy: unexpected error (a bug; please report it with this output):');
    console.error(err);
    return 1;
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv).then((code) => process.exit(code));
}
