import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../src/edge/sip/message.ts';
import { buildRequest, RawSipPeer } from '../edge/raw-sip-peer.ts';
import { startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * docs/routing.md §7: methods the routing app does not take outside a dialog get 405 with Allow
 * (RFC 3261 §8.2.1), not the 503 that tells a peer outdial is down (RFC 3263 §4.3).
 */
describe('methods outdial does not take', () => {
  let h: RoutingHarness;
  const peers: RawSipPeer[] = [];

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  const send = async (method: string, extra: string[] = [], transport: 'udp' | 'tcp' = 'udp') => {
    const peer = await RawSipPeer.open(transport, h.sip);
    peers.push(peer);
    const req = buildRequest({ method, peer, headers: extra }, h.sip);
    peer.send(req.text);
    return peer.finalResponse(req.callId);
  };

  it.each([
    ['REGISTER', ['Expires: 3600']],
    ['SUBSCRIBE', ['Event: presence', 'Expires: 600']],
    ['MESSAGE', ['Content-Type: text/plain']],
    ['PUBLISH', ['Event: presence']],
    ['NOTIFY', ['Event: dialog', 'Subscription-State: active']],
    ['REFER', ['Refer-To: <sip:+15559998888@192.0.2.1>']],
  ])('%s outside a dialog → 405 with Allow', async (method, extra) => {
    const res = await send(method, extra);
    expect(res.status).toBe(405);
    expect(getHeader(res, 'Allow')).toBe('INVITE, ACK, CANCEL, OPTIONS');
  });

  it('REGISTER over TCP too', async () => {
    const res = await send('REGISTER', ['Expires: 3600'], 'tcp');
    expect(res.status).toBe(405);
  });

  it('INFO outside a dialog belongs to a dialog: the SIP stack answers 481, never 503', async () => {
    const res = await send('INFO');
    expect(res.status).toBe(481);
  });

  it('OPTIONS lists what a call dialog allows and supports', async () => {
    const res = await send('OPTIONS');
    expect(res.status).toBe(200);
    expect(getHeader(res, 'Allow')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, MESSAGE, NOTIFY');
    expect(getHeader(res, 'Supported')).toBe('timer, 100rel');
  });
});
