import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadPipelineConfig } from '../../core/config';
import { WarmEngines } from '../../activities/local/warm-engines';
import { resolveEnvironment, stateDir } from '../../core/environment';
import { UserError } from '../../core/errors';
import { historyFromJson } from '../history-json';
import { PipelineClient } from '../pipeline-client';
import { preflight } from '../preflight';
import { replayHistory } from '../replay';
import { engineLine, formatList, formatStatus } from '../status-format';

/** Connect, run, always close; the environment comes from DDB_LAKE_ENV (core/environment.ts). */
async function withClient<T>(fn: (c: PipelineClient) => Promise<T>): Promise<T> {
  const client = await PipelineClient.connect(resolveEnvironment());
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

function pipelineName(name: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,99}$/.test(name))
    throw new UserError(
      `"${name}" is not a pipeline name`,
      'pipeline names are 1-100 characters of a-z, 0-9, "-" and "_" (the "name" in its config)',
    );
  return name;
}

export function registerPipelineCommands(program: Command): void {
  program
    .command('start <config>')
    .description('start a pipeline from a config JSON file (the workflow id is its name)')
    .option('--json', 'print the result as JSON')
    .option('--no-checks', 'do not check the table and buckets first (the worker checks them again before it exports)')
    .action(async (file: string, opts: { json?: boolean; checks: boolean }) => {
      const config = loadPipelineConfig(file);
      const env = resolveEnvironment();
      if (opts.checks) await preflight(env, config);
      await withClient(async (c) => {
        const { runId, workerPolling } = await c.start(config);
        print(
          !!opts.json,
          { schemaVersion: 1, pipeline: config.name, runId, workerPolling },
          `started pipeline ${config.name} (run ${runId}); watch it with \`ddb-lake status ${config.name} --watch\`` +
            (workerPolling
              ? ''
              : '\nwarning: no worker is polling task queue ddb-lake yet; start one with `ddb-lake worker`'),
        );
      });
    });

  program
    .command('pause <pipeline>')
    .description('pause a pipeline: a running job finishes, no new one starts')
    .action(async (name: string) => {
      await withClient((c) => c.pause(pipelineName(name)));
      console.log(`pausing ${name}: a running job finishes first; \`ddb-lake resume ${name}\` continues`);
    });

  program
    .command('resume <pipeline>')
    .description('resume a paused or stalled pipeline (a stalled one retries its failed step)')
    .action(async (name: string) => {
      await withClient((c) => c.resume(pipelineName(name)));
      console.log(`resumed ${name}`);
    });

  program
    .command('status <pipeline>')
    .description('phase, watermark, lag, paused/stalled, last runs, last error')
    .option('--json', 'print the status JSON (docs/cli-json.md)')
    .option('--watch', 'refresh until interrupted')
    .option('--every <seconds>', 'refresh period for --watch', '2')
    .action(async (name: string, opts: { json?: boolean; watch?: boolean; every: string }) => {
      pipelineName(name);
      const every = Number(opts.every);
      if (!Number.isFinite(every) || every < 0.5)
        throw new UserError(`--every ${opts.every} is not a number of seconds ≥ 0.5`);
      await withClient(async (c) => {
        for (;;) {
          const s = await c.status(name);
          // The pipeline's warm engine on this machine, if one runs (docs/warm-engine.md).
          const engine = new WarmEngines(stateDir()).list().find((e) => e.pipeline === name && e.running) ?? null;
          if (opts.json) {
            const doc = { ...s, engine };
            console.log(opts.watch ? JSON.stringify(doc) : JSON.stringify(doc, null, 2));
          } else {
            if (opts.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
            console.log(formatStatus(s));
            if (engine) console.log(`  ${engineLine(engine)}`);
          }
          if (!opts.watch || s.execution.status !== 'RUNNING') return;
          await sleep(every * 1000);
        }
      });
    });

  program
    .command('run-now <pipeline>')
    .description('run an incremental cycle now and print its outcome')
    .option('--json', 'print the outcome as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const o = await withClient((c) => c.runNow(pipelineName(name)));
      const text =
        o.status === 'succeeded'
          ? `${o.runKey}: applied ${o.files} file(s) in ${o.durationSeconds.toFixed(1)} s`
          : o.status === 'empty'
            ? `nothing new to apply (${o.durationSeconds.toFixed(1)} s)`
            : `cycle ${o.status}${o.error ? `: ${o.error}` : ''}`;
      print(!!opts.json, { schemaVersion: 1, pipeline: name, ...o }, text);
      if (o.status === 'failed' || o.status === 'stalled') process.exitCode = 1;
    });

  program
    .command('set-interval <pipeline> <seconds>')
    .description('change the cycle interval: seconds from one incremental cycle start to the next (1-86400)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, seconds: string, opts: { json?: boolean }) => {
      const n = Number(seconds);
      if (!/^\d+$/.test(seconds) || n < 1 || n > 86400)
        throw new UserError(`"${seconds}" is not a whole number of seconds from 1 to 86400`);
      const r = await withClient((c) => c.setInterval(pipelineName(name), n));
      print(
        !!opts.json,
        { schemaVersion: 1, pipeline: name, ...r },
        `${name}: interval ${r.previousSeconds} s → ${r.intervalSeconds} s`,
      );
    });

  program
    .command('rebackfill <pipeline>')
    .description(
      'recover from a stream gap: fresh export, reload of the lake from it, then incremental from the new point',
    )
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const r = await withClient((c) => c.rebackfill(pipelineName(name)));
      const waiting = r.waitingForRun ? `; the running job ${r.waitingForRun} finishes first` : '';
      print(
        !!opts.json,
        { schemaVersion: 1, pipeline: name, ...r },
        `${name}: rebackfill ${r.rebackfill} started${waiting}: a fresh export, the lake reloaded from it in place, then incremental cycles from the new export; watch it with \`ddb-lake status ${name} --watch\``,
      );
    });

  program
    .command('stop <pipeline>')
    .description('stop a pipeline: its running job is stopped, then the workflow ends (cancelled)')
    .option('--wait <seconds>', 'wait this long for it to end', '60')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { wait: string; json?: boolean }) => {
      const wait = Number(opts.wait);
      if (!Number.isFinite(wait) || wait < 0) throw new UserError(`--wait ${opts.wait} is not a number of seconds`);
      const status = await withClient((c) => c.stop(pipelineName(name), wait));
      print(
        !!opts.json,
        { schemaVersion: 1, pipeline: name, status },
        status === 'RUNNING' ? `${name}: stop requested, still ending` : `${name}: ${status}`,
      );
    });

  program
    .command('list')
    .description('every pipeline (its latest run), newest first')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (c) => {
        const rows = await c.list();
        const withPhase = await Promise.all(
          rows.map(async (r) => ({
            ...r,
            phase:
              r.status === 'RUNNING'
                ? await c.query(r.pipeline).then(
                    (s) => s.phase,
                    () => null,
                  )
                : null,
          })),
        );
        print(!!opts.json, { schemaVersion: 1, pipelines: withPhase }, formatList(withPhase));
      });
    });

  program
    .command('replay [pipeline]')
    .description('replay recorded history against the current workflow code; explains a nondeterminism')
    .option('--history <file>', 'a history JSON file (`temporal workflow show -o json`, or the Web UI download)')
    .option('--run-id <id>', 'only this run of the pipeline')
    .option('--limit <n>', 'most runs of the pipeline to replay, newest first', '20')
    .option('--json', 'print the results as JSON')
    .action(
      async (name: string | undefined, opts: { history?: string; runId?: string; limit: string; json?: boolean }) => {
        const results: { source: string; ok: boolean; events: number; explanation: string | null }[] = [];
        if (opts.history) {
          if (name) throw new UserError('give either a pipeline or --history <file>, not both');
          let json: unknown;
          try {
            json = JSON.parse(readFileSync(opts.history, 'utf8'));
          } catch (err) {
            throw new UserError(
              `cannot read history file ${opts.history}: ${(err as Error).message}`,
              'export one with `temporal workflow show -w <pipeline> -o json > history.json`',
            );
          }
          let history;
          try {
            history = historyFromJson(json);
          } catch (err) {
            throw new UserError(
              `${opts.history} is not a workflow history: ${(err as Error).message}`,
              'export one with `temporal workflow show -w <pipeline> -o json`',
            );
          }
          results.push({ source: opts.history, ...(await replayHistory(history)) });
        } else {
          if (!name) throw new UserError('replay needs a pipeline name or --history <file>');
          const limit = Number(opts.limit);
          await withClient(async (c) => {
            await c.describe(pipelineName(name));
            const runIds = opts.runId ? [opts.runId] : await c.runIds(name, limit);
            for (const runId of runIds) {
              const history = await c.handle(name, runId).fetchHistory();
              results.push({ source: `${name} run ${runId}`, ...(await replayHistory(history, { workflowId: name })) });
            }
          });
        }
        const text = results
          .map((r) =>
            r.ok ? `${r.source}: ${r.events} events replay cleanly` : `${r.source}: REPLAY FAILED — ${r.explanation}`,
          )
          .join('\n');
        print(!!opts.json, { schemaVersion: 1, results }, text);
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      },
    );
}
