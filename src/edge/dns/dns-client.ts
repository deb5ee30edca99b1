/**
 * DNS queries for RFC 3263 (NAPTR, SRV, A, AAAA) with their TTLs, which node:dns does not give
 * for NAPTR and SRV. Packets are encoded and decoded by dns-packet; a query goes over UDP to each
 * configured server in turn and is repeated over TCP when the answer is truncated (RFC 1035
 * 4.2.1, RFC 7766). Names that cannot exist (NXDOMAIN, no data) are answers with no records,
 * kept for the SOA minimum (RFC 2308 5); a server that fails or stays silent is an error.
 * See docs/edge-transport.md §3.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import net from 'node:net';
import dnsPacket from 'dns-packet';

export interface NaptrRecord {
  order: number;
  preference: number;
  flags: string;
  service: string;
  regexp: string;
  replacement: string;
}
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}
export interface DnsAnswer<T> {
  records: T[];
  /** seconds this answer may be reused (the smallest record TTL, or the negative-caching TTL) */
  ttl: number;
}

/** What the RFC 3263 resolver needs; tests and the system fallback provide other implementations. */
export interface DnsClient {
  naptr(name: string): Promise<DnsAnswer<NaptrRecord>>;
  srv(name: string): Promise<DnsAnswer<SrvRecord>>;
  /** A then AAAA records of name */
  addresses(name: string): Promise<DnsAnswer<string>>;
}

export interface DnsServer {
  address: string;
  port: number;
}

/** `ip`, `ip:port`, `[v6]:port` (OUTDIAL_DNS_SERVERS entries); undefined when unreadable. */
export function parseDnsServer(text: string): DnsServer | undefined {
  const t = text.trim();
  if (net.isIP(t)) return { address: t, port: 53 };
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(t) ?? /^([^:]+):(\d{1,5})$/.exec(t);
  if (!m || !net.isIP(m[1] ?? '')) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? { address: m[1] ?? '', port } : undefined;
}

/** RFC 2308 5: without an SOA to say otherwise, a negative answer is kept this long. */
const DEFAULT_NEGATIVE_TTL = 30;
const RCODE_NXDOMAIN = 3;

type RecordType = 'NAPTR' | 'SRV' | 'A' | 'AAAA';

export class PacketDnsClient implements DnsClient {
  constructor(
    private readonly servers: readonly DnsServer[],
    /** per server and try */
    private readonly timeoutMs = 2000,
  ) {
    if (servers.length === 0) throw new Error('no DNS server configured');
  }

  async naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    const { answers, ttl } = await this.query(name, 'NAPTR');
    const records: NaptrRecord[] = [];
    for (const a of answers) {
      if (a.type !== 'NAPTR') continue;
      const d = a.data;
      records.push({ order: d.order, preference: d.preference, flags: d.flags, service: d.services, regexp: d.regexp, replacement: d.replacement });
    }
    return { records, ttl };
  }

  async srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    const { answers, ttl } = await this.query(name, 'SRV');
    const records: SrvRecord[] = [];
    for (const a of answers) {
      if (a.type !== 'SRV') continue;
      records.push({ priority: a.data.priority ?? 0, weight: a.data.weight ?? 0, port: a.data.port, target: a.data.target });
    }
    return { records, ttl };
  }

  async addresses(name: string): Promise<DnsAnswer<string>> {
    const [v4, v6] = await Promise.all([this.query(name, 'A'), this.query(name, 'AAAA')]);
    const records: string[] = [];
    for (const a of [...v4.answers, ...v6.answers]) if ((a.type === 'A' || a.type === 'AAAA') && typeof a.data === 'string') records.push(a.data);
    return { records, ttl: Math.min(v4.ttl, v6.ttl) };
  }

  /** Each server in order until one answers (RFC 1035 4.2.1, retransmission to the next server). */
  private async query(name: string, type: RecordType): Promise<{ answers: dnsPacket.Answer[]; ttl: number }> {
    const errors: string[] = [];
    for (const server of this.servers) {
      try {
        let res = await this.udpQuery(server, name, type);
        if (res.flag_tc) res = await this.tcpQuery(server, name, type);
        return answersOf(res, type);
      } catch (err) {
        errors.push(`${server.address}:${server.port}: ${(err as Error).message}`);
      }
    }
    throw new Error(`DNS ${type} ${name} failed: ${errors.join('; ')}`);
  }

  private udpQuery(server: DnsServer, name: string, type: RecordType): Promise<dnsPacket.DecodedPacket> {
    const id = randomInt(0, 65536);
    const packet = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
    const sock = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      const done = (err: Error | undefined, res?: dnsPacket.DecodedPacket): void => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else if (res) resolve(res);
      };
      const timer = setTimeout(() => done(new Error('timed out')), this.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('message', (msg, rinfo) => {
        // Only the server asked, with the id asked, answers this query (RFC 5452 9.1).
        if (rinfo.port !== server.port || normalize(rinfo.address) !== normalize(server.address)) return;
        let res: dnsPacket.DecodedPacket;
        try {
          res = dnsPacket.decode(msg);
        } catch {
          return;
        }
        if (res.id !== id || res.type !== 'response') return;
        done(undefined, res);
      });
      sock.send(packet, server.port, server.address, (err) => {
        if (err) done(err);
      });
    });
  }

  private tcpQuery(server: DnsServer, name: string, type: RecordType): Promise<dnsPacket.DecodedPacket> {
    const id = randomInt(0, 65536);
    const packet = dnsPacket.streamEncode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] });
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: server.address, port: server.port });
      let buf = Buffer.alloc(0);
      const done = (err: Error | undefined, res?: dnsPacket.DecodedPacket): void => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else if (res) resolve(res);
      };
      const timer = setTimeout(() => done(new Error('timed out (tcp)')), this.timeoutMs);
      sock.on('error', (err) => done(err));
      sock.on('connect', () => sock.write(packet));
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        try {
          const res = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          if (res.id === id) done(undefined, res);
          else done(new Error('mismatched DNS id over tcp'));
        } catch (err) {
          done(err as Error);
        }
      });
    });
  }
}

function answersOf(res: dnsPacket.DecodedPacket, type: RecordType): { answers: dnsPacket.Answer[]; ttl: number } {
  const rcode = (res.flags ?? 0) & 0x0f;
  if (rcode !== 0 && rcode !== RCODE_NXDOMAIN) throw new Error(`rcode ${rcode}`);
  const answers = (res.answers ?? []).filter((a) => a.type === type);
  if (answers.length > 0) {
    const ttl = Math.min(...answers.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)));
    return { answers, ttl };
  }
  // RFC 2308 5: the negative TTL is the SOA record's TTL capped by its minimum field.
  const soa = (res.authorities ?? []).find((a) => a.type === 'SOA');
  let ttl = DEFAULT_NEGATIVE_TTL;
  if (soa && soa.type === 'SOA') ttl = Math.min(soa.ttl ?? DEFAULT_NEGATIVE_TTL, soa.data.minimum ?? DEFAULT_NEGATIVE_TTL);
  return { answers: [], ttl };
}

function normalize(a: string): string {
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
