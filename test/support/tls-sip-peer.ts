/**
 * SIP over TLS for tests (this sipp has no TLS): a carrier that accepts TLS connections and
 * answers like a simple UAS, and a platform that connects to the edge's TLS listener. Messages
 * are framed and parsed with the edge's own stream framer and parser. Always close() them.
 */
import net from 'node:net';
import tls from 'node:tls';
import { parseMessage, SipStreamFramer } from '../../src/edge/sip/parser.ts';
import { getHeader, getHeaders, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../src/edge/sip/message.ts';
import { createResponse } from '../../src/edge/sip/response-builder.ts';

export interface TlsCarrierOptions {
  cert: Buffer;
  key: Buffer;
  /** final status for an INVITE (default 200, with SDP and a Contact over TLS) */
  inviteStatus?: number;
}

export class TlsSipCarrier {
  readonly received: Array<{ msg: SipMessage; connection: number }> = [];
  /** the SNI each accepted connection asked for */
  readonly serverNames: Array<string | false> = [];
  /** every connection that completed a handshake */
  connections = 0;
  private readonly sockets = new Set<tls.TLSSocket>();

  private constructor(
    private readonly server: tls.Server,
    readonly port: number,
  ) {}

  static async start(opts: TlsCarrierOptions): Promise<TlsSipCarrier> {
    const ready: { carrier?: TlsSipCarrier } = {};
    const server = tls.createServer({ cert: opts.cert, key: opts.key }, (socket) => ready.carrier?.accept(socket, opts));
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    ready.carrier = new TlsSipCarrier(server, typeof a === 'object' && a ? a.port : 0);
    return ready.carrier;
  }

  requests(method: string): SipRequest[] {
    return this.received.map((r) => r.msg).filter((m): m is SipRequest => m.kind === 'request' && m.method === method);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private accept(socket: tls.TLSSocket, opts: TlsCarrierOptions): void {
    const id = ++this.connections;
    this.serverNames.push(socket.servername ?? false);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const framer = new SipStreamFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const out of framer.push(chunk)) {
        if (!out.ok) continue;
        const r = parseMessage(out.data, 1 << 20);
        if (!r.ok) continue;
        this.received.push({ msg: r.message, connection: id });
        if (r.message.kind === 'request') this.answer(socket, r.message, opts);
      }
    });
  }

  private answer(socket: tls.TLSSocket, req: SipRequest, opts: TlsCarrierOptions): void {
    if (req.method === 'ACK') return;
    const send = (res: SipResponse): void => void socket.write(serializeMessage(res));
    if (req.method !== 'INVITE') {
      send(createResponse(req, 200, 'OK', 'carrier'));
      return;
    }
    send(createResponse(req, 100, 'Trying'));
    const status = opts.inviteStatus ?? 200;
    const res = createResponse(req, status, undefined, 'carrier');
    if (status < 300) {
      res.headers.push({ name: 'Contact', value: `<sip:carrier@127.0.0.1:${this.port};transport=tls>` });
      res.headers.push({ name: 'Content-Type', value: 'application/sdp' });
      res.body = Buffer.from('v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n');
    }
    send(res);
  }
}

/** A TLS client to the edge's listener, verifying the edge's certificate against ca. */
export class TlsSipClient {
  readonly received: SipMessage[] = [];

  private constructor(private readonly socket: tls.TLSSocket) {}

  static async connect(port: number, ca: Buffer, servername = 'localhost'): Promise<TlsSipClient> {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: net.isIP(servername) ? undefined : servername, checkServerIdentity: (_h, cert) => tls.checkServerIdentity(servername, cert) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    const client = new TlsSipClient(socket);
    const framer = new SipStreamFramer(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const out of framer.push(chunk)) {
        if (!out.ok) continue;
        const r = parseMessage(out.data, 1 << 20);
        if (r.ok) client.received.push(r.message);
      }
    });
    return client;
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  async waitFor(pred: (m: SipMessage) => boolean, ms = 5000): Promise<SipMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching message over TLS; got ${this.received.map((m) => (m.kind === 'response' ? m.status : m.method)).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export { getHeader, getHeaders };
