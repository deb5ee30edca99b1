/**
 * SIP over TLS through the edge with the unmodified drachtio-srf: an srf app calls a TLS carrier
 * found by SRV (certificate checked against OUTDIAL_SIP_TLS_CA, SNI = the URI's domain, one
 * connection reused for the BYE), a carrier with a bad certificate is a transport failure (503
 * to the app, or the next SRV target), and the TLS listener takes a platform's INVITE and sends
 * the dialog's BYE back over the platform's connection. Certificates are made by openssl here.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Srf from 'drachtio-srf';
import { connectSrf, disconnectSrf, SDP, startEdgeHarness, TEST_SECRET, waitFor, type EdgeHarness } from '../support/edge-harness.ts';
import { startDnsTestServer, type DnsTestServer } from '../support/dns-test-server.ts';
import { createTestPki, type TestPki } from '../support/test-certs.ts';
import { TlsSipCarrier, TlsSipClient, getHeader } from '../support/tls-sip-peer.ts';
import { buildRequest, RawSipPeer } from './raw-sip-peer.ts';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.cleanup());

let h: EdgeHarness | undefined;
let dns: DnsTestServer | undefined;
const carriers: TlsSipCarrier[] = [];
const clients: TlsSipClient[] = [];
const apps: Srf[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const a of apps.splice(0)) disconnectSrf(a);
  await h?.close();
  h = undefined;
  await Promise.all(carriers.splice(0).map((c) => c.close()));
  await dns?.close();
  dns = undefined;
});

async function carrier(cert: { cert: string; key: string }, inviteStatus?: number): Promise<TlsSipCarrier> {
  const c = await TlsSipCarrier.start({ cert: pki.read(cert.cert), key: pki.read(cert.key), ...(inviteStatus ? { inviteStatus } : {}) });
  carriers.push(c);
  return c;
}

/** An edge that trusts the test CA and asks the test DNS server, with `_sips._tcp.carrier.test` → these carriers. */
async function edgeWithSrv(targets: TlsSipCarrier[]): Promise<EdgeHarness> {
  dns = await startDnsTestServer({
    srv: { '_sips._tcp.carrier.test': targets.map((c, i) => ({ priority: 10 * (i + 1), weight: 0, port: c.port, target: `tls${i + 1}.carrier.test` })) },
    a: Object.fromEntries(targets.map((_c, i) => [`tls${i + 1}.carrier.test`, ['127.0.0.1']])),
  });
  h = await startEdgeHarness({}, { tlsCa: pki.caFile, dnsServers: [dns.address] });
  return h;
}

