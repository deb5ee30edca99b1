/**
 * The edge's DNS client against a real DNS server on loopback (dns2): records and TTLs of each
 * type, an empty answer, a truncated UDP answer asked again over TCP, a silent server skipped.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketDnsClient, parseDnsServer } from '../../src/edge/dns/dns-client.ts';
import { startDnsTestServer, type DnsTestServer } from '../support/dns-test-server.ts';

let dns: DnsTestServer | undefined;
const sockets: dgram.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await dns?.close();
  dns = undefined;
});

const server = (d: DnsTestServer) => parseDnsServer(d.address)!;

describe('PacketDnsClient', () => {
  it('reads NAPTR, SRV and A records with their TTL', async () => {
    dns = await startDnsTestServer({
      ttl: 42,
      naptr: { 'carrier.test': [{ order: 10, preference: 20, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.carrier.test' }] },
      srv: { '_sip._tcp.carrier.test': [{ priority: 5, weight: 7, port: 5070, target: 'a.carrier.test' }] },
      a: { 'a.carrier.test': ['192.0.2.1', '192.0.2.2'] },
    });
    const c = new PacketDnsClient([server(dns)]);
    expect(await c.naptr('carrier.test')).toEqual({ records: [{ order: 10, preference: 20, flags: 's', service: 'SIP+D2T', regexp: '', replacement: '_sip._tcp.carrier.test' }], ttl: 42 });
    expect(await c.srv('_sip._tcp.carrier.test')).toEqual({ records: [{ priority: 5, weight: 7, port: 5070, target: 'a.carrier.test' }], ttl: 42 });
    // A and AAAA are asked together; the empty AAAA answer (no SOA: 30 s) bounds how long both are kept
    expect(await c.addresses('a.carrier.test')).toEqual({ records: ['192.0.2.1', '192.0.2.2'], ttl: 30 });
    expect(dns.asked).toEqual(['NAPTR carrier.test', 'SRV _sip._tcp.carrier.test', 'A a.carrier.test', 'AAAA a.carrier.test']);
  });

  it('an empty answer is no records, kept for the default negative TTL (no SOA given)', async () => {
    dns = await startDnsTestServer({});
    expect(await new PacketDnsClient([server(dns)]).srv('_sip._udp.nothing.test')).toEqual({ records: [], ttl: 30 });
  });

  it('asks again over TCP when the UDP answer is truncated', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ priority: i, weight: 1, port: 5000 + i, target: `host-${i}.carrier.test` }));
    dns = await startDnsTestServer({ srv: { '_sip._udp.big.test': many } }, { tcp: true });
    const a = await new PacketDnsClient([server(dns)]).srv('_sip._udp.big.test');
    expect(a.records).toHaveLength(40);
    // once over UDP (truncated), once over TCP
    expect(dns.asked).toEqual(['SRV _sip._udp.big.test', 'SRV _sip._udp.big.test']);
  });

  it('skips a server that does not answer and asks the next', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    sockets.push(silent);
    dns = await startDnsTestServer({ a: { 'a.test': ['192.0.2.9'] } });
    const c = new PacketDnsClient([{ address: '127.0.0.1', port: silent.address().port }, server(dns)], 200);
    expect((await c.addresses('a.test')).records).toEqual(['192.0.2.9']);
  });

  it('fails when no server answers', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    sockets.push(silent);
    await expect(new PacketDnsClient([{ address: '127.0.0.1', port: silent.address().port }], 150).srv('_sip._udp.x.test')).rejects.toThrow(/timed out/);
  });

  it.each([
    ['127.0.0.1', { address: '127.0.0.1', port: 53 }],
    ['127.0.0.1:5353', { address: '127.0.0.1', port: 5353 }],
    ['::1', { address: '::1', port: 53 }],
    ['[::1]:5353', { address: '::1', port: 5353 }],
    ['dns.example.com', undefined],
    ['127.0.0.1:0', undefined],
  ])('parses the server %s', (text, expected) => {
    expect(parseDnsServer(text)).toEqual(expected);
  });
});
