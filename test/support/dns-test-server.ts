/**
 * A DNS server on 127.0.0.1 for resolver tests (dns2, UDP), answering from a zone table and
 * counting the questions it was asked. NAPTR (type 35) is not one of dns2's record types, so its
 * RDATA is written here (RFC 3403 4.1) and dns2 sends it as it is (RFC 3597).
 * Always close() it (afterEach).
 */
import dns2 from 'dns2';

export interface Zone {
  naptr?: Record<string, Array<{ order: number; preference: number; flags: string; service: string; regexp?: string; replacement: string }>>;
  srv?: Record<string, Array<{ priority: number; weight: number; port: number; target: string }>>;
  a?: Record<string, string[]>;
  /** TTL of every answer, seconds (default 300) */
  ttl?: number;
}

export interface DnsTestServer {
  /** `127.0.0.1:port`, as OUTDIAL_DNS_SERVERS takes it */
  address: string;
  /** `TYPE name` of each question, in order */
  readonly asked: string[];
  zone: Zone;
  close(): Promise<void>;
}

const NAPTR = 35;
const TYPE_NAMES: Record<number, string> = { 1: 'A', 28: 'AAAA', 33: 'SRV', [NAPTR]: 'NAPTR' };

/** tcp: also answer over TCP on the same port (RFC 7766; a truncated UDP answer is asked again there) */
export async function startDnsTestServer(zone: Zone, opts: { tcp?: boolean } = {}): Promise<DnsTestServer> {
  const asked: string[] = [];
  const state = { zone };
  const server = dns2.createServer({
    udp: true,
    tcp: opts.tcp ?? false,
    handle: (request, send) => {
      const res = dns2.Packet.createResponseFromRequest(request);
      const q = request.questions[0];
      if (!q) return send(res);
      const name = q.name.toLowerCase();
      asked.push(`${TYPE_NAMES[q.type] ?? q.type} ${name}`);
      const ttl = state.zone.ttl ?? 300;
      if (q.type === NAPTR) {
        for (const r of state.zone.naptr?.[name] ?? []) res.answers.push({ name: q.name, type: NAPTR, class: 1, ttl, data: naptrRdata(r) } as never);
      } else if (q.type === dns2.Packet.TYPE.SRV) {
        for (const r of state.zone.srv?.[name] ?? []) res.answers.push({ name: q.name, type: q.type, class: 1, ttl, ...r } as never);
      } else if (q.type === dns2.Packet.TYPE.A) {
        for (const address of state.zone.a?.[name] ?? []) res.answers.push({ name: q.name, type: q.type, class: 1, ttl, address } as never);
      }
      send(res);
    },
  });
  let port: number;
  if (opts.tcp) {
    // the same port for both: take a free one for TCP and UDP at once
    const { freePort } = await import('./free-port.ts');
    port = await freePort('127.0.0.1');
    await server.listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } });
  } else {
    const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    port = addresses.udp?.port ?? 0;
  }
  return {
    address: `127.0.0.1:${port}`,
    asked,
    get zone() {
      return state.zone;
    },
    set zone(z: Zone) {
      state.zone = z;
    },
    close: () => server.close(),
  };
}

function naptrRdata(r: { order: number; preference: number; flags: string; service: string; regexp?: string; replacement: string }): Buffer {
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const text = (s: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
  const name = Buffer.concat([...r.replacement.split('.').filter((l) => l !== '').map(text), Buffer.from([0])]);
  return Buffer.concat([u16(r.order), u16(r.preference), text(r.flags), text(r.service), text(r.regexp ?? ''), name]);
}
