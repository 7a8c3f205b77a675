import type { Command } from 'commander';
import { relative } from 'node:path';
import { REPO_ROOT } from '../../core/toolchain';
import { packageAws } from '../deploy/package-aws';

export function registerPackageAwsCommand(program: Command): void {
  program
    .command('package-aws')
    .description('build what to deploy on AWS: the stream Lambda zip, the Glue scripts and their package zip')
    .option('--out <dir>', 'output folder', 'dist/aws')
    .addHelpText(
      'after',
      '\nRun `npm run build` first. Where each file goes, and the rest of an AWS deployment: docs/aws.md.',
    )
    .action((opts: { out: string }) => {
      const a = packageAws(opts.out === 'dist/aws' ? undefined : opts.out);
      const rel = (p: string) => relative(process.cwd(), p) || p;
      console.log(
        `stream Lambda   ${rel(a.lambdaZip)}  (handler lambda/index.handler; ${a.lambdaFiles.length} files: ${a.lambdaFiles.join(', ')})`,
      );
      console.log(`Glue package    ${rel(a.glueZip)}  (--extra-py-files)`);
      console.log(`Glue scripts    ${a.glueScripts.map(rel).join(', ')}`);
      console.log(`next            upload and wire them as in ${relative(process.cwd(), `${REPO_ROOT}/docs/aws.md`)}`);
    });
}
