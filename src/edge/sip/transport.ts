/**
 * SIP transports (RFC 3261 18, RFC 5630/5922 for TLS): UDP and TCP on one host:port, and TLS on
 * its own port when a certificate is configured. Connections (TCP or TLS, accepted or opened)
 * are kept by transport and remote address:port and reused, so responses and in-dialog requests
 * leave over the connection a request arrived on (18.2.2), and one connection serves each
 * destination. Outgoing TLS verifies the peer's certificate against the CA list and the name
 * the target carries (SNI too). A bad message never takes anything down: it is reported as
 * 'malformed' (the caller may answer 400) and only a framing error closes its own connection;
 * a failed connect or handshake rejects that send only. See docs/edge-transport.md §1-2.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import type { Logger } from '../../log/logger.ts';
import type { SipMessage, SipRequest } from './message.ts';
import { parseMessage, SipStreamFramer } from './parser.ts';

export type TransportName = 'udp' | 'tcp' | 'tls';
export interface Flow {
  transport: TransportName;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}
/** address is an IP literal (IPv6 without brackets) */
export interface Target {
  transport: TransportName;
  address: string;
  port: number;
  /**
   * TLS: the name the server's certificate must carry and the SNI sent (the host of the URI,
   * RFC 5922 4.1); when absent the certificate must name the address.
   */
  serverName?: string;
}

/** Connection-oriented transports: responses go back over the connection (18.2.2). */
export function isStream(t: TransportName): boolean {
  return t !== 'udp';
}

export interface SipTlsOptions {
  /** accept TLS on this port (0 = any free port) with this certificate chain and key (PEM) */
  listen?: { port: number; cert: Buffer; key: Buffer };
  /** CAs trusted for outgoing connections (PEM), in place of the default list */
  ca?: Array<string | Buffer>;
}

export interface SipTransportOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  logger: Logger;
  /** host to put in Via / Contact when bound to a wildcard address; default: first external IPv4 */
  advertisedHost?: string;
  /** TCP connections with no traffic for this long are closed (default 300 s) */
  tcpIdleTimeoutMs?: number;
  /** how long a TCP connect (and a TLS handshake) may take (default 5 s) */
  tcpConnectTimeoutMs?: number;
  tls?: SipTlsOptions;
}

export interface SipTransportEvents {
  message: [msg: SipMessage, flow: Flow];
  /** partial is set when enough of a request was read to answer 400 */
  malformed: [reason: string, flow: Flow, partial: SipRequest | undefined, status: number | undefined];
}

interface Connection {
  transport: 'tcp' | 'tls';
  socket: net.Socket;
  framer: SipStreamFramer;
  key: string;
}

export class SipTransport extends EventEmitter<SipTransportEvents> {
  private readonly opts: SipTransportOptions;
  private readonly log: Logger;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private tlsServer: tls.Server | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  private readonly sockets = new Set<net.Socket>();
  private bound: { host: string; port: number; tlsPort?: number } | undefined;
  private closed = false;

  constructor(opts: SipTransportOptions) {
    super();
    this.opts = opts;
    this.log = opts.logger;
  }

  /** Local bound address (after listen); tlsPort when the TLS listener runs. */
  get address(): { host: string; port: number; tlsPort?: number } {
    if (!this.bound) throw new Error('SipTransport is not listening');
    return this.bound;
  }

  /** Host and ports to advertise in Via and Contact: the bound address unless it is a wildcard. */
  get advertised(): { host: string; port: number; tlsPort?: number } {
    const { host, port, tlsPort } = this.address;
    const ports = tlsPort !== undefined ? { port, tlsPort } : { port };
    if (this.opts.advertisedHost) return { host: this.opts.advertisedHost, ...ports };
    if (host === '0.0.0.0' || host === '::') return { host: firstExternalAddress(), ...ports };
    return { host, ...ports };
  }

