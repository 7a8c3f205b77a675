import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  readStackInfo,
  stackInfoPath,
  type ServiceHealth,
  type StackInfo,
  type StackService,
  type StackStatus,
} from '../core/environment';
import { UserError } from '../core/errors';
import {
  isProcessRunning,
  recordedProcesses,
  spawnDetached,
  stopProcessGroup,
  stopRecordedProcesses,
  tailOfFile,
  writeFileAtomicSync,
} from '../core/process';
import { withoutTemporalServerSelection } from '../core/temporal-connection';
import { withCacheLock } from './setup/cache';
import { ensureToolchain, type Toolchain } from './setup';
import { isPortFree, portHolder } from './ports';
import { PORT_SETTINGS, type PortSetting, type StackOptions } from './options';
import { endpointsOf, SERVICES, type ProbeContext, type ServiceContext, type ServiceSpec } from './services';

/** Where `up`, `down` and `status` say what they do (stdout lines for a person). */
export type Report = (line: string) => void;

export function logsDir(stateDir: string): string {
  return join(stateDir, 'logs');
}

function writeStackInfo(info: StackInfo): void {
  writeFileAtomicSync(stackInfoPath(info.stateDir), JSON.stringify(info, null, 2) + '\n');
}

function baseInfo(options: StackOptions): StackInfo {
  const e = endpointsOf(options);
  return {
    stateDir: options.stateDir,
    temporal: { address: e.temporalAddress, namespace: options.namespace, uiUrl: e.uiUrl },
    aws: { endpoint: e.awsEndpoint, region: options.region },
    ports: { temporal: options.temporalPort, temporalUi: options.temporalUiPort, aws: options.awsPort },
    services: [],
  };
}

/** Settings not chosen explicitly follow the stack already running in the state folder. */
function reconcile(options: StackOptions, existing: StackInfo | undefined): StackOptions {
  if (!existing) return options;
  const recorded: Record<PortSetting, number> = {
    temporalPort: existing.ports.temporal,
    temporalUiPort: existing.ports.temporalUi,
    awsPort: existing.ports.aws,
  };
  const merged = { ...options };
  for (const key of Object.keys(recorded) as PortSetting[]) {
    if (!options.explicit.has(key)) merged[key] = recorded[key];
    else if (options[key] !== recorded[key] && existing.services.some((s) => isProcessRunning(s.pid, s.processToken)))
      throw new UserError(
        `the stack in ${options.stateDir} is running with its ${PORT_SETTINGS[key].what} at ${recorded[key]}, not ${options[key]}`,
        'stop it first with `ddb-lake down`, or use another state folder (DDB_LAKE_STATE) for a second stack',
      );
  }
  if (!options.explicit.size) merged.region = existing.aws.region;
  return merged;
}

async function healthOf(spec: ServiceSpec, record: StackService, ctx: ProbeContext): Promise<ServiceHealth> {
  if (!isProcessRunning(record.pid, record.processToken)) return 'stopped';
  return (await spec.probe(ctx)()) === undefined ? 'healthy' : 'unhealthy';
}

/** Poll the probe until it passes, the process dies, or the timeout passes. */
async function waitHealthy(spec: ServiceSpec, record: StackService, ctx: ServiceContext): Promise<void> {
  const deadline = Date.now() + ctx.options.startTimeoutMs;
  const probe = spec.probe(ctx);
  let last: string | undefined = 'not probed yet';
  while (Date.now() < deadline) {
    if (!isProcessRunning(record.pid, record.processToken))
      throw new UserError(
        `${spec.name} exited while starting; last lines of ${record.logFile}:\n${tailOfFile(record.logFile)}`,
        'fix the cause above and run `ddb-lake up` again',
      );
    last = await probe();
    if (last === undefined) return;
    await sleep(250);
  }
  throw new UserError(
    `${spec.name} did not become healthy within ${Math.round(ctx.options.startTimeoutMs / 1000)} s (${last}); last lines of ${record.logFile}:\n${tailOfFile(record.logFile)}`,
    'look at the log above; a slow machine may need a longer --start-timeout',
  );
}

