import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { ConnectionOptions, TLSConfig } from '@temporalio/client';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { UserError } from './errors';

/**
 * The one place that turns Temporal's environment configuration (the convention the `temporal` CLI
 * and every SDK read: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
 * TEMPORAL_PROFILE and the TOML file TEMPORAL_CONFIG_FILE, via @temporalio/envconfig) into the
 * options of a client Connection and of a worker's NativeConnection (a failed connection is explained
 * by core/temporal-connection-errors.ts). docs/temporal-connection.md.
 */

/** Variables that name a server explicitly; without one, the local environment uses its stack's server. */
export const TEMPORAL_SERVER_SELECTORS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'] as const;

/** The SDK's and the `temporal` CLI's default address. */
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export interface TemporalEndpoint {
  address: string;
  namespace: string;
  uiUrl?: string;
  /** TLS, mutual TLS, API key; absent: plaintext (the local stack). Holds secrets: it never prints them. */
  security?: TemporalSecurity;
  /** Where the settings came from, for messages (never a secret). */
  source?: string;
}

/**
 * What a connection needs besides its address: TLS material, the API key, extra gRPC headers. The
 * key and the client's private key are secrets, so this object prints as a description only
 * (JSON, console.log, util.inspect), and nothing of it goes into a workflow input.
 */
export class TemporalSecurity {
  constructor(
    readonly tls: TLSConfig | undefined,
    readonly apiKey: string | undefined,
    readonly metadata: Record<string, string> | undefined,
  ) {}

  /** `TLS`, `mutual TLS`, `TLS + API key`, …: what a message may say about it. */
  describe(): string {
    const tls = this.tls ? (this.tls.clientCertPair ? 'mutual TLS' : 'TLS') : 'no TLS';
    return this.apiKey ? `${tls} + API key` : tls;
  }

  toJSON(): string {
    return this.describe();
  }

  [inspect.custom](): string {
    return `TemporalSecurity(${this.describe()})`;
  }

  toString(): string {
    return this.describe();
  }
}

/** Options for `Connection.connect` and `NativeConnection.connect` alike. */
export type TemporalConnectionOptions = Pick<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> &
  Pick<NativeConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'>;

export function temporalConnectionOptions(endpoint: TemporalEndpoint): TemporalConnectionOptions {
  const s = endpoint.security;
  return {
    address: endpoint.address,
    ...(s?.tls ? { tls: s.tls } : {}),
    ...(s?.apiKey ? { apiKey: s.apiKey } : {}),
    ...(s?.metadata ? { metadata: s.metadata } : {}),
  };
}

/**
 * The Temporal server to use. `stack`: the local stack's server (from its stack.json), used unless a
 * variable of TEMPORAL_SERVER_SELECTORS names another one; then, as without a stack, every setting
 * comes from the environment configuration (variables over the profile of the TOML file).
 */
