/**
 * TCP listener for drachtio-srf applications (`srf.connect({host, port, secret})`), and the
 * in-process link an srf app of the same process (or of the main thread, with the edge in a
 * worker) attaches to instead (docs/performance.md §2). Handles the session commands itself
 * (authenticate, route, remove_route, ping) and hands every `sip` command of an authenticated
 * application to the SIP side.
 */
import net from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { FrameDecoder, frameText } from './framing.ts';
import { formatNok, formatOk, parseWirePayload, type WirePayload } from './wire-message.ts';
import type { AppConnection, AppRegistry } from './app-registry.ts';
import { LinkConnection, type EdgeLinkEnd, type LinkFrame } from './wire-link.ts';

/** What drachtio-srf compares against (`v0.8.2` enables pinging); the suffix says who we are. */
export const EDGE_SERVER_VERSION = 'v0.9.5-outdial-edge';
/** Largest wire payload accepted from an application (drachtio allows 5 length digits). */
const MAX_FRAME_BYTES = 99_999;

export interface WireServerOptions {
  host: string;
  port: number;
  secret: string;
  registry: AppRegistry;
  logger: Logger;
  /** `udp/1.2.3.4:5060,tcp/1.2.3.4:5060`, returned in the authenticate reply */
  sipHostports: () => string;
  onSipCommand: (app: AppConnection, msg: WirePayload) => void;
  /** `proxy|<txnId>|...`: srf.proxyRequest (docs/edge.md §7) */
  onProxyCommand: (app: AppConnection, msg: WirePayload) => void;
}

export type SessionState = 'unauthenticated' | 'authenticated' | 'closed';

/** A connection the session commands run on: a TCP socket or an in-process link. */
export interface SessionConnection extends AppConnection {
  state: SessionState;
  tags: string;
  /** Flushes what was sent, then closes. */
  end(): void;
  destroy(): void;
}

class WireConnection implements SessionConnection {
  state: SessionState = 'unauthenticated';
  tags = '';
  readonly decoder = new FrameDecoder(MAX_FRAME_BYTES);

  constructor(
    readonly id: string,
    readonly remote: string,
    private readonly socket: net.Socket,
  ) {}

  get closed(): boolean {
    return this.state === 'closed' || this.socket.destroyed;
  }

  send(payload: string): void {
    if (this.closed || !this.socket.writable) return;
    this.socket.write(frameText(payload));
  }

  /** Flushes what was written, then closes. */
  end(): void {
    this.state = 'closed';
    this.socket.end();
  }

  destroy(): void {
    this.state = 'closed';
    this.socket.destroy();
  }
}

function secretsEqual(a: string, b: string): boolean {
  // Compare digests so the timing does not reveal the secret's length or prefix.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export class WireServer {
  private readonly server: net.Server;
  private readonly connections = new Set<SessionConnection>();
  private counter = 0;

  constructor(private readonly opts: WireServerOptions) {
    this.server = net.createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.address;
  }

  get address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('wire server is not listening');
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * An application in this process (or across a MessagePort): the same session as over TCP,
   * without framing or sockets. `out` gets the edge's payloads, batched once per event-loop turn.
   */
  attachLink(out: (frames: LinkFrame[]) => void, onClosed: () => void): EdgeLinkEnd {
    const id = `app-${++this.counter}`;
    const log = this.opts.logger.child({ app: id });
    const conn = new LinkConnection(id, out, () => {
      this.connections.delete(conn);
      log.info('app disconnected');
      this.opts.registry.remove(conn);
      onClosed();
    });
    this.connections.add(conn);
    log.info({ remote: conn.remote }, 'app connected');
    return {
      receive: (payload) => {
        if (conn.closed) return;
        try {
          this.handle(conn, payload, log);
        } catch (err) {
          log.error({ err }, 'app command failed');
        }
      },
      close: () => conn.destroy(),
    };
  }

  private accept(socket: net.Socket): void {
    const id = `app-${++this.counter}`;
    const conn = new WireConnection(id, `${socket.remoteAddress}:${socket.remotePort}`, socket);
    const log = this.opts.logger.child({ app: id });
    this.connections.add(conn);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    log.info({ remote: conn.remote }, 'app connected');
    socket.on('data', (chunk) => {
      for (const frame of conn.decoder.push(chunk)) {
        if (!frame.ok) {
          log.warn({ reason: frame.reason }, 'app framing broken, closing');
          conn.destroy();
          return;
        }
        try {
          this.handle(conn, frame.payload, log);
        } catch (err) {
          // A bug on our side must not take the whole edge down; the app gets a NOK if we can.
          log.error({ err }, 'app command failed');
        }
        if (conn.closed) return;
      }
    });
    socket.on('error', (err) => log.debug({ err: err.message }, 'app socket error'));
    socket.on('close', () => {
      this.connections.delete(conn);
      conn.state = 'closed';
      log.info('app disconnected');
      this.opts.registry.remove(conn);
    });
  }

  private handle(conn: SessionConnection, payload: string, log: Logger): void {
    const msg = parseWirePayload(payload);
    if (!msg) {
      log.warn('app sent an unreadable wire message');
      return;
    }
    if (conn.state !== 'authenticated' && msg.command !== 'authenticate') {
      conn.send(formatNok(msg.msgId, 'not authenticated'));
      return;
    }
    switch (msg.command) {
      case 'authenticate': {
        const secret = msg.args[0] ?? '';
        if (conn.state === 'authenticated') {
          conn.send(formatNok(msg.msgId, 'already authenticated'));
          return;
        }
        if (!secretsEqual(secret, this.opts.secret)) {
          log.warn({ remote: conn.remote }, 'app authentication failed');
          conn.send(formatNok(msg.msgId, 'incorrect secret'));
          conn.end();
          return;
        }
        conn.state = 'authenticated';
        conn.tags = msg.args[1] ?? '';
        this.opts.registry.add(conn);
        log.info({ tags: msg.args[1] ?? '' }, 'app authenticated');
        const hostports = this.opts.sipHostports();
        conn.send(formatOk(msg.msgId, [hostports, EDGE_SERVER_VERSION, hostports]));
        return;
      }
      case 'route':
      case 'remove_route': {
        const method = msg.args[0];
        if (!method) {
          conn.send(formatNok(msg.msgId, 'missing method'));
          return;
        }
        if (msg.command === 'route') this.opts.registry.addRoute(conn, method);
        else this.opts.registry.removeRoute(conn, method);
        log.debug({ method, command: msg.command }, 'app route changed');
        conn.send(formatOk(msg.msgId));
        return;
      }
      case 'ping':
        conn.send(formatOk(msg.msgId, ['pong']));
        return;
      case 'sip':
        this.opts.onSipCommand(conn, msg);
        return;
      case 'proxy':
        this.opts.onProxyCommand(conn, msg);
        return;
      default:
        conn.send(formatNok(msg.msgId, `unknown command ${msg.command}`));
    }
  }
}
