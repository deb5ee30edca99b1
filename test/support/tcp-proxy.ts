/**
 * A loopback TCP proxy between a client under test and a real server, for network faults the
 * server itself cannot stage: `hang()` keeps every connection open but forwards nothing either
 * way (a network that drops packets: no RST, no FIN, only silence), `resume()` delivers again,
 * `cut()` resets every connection (a link that died). New connections are accepted throughout;
 * while hung they are held silent as well.
 */
import net from 'node:net';

export interface TcpProxy {
  /** host:port clients connect to */
  readonly host: string;
  readonly port: number;
  /** connections open now */
  connections(): number;
  hang(): void;
  resume(): void;
  cut(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let hung = false;
  const listener = net.createServer((client) => {
    const server = net.connect(target.port, target.host);
    const pair = { client, server };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', drop).on('close', drop);
    server.on('error', drop).on('close', drop);
    if (hung) {
      client.pause();
      server.pause();
    }
    client.on('data', (d) => server.write(d));
    server.on('data', (d) => client.write(d));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', () => resolve());
  });
  const address = listener.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port: address.port,
    connections: () => pairs.size,
    hang() {
      hung = true;
      for (const p of pairs) {
        p.client.pause();
        p.server.pause();
      }
    },
    resume() {
      hung = false;
      for (const p of pairs) {
        p.client.resume();
        p.server.resume();
      }
    },
    cut() {
      for (const p of [...pairs]) {
        p.client.resetAndDestroy();
        p.server.resetAndDestroy();
      }
      pairs.clear();
    },
    async close() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
