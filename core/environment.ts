import type { RecordedProcess } from './process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from './errors';
import { resolveTemporalEndpoint, type TemporalEndpoint } from './temporal-connection';
import { REPO_ROOT } from './toolchain';

export type { TemporalEndpoint } from './temporal-connection';

/**
 * Where the parts live. `local` (the default): the embedded stack started by `ddb-lake up`, whose
 * endpoints are read from `<state>/stack.json`. `aws`: real AWS (credentials from the standard AWS
 * chain, never from config). Either way the Temporal server comes from Temporal's environment
 * configuration (core/temporal-connection.ts; the local stack's own server unless one is named).
 */
export type Environment = LocalEnvironment | AwsEnvironment;

export interface LocalEnvironment {
  kind: 'local';
  stateDir: string;
  temporal: TemporalEndpoint;
  aws: { endpoint: string; region: string };
}

export interface AwsEnvironment {
  kind: 'aws';
  temporal: TemporalEndpoint;
  aws: { region?: string };
}

/** What `ddb-lake up` records in `<state>/stack.json` (and `stack status --json` prints). */
export interface StackInfo {
  stateDir: string;
  /** The stack's own dev server: plaintext, loopback. */
  temporal: { address: string; namespace: string; uiUrl: string };
  aws: { endpoint: string; region: string };
  /** The loopback ports the stack was started on (Temporal's other internal ports are random, loopback too). */
  ports: { temporal: number; temporalUi: number; aws: number };
  services: StackService[];
}

export interface StackService {
  name: string;
  /** Pid of the service's process, which leads its own process group (pgid = pid). */
  pid: number;
  /** Identifies that process for its lifetime (start time), so a reused pid is never signalled. */
  processToken: string;
  /** The command line it was started with. */
  command: string[];
  logFile: string;
  /** Its main port, if it listens. */
  port?: number;
  /** Every fixed port it listens on. */
  ports: number[];
  startedAt: string;
  /** Filled by `stack status`: answered its health check / running but not answering / not running. */
  health?: ServiceHealth;
}

export type ServiceHealth = 'healthy' | 'unhealthy' | 'stopped';

/** What `ddb-lake stack status --json` prints: the StackInfo plus the overall state. */
export interface StackStatus extends StackInfo {
  /** running: every service healthy; degraded: some not; stopped: nothing recorded or alive. */
  state: 'running' | 'degraded' | 'stopped';
  /** Process groups started for the stack by others (warm engines: core/process/registry.ts). */
  processes?: RecordedProcess[];
}

/** The local state folder: $DDB_LAKE_STATE, or .ddb-lake in the repository. */
export function stateDir(): string {
  return resolve(process.env.DDB_LAKE_STATE || join(REPO_ROOT, '.ddb-lake'));
}

export function stackInfoPath(dir = stateDir()): string {
  return join(dir, 'stack.json');
}

export function readStackInfo(dir = stateDir()): StackInfo | undefined {
  const file = stackInfoPath(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
  } catch (err) {
    throw new UserError(
      `${file} is damaged (${(err as Error).message})`,
      "stop the stack's processes by hand (see its logs/ folder) and delete the file",
    );
  }
}

/** Resolve the environment from DDB_LAKE_ENV (local | aws) and the running stack. */
export function resolveEnvironment(): Environment {
  const kind = (process.env.DDB_LAKE_ENV || 'local').toLowerCase();
  if (kind === 'aws') {
    return {
      kind: 'aws',
      temporal: resolveTemporalEndpoint(),
      aws: { region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION },
    };
  }
  if (kind !== 'local')
    throw new UserError(`DDB_LAKE_ENV=${kind} is not valid`, 'set DDB_LAKE_ENV to local (default) or aws');
  const dir = stateDir();
  const stack = readStackInfo(dir);
  if (!stack)
    throw new UserError(`the local stack is not running (no ${stackInfoPath(dir)})`, 'start it with `ddb-lake up`');
  return { kind: 'local', stateDir: dir, temporal: resolveTemporalEndpoint(stack.temporal), aws: stack.aws };
}
