import { UserError } from '../core/errors';
import { stateDir as defaultStateDir } from '../core/environment';
import { resolve } from 'node:path';

/**
 * How the local stack is laid out. Every port can be set by a flag or an environment variable
 * (flag wins); the defaults are Temporal's own (7233, UI 8233) and 5055 for moto.
 */
export interface StackOptions {
  stateDir: string;
  /** Every service binds this loopback address only. */
  host: string;
  temporalPort: number;
  temporalUiPort: number;
  awsPort: number;
  region: string;
  namespace: string;
  /** Settings the user chose (flag or env); the others may follow an already running stack. */
  explicit: ReadonlySet<PortSetting>;
  /** How long a service may take to answer its health check after it starts. */
  startTimeoutMs: number;
  /** How long `down` waits after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
}

export type PortSetting = 'temporalPort' | 'temporalUiPort' | 'awsPort';

export const PORT_SETTINGS: Record<PortSetting, { flag: string; env: string; what: string }> = {
  temporalPort: { flag: '--temporal-port', env: 'DDB_LAKE_TEMPORAL_PORT', what: 'Temporal gRPC port' },
  temporalUiPort: { flag: '--temporal-ui-port', env: 'DDB_LAKE_TEMPORAL_UI_PORT', what: 'Temporal UI port' },
  awsPort: { flag: '--aws-port', env: 'DDB_LAKE_AWS_PORT', what: 'moto port' },
};

export const DEFAULT_PORTS = { temporalPort: 7233, awsPort: 5055 } as const;

export interface StackFlags {
  temporalPort?: string;
  temporalUiPort?: string;
  awsPort?: string;
  region?: string;
  stateDir?: string;
  startTimeout?: string;
  stopTimeout?: string;
}

export function parsePort(value: string, source: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1024 || n > 65535)
    throw new UserError(`${source} is "${value}", not a port number`, 'use a whole number from 1024 to 65535');
  return n;
}

function parseSeconds(value: string, source: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600)
    throw new UserError(`${source} is "${value}", not a number of seconds`, 'use a number from 1 to 3600');
  return Math.round(n * 1000);
}

/** Combine flags, environment and defaults; validates every value at the edge. */
export function resolveStackOptions(flags: StackFlags = {}, env: NodeJS.ProcessEnv = process.env): StackOptions {
  const explicit = new Set<PortSetting>();
  const pick = (key: PortSetting): number | undefined => {
    const { flag, env: name } = PORT_SETTINGS[key];
    const fromFlag = flags[key];
    if (fromFlag !== undefined) {
      explicit.add(key);
      return parsePort(fromFlag, flag);
    }
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') {
      explicit.add(key);
      return parsePort(fromEnv, name);
    }
    return undefined;
  };
  const temporalPort = pick('temporalPort') ?? DEFAULT_PORTS.temporalPort;
  // Temporal's own rule: the UI listens on the gRPC port + 1000 unless told otherwise.
  const temporalUiPort = pick('temporalUiPort') ?? temporalPort + 1000;
  const awsPort = pick('awsPort') ?? DEFAULT_PORTS.awsPort;
  const ports = { temporalPort, temporalUiPort, awsPort };
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports) as [PortSetting, number][]) {
    const other = seen.get(port);
    if (other)
      throw new UserError(`${PORT_SETTINGS[key].what} and ${other} are both ${port}`, 'give each service its own port');
    seen.set(port, PORT_SETTINGS[key].what);
  }
  if (temporalUiPort > 65535)
    throw new UserError(`the Temporal UI port would be ${temporalUiPort}`, 'set --temporal-ui-port');
  const region = flags.region ?? env.DDB_LAKE_REGION ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    throw new UserError(`region "${region}" is not an AWS region name`, 'use a name like us-east-1');
  return {
    stateDir: flags.stateDir ? resolve(flags.stateDir) : defaultStateDir(),
    host: '127.0.0.1',
    ...ports,
    region,
    namespace: 'default',
    explicit,
    startTimeoutMs: flags.startTimeout ? parseSeconds(flags.startTimeout, '--start-timeout') : 90_000,
    stopTimeoutMs: flags.stopTimeout ? parseSeconds(flags.stopTimeout, '--stop-timeout') : 15_000,
  };
}
