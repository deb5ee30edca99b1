/** A port free for both UDP and TCP on a host right now (the usual bind-then-release race applies). */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
    await new Promise<void>((r) => server.close(() => r()));
    if (await udpFree(host, port)) return port;
  }
  throw new Error('no free port found');
}

export async function udpFree(host: string, port: number): Promise<boolean> {
  const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<boolean>((resolve) => {
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

export async function tcpFree(host: string, port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Whether something has bound this port, read from the kernel's socket tables instead of by
 * binding a probe socket: a probe bind can itself take the port at the moment the process we are
 * waiting for tries to bind it. TCP counts when listening (state 0A); UDP when bound at all.
 */
export function portBound(port: number, transport: 'udp' | 'tcp'): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of transport === 'udp' ? ['udp', 'udp6'] : ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (!local || !local.endsWith(`:${hexPort}`)) continue;
      if (transport === 'udp' || cols[3] === '0A') return true;
    }
  }
  return false;
}
