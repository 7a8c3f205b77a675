import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
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
 * options of a client Connection and of a worker's NativeConnection, and the one place that turns a
 * failed connection into a sentence naming the fix. docs/temporal-connection.md.
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

const TLS_FAILURE =
  /certificate|\bssl\b|\btls\b|handshake|wrong version number|self[- ]signed|unknown ?ca|UnknownIssuer|NotValidForName|invalid peer|corrupt message|ALPN/i;
const AUTH_FAILURE = /UNAUTHENTICATED|PERMISSION_DENIED|Request unauthorized|authentication credentials/i;

function grpcCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'number' ? e.code : e?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The messages of an error and its causes, innermost last. */
function messages(err: unknown): string[] {
  const out: string[] = [];
  let e = err as { message?: unknown; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e)
    if (typeof e.message === 'string') out.push(shortDetail(firstLine(e.message)));
  return out;
}

/** The core SDK's transport errors nest Rust debug output; keep the innermost reason. */
function shortDetail(message: string): string {
  const quoted = /error: "([^"]+)"/.exec(message)?.[1];
  const named = /error: ([A-Za-z]+\([A-Za-z]+\))/.exec(message)?.[1];
  const reason = quoted ?? named ?? message;
  return reason.length > 200 ? `${reason.slice(0, 197)}...` : reason;
}

/** Whether a failure means the server refused the credentials (wrong API key, certificate not allowed). */
export function isAuthFailure(err: unknown): boolean {
  const code = grpcCode(err);
  return code === 16 || code === 7 || messages(err).some((m) => AUTH_FAILURE.test(m));
}

const unreachableHintFor = (endpoint: TemporalEndpoint, local: boolean): string =>
  local && !endpoint.security
    ? 'start the local stack with `ddb-lake up`'
    : 'check TEMPORAL_ADDRESS (host:port) and the network (docs/temporal-connection.md)';

/**
 * A call failed after connecting: one sentence naming the fix — refused credentials, a TLS problem
 * the error names, or an unreachable server. `local`: the server is the local stack's.
 */
export function temporalConnectionError(endpoint: TemporalEndpoint, err: unknown, local = false): UserError {
  const all = messages(err);
  const at = `the Temporal server at ${endpoint.address}`;
  if (isAuthFailure(err))
    return new UserError(
      `${at} refused the credentials (${all.find((m) => AUTH_FAILURE.test(m)) ?? all[0]})`,
      endpoint.security?.apiKey
        ? `check TEMPORAL_API_KEY: is it valid, unexpired, allowed in namespace ${endpoint.namespace}?`
        : `give credentials allowed in namespace ${endpoint.namespace}: TEMPORAL_API_KEY, or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH)`,
    );
  const tls = all.find((m) => TLS_FAILURE.test(m));
  if (tls) return tlsError(endpoint, tls);
  return new UserError(`cannot reach ${at} (${all[0] ?? String(err)})`, unreachableHintFor(endpoint, local));
}

function tlsError(endpoint: TemporalEndpoint, detail: string, serverSpeaksTls?: boolean): UserError {
  const at = `the Temporal server at ${endpoint.address}`;
  if (!endpoint.security?.tls)
    return new UserError(
      serverSpeaksTls ? `${at} speaks TLS; this client does not` : `TLS with ${at} failed (${detail})`,
      'set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA), or use a profile with TLS',
    );
  if (/certificate required|did not return a certificate|peer did not return/i.test(detail))
    return new UserError(
      `${at} requires a client certificate (${detail})`,
      'set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH to a certificate its CA signed',
    );
  if (
    /unknown ca|bad certificate|certificate unknown|right after the TLS handshake/i.test(detail) &&
    endpoint.security.tls.clientCertPair
  )
    return new UserError(
      `${at} refused the client certificate (${detail})`,
      'use a client certificate signed by the CA the server trusts (TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH)',
    );
  if (/wrong version number|packet length|corrupt message|not speak TLS/i.test(detail))
    return new UserError(
      `${at} does not speak TLS (${detail})`,
      'set TEMPORAL_TLS=false for a plaintext server, or check TEMPORAL_ADDRESS',
    );
  return new UserError(
    `TLS with ${at} failed (${detail})`,
    "check TEMPORAL_TLS_SERVER_CA_CERT_PATH (the CA that signed the server's certificate) and TEMPORAL_TLS_SERVER_NAME (a name on that certificate)",
  );
}

