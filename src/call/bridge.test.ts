import { describe, expect, it } from 'vitest';
import { fakeAnswer, FakeLeg, fakeRequest, settle } from '../../test/support/fake-srf.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { createLogger } from '../log/logger.ts';
import { ackWaitMs } from '../sip/clock.ts';
import { Bridge } from './bridge.ts';
import type { SessionTimer } from './session-timer.ts';

const T1_MS = 100;
const ACK_WAIT_MS = ackWaitMs(T1_MS);

const PLATFORM_OFFER = [
  'v=0', 'o=- 1001 2 IN IP4 192.0.2.10', 's=platform', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', '',
].join('\r\n');
const CARRIER_ANSWER = 'v=0\r\no=carrier 2002 2 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8 101\r\n';

function bridge(opts: { platformAcked?: boolean; codecs?: string[]; timer?: SessionTimer } = {}) {
  const clock = new ManualClock();
  const platform = new FakeLeg('platform', { localSdp: 'v=0\r\no=carrier 2002 1 IN IP4 192.0.2.20\r\n' });
  const carrier = new FakeLeg('carrier');
  const b = new Bridge({ clock, logger: createLogger('silent'), ackWaitMs: ACK_WAIT_MS }, platform, carrier, {
    carrierCodecs: opts.codecs ?? ['PCMA', 'PCMU'],
    platformAcked: opts.platformAcked ?? true,
    sessionTimer: opts.timer,
  });
  b.start();
  return { clock, platform, carrier, b };
}

describe('bridge: hang-ups', () => {
  it('platform BYE → BYE to the carrier; ended by the platform', async () => {
    const { platform, carrier, b } = bridge();
    platform.receiveBye();
    expect(carrier.byes).toBe(1);
    expect(b.state).toBe('ended');
    await expect(b.ended).resolves.toEqual({ by: 'platform' });
  });

  it('carrier BYE → BYE to the platform; ended by the carrier', async () => {
    const { platform, carrier, b } = bridge();
    carrier.receiveBye();
    expect(platform.byes).toBe(1);
    await expect(b.ended).resolves.toEqual({ by: 'carrier' });
    platform.receiveBye(); // crossing BYE: nothing more is sent
    expect(carrier.byes).toBe(0);
    expect(platform.byes).toBe(1);
  });

  it.each([
    ['70', '69'],
    ['1', '0'],
    ['0', undefined],
  ])('a BYE with Max-Forwards %s ends the other leg with a BYE carrying %s (RFC 7332 §3)', (received, sent) => {
    const { platform, carrier } = bridge();
    platform.receiveBye({ 'Max-Forwards': received });
    expect(carrier.byeHeaders?.['Max-Forwards']).toBe(sent);
    const other = bridge();
    other.carrier.receiveBye({ 'Max-Forwards': received });
    expect(other.platform.byeHeaders?.['Max-Forwards']).toBe(sent);
  });

  it('unconfirmed → confirmed on the platform ACK', () => {
    const { platform, b } = bridge({ platformAcked: false });
    expect(b.state).toBe('unconfirmed');
    platform.receiveAck();
    expect(b.state).toBe('confirmed');
  });

  it('carrier BYE before the platform ACK → releasing: the BYE to the platform waits for the ACK (RFC 3261 §15)', async () => {
    const { platform, carrier, b, clock } = bridge({ platformAcked: false });
    carrier.receiveBye();
    expect(b.state).toBe('releasing');
    await expect(b.ended).resolves.toEqual({ by: 'carrier' });
    clock.advance(ACK_WAIT_MS / 2);
    expect(platform.byes).toBe(0);
    platform.receiveAck();
    expect(platform.byes).toBe(1);
    expect(b.state).toBe('ended');
    expect(clock.armed).toBe(0);
  });

  it('releasing → ended at 64 × T1 when the ACK never comes', () => {
    const { platform, carrier, b, clock } = bridge({ platformAcked: false });
    carrier.receiveBye();
    clock.advance(ACK_WAIT_MS - 1);
    expect(platform.byes).toBe(0);
    clock.advance(1);
    expect(platform.byes).toBe(1);
    expect(b.state).toBe('ended');
  });

  it('a platform that hung up before the bridge started: the carrier is hung up at once', async () => {
    const clock = new ManualClock();
    const platform = new FakeLeg('platform');
    const carrier = new FakeLeg('carrier');
    platform.connected = false;
    const b = new Bridge({ clock, logger: createLogger('silent'), ackWaitMs: ACK_WAIT_MS }, platform, carrier, {
      carrierCodecs: [],
      platformAcked: true,
      sessionTimer: undefined,
    });
    b.start();
    expect(carrier.byes).toBe(1);
    await expect(b.ended).resolves.toEqual({ by: 'platform' });
  });
});