/** Refuse to start when a port is taken, naming every taken port and the setting that moves it. */
async function assertPortsFree(specs: ServiceSpec[], options: StackOptions): Promise<void> {
  const taken: string[] = [];
  for (const spec of specs)
    for (const key of spec.ports) {
      const port = options[key];
      if (await isPortFree(port, options.host)) continue;
      const holder = portHolder(port);
      const setting = PORT_SETTINGS[key];
      taken.push(
        `port ${port} on ${options.host} (the ${setting.what}) is already in use${holder ? ` by ${holder}` : ''}; ${spec.name} cannot start: choose another port with ${setting.flag} or ${setting.env}`,
      );
    }
  if (taken.length)
    throw new UserError(
      taken.join('\n'),
      'stop the program holding the port, or start the stack on other ports as shown; if it is a stack of ours started elsewhere, `ddb-lake down` there (with its DDB_LAKE_STATE)',
    );
}

export interface UpResult {
  info: StackInfo;
  started: string[];
  reused: string[];
}

/**
 * Start the local stack, or reuse what of it is already running and healthy. On failure, the
 * services this call started are stopped again and the error says why.
 */
export async function up(
  options: StackOptions,
  report: Report = () => undefined,
  toolchain?: Toolchain,
): Promise<UpResult> {
  const tools = toolchain ?? (await ensureToolchain());
  mkdirSync(logsDir(options.stateDir), { recursive: true });
  return withCacheLock(options.stateDir, 'stack', async () => {
    const existing = readStackInfo(options.stateDir);
    const opts = reconcile(options, existing);
    const ctx: ServiceContext = { options: opts, toolchain: tools, endpoints: endpointsOf(opts) };
    const info = baseInfo(opts);
    const result: UpResult = { info, started: [], reused: [] };
    const toStart: { spec: ServiceSpec; launch: NonNullable<ReturnType<ServiceSpec['launch']>> }[] = [];

    for (const spec of SERVICES) {
      const record = existing?.services.find((s) => s.name === spec.name);
      if (record) {
        const health = await healthOf(spec, record, ctx);
        if (health === 'healthy') {
          info.services.push(record);
          result.reused.push(spec.name);
          report(`${spec.name}: already running (pid ${record.pid}) — ${spec.describe(ctx)}`);
          continue;
        }
        if (health === 'unhealthy') {
          report(`${spec.name}: running (pid ${record.pid}) but not answering; restarting it`);
          await stopProcessGroup(record.pid, record.processToken, opts.stopTimeoutMs);
        }
      }
      const launch = spec.launch(ctx);
      if (launch) toStart.push({ spec, launch });
    }
    // Recorded services this build no longer knows stay recorded, so `down` still stops them.
    for (const record of existing?.services ?? [])
      if (!SERVICES.some((s) => s.name === record.name) && isProcessRunning(record.pid, record.processToken))
        info.services.push(record);
    await assertPortsFree(
      toStart.map((s) => s.spec),
      opts,
    );
    writeStackInfo(info);

    const healthy = new Map<string, Promise<void>>();
    for (const s of info.services) healthy.set(s.name, Promise.resolve());
    const startOne = async ({ spec, launch }: (typeof toStart)[number]): Promise<void> => {
      await Promise.all(
        spec.after.map(
          (dep) =>
            healthy.get(dep) ?? Promise.reject(new Error(`${spec.name} needs ${dep}, which is not part of the stack`)),
        ),
      );
      const logFile = join(logsDir(opts.stateDir), `${spec.name}.log`);
      const proc = await spawnDetached(launch.command, launch.args, {
        cwd: opts.stateDir,
        logFile,
        // The stack's worker serves the stack's own server, whatever server TEMPORAL_* names for the CLI.
        env: { ...withoutTemporalServerSelection(process.env), ...launch.env, DDB_LAKE_STATE: opts.stateDir },
      });
      if (proc.token === undefined)
        throw new UserError(
          `${spec.name} exited at once; last lines of ${logFile}:\n${tailOfFile(logFile)}`,
          'fix the cause above and run `ddb-lake up` again',
        );
      const ports = spec.ports.map((k) => opts[k]);
      const record: StackService = {
        name: spec.name,
        pid: proc.pid,
        processToken: proc.token,
        command: [launch.command, ...launch.args],
        logFile,
        ...(ports.length ? { port: ports[0] } : {}),
        ports,
        startedAt: new Date().toISOString(),
      };
      info.services.push(record);
      writeStackInfo(info);
      await waitHealthy(spec, record, ctx);
      result.started.push(spec.name);
      report(`${spec.name}: started (pid ${proc.pid}) — ${spec.describe(ctx)} — log ${logFile}`);
    };
    for (const item of toStart) {
      const p = startOne(item);
      p.catch(() => undefined); // observed below; avoids an unhandled rejection while others run
      healthy.set(item.spec.name, p);
    }
    const outcomes = await Promise.allSettled([...healthy.values()]);
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      // Leave nothing half-started behind: stop what this call started, keep what it reused.
      const mine = info.services.filter((s) => !result.reused.includes(s.name));
      for (const s of mine.reverse())
        await stopProcessGroup(s.pid, s.processToken, opts.stopTimeoutMs).catch(() => undefined);
      info.services = info.services.filter((s) => result.reused.includes(s.name));
      if (info.services.length) writeStackInfo(info);
      else rmSync(stackInfoPath(opts.stateDir), { force: true });
      throw failure.reason;
    }
    // Record services in start order, whatever order they became healthy in.
    info.services.sort(
      (a, b) => SERVICES.findIndex((s) => s.name === a.name) - SERVICES.findIndex((s) => s.name === b.name),
    );
    writeStackInfo(info);
    return result;
  });
}

