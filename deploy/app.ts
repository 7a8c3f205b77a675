/**
 * The CDK app: pipeline configs in, a cloud assembly (CloudFormation template + assets) out. No AWS
 * call happens here; `deploy/cli.ts` deploys the assembly with the aws-cdk CLI.
 */
import { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { DdbLakeStack } from './stack';
import type { DeploymentTargets } from './targets';

export interface Synthesized {
  assembly: CloudAssembly;
  stack: DdbLakeStack;
  /** Path of the stack's CloudFormation template. */
  templateFile: string;
}

export function synthesize(targets: DeploymentTargets, outdir: string): Synthesized {
  const app = new App({
    outdir,
    // No CDK usage metadata resource in the template.
    analyticsReporting: false,
    context: {
      // Merge a role's statements that differ only in resources or actions: policies stay far below IAM's size limit.
      '@aws-cdk/aws-iam:minimizePolicies': true,
    },
  });
  const stack = new DdbLakeStack(app, targets);
  const assembly = app.synth();
  return { assembly, stack, templateFile: assembly.getStackByName(stack.stackName).templateFullPath };
}