describe('bridge: re-INVITE and UPDATE', () => {
  it('relays a platform re-INVITE filtered to the carrier codecs, with Max-Forwards - 1, and the answer back', () => {
    const { platform, carrier } = bridge();
    const res = platform.receive(fakeRequest('INVITE', { body: PLATFORM_OFFER, headers: { 'Max-Forwards': '70', 'Content-Type': 'application/sdp' } }));
    const sent = carrier.lastRequest!;
    expect(sent.opts.method).toBe('INVITE');
    expect(sent.opts.body).toContain('m=audio 4000 RTP/AVP 8 0 101\r\n');
    expect(sent.opts.body).not.toContain('G729');
    expect(sent.opts.headers).toMatchObject({ 'Max-Forwards': '69', 'Content-Type': 'application/sdp', Contact: carrier.local.contact });
    sent.answer(fakeAnswer(200, 'OK', { body: CARRIER_ANSWER, headers: { 'Content-Type': 'application/sdp' } }));
    expect(res.last).toEqual({ status: 200, reason: 'OK', opts: { body: CARRIER_ANSWER, headers: { 'Content-Type': 'application/sdp' } } });
    expect(carrier.local.sdp).toBe(sent.opts.body);
    expect(carrier.remote.sdp).toBe(CARRIER_ANSWER);
    expect(platform.local.sdp).toBe(CARRIER_ANSWER);
  });

  it('answers 488 to a re-INVITE toward the carrier with no codec in common, sending nothing', () => {
    const { platform, carrier } = bridge({ codecs: ['G722'] });
    const res = platform.receive(fakeRequest('INVITE', { body: PLATFORM_OFFER }));
    expect(res.last?.status).toBe(488);
    expect(carrier.requests).toHaveLength(0);
  });

  it('passes a carrier re-INVITE to the platform unfiltered, and a failure back with its reason phrase', () => {
    const { platform, carrier } = bridge({ codecs: ['PCMA'] });
    const res = carrier.receive(fakeRequest('INVITE', { body: PLATFORM_OFFER }));
    const sent = platform.lastRequest!;
    expect(sent.opts.body).toBe(PLATFORM_OFFER);
    sent.answer(fakeAnswer(491, 'Request Pending Here'));
    expect(res.last).toMatchObject({ status: 491, reason: 'Request Pending Here' });
  });

  it('relays a re-INVITE without SDP: the other side offers in its 200, the ACK carries the answer', () => {
    const { platform, carrier } = bridge();
    const res = platform.receive(fakeRequest('INVITE'));
    const sent = carrier.lastRequest!;
    expect(sent.opts).toMatchObject({ method: 'INVITE', noAck: true });
    expect(sent.opts.body).toBeUndefined();
    const acks: Array<{ body: string } | undefined> = [];
    sent.answer(fakeAnswer(200, 'OK', { body: CARRIER_ANSWER }), (o) => acks.push(o));
    expect(res.last).toMatchObject({ status: 200, opts: { body: CARRIER_ANSWER, headers: { 'Content-Type': 'application/sdp' } } });
    expect(acks).toEqual([]);
    platform.receiveAck(PLATFORM_OFFER);
    expect(acks).toEqual([{ body: PLATFORM_OFFER }]);
    expect(carrier.local.sdp).toBe(PLATFORM_OFFER);
  });

  it('filters the platform offer of a carrier re-INVITE without SDP toward the carrier', () => {
    const { platform, carrier } = bridge();
    const res = carrier.receive(fakeRequest('INVITE'));
    const sent = platform.lastRequest!;
    expect(sent.opts).toMatchObject({ method: 'INVITE', noAck: true });
    const acks: Array<{ body: string } | undefined> = [];
    sent.answer(fakeAnswer(200, 'OK', { body: PLATFORM_OFFER }), (o) => acks.push(o));
    const offer = res.last?.opts.body ?? '';
    expect(offer).toContain('m=audio 4000 RTP/AVP 8 0 101\r\n');
    expect(offer).not.toContain('G729');
    carrier.receiveAck(CARRIER_ANSWER);
    expect(acks).toEqual([{ body: CARRIER_ANSWER }]);
  });

  it('relays UPDATE with and without an offer', () => {
    const { platform, carrier } = bridge();
    let res = platform.receive(fakeRequest('UPDATE', { body: PLATFORM_OFFER }));
    expect(carrier.lastRequest!.opts).toMatchObject({ method: 'UPDATE', headers: { 'Content-Type': 'application/sdp' } });
    carrier.lastRequest!.answer(fakeAnswer(200, 'OK', { body: CARRIER_ANSWER, headers: { 'Content-Type': 'application/sdp' } }));
    expect(res.last).toMatchObject({ status: 200, opts: { body: CARRIER_ANSWER } });
    res = carrier.receive(fakeRequest('UPDATE'));
    expect(platform.lastRequest!.opts.body).toBeUndefined();
    platform.lastRequest!.answer(fakeAnswer(200, 'OK'));
    expect(res.last).toEqual({ status: 200, reason: 'OK', opts: { headers: {} } });
  });
});