export function resolveTemporalEndpoint(
  stack?: { address: string; namespace: string; uiUrl?: string },
  env: NodeJS.ProcessEnv = process.env,
): TemporalEndpoint {
  const explicit = TEMPORAL_SERVER_SELECTORS.filter((v) => !!env[v]);
  if (stack && explicit.length === 0) return { ...stack, source: "the local stack's stack.json" };

  const file = env.TEMPORAL_CONFIG_FILE;
  if (file) {
    try {
      readFileSync(file);
    } catch (err) {
      throw new UserError(
        `TEMPORAL_CONFIG_FILE ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        'point TEMPORAL_CONFIG_FILE at a readable TOML file, or unset it',
      );
    }
  }
  const where = configDescription(env);
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: definedOnly(env) });
  } catch (err) {
    throw configError(err, where, env.TEMPORAL_CONFIG_FILE || 'the default config file');
  }

  const tls = profile.tls;
  const fields = [
    ['client certificate', tls?.clientCert, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'client_cert_path'],
    ['client key', tls?.clientKey, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'client_key_path'],
    ['server CA certificate', tls?.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'server_ca_cert_path'],
  ] as const;
  for (const [what, source, variable, tomlKey] of fields)
    checkPem(what, source, env[variable] ? variable : `${tomlKey} of ${where}`);
  if (!tls?.disabled && !!tls?.clientCert !== !!tls?.clientKey)
    throw new UserError(
      `the Temporal ${tls?.clientCert ? 'client certificate has no client key' : 'client key has no client certificate'}`,
      'mutual TLS needs both: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or their _DATA forms)',
    );

  const { connectionOptions, namespace } = toClientOptions(profile);
  const tlsConfig = connectionOptions.tls === true ? {} : connectionOptions.tls ? connectionOptions.tls : undefined;
  const metadata = connectionOptions.metadata as Record<string, string> | undefined;
  const security =
    tlsConfig || connectionOptions.apiKey || metadata
      ? new TemporalSecurity(tlsConfig, connectionOptions.apiKey, metadata)
      : undefined;
  return {
    address: profile.address ?? DEFAULT_TEMPORAL_ADDRESS,
    namespace: namespace ?? 'default',
    ...(security ? { security } : {}),
    source: sourceDescription(env),
  };
}

/** `profile "prod" of /etc/temporal.toml`, `TEMPORAL_* variables over profile …` — for the worker's start-up line. */
function sourceDescription(env: NodeJS.ProcessEnv): string {
  const file = env.TEMPORAL_CONFIG_FILE || defaultConfigFile(env);
  const variables = Object.keys(env).some(
    (k) => k.startsWith('TEMPORAL_') && !['TEMPORAL_CONFIG_FILE', 'TEMPORAL_PROFILE'].includes(k) && !!env[k],
  );
  const profile = file ? `profile "${env.TEMPORAL_PROFILE || 'default'}" of ${file}` : '';
  return variables && profile ? `TEMPORAL_* variables over ${profile}` : profile || 'TEMPORAL_* variables';
}

/** envconfig's default file, when it exists (Linux and macOS layouts). */
function defaultConfigFile(env: NodeJS.ProcessEnv): string | undefined {
  const base =
    process.platform === 'darwin'
      ? env.HOME && join(env.HOME, 'Library', 'Application Support')
      : env.XDG_CONFIG_HOME || (env.HOME && join(env.HOME, '.config'));
  const file = base ? join(base, 'temporalio', 'temporal.toml') : undefined;
  return file && existsSync(file) ? file : undefined;
}

/** `TEMPORAL_* variables over profile "prod" of /etc/temporal.toml` — for messages. */
function configDescription(env: NodeJS.ProcessEnv): string {
  const profile = env.TEMPORAL_PROFILE || 'default';
  const file = env.TEMPORAL_CONFIG_FILE || 'the default config file (~/.config/temporalio/temporal.toml)';
  return `TEMPORAL_* variables over profile "${profile}" of ${file}`;
}

/** The variables as envconfig reads them; an empty TEMPORAL_* value counts as unset (except gRPC headers, where it removes one). */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && (v !== '' || !k.startsWith('TEMPORAL_') || k.startsWith('TEMPORAL_GRPC_META_'))) out[k] = v;
  return out;
}

/** A file named by the configuration must be a readable PEM file; inline data must look like PEM. */
function checkPem(what: string, source: ConfigDataSource | undefined, setting: string): void {
  if (!source) return;
  let text: string;
  if ('path' in source) {
    try {
      text = readFileSync(source.path, 'utf8');
    } catch (err) {
      throw new UserError(
        `the Temporal ${what} ${source.path} (${setting}) cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        `point ${setting.split(' ')[0]} at a readable PEM file`,
      );
    }
  } else text = typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString('utf8');
  if (!text.includes('-----BEGIN '))
    throw new UserError(
      `the Temporal ${what} (${'path' in source ? source.path : setting}) is not PEM (no "-----BEGIN" line)`,
      `give ${setting.split(' ')[0]} a PEM file (the text between -----BEGIN and -----END lines)`,
    );
}

function configError(err: unknown, where: string, file: string): UserError {
  const message = firstLine((err as Error)?.message ?? String(err));
  if (/^Profile '.*' not found/.test(message))
    return new UserError(
      `Temporal ${message.replace(/^Profile/, 'profile').replace('config data', file)}`,
      'set TEMPORAL_PROFILE to a [profile.<name>] of the file, or unset it for "default"',
    );
  if (/Cannot specify both/.test(message))
    return new UserError(`the Temporal configuration (${where}) is contradictory: ${message}`, 'keep one of the two');
  return new UserError(
    `cannot read the Temporal configuration (${where}): ${message}`,
    'fix the TOML file (docs/temporal-connection.md shows one), or point TEMPORAL_CONFIG_FILE elsewhere',
  );
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).trim();
}

/** Without the variables that would point the stack's own services at another server. */
export function withoutTemporalServerSelection(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const v of TEMPORAL_SERVER_SELECTORS) delete out[v];
  return out;
}
