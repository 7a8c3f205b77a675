import type { Command } from 'commander';
import { PORT_SETTINGS, resolveStackOptions, type StackFlags } from '../../stack/options';
import { down, status, up } from '../../stack/stack';

const PORTS_HELP =
  '\nPorts (flag, else environment variable, else default; all bound to 127.0.0.1):\n' +
  `  ${PORT_SETTINGS.temporalPort.flag.padEnd(20)} ${PORT_SETTINGS.temporalPort.env.padEnd(27)} Temporal gRPC (7233)\n` +
  `  ${PORT_SETTINGS.temporalUiPort.flag.padEnd(20)} ${PORT_SETTINGS.temporalUiPort.env.padEnd(27)} Temporal UI (Temporal port + 1000)\n` +
  `  ${PORT_SETTINGS.awsPort.flag.padEnd(20)} ${PORT_SETTINGS.awsPort.env.padEnd(27)} moto: DynamoDB, Streams, S3 (5055)\n` +
  '  --region             DDB_LAKE_REGION             AWS region name for moto (us-east-1)\n' +
  'State (stack.json, Temporal SQLite file, logs/): $DDB_LAKE_STATE, else .ddb-lake in the repository.';

function portOptions(cmd: Command): Command {
  return cmd
    .option(`${PORT_SETTINGS.temporalPort.flag} <port>`, 'Temporal gRPC port')
    .option(`${PORT_SETTINGS.temporalUiPort.flag} <port>`, 'Temporal UI port')
    .option(`${PORT_SETTINGS.awsPort.flag} <port>`, 'moto port (DynamoDB, DynamoDB Streams, S3)')
    .option('--region <name>', 'AWS region name moto answers for')
    .addHelpText('after', PORTS_HELP);
}

const say = (line: string) => console.log(line);

export function registerStackCommands(program: Command): void {
  portOptions(
    program
      .command('up')
      .description(
        'start the local stack (Temporal dev server, moto, stream poller, worker) in the background, or reuse it if running',
      )
      .option('--start-timeout <seconds>', 'how long each service may take to become healthy', '90'),
  ).action(async (flags: StackFlags) => {
    const started = Date.now();
    const options = resolveStackOptions(flags);
    const { info } = await up(options, say);
    say(
      `local stack ready in ${Math.round((Date.now() - started) / 100) / 10} s — state ${info.stateDir}; stop it with \`ddb-lake down\``,
    );
  });

  program
    .command('down')
    .description('stop the local stack started by `up` (its state and logs stay)')
    .option('--stop-timeout <seconds>', 'how long to wait after SIGTERM before SIGKILL', '15')
    .action(async (flags: StackFlags) => {
      await down(resolveStackOptions({ stopTimeout: flags.stopTimeout }), say);
    });

  const stack = program
    .command('stack')
    .description('inspect the local stack (`stack status [--json]`: endpoints, services, health)');
  portOptions(
    stack
      .command('status')
      .description('show the local stack: endpoints, services, health (exit 0 only when all are healthy)')
      .option('--json', 'print the StackInfo JSON (endpoints, services with pid/log/health) for other tools'),
  ).action(async (flags: StackFlags & { json?: boolean }) => {
    const s = await status(resolveStackOptions(flags));
    if (flags.json) console.log(JSON.stringify(s, null, 2));
    else {
      say(`state:     ${s.state} (${s.stateDir})`);
      say(`temporal:  ${s.temporal.address}  namespace ${s.temporal.namespace}  UI ${s.temporal.uiUrl}`);
      say(`aws:       ${s.aws.endpoint}  region ${s.aws.region}`);
      for (const svc of s.services)
        say(`  ${svc.name.padEnd(9)} ${String(svc.health).padEnd(9)} pid ${svc.pid}  log ${svc.logFile}`);
      for (const p of s.processes ?? [])
        say(`  ${p.name.padEnd(9)} running   pid ${p.pid}  ${p.describe}  log ${p.logFile}`);
      if (s.state === 'stopped') say('start it with `ddb-lake up`');
    }
    if (s.state !== 'running') process.exitCode = 1;
  });
}
