import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** Can we bind host:port right now? (A probe: the port is released at once.) */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel reports free on loopback now (for tests that need a port set of their own). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Best effort: which program listens on the port (`ss` on Linux, `lsof` elsewhere); '' if unknown. */
export function portHolder(port: number): string {
  const ss = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', timeout: 5000 });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout ?? '');
  if (m) return `${m[1]} (pid ${m[2]})`;
  const lsof = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { encoding: 'utf8', timeout: 5000 });
  const pid = /^p(\d+)$/m.exec(lsof.stdout ?? '')?.[1];
  const cmd = /^c(.+)$/m.exec(lsof.stdout ?? '')?.[1];
  return pid ? `${cmd ?? 'a program'} (pid ${pid})` : '';
}
