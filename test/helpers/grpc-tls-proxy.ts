/**
 * A TLS terminator for gRPC in front of a plaintext server (the dev server has no TLS flags): an
 * HTTP/2 server over TLS (ALPN h2; optionally requiring a client certificate signed by a given CA)
 * that forwards every stream, headers, messages and trailers, to the plaintext HTTP/2 upstream. It
 * sees the decrypted request headers, so it can record them and, like Temporal Cloud, refuse a
 * request whose `authorization: Bearer <key>` is not the expected one (gRPC status 16).
 */
import http2, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

export interface GrpcTlsProxyOptions {
  /** host:port of the plaintext gRPC server. */
  upstream: string;
  port: number;
  cert: string;
  key: string;
  /** Require a client certificate signed by this CA (mutual TLS). */
  clientCa?: string;
  /** Refuse (UNAUTHENTICATED) any request without `authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface GrpcTlsProxy {
  port: number;
  /** Requests forwarded or refused: path and authorization header as received. */
  requests: { path: string; authorization: string | undefined; refused: boolean }[];
  /** TLS handshakes that failed (e.g. no or a foreign client certificate). */
  tlsErrors: string[];
  close(): Promise<void>;
}

/** Hop-by-hop headers HTTP/2 forbids, and pseudo-headers the proxy sets itself. */
const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

function forwardable(headers: IncomingHttpHeaders, keepPseudo: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined && !DROP.has(k) && (!k.startsWith(':') || keepPseudo.includes(k))) out[k] = v;
  return out;
}

export async function startGrpcTlsProxy(opts: GrpcTlsProxyOptions): Promise<GrpcTlsProxy> {
  const requests: GrpcTlsProxy['requests'] = [];
  const tlsErrors: string[] = [];
  let upstream: http2.ClientHttp2Session | undefined;
  const session = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = http2.connect(`http://${opts.upstream}`);
      upstream.on('error', () => undefined); // each stream reports its own failure
    }
    return upstream;
  };

  const server = http2.createSecureServer({
    cert: opts.cert,
    key: opts.key,
    ALPNProtocols: ['h2'],
    allowHTTP1: false,
    ...(opts.clientCa ? { ca: opts.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  server.on('tlsClientError', (err) => tlsErrors.push(err.message));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('sessionError', () => undefined);

  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization;
    const path = String(headers[':path']);
    const refused = opts.apiKey !== undefined && authorization !== `Bearer ${opts.apiKey}`;
    requests.push({ path, authorization, refused });
    stream.on('error', () => undefined);
    if (refused) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'Request unauthorized',
        },
        { endStream: true },
      );
      return;
    }
    const req = session().request(forwardable(headers, [':method', ':path', ':authority', ':scheme']));
    req.on('error', () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
    let trailers: IncomingHttpHeaders = {};
    let ended = false;
    req.on('response', (h) => {
      if (stream.destroyed) return;
      const trailersOnly = h['grpc-status'] !== undefined;
      if (trailersOnly) ended = true;
      stream.respond(forwardable(h, [':status']), trailersOnly ? { endStream: true } : { waitForTrailers: true });
    });
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (chunk: Buffer) => {
      if (!stream.destroyed && !ended) stream.write(chunk);
    });
    req.on('end', () => {
      if (!stream.destroyed && !ended) {
        ended = true;
        stream.end();
      }
    });
    stream.on('wantTrailers', () => stream.sendTrailers(forwardable(trailers, [])));
    stream.on('data', (chunk: Buffer) => req.write(chunk));
    stream.on('end', () => req.end());
    stream.on('close', () => {
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return {
    port: opts.port,
    requests,
    tlsErrors,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Open client sessions (a worker's long polls) would keep it open.
      for (const s of sessions) s.destroy();
      upstream?.destroy();
      await closed;
    },
  };
}
