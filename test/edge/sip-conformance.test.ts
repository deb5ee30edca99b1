/**
 * What the edge answers by itself, as drachtio-server does, to requests from the network:
 * no application routed (503), unknown dialogs (481), unsupported
 * Require (420 + Unsupported), unsupported Request-URI scheme (416); and that compact headers
 * and large SDP bodies still reach the application. Over UDP and TCP, with a bare SIP peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../src/edge/edge.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { startEdgeHarness, SDP, TEST_SECRET, TEST_TIMERS, type EdgeHarness } from '../support/edge-harness.ts';
import { buildRequest, headerOf, RawSipPeer, type RawTransport } from './raw-sip-peer.ts';

let h: EdgeHarness | undefined;
let peer: RawSipPeer | undefined;
afterEach(async () => {
  peer?.close();
  peer = undefined;
  await h?.close();
  h = undefined;
});

async function setup(transport: RawTransport, routeInvite = false): Promise<{ h: EdgeHarness; peer: RawSipPeer }> {
  h = await startEdgeHarness();
  if (routeInvite) {
    const srf = await h.connectApp();
    srf.invite((req, res) => void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined));
  }
  peer = await RawSipPeer.open(transport, h.edge.sipAddress);
  return { h, peer };
}

describe.each(['udp', 'tcp'] as const)('edge answers by itself over %s', (transport) => {
  it.each([
    ['OPTIONS with no app routing OPTIONS', { method: 'OPTIONS' }, 503],
    ['REGISTER with no app routing REGISTER', { method: 'REGISTER' }, 503],
    ['INVITE with a To tag for an unknown dialog', { method: 'INVITE', toTag: 'nosuchdialog' }, 481],
    ['BYE for an unknown dialog', { method: 'BYE', toTag: 'nosuchdialog' }, 481],
    ['BYE without a To tag', { method: 'BYE' }, 481],
    ['INFO for an unknown dialog', { method: 'INFO', toTag: 'x' }, 481],
    // Max-Forwards: 0 is the application's to judge (a UAS answers; 483 is for forwarding):
    // test/edge/rfc4475-verdicts.test.ts and request-checks.test.ts.
    ['INVITE requiring an extension the edge lacks (RFC 3261 8.2.2.3)', { method: 'INVITE', headers: ['Require: precondition'] }, 420],
    ['INVITE to a mailto: Request-URI (RFC 3261 8.2.2.1)', { method: 'INVITE', uri: 'mailto:someone@example.com' }, 416],
  ] as const)('%s → %i', async (_name, spec, status) => {
    const { h, peer } = await setup(transport, true);
    const req = buildRequest({ ...spec, headers: 'headers' in spec ? [...spec.headers] : [], peer }, h.edge.sipAddress);
    peer.send(req.text);
    const res = await peer.finalResponse(req.callId);
    expect(res.status).toBe(status);
    // the response still names the request's transaction (8.2.6.2) and carries a To tag
    expect(headerOf(res, 'via')).toContain(req.branch);
    expect(headerOf(res, 'to')).toMatch(/;tag=/);
    if (status === 420) expect(headerOf(res, 'unsupported')).toBe('precondition');
    if (spec.method === 'INVITE') {
      // a non-2xx final to an INVITE is ACKed; the edge must then stop retransmitting it
      const to = headerOf(res, 'to') ?? '';
      const ack = req.text
        .replace(/^INVITE /, 'ACK ')
        .replace(/CSeq: (\d+) INVITE/, 'CSeq: $1 ACK')
        .replace(/^To: .*$/m, `To: ${to}`)
        .replace(/Require: .*\r\n/, '');
      peer.send(ack);
    }
  });

  it('passes a request written with compact header names to the app (RFC 3261 7.3.3)', async () => {
    const { h, peer } = await setup(transport, true);
    const callId = `compact-${transport}@127.0.0.1`;
    const proto = transport.toUpperCase();
    const text = [
      `INVITE sip:svc@${h.edge.sipAddress.host}:${h.edge.sipAddress.port} SIP/2.0`,
      `v: SIP/2.0/${proto} 127.0.0.1:${peer.port};branch=z9hG4bKcompact${transport};rport`,
      `f: <sip:raw@127.0.0.1>;tag=ctag`,
      `t: <sip:svc@${h.edge.sipAddress.host}>`,
      `i: ${callId}`,
      'CSeq: 1 INVITE',
      `m: <sip:raw@127.0.0.1:${peer.port};transport=${transport}>`,
      'c: application/sdp',
      'k: replaces',
      `l: ${Buffer.byteLength(SDP)}`,
      '',
      SDP,
    ].join('\r\n');
    peer.send(text);
    const res = await peer.finalResponse(callId);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain('m=audio');
  });

  it('carries an INVITE with a very large SDP (near the UDP datagram limit) to the app and back', async () => {
    h = await startEdgeHarness();
    const srf = await h.connectApp();
    let seenBytes = 0;
    srf.invite((req, res) => {
      seenBytes = Buffer.byteLength(req.body);
      void srf.createUAS(req, res, { localSdp: SDP }).catch(() => undefined);
    });
    peer = await RawSipPeer.open(transport, h.edge.sipAddress);
    // 60 000 bytes of SDP attributes: the whole request stays under 65 507 (the largest UDP payload)
    const filler = Array.from({ length: 1200 }, (_, i) => `a=x-filler:${String(i).padStart(5, '0')}${'z'.repeat(30)}`).join('\r\n');
    const body = `${SDP}${filler}\r\n`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(55_000);
    const req = buildRequest({ method: 'INVITE', peer, body }, h.edge.sipAddress);
    expect(Buffer.byteLength(req.text)).toBeLessThan(65_507);
    peer.send(req.text);
    const res = await peer.finalResponse(req.callId);
    expect(res.status).toBe(200);
    expect(seenBytes).toBe(Buffer.byteLength(body));
  });
});

describe('a request over the size limit', () => {
  let edge: RunningEdge | undefined;
  afterEach(async () => {
    await edge?.close();
    edge = undefined;
  });

  it('is answered 413 over UDP, as sofia-sip does, and the edge goes on', async () => {
    edge = await startEdge({
      sip: { host: '127.0.0.1', port: 0, maxMessageBytes: 4000, ...TEST_TIMERS },
      wire: { host: '127.0.0.1', port: 0, secret: TEST_SECRET },
      logger: createCapturingLogger('debug').logger,
    });
    peer = await RawSipPeer.open('udp', edge.sipAddress);
    const big = buildRequest({ method: 'OPTIONS', peer, body: 'x'.repeat(5000) }, edge.sipAddress);
    peer.send(big.text);
    expect((await peer.finalResponse(big.callId)).status).toBe(413);
    const small = buildRequest({ method: 'OPTIONS', peer }, edge.sipAddress);
    peer.send(small.text);
    expect((await peer.finalResponse(small.callId)).status).toBe(503);
  });
});
