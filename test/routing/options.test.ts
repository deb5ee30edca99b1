import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../src/edge/sip/message.ts';
import { buildRequest, RawSipPeer, type RawTransport } from '../edge/raw-sip-peer.ts';
import { startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/** OPTIONS keep-alives from carriers and platforms (RFC 3261 §11) get 200, over UDP and TCP. */
describe('OPTIONS to outdial', () => {
  let h: RoutingHarness;
  const peers: RawSipPeer[] = [];

  beforeAll(async () => {
    // Not a trusted source: OPTIONS is answered anyway, it places nothing.
    h = await startRoutingHarness({ routing: { trustedSources: ['192.0.2.0/24'] } });
  });
  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each<RawTransport>(['udp', 'tcp'])('answers 200 with Allow over %s', async (transport) => {
    const peer = await RawSipPeer.open(transport, h.sip);
    peers.push(peer);
    const req = buildRequest({ method: 'OPTIONS', peer }, h.sip);
    peer.send(req.text);
    const res = await peer.waitFor((m) => m.kind === 'response' && m.status >= 200);
    expect(res.kind === 'response' && res.status).toBe(200);
    expect(getHeader(res, 'Call-ID')).toBe(req.callId);
    expect(getHeader(res, 'Allow')).toMatch(/INVITE/);
  });
});