export interface DownResult {
  stopped: { name: string; pid: number; outcome: string }[];
}

/** Stop exactly the processes `up` recorded (by pid and start token), last started first. */
export async function down(
  options: Pick<StackOptions, 'stateDir' | 'stopTimeoutMs'>,
  report: Report = () => undefined,
): Promise<DownResult> {
  const result: DownResult = { stopped: [] };
  // First what others started for the stack (warm engines): they need moto to end cleanly.
  for (const p of await stopRecordedProcesses(options.stateDir, options.stopTimeoutMs)) {
    result.stopped.push({ name: p.name, pid: p.pid, outcome: p.outcome });
    report(`${p.name}: ${p.outcome} (pid ${p.pid})`);
  }
  if (!readStackInfo(options.stateDir)) {
    report(`no local stack recorded in ${options.stateDir}; nothing to stop`);
    return result;
  }
  return withCacheLock(options.stateDir, 'stack', async () => {
    const info = readStackInfo(options.stateDir);
    for (const s of [...(info?.services ?? [])].reverse()) {
      const outcome = await stopProcessGroup(s.pid, s.processToken, options.stopTimeoutMs);
      result.stopped.push({ name: s.name, pid: s.pid, outcome });
      report(
        `${s.name}: ${outcome === 'not ours' ? `pid ${s.pid} is now another program; left alone` : `${outcome} (pid ${s.pid})`}`,
      );
    }
    rmSync(stackInfoPath(options.stateDir), { force: true });
    return result;
  });
}

/** The recorded stack with each service's health; endpoints from the options when nothing is recorded. */
export async function status(options: StackOptions): Promise<StackStatus> {
  const existing = readStackInfo(options.stateDir);
  if (!existing) return { ...baseInfo(options), state: 'stopped' };
  const opts = reconcile({ ...options, explicit: new Set() }, existing);
  const ctx: ProbeContext = { options: opts, endpoints: endpointsOf(opts) };
  const services: StackService[] = [];
  for (const record of existing.services) {
    const spec = SERVICES.find((s) => s.name === record.name);
    const health: ServiceHealth = spec
      ? await healthOf(spec, record, ctx)
      : isProcessRunning(record.pid, record.processToken)
        ? 'unhealthy'
        : 'stopped';
    services.push({ ...record, health });
  }
  const state =
    services.length > 0 && services.every((s) => s.health === 'healthy')
      ? 'running'
      : services.every((s) => s.health === 'stopped')
        ? 'stopped'
        : 'degraded';
  return { ...existing, services, state, processes: recordedProcesses(options.stateDir) };
}
