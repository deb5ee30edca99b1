/**
 * A whole call on real networks (docs/routing.md §4, docs/edge-transport.md): the platform (sipp,
 * supporting 100rel) calls through outdial to a carrier reached over TLS by an SRV name, with the
 * carrier's certificate checked against OUTDIAL_SIP_TLS_CA, and the carrier's early media sent
 * reliably; each leg PRACKs its own 183, the call is answered, ACKed and hung up.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDnsTestServer, type DnsTestServer } from '../support/dns-test-server.ts';
import { createTestPki, type TestPki } from '../support/test-certs.ts';
import { getHeader, TlsSipCarrier } from '../support/tls-sip-peer.ts';
import { describeRun, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

const PCMA_SDP = 'v=0\r\no=carrier 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40002 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n';

describe('a call to a carrier over TLS found by SRV, with reliable early media', () => {
  let pki: TestPki;
  let carrier: TlsSipCarrier;
  let dns: DnsTestServer;
  let h: RoutingHarness;

  beforeAll(async () => {
    pki = createTestPki();
    const cert = pki.issue('carrier.test', ['carrier.test']);
    carrier = await TlsSipCarrier.start({ cert: pki.read(cert.cert), key: pki.read(cert.key), reliableEarlyMedia: true, sdp: PCMA_SDP });
    dns = await startDnsTestServer({
      srv: { '_sips._tcp.carrier.test': [{ priority: 10, weight: 0, port: carrier.port, target: 'tls1.carrier.test' }] },
      a: { 'tls1.carrier.test': ['127.0.0.1'] },
    });
    h = await startRoutingHarness({ sip: { tlsCa: pki.caFile, dnsServers: [dns.address] } });
  });
  afterAll(async () => {
    await h?.close();
    await carrier?.close();
    await dns?.close();
    pki?.cleanup();
  });
  afterEach(async () => {
    await h.reset();
  });

  it('completes: INVITE over TLS with SNI, both 183s PRACKed, answered, ACK and BYE on the same connection', async () => {
    await h.provision('carrier.test', {}, { transport: 'tls' });
    const platform = await h.platform('platform-reliable-early-media.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);

    const [invite] = carrier.requests('INVITE');
    expect(invite?.uri).toBe('sip:+15551234567@carrier.test;transport=tls');
    expect(getHeader(invite!, 'Supported')).toMatch(/100rel/);
    expect(carrier.serverNames).toEqual(['carrier.test']);
    const prack = carrier.requests('PRACK')[0];
    expect(prack && getHeader(prack, 'RAck')).toMatch(/^1 \d+ INVITE$/);
    expect(carrier.requests('ACK')).toHaveLength(1);
    expect(carrier.requests('BYE')).toHaveLength(1);
    // one TLS connection carried the whole dialog
    expect(new Set(carrier.received.map((r) => r.connection))).toEqual(new Set([1]));
  });
});