/**
 * `Connection.connect` / `NativeConnection.connect` failed. The SDKs often say no more than "failed
 * to connect before the deadline" or "broken pipe", so a failure that does not explain itself is
 * diagnosed with one TLS handshake of our own (same CA, client certificate and server name): a
 * handshake error, a server that speaks TLS to a plaintext client, a plaintext server, a client
 * certificate refused — one sentence naming the fix.
 */
export async function diagnoseConnectFailure(
  endpoint: TemporalEndpoint,
  err: unknown,
  local = false,
): Promise<UserError> {
  if (isAuthFailure(err)) return temporalConnectionError(endpoint, err, local);
  const usesTls = !!endpoint.security?.tls;
  const probe = await tlsProbe(endpoint);
  if (probe.kind === 'unreachable')
    return new UserError(
      `cannot reach the Temporal server at ${endpoint.address} (${probe.detail})`,
      unreachableHintFor(endpoint, local),
    );
  if (!usesTls && probe.spokeTls) return tlsError(endpoint, probe.detail, true);
  if (usesTls && probe.kind === 'tls-failed') return tlsError(endpoint, probe.detail);
  return temporalConnectionError(endpoint, err, local);
}

/** `spokeTls`: the server completed a TLS handshake (whatever it said after). */
type Probe = { kind: 'unreachable' | 'tls-ok' | 'tls-failed'; detail: string; spokeTls: boolean };

function tlsProbe(endpoint: TemporalEndpoint, timeoutMs = 3000): Promise<Probe> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint.address);
  const host = m?.[1] ?? endpoint.address;
  const port = Number(m?.[2] ?? 7233);
  const tls = endpoint.security?.tls;
  // Without TLS configured the question is only whether the server speaks TLS at all.
  const verify = !!tls;
  const servername = tls?.serverNameOverride ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
  const options: TlsOptions = {
    host,
    port,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: verify,
    ...(servername ? { servername } : {}),
    ...(tls?.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls?.clientCertPair
      ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) }
      : {}),
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (p: Probe) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(p);
    };
    let spokeTls = false;
    const socket = tlsConnect(options);
    socket.setTimeout(timeoutMs, () =>
      finish({ kind: 'unreachable', detail: `no answer within ${timeoutMs / 1000} s`, spokeTls }),
    );
    socket.on('secureConnect', () => {
      spokeTls = true;
      socket.resume(); // read what the server says next (an alert about our certificate)
      // TLS 1.3: a server that wants a client certificate says so just after the handshake.
      setTimeout(() => finish({ kind: 'tls-ok', detail: 'TLS handshake succeeded', spokeTls }), 300);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(code))
        finish({ kind: 'unreachable', detail: code, spokeTls });
      else finish({ kind: 'tls-failed', detail: tlsDetail(e), spokeTls });
    });
    socket.on('close', () =>
      finish({
        kind: 'tls-failed',
        detail: spokeTls
          ? 'the server closed the connection right after the TLS handshake'
          : 'the server closed the connection during the TLS handshake',
        spokeTls,
      }),
    );
  });
}

/** `self-signed certificate in certificate chain`, `tlsv13 alert certificate required`, … */
function tlsDetail(e: NodeJS.ErrnoException): string {
  const alert = /(?:SSL routines:[^:]*:)([^:]+)/.exec(e.message)?.[1];
  return (alert ?? firstLine(e.message)).trim();
}

/** Without the variables that would point the stack's own services at another server. */
export function withoutTemporalServerSelection(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const v of TEMPORAL_SERVER_SELECTORS) delete out[v];
  return out;
}
