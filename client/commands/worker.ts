import type { Command } from 'commander';
import { bundleWorkflowCode, DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { resolveEnvironment } from '../../core/environment';
import { UserError } from '../../core/errors';
import { logLine } from '../../worker/log-format';
import { describeServices, runWorker, WORKFLOWS_PATH } from '../../worker/worker';
import { TASK_QUEUE } from '../../workflows/definitions';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run the worker that serves every pipeline (task queue ddb-lake); Ctrl-C stops it gracefully')
    .option('--log-level <level>', 'TRACE, DEBUG, INFO, WARN or ERROR', 'INFO')
    .action(async (opts: { logLevel: string }) => {
      const level = opts.logLevel.toUpperCase();
      if (!['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level))
        throw new UserError(`--log-level ${opts.logLevel} is not one of TRACE, DEBUG, INFO, WARN, ERROR`);
      const env = resolveEnvironment();
      // SIGINT / SIGTERM: stop polling, let running activities end (a running job keeps running and
      // is picked up by the next worker), then exit.
      Runtime.install({
        logger: new DefaultLogger(level as LogLevel, logLine),
        shutdownSignals: ['SIGINT', 'SIGTERM'],
        telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
      });
      console.error(
        `ddb-lake worker: task queue ${TASK_QUEUE} on ${env.temporal.address} (namespace ${env.temporal.namespace}, ${env.temporal.security?.describe() ?? 'no TLS'}; from ${env.temporal.source ?? 'defaults'}), ${env.kind} environment`,
      );
      // Bundled here with a warnings-only logger: the worker would log webpack's whole report at INFO.
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath: WORKFLOWS_PATH,
        logger: new DefaultLogger('WARN', logLine),
      });
      await runWorker({ env, workflowBundle }, (services) =>
        console.error(`ddb-lake worker: ${describeServices(services)}`),
      );
      console.error('ddb-lake worker: stopped');
    });
}