describe('bridge: INFO, MESSAGE, NOTIFY, OPTIONS, REFER', () => {
  const DTMF = 'Signal=5\r\nDuration=160\r\n';

  it.each([
    ['INFO', 'platform', { 'Content-Type': 'application/dtmf-relay' }, DTMF],
    ['INFO', 'carrier', { 'Content-Type': 'application/dtmf-relay' }, DTMF],
    ['MESSAGE', 'platform', { 'Content-Type': 'text/plain;charset=UTF-8' }, 'hello carrier'],
    ['MESSAGE', 'carrier', { 'Content-Type': 'text/plain' }, 'hello platform'],
    ['NOTIFY', 'carrier', { Event: 'talk', 'Subscription-State': 'active', 'Content-Type': 'message/sipfrag' }, 'SIP/2.0 200 OK\r\n'],
    ['NOTIFY', 'platform', { Event: 'hold', 'Subscription-State': 'active' }, ''],
    ['OPTIONS', 'platform', { Accept: 'application/sdp' }, ''],
    ['OPTIONS', 'carrier', {}, ''],
  ] as const)('relays %s from the %s with its body and headers, and the answer back unchanged', (method, from, headers, body) => {
    const legs = bridge();
    const [src, dst] = from === 'platform' ? [legs.platform, legs.carrier] : [legs.carrier, legs.platform];
    const res = src.receive(fakeRequest(method, { body, headers: { ...headers, 'Max-Forwards': '42' } }));
    const sent = dst.lastRequest!;
    expect(sent.opts.method).toBe(method);
    expect(sent.opts.body).toBe(body === '' ? undefined : body);
    expect(sent.opts.headers).toEqual({ ...headers, 'Max-Forwards': '41' });
    sent.answer(fakeAnswer(202, 'Accepted Here', { body: 'ok', headers: { 'Content-Type': 'text/plain', Allow: 'INVITE, BYE' } }));
    expect(res.last).toEqual({ status: 202, reason: 'Accepted Here', opts: { body: 'ok', headers: { 'Content-Type': 'text/plain', Allow: 'INVITE, BYE' } } });
  });

  it('answers a relayed request whose far side cannot be reached with 500, and one at Max-Forwards 0 with 483', () => {
    const { platform, carrier } = bridge();
    let res = platform.receive(fakeRequest('INFO', { body: DTMF }));
    carrier.lastRequest!.fail(new Error('dialog gone'));
    expect(res.last?.status).toBe(500);
    res = platform.receive(fakeRequest('INFO', { headers: { 'Max-Forwards': '0' } }));
    expect(res.last?.status).toBe(483);
    expect(carrier.requests).toHaveLength(1);
  });

  it.each(['platform', 'carrier'] as const)('refuses a REFER from the %s with 603 and says why; nothing is relayed', (from) => {
    const legs = bridge();
    const [src, dst] = from === 'platform' ? [legs.platform, legs.carrier] : [legs.carrier, legs.platform];
    const res = src.receive(fakeRequest('REFER', { headers: { 'Refer-To': '<sip:+15559998888@pbx>' } }));
    expect(res.last?.status).toBe(603);
    expect(res.last?.reason).toBe('Decline');
    expect(res.last?.opts.headers?.Warning).toMatch(/^399 outdial ".*REFER.*"$/);
    expect(res.last?.opts.headers?.Reason).toMatch(/^SIP;cause=603;text=".*"$/);
    expect(dst.requests).toHaveLength(0);
    expect(legs.b.state).toBe('confirmed');
  });
});

