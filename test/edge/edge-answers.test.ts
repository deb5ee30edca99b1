/**
 * What the edge answers before any application (docs/edge.md §2, §8): 501 for a method no
 * srf app can route, drachtio-server's 503 for a known method nobody routed and 481 for
 * dialog-only requests; one stateless 403 per INVITE from an untrusted source (no 100 Trying,
 * no retransmission, whatever the scanner ACKs), or nothing at all in drop mode.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdgeHarness, SDP, type EdgeHarness } from '../support/edge-harness.ts';
import { buildRequest, RawSipPeer, type RawTransport } from './raw-sip-peer.ts';

let h: EdgeHarness | undefined;
let peer: RawSipPeer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  await h?.close();
  h = undefined;
});

describe.each(['udp', 'tcp'] as const)('methods nobody routed, over %s', (transport: RawTransport) => {
  it.each([
    ['an extension method (RFC 3261 8.2.1, RFC 4475)', 'FOOBAR', 501],
    ['REGISTER with no app routing it (as drachtio-server)', 'REGISTER', 503],
    ['MESSAGE outside a dialog with no app routing it', 'MESSAGE', 503],
    ['INFO outside a dialog with no app routing it', 'INFO', 503],
    ['SUBSCRIBE with no app routing it', 'SUBSCRIBE', 503],
    ['PRACK without a dialog (RFC 3262 §3)', 'PRACK', 481],
    ['UPDATE without a dialog', 'UPDATE', 481],
  ])('%s → %i', async (_name, method, status) => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
    peer = await RawSipPeer.open(transport, h.edge.sipAddress);
    const r = buildRequest({ method, peer }, h.edge.sipAddress);
    peer.send(r.text);
    const res = await peer.finalResponse(r.callId);
    expect(res.status).toBe(status);
  });

  it('an extension method an app routed reaches that app', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    srf.use('publish', (_req, res) => res.send(202));
    peer = await RawSipPeer.open(transport, h.edge.sipAddress);
    await new Promise((r) => setTimeout(r, 100));
    const r = buildRequest({ method: 'PUBLISH', peer }, h.edge.sipAddress);
    peer.send(r.text);
    expect((await peer.finalResponse(r.callId)).status).toBe(202);
  });
});

/** A scanner on 127.0.0.1 that is not trusted: only 127.0.0.2 may place calls. */
const ONLY_127_0_0_2 = { trustedSources: ['127.0.0.2/32'] };

describe('INVITEs from untrusted sources (OUTDIAL_UNTRUSTED_ACTION)', () => {
  it('reject: exactly one stateless 403 per INVITE, no 100, nothing more after a wrong-branch ACK', async () => {
    h = await startEdgeHarness({ t1Ms: 20, t2Ms: 160, t4Ms: 200 }, {}, { untrusted: { ...ONLY_127_0_0_2, action: 'reject' } });
    const srf = await h.connectApp();
    let invites = 0;
    srf.invite((_req, res) => {
      invites++;
      res.send(480);
    });
    peer = await RawSipPeer.open('udp', h.edge.sipAddress);
    const N = 8;
    for (let i = 0; i < N; i++) {
      const r = buildRequest({ method: 'INVITE', peer, body: SDP }, h.edge.sipAddress);
      peer.send(r.text);
      const res = await peer.finalResponse(r.callId);
      expect(res.status).toBe(403);
      // sipvicious ACKs with another branch: it must not cost anything
      const toTag = /tag=([^;>\s]+)/.exec(res.headers.find((x) => x.name.toLowerCase() === 'to')?.value ?? '')?.[1];
      peer.send(buildRequest({ method: 'ACK', peer, callId: r.callId, toTag, cseq: 1 }, h.edge.sipAddress).text);
    }
    // longer than every retransmission timer (Timer G/H at T1 = 20 ms)
    await new Promise((r) => setTimeout(r, 1500));
    const statuses = peer.received.map((m) => (m.kind === 'response' ? m.status : 0));
    expect(statuses.filter((s) => s === 403)).toHaveLength(N);
    expect(statuses.filter((s) => s === 100)).toHaveLength(0);
    expect(peer.received).toHaveLength(N);
    expect(invites).toBe(0);
    expect(h.edge.stats().serverTransactions).toBe(0);
  });

  it('drop: no answer at all', async () => {
    h = await startEdgeHarness({}, {}, { untrusted: { ...ONLY_127_0_0_2, action: 'drop' } });
    peer = await RawSipPeer.open('udp', h.edge.sipAddress);
    const r = buildRequest({ method: 'INVITE', peer, body: SDP }, h.edge.sipAddress);
    peer.send(r.text);
    await new Promise((res) => setTimeout(res, 400));
    expect(peer.received).toHaveLength(0);
  });

  it('a trusted source is served, and requests inside a dialog pass from anywhere', async () => {
    h = await startEdgeHarness({}, {}, { untrusted: { trustedSources: ['127.0.0.2/32'], action: 'reject' } });
    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
    // from the trusted 127.0.0.2
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.2', r));
    const got: string[] = [];
    sock.on('message', (d) => got.push(d.toString()));
    const port = sock.address().port;
    const invite = [
      `INVITE sip:svc@127.0.0.1:${h.edge.sipAddress.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.2:${port};branch=z9hG4bKtrusted1;rport`,
      'Max-Forwards: 70',
      `From: <sip:p@127.0.0.2:${port}>;tag=t1`,
      `To: <sip:svc@127.0.0.1:${h.edge.sipAddress.port}>`,
      'Call-ID: trusted-1@127.0.0.2',
      'CSeq: 1 INVITE',
      `Contact: <sip:p@127.0.0.2:${port}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(SDP)}`,
      '',
      SDP,
    ].join('\r\n');
    sock.send(invite, h.edge.sipAddress.port, '127.0.0.1');
    const deadline = Date.now() + 3000;
    while (!got.some((g) => g.startsWith('SIP/2.0 200')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    sock.close();
    expect(got.some((g) => g.startsWith('SIP/2.0 100'))).toBe(true);
    expect(got.some((g) => g.startsWith('SIP/2.0 200'))).toBe(true);
    // an in-dialog INVITE (To tag) from an untrusted address is not the gate's business
    peer = await RawSipPeer.open('udp', h.edge.sipAddress);
    const r = buildRequest({ method: 'INVITE', peer, toTag: 'unknown' }, h.edge.sipAddress);
    peer.send(r.text);
    expect((await peer.finalResponse(r.callId)).status).toBe(481);
  });
});