describe('outgoing TLS to a carrier', () => {
  it('reaches a TLS carrier found by SRV, with the certificate checked and SNI set, and reuses the connection for the BYE', async () => {
    const good = await carrier(pki.issue('carrier.test', ['carrier.test']));
    const h = await edgeWithSrv([good]);
    const srf = await h.connectApp();
    const dialog = await srf.createUAC('sips:+15551234567@carrier.test', { localSdp: SDP });
    expect(dialog.sip.remoteTag).toBe('carrier');
    const invite = good.requests('INVITE')[0]!;
    expect(invite.uri).toBe('sips:+15551234567@carrier.test');
    expect(getHeader(invite, 'via')).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${h.edge.sipAddress.port};rport;branch=z9hG4bK`));
    expect(getHeader(invite, 'contact')).toMatch(/;transport=tls>$/);
    await waitFor(() => good.requests('ACK').length === 1, 3000, 'the ACK');
    dialog.destroy();
    await waitFor(() => good.requests('BYE').length === 1, 3000, 'the BYE');
    // RFC 5922 4.1: the name checked (and sent as SNI) is the URI's domain, not the SRV target
    expect(good.serverNames).toEqual(['carrier.test']);
    expect(good.connections).toBe(1);
    expect(new Set(good.received.map((r) => r.connection))).toEqual(new Set([1]));
    expect(dns!.asked).toContain('SRV _sips._tcp.carrier.test');
  });

  it.each([
    ['a self-signed certificate', () => pki.selfSigned('carrier.test', ['carrier.test'])],
    ['a certificate for another name', () => pki.issue('other.test', ['other.test'])],
  ])('refuses %s: the app gets 503 and the edge goes on', async (_what, make) => {
    const bad = await carrier(make());
    const h = await edgeWithSrv([bad]);
    const srf = await h.connectApp();
    const err = await srf.createUAC('sips:+15551234567@carrier.test', { localSdp: SDP }).then(
      () => undefined,
      (e: unknown) => e as { status?: number },
    );
    expect(err?.status).toBe(503);
    expect(bad.requests('INVITE')).toHaveLength(0);
    expect(h.logs.text()).toMatch(/request could not be sent/);
    // the edge is still there: it answers the next request (503: no app routes OPTIONS)
    const peer = await RawSipPeer.open('udp', h.edge.sipAddress);
    try {
      const probe = buildRequest({ method: 'OPTIONS', peer }, h.edge.sipAddress);
      peer.send(probe.text);
      expect((await peer.finalResponse(probe.callId)).status).toBe(503);
    } finally {
      peer.close();
    }
  });

  it('fails over from a carrier with a bad certificate to the next SRV target (RFC 3263 4.3)', async () => {
    const bad = await carrier(pki.selfSigned('carrier.test', ['carrier.test']));
    const good = await carrier(pki.issue('carrier.test', ['carrier.test']));
    const h = await edgeWithSrv([bad, good]);
    const srf = await h.connectApp();
    const dialog = await srf.createUAC('sips:+15551234567@carrier.test', { localSdp: SDP });
    expect(good.requests('INVITE')).toHaveLength(1);
    expect(bad.requests('INVITE')).toHaveLength(0);
    expect(h.logs.text()).toMatch(/request failed over to next target/);
    dialog.destroy();
    await waitFor(() => good.requests('BYE').length === 1, 3000, 'the BYE');
  });
});

describe('the TLS listener', () => {
  it('accepts a platform INVITE over TLS, lists tls in the hello to srf, and sends the BYE over the same connection', async () => {
    const edgeCert = pki.issue('localhost', ['localhost', '127.0.0.1']);
    h = await startEdgeHarness({}, { tlsPort: 0, tlsCert: edgeCert.cert, tlsKey: edgeCert.key });
    const tlsPort = h.edge.sipAddress.tlsPort;
    expect(tlsPort).toBeGreaterThan(0);
    const srf = new Srf();
    apps.push(srf);
    const hostports = await connectSrf(srf, h.edge.wireAddress, TEST_SECRET);
    expect(hostports).toContain(`tls/127.0.0.1:${tlsPort}`);
    let uas: { destroy(): void; on(ev: string, f: () => void): void } | undefined;
    srf.invite((req, res) => {
      void srf.createUAS(req, res, { localSdp: SDP }).then((d) => (uas = d as typeof uas), () => undefined);
    });
    await new Promise((r) => setTimeout(r, 100));
    const client = await TlsSipClient.connect(tlsPort!, pki.read(pki.caFile), 'localhost');
    clients.push(client);
    const callId = `tls-listener-${Date.now()}@127.0.0.1`;
    const body = SDP;
    const head = (method: string, cseq: number, to: string, branch: string): string[] => [
      `${method} sip:service@127.0.0.1:${tlsPort};transport=tls SIP/2.0`,
      `Via: SIP/2.0/TLS 127.0.0.1:${client.localPort};rport;branch=${branch}`,
      'Max-Forwards: 70',
      'From: <sip:platform@127.0.0.1>;tag=plat1',
      `To: ${to}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      // a port nobody listens on: the edge must use the connection, not open a new one
      'Contact: <sip:platform@127.0.0.1:9;transport=tls>',
    ];
    client.send([...head('INVITE', 1, `<sip:service@127.0.0.1:${tlsPort}>`, 'z9hG4bKtls1'), 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'));
    const ok = await client.waitFor((m) => m.kind === 'response' && m.status === 200);
    expect(getHeader(ok, 'contact')).toContain(`:${tlsPort};transport=tls`);
    const to = getHeader(ok, 'to') ?? '';
    client.send([...head('ACK', 1, to, 'z9hG4bKtls2'), 'Content-Length: 0', '', ''].join('\r\n'));
    await waitFor(() => uas !== undefined, 3000, 'the UAS dialog');
    await new Promise((r) => setTimeout(r, 100));
    uas!.destroy();
    const bye = await client.waitFor((m) => m.kind === 'request' && m.method === 'BYE');
    expect(getHeader(bye, 'via')).toMatch(new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort};`));
  });
});
