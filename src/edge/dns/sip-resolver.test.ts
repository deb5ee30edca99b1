import { describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../../log/logger.ts';
import type { DnsAnswer, DnsClient, NaptrRecord, SrvRecord } from './dns-client.ts';
import { SipResolver } from './sip-resolver.ts';

/** A zone as a table: what each question answers, and which questions were asked. */
class TableDns implements DnsClient {
  readonly asked: string[] = [];
  constructor(private readonly zone: { naptr?: Record<string, NaptrRecord[]>; srv?: Record<string, SrvRecord[]>; a?: Record<string, string[]> }) {}
  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    this.asked.push(`NAPTR ${name}`);
    return Promise.resolve({ records: this.zone.naptr?.[name] ?? [], ttl: 60 });
  }
  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    this.asked.push(`SRV ${name}`);
    return Promise.resolve({ records: this.zone.srv?.[name] ?? [], ttl: 60 });
  }
  addresses(name: string): Promise<DnsAnswer<string>> {
    this.asked.push(`A ${name}`);
    return Promise.resolve({ records: this.zone.a?.[name] ?? [], ttl: 60 });
  }
}

const log = createCapturingLogger().logger;
const naptr = (order: number, preference: number, service: string, replacement: string): NaptrRecord => ({ order, preference, flags: 's', service, regexp: '', replacement });
const srv = (priority: number, weight: number, port: number, target: string): SrvRecord => ({ priority, weight, port, target });

