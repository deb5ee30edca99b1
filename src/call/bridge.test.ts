import { describe, expect, it } from 'vitest';
import { fakeAnswer, FakeLeg, fakeRequest } from '../../test/support/fake-srf.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { createLogger } from '../log/logger.ts';
import { ackWaitMs } from '../sip/clock.ts';
import { Bridge } from './bridge.ts';

const T1_MS = 100;
const ACK_WAIT_MS = ackWaitMs(T1_MS);

const PLATFORM_OFFER = [
  'v=0', 'o=- 1001 2 IN IP4 192.0.2.10', 's=platform', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 4000 RTP/AVP 0 8 18 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000',
  'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', '',
].join('\r\n');
const CARRIER_ANSWER = 'v=0\r\no=carrier 2002 2 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8 101\r\n';

function bridge(opts: { platformAcked?: boolean; codecs?: string[] } = {}) {
  const clock = new ManualClock();
  const platform = new FakeLeg('platform', { localSdp: 'v=0\r\no=carrier 2002 1 IN IP4 192.0.2.20\r\n' });
  const carrier = new FakeLeg('carrier');
  const b = new Bridge({ clock, logger: createLogger('silent'), ackWaitMs: ACK_WAIT_MS }, platform, carrier, {
    carrierCodecs: opts.codecs ?? ['PCMA', 'PCMU'],
    platformAcked: opts.platformAcked ?? true,
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
    });
    b.start();
    expect(carrier.byes).toBe(1);
    await expect(b.ended).resolves.toEqual({ by: 'platform' });
  });
});

describe('bridge: re-INVITE and UPDATE', () => {
  it('relays a platform re-INVITE filtered to the carrier codecs, and the answer back', () => {
    const { platform, carrier } = bridge();
    const res = platform.receive(fakeRequest('INVITE', { body: PLATFORM_OFFER, headers: { 'Max-Forwards': '70', 'Content-Type': 'application/sdp' } }));
    const sent = carrier.lastRequest!;
    expect(sent.opts.method).toBe('INVITE');
    expect(sent.opts.body).toContain('m=audio 4000 RTP/AVP 8 0 101\r\n');
    expect(sent.opts.body).not.toContain('G729');
    expect(sent.opts.headers).toMatchObject({ 'Content-Type': 'application/sdp', Contact: carrier.local.contact });
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