describe('bridge: session timer (RFC 4028)', () => {
  it('ends the call when the refresher does not refresh: min(32, SE/3) before expiry (§10)', async () => {
    const { platform, carrier, clock, b } = bridge({ timer: { seconds: 1800, refresher: 'platform', carrierSupports: true } });
    expect(clock.nextInMs).toBe((1800 - 32) * 1000);
    clock.advance((1800 - 32) * 1000 - 1);
    expect(platform.byes + carrier.byes).toBe(0);
    clock.advance(1);
    expect(platform.byes).toBe(1);
    expect(carrier.byes).toBe(1);
    await expect(b.ended).resolves.toEqual({ by: 'outdial', reason: 'session expired' });
  });

  it('a refresh relayed with its 2xx restarts the timer with the interval and refresher of that 2xx', () => {
    const { platform, carrier, clock, b } = bridge({ timer: { seconds: 90, refresher: 'platform', carrierSupports: true } });
    expect(clock.nextInMs).toBe(60_000); // 90 - min(32, 30)
    clock.advance(40_000);
    platform.receive(fakeRequest('UPDATE', { headers: { 'Session-Expires': '120;refresher=uas', Supported: 'timer' } }));
    expect(carrier.lastRequest!.opts.headers).toMatchObject({ 'Session-Expires': '120;refresher=uas', Supported: 'timer' });
    carrier.lastRequest!.answer(fakeAnswer(200, 'OK', { headers: { 'Session-Expires': '120;refresher=uas', Require: 'timer' } }));
    // uas of that UPDATE is the carrier: it refreshes now
    expect(b.sessionTimer).toEqual({ seconds: 120, refresher: 'carrier', carrierSupports: true });
    expect(clock.nextInMs).toBe(88_000); // 120 - min(32, 40)
    clock.advance(87_999);
    expect(b.state).toBe('confirmed');
    clock.advance(1);
    expect(b.state).toBe('ended');
  });

  it('a 2xx to a refresh without Session-Expires ends the session expiration (§7.2)', () => {
    const { platform, carrier, clock, b } = bridge({ timer: { seconds: 90, refresher: 'platform', carrierSupports: true } });
    platform.receive(fakeRequest('INVITE', { body: PLATFORM_OFFER }));
    carrier.lastRequest!.answer(fakeAnswer(200, 'OK', { body: CARRIER_ANSWER }));
    expect(b.sessionTimer).toBeUndefined();
    expect(clock.armed).toBe(0);
  });

  it('toward a carrier without timers, outdial puts Session-Expires in the 2xx of the platform refresh itself', () => {
    const { platform, carrier, b } = bridge({ timer: { seconds: 600, refresher: 'platform', carrierSupports: false } });
    const res = platform.receive(fakeRequest('UPDATE', { headers: { 'Session-Expires': '600;refresher=uac' } }));
    carrier.lastRequest!.answer(fakeAnswer(200, 'OK'));
    expect(res.last?.opts.headers).toEqual({ 'Session-Expires': '600;refresher=uac', Require: 'timer' });
    expect(b.sessionTimer).toEqual({ seconds: 600, refresher: 'platform', carrierSupports: false });
  });

  it('refreshes the platform leg itself at half the interval when outdial is the refresher', async () => {
    const { platform, clock, b } = bridge({ timer: { seconds: 600, refresher: 'outdial', carrierSupports: false } });
    clock.advance(300_000 - 1);
    expect(platform.requests).toHaveLength(0);
    clock.advance(1);
    const refresh = platform.lastRequest!;
    expect(refresh.opts).toMatchObject({
      method: 'INVITE',
      body: platform.local.sdp,
      headers: { 'Session-Expires': '600;refresher=uac', 'Min-SE': '90', Supported: 'timer', 'Content-Type': 'application/sdp' },
    });
    refresh.answer(fakeAnswer(200, 'OK', { headers: { 'Session-Expires': '600;refresher=uac' } }));
    expect(b.sessionTimer?.refresher).toBe('outdial');
    expect(clock.nextInMs).toBe(300_000);
    clock.advance(300_000);
    platform.lastRequest!.answer(fakeAnswer(481, 'Call Does Not Exist'));
    await expect(b.ended).resolves.toEqual({ by: 'outdial', reason: 'session refresh failed' });
    await settle();
    expect(b.state).toBe('ended');
  });
});