describe('SipResolver (RFC 3263 4)', () => {
  it.each([
    ['sip:+15551234567@127.0.0.1', undefined, [{ transport: 'udp', address: '127.0.0.1', port: 5060 }]],
    ['sip:x@127.0.0.1:5080;transport=TCP', undefined, [{ transport: 'tcp', address: '127.0.0.1', port: 5080 }]],
    ['sip:x@[::1]:5070', 'tcp', [{ transport: 'tcp', address: '::1', port: 5070 }]],
    ['sip:x@192.0.2.1;transport=tls', undefined, [{ transport: 'tls', address: '192.0.2.1', port: 5061, serverName: '192.0.2.1' }]],
    ['sips:x@192.0.2.1', undefined, [{ transport: 'tls', address: '192.0.2.1', port: 5061, serverName: '192.0.2.1' }]],
  ] as const)('an IP literal needs no DNS: %s', async (uri, fallback, expected) => {
    const dns = new TableDns({});
    expect(await new SipResolver(dns, log).resolve(uri, fallback ? { fallbackTransport: fallback } : {})).toEqual(expected);
    expect(dns.asked).toEqual([]);
  });

  it('with a port: A/AAAA only (4.2), every address a target', async () => {
    const dns = new TableDns({ a: { 'carrier.test': ['192.0.2.7', '2001:db8::7'] } });
    expect(await new SipResolver(dns, log).resolve('sip:x@carrier.test:5080')).toEqual([
      { transport: 'udp', address: '192.0.2.7', port: 5080 },
      { transport: 'udp', address: '2001:db8::7', port: 5080 },
    ]);
    expect(dns.asked).toEqual(['A carrier.test']);
  });

  it('with a transport and no port: SRV for that transport (4.2)', async () => {
    const dns = new TableDns({ srv: { '_sip._tcp.carrier.test': [srv(10, 0, 5070, 'b.carrier.test')] }, a: { 'b.carrier.test': ['192.0.2.2'] } });
    expect(await new SipResolver(dns, log).resolve('sip:x@carrier.test;transport=tcp')).toEqual([{ transport: 'tcp', address: '192.0.2.2', port: 5070 }]);
    expect(dns.asked).toEqual(['SRV _sip._tcp.carrier.test', 'A b.carrier.test']);
  });

  it('NAPTR picks the transport by order and preference, then SRV (4.1)', async () => {
    const dns = new TableDns({
      naptr: { 'carrier.test': [naptr(20, 10, 'SIP+D2U', '_sip._udp.carrier.test'), naptr(10, 10, 'SIP+D2T', '_sip._tcp.carrier.test.'), naptr(10, 5, 'X-UNKNOWN', 'x.test')] },
      srv: { '_sip._tcp.carrier.test': [srv(0, 0, 5070, 't.carrier.test')], '_sip._udp.carrier.test': [srv(0, 0, 5080, 'u.carrier.test')] },
      a: { 't.carrier.test': ['192.0.2.10'], 'u.carrier.test': ['192.0.2.11'] },
    });
    expect(await new SipResolver(dns, log).resolve('sip:+15551234567@carrier.test')).toEqual([
      { transport: 'tcp', address: '192.0.2.10', port: 5070 },
      { transport: 'udp', address: '192.0.2.11', port: 5080 },
    ]);
  });

  it('a sips: URI uses only SIPS+D2T, and the TLS target must prove the URI domain (RFC 5922 4.1)', async () => {
    const dns = new TableDns({
      naptr: { 'carrier.test': [naptr(10, 10, 'SIP+D2U', '_sip._udp.carrier.test'), naptr(20, 10, 'SIPS+D2T', '_sips._tcp.carrier.test')] },
      srv: { '_sips._tcp.carrier.test': [srv(0, 0, 5061, 'tls1.carrier.test')] },
      a: { 'tls1.carrier.test': ['192.0.2.20'] },
    });
    expect(await new SipResolver(dns, log).resolve('sips:x@carrier.test')).toEqual([{ transport: 'tls', address: '192.0.2.20', port: 5061, serverName: 'carrier.test' }]);
  });

  it('without NAPTR: SRV for UDP, TCP and TLS in that order (4.1)', async () => {
    const dns = new TableDns({ srv: { '_sips._tcp.carrier.test': [srv(0, 0, 5061, 's.carrier.test')] }, a: { 's.carrier.test': ['192.0.2.30'] } });
    expect(await new SipResolver(dns, log).resolve('sip:x@carrier.test')).toEqual([{ transport: 'tls', address: '192.0.2.30', port: 5061, serverName: 'carrier.test' }]);
    expect(dns.asked.slice(0, 4)).toEqual(['NAPTR carrier.test', 'SRV _sip._udp.carrier.test', 'SRV _sip._tcp.carrier.test', 'SRV _sips._tcp.carrier.test']);
  });

  it('without NAPTR, the targets of every SRV transport in UDP, TCP, TLS order', async () => {
    const dns = new TableDns({
      srv: { '_sips._tcp.carrier.test': [srv(0, 0, 5061, 's.carrier.test')], '_sip._udp.carrier.test': [srv(0, 0, 5060, 'u.carrier.test')] },
      a: { 's.carrier.test': ['192.0.2.30'], 'u.carrier.test': ['192.0.2.31'] },
    });
    expect((await new SipResolver(dns, log).resolve('sip:x@carrier.test')).map((t) => t.transport)).toEqual(['udp', 'tls']);
  });

  it('without NAPTR or SRV: A/AAAA on 5060, or 5061 for TLS (4.2)', async () => {
    const dns = new TableDns({ a: { 'carrier.test': ['192.0.2.40'] } });
    expect(await new SipResolver(dns, log).resolve('sip:x@carrier.test')).toEqual([{ transport: 'udp', address: '192.0.2.40', port: 5060 }]);
    expect(await new SipResolver(dns, log).resolve('sip:x@carrier.test;transport=tls')).toEqual([{ transport: 'tls', address: '192.0.2.40', port: 5061, serverName: 'carrier.test' }]);
  });

  it('SRV targets in priority order, every address of each, without duplicates', async () => {
    const dns = new TableDns({
      srv: { '_sip._udp.carrier.test': [srv(20, 0, 5062, 'b.carrier.test'), srv(10, 0, 5061, 'a.carrier.test'), srv(30, 0, 5061, 'a.carrier.test')] },
      a: { 'a.carrier.test': ['192.0.2.1', '192.0.2.2'], 'b.carrier.test': ['192.0.2.3'] },
    });
    expect((await new SipResolver(dns, log).resolve('sip:x@carrier.test;transport=udp')).map((t) => `${t.address}:${t.port}`)).toEqual([
      '192.0.2.1:5061', '192.0.2.2:5061', '192.0.2.3:5062',
    ]);
  });

  it.each(['tel:+15551234567', 'sip:x@h;transport=sctp', 'garbage'])('rejects %s', async (uri) => {
    await expect(new SipResolver(new TableDns({}), log).resolve(uri)).rejects.toThrow();
  });

  it('rejects a name with no address at all', async () => {
    await expect(new SipResolver(new TableDns({}), log).resolve('sip:x@nowhere.test')).rejects.toThrow(/no address/);
  });

  it('treats a failing NAPTR or SRV lookup as none and goes on to A/AAAA', async () => {
    const failing: DnsClient = {
      naptr: () => Promise.reject(new Error('SERVFAIL')),
      srv: () => Promise.reject(new Error('timed out')),
      addresses: () => Promise.resolve({ records: ['192.0.2.50'], ttl: 5 }),
    };
    expect(await new SipResolver(failing, log).resolve('sip:x@carrier.test')).toEqual([{ transport: 'udp', address: '192.0.2.50', port: 5060 }]);
  });
});
