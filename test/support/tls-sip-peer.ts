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
  /**
   * Early media sent reliably first (RFC 3262): a 183 with SDP, `Require: 100rel` and `RSeq: 1`,
   * and the final response only after its PRACK (RAck `1 <CSeq> INVITE`) was answered.
   */
  reliableEarlyMedia?: boolean;
  /** the SDP of the 183 and the 200 (default: PCMU on port 40002) */
  sdp?: string;
}

const CARRIER_SDP = 'v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 0\r\n';

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

  /** INVITEs whose final response waits for the PRACK of their reliable 183, by Call-ID. */
  private readonly awaitingPrack = new Map<string, SipRequest>();

  private answer(socket: tls.TLSSocket, req: SipRequest, opts: TlsCarrierOptions): void {
    if (req.method === 'ACK') return;
    const send = (res: SipResponse): void => void socket.write(serializeMessage(res));
    if (req.method === 'PRACK') {
      const callId = getHeader(req, 'Call-ID') ?? '';
      const invite = this.awaitingPrack.get(callId);
      const cseq = invite ? (getHeader(invite, 'CSeq') ?? '').split(/\s+/)[0] : undefined;
      if (!invite || (getHeader(req, 'RAck') ?? '').trim().split(/\s+/).join(' ') !== `1 ${cseq} INVITE`) {
        send(createResponse(req, 481, 'Call/Transaction Does Not Exist', 'carrier'));
        return;
      }
      this.awaitingPrack.delete(callId);
      send(createResponse(req, 200, 'OK', 'carrier'));
      this.finalAnswer(send, invite, opts);
      return;
    }
    if (req.method !== 'INVITE') {
      send(createResponse(req, 200, 'OK', 'carrier'));
      return;
    }
    send(createResponse(req, 100, 'Trying'));
    if (opts.reliableEarlyMedia) {
      const early = createResponse(req, 183, 'Session Progress', 'carrier');
      early.headers.push(
        { name: 'Contact', value: `<sip:carrier@127.0.0.1:${this.port};transport=tls>` },
        { name: 'Require', value: '100rel' },
        { name: 'RSeq', value: '1' },
        { name: 'Content-Type', value: 'application/sdp' },
      );
      early.body = Buffer.from(opts.sdp ?? CARRIER_SDP);
      this.awaitingPrack.set(getHeader(req, 'Call-ID') ?? '', req);
      send(early);
      return;
    }
    this.finalAnswer(send, req, opts);
  }

  private finalAnswer(send: (res: SipResponse) => void, req: SipRequest, opts: TlsCarrierOptions): void {
    const status = opts.inviteStatus ?? 200;
    const res = createResponse(req, status, undefined, 'carrier');
    if (status < 300) {
      res.headers.push({ name: 'Contact', value: `<sip:carrier@127.0.0.1:${this.port};transport=tls>` });
      res.headers.push({ name: 'Content-Type', value: 'application/sdp' });
      res.body = Buffer.from(opts.sdp ?? CARRIER_SDP);
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
