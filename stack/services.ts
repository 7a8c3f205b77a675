import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/toolchain';
import type { Toolchain } from './setup';
import { allOf, httpProbe, motoProbe, temporalProbe, type Probe } from './health';
import type { PortSetting, StackOptions } from './options';

/**
 * The services of the local stack. Adding one is a spec: how to launch it (or undefined while it
 * cannot be launched, which leaves it out), its fixed ports, its health probe, and which services
 * it needs first. `up` starts them in dependency order, `down` stops them in reverse.
 */
export interface ServiceSpec {
  name: string;
  /** Services that must be healthy before this one starts. */
  after: string[];
  /** Fixed ports it binds (checked free before it starts), by the setting that chooses them. */
  ports: PortSetting[];
  launch(ctx: ServiceContext): ServiceLaunch | undefined;
  probe(ctx: ProbeContext): Probe;
  /** What `up` prints about it once healthy. */
  describe(ctx: ProbeContext): string;
}

export interface ServiceLaunch {
  command: string;
  args: string[];
  /** Added to the environment; DDB_LAKE_STATE always points at the stack's state folder. */
  env?: Record<string, string>;
}

export interface ProbeContext {
  options: StackOptions;
  endpoints: { temporalAddress: string; uiUrl: string; awsEndpoint: string };
}

export interface ServiceContext extends ProbeContext {
  toolchain: Toolchain;
}

export function endpointsOf(options: StackOptions): ProbeContext['endpoints'] {
  return {
    temporalAddress: `${options.host}:${options.temporalPort}`,
    uiUrl: `http://${options.host}:${options.temporalUiPort}`,
    awsEndpoint: `http://${options.host}:${options.awsPort}`,
  };
}

const temporal: ServiceSpec = {
  name: 'temporal',
  after: [],
  ports: ['temporalPort', 'temporalUiPort'],
  launch: ({ options, toolchain }) => {
    const dataDir = join(options.stateDir, 'temporal');
    mkdirSync(dataDir, { recursive: true });
    // All of the dev server's listeners (gRPC, UI, and the HTTP API, metrics and internal
    // services on random ports) bind --ip, so loopback only.
    return {
      command: toolchain.temporalCli,
      args: [
        'server',
        'start-dev',
        '--ip',
        options.host,
        '--port',
        String(options.temporalPort),
        '--ui-port',
        String(options.temporalUiPort),
        '--db-filename',
        join(dataDir, 'temporal.db'),
        '--namespace',
        options.namespace,
      ],
    };
  },
  probe: ({ options, endpoints }) =>
    allOf(temporalProbe(endpoints.temporalAddress, options.namespace), httpProbe(endpoints.uiUrl)),
  describe: ({ endpoints, options }) =>
    `Temporal ${endpoints.temporalAddress} (namespace ${options.namespace}), UI ${endpoints.uiUrl}`,
};

const moto: ServiceSpec = {
  name: 'moto',
  after: [],
  ports: ['awsPort'],
  launch: ({ options, toolchain }) => ({
    command: toolchain.python,
    args: [
      join(REPO_ROOT, 'stack', 'moto', 'moto_server.py'),
      '--host',
      options.host,
      '--port',
      String(options.awsPort),
    ],
    env: { PYTHONNOUSERSITE: '1', PYTHONUNBUFFERED: '1' },
  }),
  probe: ({ options, endpoints }) => motoProbe(endpoints.awsEndpoint, options.region),
  describe: ({ endpoints, options }) =>
    `DynamoDB, DynamoDB Streams and S3 at ${endpoints.awsEndpoint} (region ${options.region})`,
};

/**
 * A service that is our own CLI command (`node bin/ddb-lake.js <command>`); it finds the stack's
 * endpoints through DDB_LAKE_STATE. Its health is "still running".
 */
function cliService(name: string, command: string, after: string[]): ServiceSpec {
  return {
    name,
    after,
    ports: [],
    launch: () => ({ command: process.execPath, args: [join(REPO_ROOT, 'bin', 'ddb-lake.js'), command] }),
    probe: () => async () => undefined,
    describe: () => `\`ddb-lake ${command}\``,
  };
}

/** In start order. */
export const SERVICES: readonly ServiceSpec[] = [
  temporal,
  moto,
  cliService('poller', 'poller', ['moto']),
  cliService('worker', 'worker', ['temporal', 'moto']),
];
