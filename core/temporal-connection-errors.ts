/**
 * Why a Temporal connection failed, in one sentence naming the fix (docs/temporal-connection.md,
 * "When it fails"): refused credentials, a TLS problem, or an unreachable server.
 */
import { connect as tlsConnect, type ConnectionOptions as TlsOptions } from 'node:tls';
import { UserError } from './errors';
import type { TemporalEndpoint } from './temporal-connection';

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
