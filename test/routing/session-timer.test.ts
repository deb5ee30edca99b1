import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../src/edge/sip/message.ts';
import { buildRequest, RawSipPeer } from '../edge/raw-sip-peer.ts';
import { describeRun, finalStatus, invitesReceived, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n';

/**
 * docs/routing.md §6: session timers (RFC 4028) for the bridged call. The negotiation is carried
 * across, refreshes are relayed, and outdial answers for a carrier that knows none.
 */
describe('session timers', () => {
  let h: RoutingHarness;
  const peers: RawSipPeer[] = [];

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await h.reset();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('Require: timer with a carrier that refreshes: its interval and refresher reach the platform, its refresh too', async () => {
    const carrier = await h.carrier('carrier-session-timer.xml');
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-session-timer-carrier-refreshes.xml', '+15551234567');
    const c = await carrier.done;
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(c.code, describeRun('carrier', c)).toBe(0);
  });

  it('Require: timer with a carrier that knows no timers: outdial answers for it and keeps answering refreshes', async () => {
    const carrier = await h.carrier('carrier-no-session-timer.xml');
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-session-timer-refreshes.xml', '+15551234567');
    const c = await carrier.done;
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(c.code, describeRun('carrier', c)).toBe(0);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1);
    expect(record).toMatchObject({ outcome: 'connected', hangup_by: 'platform' });
  });

  it('a carrier 422 reaches the platform with its Min-SE, so the platform can retry with a longer interval', async () => {
    const carrier = await h.carrier('carrier-422.xml');
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(422);
    // header names are case-insensitive (RFC 3261 §7.3.1): the stack writes it Min-Se
    expect(platform.messages).toMatch(/^Min-SE: 1800\r?$/im);
  });

  const invite = async (headers: string[]) => {
    const carrier = await h.carrier('carrier-answer.xml');
    await h.provision(carrier, { target: '+1' });
    const peer = await RawSipPeer.open('udp', h.sip);
    peers.push(peer);
    const req = buildRequest({ method: 'INVITE', uri: `sip:+15551234567@${h.sip.host}:${h.sip.port}`, peer, headers, body: OFFER }, h.sip);
    peer.send(req.text);
    const res = await peer.finalResponse(req.callId);
    return { res, carrier: await carrier.stop() };
  };

  it('an interval below 90 s is answered 422 with Min-SE: 90 (RFC 4028 §9), and nothing is dialled', async () => {
    const { res, carrier } = await invite(['Session-Expires: 60', 'Supported: timer']);
    expect(res.status).toBe(422);
    expect(getHeader(res, 'Min-SE')).toBe('90');
    expect(invitesReceived(carrier)).toHaveLength(0);
  });

  it('an extension outdial does not implement in Require is answered 420 with Unsupported', async () => {
    const { res, carrier } = await invite(['Require: timer, replaces']);
    expect(res.status).toBe(420);
    expect(getHeader(res, 'Unsupported')).toBe('replaces');
    expect(invitesReceived(carrier)).toHaveLength(0);
  });
});
