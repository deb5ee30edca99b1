/**
 * A carrier over UDP that challenges every INVITE without credentials with a digest of the
 * algorithm asked for (sipp 3.6.1's verifyauth checks MD5 only), and verifies the Authorization
 * of the INVITE sent again with its own RFC 7616 computation (written here independently of
 * src/call/digest-auth.ts, so the two cannot share a mistake). Valid: 200 with a PCMA answer; not
 * valid: 403. BYE is answered 200. Messages are parsed with the edge's parser. Always close() it.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { parseMessage } from '../../src/edge/sip/parser.ts';
import { getHeader, serializeMessage, type SipRequest, type SipResponse } from '../../src/edge/sip/message.ts';
import { createResponse } from '../../src/edge/sip/response-builder.ts';

export interface DigestPeerOptions {
  username: string;
  password: string;
  algorithm: 'MD5' | 'SHA-256' | 'SHA-512-256';
  /** the qop list offered, e.g. "auth-int, auth" */
  qop: string;
  status: 401 | 407;
}

export interface DigestVerdict {
  method: string;
  valid: boolean;
  algorithm: string | undefined;
  qop: string | undefined;
}

const HASHES = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' } as const;

/** name="value" and name=token pairs of an Authorization value (test inputs have no escaped quotes). */
function params(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/([A-Za-z0-9-]+)=(?:"([^"]*)"|([^,\s]+))/g)) out.set(m[1]!.toLowerCase(), m[2] ?? m[3] ?? '');
  return out;
}

export class DigestSipCarrier {
  readonly verdicts: DigestVerdict[] = [];
  readonly received: SipRequest[] = [];
  private readonly nonce = randomBytes(12).toString('base64url');

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly opts: DigestPeerOptions,
  ) {}

  static async start(opts: DigestPeerOptions): Promise<DigestSipCarrier> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const peer = new DigestSipCarrier(socket, socket.address().port, opts);
    socket.on('message', (data, rinfo) => peer.onMessage(data, rinfo));
    return peer;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private send(res: SipResponse, to: dgram.RemoteInfo): void {
    this.socket.send(serializeMessage(res), to.port, to.address);
  }

  private onMessage(data: Buffer, from: dgram.RemoteInfo): void {
    const parsed = parseMessage(data, 1 << 16);
    if (!parsed.ok || parsed.message.kind !== 'request') return;
    const req = parsed.message;
    this.received.push(req);
    if (req.method === 'ACK') return;
    if (req.method !== 'INVITE') {
      this.send(createResponse(req, 200, 'OK', 'peer'), from);
      return;
    }
    const authName = this.opts.status === 407 ? 'Proxy-Authorization' : 'Authorization';
    const credentials = getHeader(req, authName);
    if (credentials === undefined) {
      const res = createResponse(req, this.opts.status, undefined, 'peer');
      res.headers.push({
        name: this.opts.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate',
        value: `Digest realm="peer.example", nonce="${this.nonce}", algorithm=${this.opts.algorithm}, qop="${this.opts.qop}"`,
      });
      this.send(res, from);
      return;
    }
    const verdict = this.verify(req, credentials);
    this.verdicts.push(verdict);
    if (!verdict.valid) {
      this.send(createResponse(req, 403, 'Bad Credentials', 'peer'), from);
      return;
    }
    const res = createResponse(req, 200, 'OK', 'peer');
    res.headers.push({ name: 'Contact', value: `<sip:peer@127.0.0.1:${this.port}>` }, { name: 'Content-Type', value: 'application/sdp' });
    res.body = Buffer.from('v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40004 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n');
    this.send(res, from);
  }

  /** RFC 7616 §3.4.1–3.4.3, for the algorithm this peer offered. */
  private verify(req: SipRequest, credentials: string): DigestVerdict {
    const p = params(credentials);
    const algorithm = p.get('algorithm');
    const qop = p.get('qop');
    const base = { method: req.method, algorithm, qop };
    if (algorithm !== this.opts.algorithm || p.get('nonce') !== this.nonce || p.get('username') !== this.opts.username || p.get('realm') !== 'peer.example') {
      return { ...base, valid: false };
    }
    if (p.get('uri') !== req.uri) return { ...base, valid: false };
    const H = (s: string) => createHash(HASHES[this.opts.algorithm]).update(s, 'utf8').digest('hex');
    const ha1 = H(`${this.opts.username}:peer.example:${this.opts.password}`);
    const ha2 = qop === 'auth-int' ? H(`${req.method}:${req.uri}:${H(req.body.toString('utf8'))}`) : H(`${req.method}:${req.uri}`);
    const expected = qop === undefined ? H(`${ha1}:${this.nonce}:${ha2}`) : H(`${ha1}:${this.nonce}:${p.get('nc')}:${p.get('cnonce')}:${qop}:${ha2}`);
    return { ...base, valid: p.get('response') === expected };
  }
}
