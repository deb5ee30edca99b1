/**
 * A bare SIP peer for edge tests: sends hand-written messages over UDP or TCP from 127.0.0.1 and
 * collects what comes back, parsed with the edge's own parser. For requests sipp cannot easily
 * shape (Max-Forwards: 0, compact headers, odd Request-URIs). Always close() it (afterEach).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { parseMessage, SipStreamFramer } from '../../src/edge/sip/parser.ts';
import type { SipMessage, SipResponse } from '../../src/edge/sip/message.ts';

export type RawTransport = 'udp' | 'tcp';

export class RawSipPeer {
  readonly received: SipMessage[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly transport: RawTransport,
    readonly port: number,
    private readonly sendBytes: (b: Buffer) => void,
    private readonly closer: () => void,
  ) {}

  static async open(transport: RawTransport, remote: { host: string; port: number }): Promise<RawSipPeer> {
    if (transport === 'udp') {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const peer = new RawSipPeer('udp', sock.address().port, (b) => sock.send(b, remote.port, remote.host), () => sock.close());
      sock.on('message', (data) => peer.accept(data));
      return peer;
    }
    const sock = net.connect(remote.port, remote.host);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.on('error', () => undefined);
    const framer = new SipStreamFramer(1 << 20);
    const peer = new RawSipPeer('tcp', sock.localPort ?? 0, (b) => sock.write(b), () => sock.destroy());
    sock.on('data', (chunk) => {
      for (const out of framer.push(chunk)) if (out.ok) peer.accept(out.data);
    });
    return peer;
  }

  send(text: string | Buffer): void {
    this.sendBytes(typeof text === 'string' ? Buffer.from(text) : text);
  }

  /** The first received message (from `from` on) matching pred, waiting up to ms. */
  async waitFor(pred: (m: SipMessage) => boolean, ms = 3000, from = 0): Promise<SipMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching SIP message within ${ms} ms; got ${this.received.map(firstLine).join(' | ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The first final response (or any response with that status) for the Call-ID. */
  async finalResponse(callId: string, ms = 3000): Promise<SipResponse> {
    const m = await this.waitFor((x) => x.kind === 'response' && x.status >= 200 && headerOf(x, 'call-id') === callId, ms);
    return m as SipResponse;
  }

  close(): void {
    this.closer();
  }

  private accept(data: Buffer): void {
    const r = parseMessage(data, 1 << 20);
    if (!r.ok) return;
    this.received.push(r.message);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export function headerOf(m: SipMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name.toLowerCase() === name || (name === 'call-id' && h.name.toLowerCase() === 'i'))?.value;
}

function firstLine(m: SipMessage): string {
  return m.kind === 'response' ? `${m.status} ${m.reason}` : `${m.method} ${m.uri}`;
}

export interface RequestSpec {
  method: string;
  uri?: string;
  peer: RawSipPeer;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  maxForwards?: number;
  /** extra header lines, "Name: value" */
  headers?: string[];
  body?: string;
  /** replaces the standard header block (for compact-form tests) */
  rawHeaders?: string[];
}

/** A well-formed request text from the peer to the edge. */
export function buildRequest(spec: RequestSpec, edge: { host: string; port: number }): { text: string; callId: string; branch: string } {
  const callId = spec.callId ?? `${randomBytes(6).toString('hex')}@127.0.0.1`;
  const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
  const proto = spec.peer.transport.toUpperCase();
  const uri = spec.uri ?? `sip:service@${edge.host}:${edge.port}`;
  const body = spec.body ?? '';
  const lines = spec.rawHeaders ?? [
    `Via: SIP/2.0/${proto} 127.0.0.1:${spec.peer.port};branch=${branch};rport`,
    `Max-Forwards: ${spec.maxForwards ?? 70}`,
    `From: <sip:raw@127.0.0.1:${spec.peer.port}>;tag=${spec.fromTag ?? randomBytes(4).toString('hex')}`,
    `To: <${uri}>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.method}`,
    `Contact: <sip:raw@127.0.0.1:${spec.peer.port};transport=${spec.peer.transport}>`,
  ];
  const all = [...lines, ...(spec.headers ?? [])];
  if (!spec.rawHeaders) {
    if (body) all.push('Content-Type: application/sdp');
    all.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return { text: `${spec.method} ${uri} SIP/2.0\r\n${all.join('\r\n')}\r\n\r\n${body}`, callId, branch };
}