  async listen(): Promise<void> {
    const family = net.isIPv6(this.opts.host) ? 'udp6' : 'udp4';
    // Port 0: the UDP port the OS picks may be taken for TCP; try a few times.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: family, lookup: literalLookup });
      udp.on('error', (err) => this.log.warn({ err }, 'sip udp socket error'));
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.opts.port, this.opts.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const port = udp.address().port;
      const server = net.createServer((s) => this.adopt(s, 'tcp'));
      server.on('error', (err) => this.log.warn({ err }, 'sip tcp server error'));
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, this.opts.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        await new Promise<void>((r) => udp.close(() => r()));
        if (this.opts.port !== 0 || attempt >= 10) throw err;
        continue;
      }
      udp.on('message', (data, rinfo) => this.onDatagram(data, rinfo));
      const recvBufferBytes = enlargeReceiveBuffer(udp);
      this.udp = udp;
      this.tcp = server;
      this.bound = { host: this.opts.host, port };
      try {
        await this.listenTls();
      } catch (err) {
        await this.close();
        throw err;
      }
      this.log.info({ host: this.opts.host, port, tls_port: this.bound.tlsPort, udp_recv_buffer_bytes: recvBufferBytes }, 'sip transport listening');
      return;
    }
  }

  /** The optional TLS listener (RFC 3261 26.2.1); a client whose handshake fails costs only its socket. */
  private async listenTls(): Promise<void> {
    const l = this.opts.tls?.listen;
    if (!l || !this.bound) return;
    const server = tls.createServer({ cert: l.cert, key: l.key }, (s) => this.adopt(s, 'tls'));
    server.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'sip tls handshake failed'));
    server.on('error', (err) => this.log.warn({ err }, 'sip tls server error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.tlsServer = server;
    const a = server.address();
    this.bound.tlsPort = typeof a === 'object' && a ? a.port : l.port;
  }

  /** Sends one serialized message. TCP and TLS reuse a connection to or from target address:port. */
  async send(data: Buffer, target: Target): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    if (target.transport === 'udp') {
      const udp = this.udp;
      if (!udp) throw new Error('transport not listening');
      await new Promise<void>((resolve, reject) => {
        udp.send(data, target.port, target.address, (err) => (err ? reject(err) : resolve()));
      });
      return;
    }
    const conn = await this.connectionTo(target);
    await new Promise<void>((resolve, reject) => {
      conn.socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waits: Array<Promise<void>> = [];
    const udp = this.udp;
    if (udp) waits.push(new Promise((r) => udp.close(() => r())));
    const tcp = this.tcp;
    if (tcp) waits.push(new Promise((r) => tcp.close(() => r())));
    const tlsServer = this.tlsServer;
    if (tlsServer) waits.push(new Promise((r) => tlsServer.close(() => r())));
    for (const s of this.sockets) {
      waits.push(new Promise((r) => (s.destroyed ? r() : s.once('close', () => r()))));
      s.destroy();
    }
    await Promise.all(waits);
    this.connections.clear();
  }

  private onDatagram(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const flow: Flow = {
      transport: 'udp',
      remoteAddress: rinfo.address,
      remotePort: rinfo.port,
      localAddress: this.bound?.host ?? '',
      localPort: this.bound?.port ?? 0,
    };
    // RFC 5626 keep-alives (CRLF, or a STUN binding request) carry no SIP message.
    if (onlyLineEnds(data) || (data.length >= 20 && data[0]! < 4)) return;
    this.deliver(data, flow);
  }

  private deliver(data: Buffer, flow: Flow): void {
    const r = parseMessage(data, this.opts.maxMessageBytes);
    if (r.ok) {
      // as safely(), without a closure per message
      try {
        this.emit('message', r.message, flow);
      } catch (err) {
        this.log.error({ err }, 'sip transport listener failed');
      }
    } else {
      const startLine = data.subarray(0, 120).toString('latin1').split(/\r?\n/)[0];
      this.log.debug({ reason: r.reason, remote: `${flow.remoteAddress}:${flow.remotePort}`, transport: flow.transport, start_line: startLine }, 'sip message malformed');
      this.safely(() => this.emit('malformed', r.reason, flow, r.request, r.status));
    }
  }

  /** A listener that throws must not break the socket's read loop. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, 'sip transport listener failed');
    }
  }

  private adopt(socket: net.Socket, transport: 'tcp' | 'tls'): Connection {
    const remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    const key = keyOf(transport, remoteAddress, socket.remotePort ?? 0);
    const conn: Connection = { transport, socket, framer: new SipStreamFramer(this.opts.maxMessageBytes), key };
    this.sockets.add(socket);
    this.connections.set(key, conn);
    socket.setNoDelay(true);
    socket.setTimeout(this.opts.tcpIdleTimeoutMs ?? 300_000, () => socket.destroy());
    socket.on('error', (err) => this.log.debug({ err, remote: key }, 'sip connection error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.connections.get(key) === conn) this.connections.delete(key);
    });
    socket.on('data', (chunk: Buffer) => {
      const flow: Flow = {
        transport,
        remoteAddress,
        remotePort: socket.remotePort ?? 0,
        localAddress: normalizeAddress(socket.localAddress ?? ''),
        localPort: socket.localPort ?? 0,
      };
      for (const out of conn.framer.push(chunk)) {
        if (out.ok) this.deliver(out.data, flow);
        else {
          this.log.debug({ reason: out.reason, remote: key }, 'sip stream framing failed');
          this.safely(() => this.emit('malformed', out.reason, flow, undefined, undefined));
          socket.destroy();
          return;
        }
      }
      // RFC 5626 4.4.1: a double-CRLF ping is answered with a single CRLF pong.
      if (conn.framer.takeKeepAlives() > 0 && !socket.destroyed) socket.write('\r\n');
    });
    return conn;
  }

  private connectionTo(target: Target): Promise<Connection> {
    const transport = target.transport === 'tls' ? 'tls' : 'tcp';
    const key = keyOf(transport, normalizeAddress(target.address), target.port);
    const open = this.connections.get(key);
    if (open && !open.socket.destroyed) return Promise.resolve(open);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const p = new Promise<Connection>((resolve, reject) => {
      const socket = transport === 'tls' ? this.connectTls(target) : net.connect({ host: target.address, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${transport} connect to ${key} timed out`));
      }, this.opts.tcpConnectTimeoutMs ?? 5_000);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
      // A TLS connection is usable once the handshake verified the certificate, not at TCP connect.
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        if (this.closed) {
          socket.destroy();
          reject(new Error('transport closed'));
          return;
        }
        resolve(this.adopt(socket, transport));
      });
    });
    this.connecting.set(key, p);
    const forget = (): void => {
      this.connecting.delete(key);
    };
    p.then(forget, forget);
    return p;
  }

  /**
   * RFC 5922 4.1 / RFC 6125: the certificate must name the URI's host (serverName), sent as SNI
   * too, or the address when there is no name; it must chain to a trusted CA. Node refuses the
   * handshake otherwise and the socket reports the error.
   */
  private connectTls(target: Target): tls.TLSSocket {
    const name = target.serverName;
    const opts: tls.ConnectionOptions = { host: target.address, port: target.port, rejectUnauthorized: true };
    if (name !== undefined && !net.isIP(name)) opts.servername = name;
    else if (name !== undefined) opts.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
    if (this.opts.tls?.ca) opts.ca = this.opts.tls.ca;
    return tls.connect(opts);
  }
}

/**
 * dgram resolves every destination through its lookup, by default dns.lookup, which answers even
 * an IP literal one process.nextTick later: each datagram then waited for every microtask queued
 * before it (docs/performance.md §10). A Target's address is always an IP literal, answered here
 * at once; anything else still goes to dns.lookup.
 */
function literalLookup(address: string, family: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const version = net.isIP(address);
  if (version !== 0) callback(null, address, version);
  // dgram passes its socket's family (4 or 6), which dns.lookup takes as its options
  else dns.lookup(address, family as dns.LookupOneOptions, callback);
}

/** A datagram of CR, LF and SP only (an RFC 5626 keep-alive). */
function onlyLineEnds(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (b !== 0x0d && b !== 0x0a && b !== 0x20) return false;
  }
  return true;
}

function keyOf(transport: 'tcp' | 'tls', address: string, port: number): string {
  return `${transport}|${address}|${port}`;
}

/** IPv4-mapped IPv6 addresses (dual-stack sockets) name the same peer as the IPv4 address. */
function normalizeAddress(a: string): string {
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function firstExternalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

/**
 * The kernel's default UDP receive buffer (about 208 KiB on Linux) overflows when a burst arrives
 * while the event loop is busy, and every datagram dropped there costs a retransmission 500 ms
 * later (RFC 3261 17.1.1.2). Ask for 4 MiB, as Kamailio does at start-up; the kernel caps the
 * request at net.core.rmem_max. Returns the size granted.
 */
const UDP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;

function enlargeReceiveBuffer(udp: dgram.Socket): number {
  try {
    udp.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
  } catch {
    // not permitted here: keep the default
  }
  try {
    return udp.getRecvBufferSize();
  } catch {
    return 0;
  }
}
