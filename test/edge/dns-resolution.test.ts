/**
 * RFC 3263 through the edge with the unmodified drachtio-srf, sipp carriers and a DNS server of
 * the test's own on loopback (OUTDIAL_DNS_SERVERS): SRV priority with failover on 503 and on a
 * refused connection, NAPTR choosing TCP, and answers kept for their TTL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SDP, startEdgeHarness, type EdgeHarness } from '../support/edge-harness.ts';
import { startDnsTestServer, type DnsTestServer, type Zone } from '../support/dns-test-server.ts';
import { freePort } from '../support/free-port.ts';
import { renderScenario } from '../support/scenario-template.ts';
import { describeSipp, startSipp, stopAllSipp } from '../support/sipp.ts';

let h: EdgeHarness | undefined;
let dns: DnsTestServer | undefined;
afterEach(async () => {
  await stopAllSipp();
  await h?.close();
  h = undefined;
  await dns?.close();
  dns = undefined;
});

async function edgeWith(zone: Zone): Promise<EdgeHarness> {
  dns = await startDnsTestServer(zone);
  h = await startEdgeHarness({}, { dnsServers: [dns.address] });
  return h;
}

describe('RFC 3263 resolution and failover', () => {
  it('SRV: the priority-10 server refuses with 503, the priority-20 server answers (4.3)', async () => {
    const refuser = await startSipp({ scenario: renderScenario('routing/carrier-reject.xml', { status: '503 Service Unavailable' }), transport: 'udp', timeoutSec: 15 });
    const answerer = await startSipp({ scenario: 'uas-answer.xml', transport: 'udp', timeoutSec: 15 });
    const h = await edgeWith({
      srv: {
        '_sip._udp.carrier.test': [
          { priority: 20, weight: 0, port: answerer.port, target: 'b.carrier.test' },
          { priority: 10, weight: 0, port: refuser.port, target: 'a.carrier.test' },
        ],
      },
      a: { 'a.carrier.test': ['127.0.0.1'], 'b.carrier.test': ['127.0.0.1'] },
    });
    const srf = await h.connectApp();
    const dialog = await srf.createUAC('sip:+15551234567@carrier.test', { localSdp: SDP });
    expect(dialog.sip.remoteTag).toBeTruthy();
    dialog.destroy();
    const [r1, r2] = await Promise.all([refuser.done, answerer.done]);
    expect(r1.code, describeSipp(r1)).toBe(0);
    expect(r2.code, describeSipp(r2)).toBe(0);
    expect(r1.messages).toMatch(/^INVITE sip:\+15551234567@carrier\.test SIP\/2\.0/m);
    expect(r2.messages).toMatch(/^BYE sip:/m);
    expect(dns!.asked.slice(0, 2)).toEqual(['NAPTR carrier.test', 'SRV _sip._udp.carrier.test']);
  });

  it('SRV: a refused TCP connection to the first target moves on to the second', async () => {
    const closed = await freePort();
    const answerer = await startSipp({ scenario: 'uas-answer.xml', transport: 'tcp', timeoutSec: 15 });
    const h = await edgeWith({
      srv: {
        '_sip._tcp.carrier.test': [
          { priority: 10, weight: 0, port: closed, target: 'a.carrier.test' },
          { priority: 20, weight: 0, port: answerer.port, target: 'b.carrier.test' },
        ],
      },
      a: { 'a.carrier.test': ['127.0.0.1'], 'b.carrier.test': ['127.0.0.1'] },
    });
    const srf = await h.connectApp();
    const dialog = await srf.createUAC('sip:+15551234567@carrier.test;transport=tcp', { localSdp: SDP });
    dialog.destroy();
    const r = await answerer.done;
    expect(r.code, describeSipp(r)).toBe(0);
    expect(h.logs.text()).toMatch(/request failed over to next target/);
  });

  it('NAPTR prefers SIP+D2T: the call goes over TCP to the SRV target of _sip._tcp', async () => {
    const tcp = await startSipp({ scenario: 'uas-answer.xml', transport: 'tcp', timeoutSec: 15 });
    const h = await edgeWith({
      naptr: {
        'carrier.test': [
          { order: 20, preference: 10, flags: 's', service: 'SIP+D2U', replacement: '_sip._udp.carrier.test' },
          { order: 10, preference: 10, flags: 's', service: 'SIP+D2T', replacement: '_sip._tcp.carrier.test' },
        ],
      },
      srv: {
        '_sip._tcp.carrier.test': [{ priority: 0, weight: 0, port: tcp.port, target: 'tcp.carrier.test' }],
        // nothing listens there: choosing UDP would time out
        '_sip._udp.carrier.test': [{ priority: 0, weight: 0, port: await freePort(), target: 'udp.carrier.test' }],
      },
      a: { 'tcp.carrier.test': ['127.0.0.1'], 'udp.carrier.test': ['127.0.0.1'] },
    });
    const srf = await h.connectApp();
    const dialog = await srf.createUAC('sip:+15551234567@carrier.test', { localSdp: SDP });
    dialog.destroy();
    const r = await tcp.done;
    expect(r.code, describeSipp(r)).toBe(0);
    expect(r.messages).toMatch(/^Via: SIP\/2\.0\/TCP /m);
    expect(dns!.asked).toContain('SRV _sip._tcp.carrier.test');
  });

  it('keeps answers for their TTL: a second call within it asks nothing, a call after it asks again', async () => {
    const uas = await startSipp({ scenario: 'uas-answer.xml', transport: 'udp', calls: 3, timeoutSec: 20 });
    const h = await edgeWith({
      ttl: 1,
      srv: { '_sip._udp.carrier.test': [{ priority: 0, weight: 0, port: uas.port, target: 'a.carrier.test' }] },
      a: { 'a.carrier.test': ['127.0.0.1'] },
    });
    const srf = await h.connectApp();
    const call = async (): Promise<void> => {
      const d = await srf.createUAC('sip:+15551234567@carrier.test', { localSdp: SDP });
      d.destroy();
    };
    const srvQueries = () => dns!.asked.filter((q) => q === 'SRV _sip._udp.carrier.test').length;
    await call();
    await call();
    expect(srvQueries()).toBe(1);
    expect(dns!.asked.filter((q) => q === 'NAPTR carrier.test')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1100));
    await call();
    expect(srvQueries()).toBe(2);
    const r = await uas.done;
    expect(r.code, describeSipp(r)).toBe(0);
  });
});
