import { describe, expect, it } from 'vitest';
import { FakeHeaders } from '../../test/support/fake-srf.ts';
import {
  afterOwnRefresh,
  afterRefresh,
  answerPlatformTimer,
  carrierTimerHeaders,
  MIN_SE_SECONDS,
  parseSessionExpires,
  readTimerRequest,
  timerDelayMs,
  type SessionTimer,
  type TimerRequest,
} from './session-timer.ts';

const h = (headers: Record<string, string> = {}) => new FakeHeaders(headers);

function request(headers: Record<string, string>): TimerRequest {
  const r = readTimerRequest(h(headers));
  if (!r.ok) throw new Error('refused');
  return r.request;
}

describe('parseSessionExpires (RFC 4028 §4)', () => {
  it.each([
    ['1800', { seconds: 1800, refresher: undefined }],
    ['1800;refresher=uac', { seconds: 1800, refresher: 'uac' }],
    [' 90 ; Refresher = UAS ;foo=bar', { seconds: 90, refresher: 'uas' }],
    ['600;refresher=other', { seconds: 600, refresher: undefined }],
    ['abc', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s', (value, expected) => {
    expect(parseSessionExpires(value)).toEqual(expected);
  });
});

describe('readTimerRequest: the platform INVITE', () => {
  it('no session-timer headers → no request', () => {
    expect(readTimerRequest(h({}))).toEqual({ ok: true, request: { sessionExpires: undefined, minSe: 90, supported: false } });
  });

  it('reads Session-Expires, Min-SE and timer in Supported or Require', () => {
    expect(request({ 'Session-Expires': '1800;refresher=uac', 'Min-SE': '120', Supported: '100rel, timer' })).toEqual({
      sessionExpires: { seconds: 1800, refresher: 'uac' },
      minSe: 120,
      supported: true,
    });
    expect(request({ 'Session-Expires': '300', Require: 'timer' }).supported).toBe(true);
  });

  it('refuses an interval below 90 s with the Min-SE to retry with (422, §9)', () => {
    expect(readTimerRequest(h({ 'Session-Expires': '60', Supported: 'timer' }))).toEqual({ ok: false, minSe: MIN_SE_SECONDS });
    expect(readTimerRequest(h({ 'Session-Expires': '90' })).ok).toBe(true);
  });
});

describe('carrierTimerHeaders: what the carrier INVITE carries', () => {
  it.each([
    [{}, {}],
    [{ 'Session-Expires': '1800;refresher=uac', Supported: 'timer' }, { 'Session-Expires': '1800;refresher=uac', 'Min-SE': '90', Supported: 'timer' }],
    // a refresher-less request stays refresher-less: the carrier (UAS) picks (§9)
    [{ 'Session-Expires': '1800', 'Min-SE': '300' }, { 'Session-Expires': '1800', 'Min-SE': '300' }],
    // Require: timer is satisfied by outdial itself, never passed on
    [{ Require: 'timer' }, { Supported: 'timer' }],
  ])('%o → %o', (incoming, expected) => {
    const out: Record<string, string> = {};
    carrierTimerHeaders(request(incoming), out);
    expect(out).toEqual(expected);
  });
});

describe('answerPlatformTimer: the session timer once the carrier answered', () => {
  it.each([
    {
      name: 'carrier refreshes (refresher=uas in its 2xx)',
      platform: { 'Session-Expires': '1800', Supported: 'timer' },
      carrier: { 'Session-Expires': '1800;refresher=uas' },
      headers: { 'Session-Expires': '1800;refresher=uas' },
      timer: { seconds: 1800, refresher: 'carrier', carrierSupports: true },
    },
    {
      name: 'platform refreshes (refresher=uac): Require: timer in the 200 (§9)',
      platform: { 'Session-Expires': '1800;refresher=uac', Supported: 'timer' },
      carrier: { 'Session-Expires': '900;refresher=uac', Require: 'timer' },
      headers: { 'Session-Expires': '900;refresher=uac', Require: 'timer' },
      timer: { seconds: 900, refresher: 'platform', carrierSupports: true },
    },
    {
      name: 'carrier without timers, platform can refresh: outdial answers for it (§8.1)',
      platform: { 'Session-Expires': '600', Supported: 'timer' },
      carrier: {},
      headers: { 'Session-Expires': '600;refresher=uac', Require: 'timer' },
      timer: { seconds: 600, refresher: 'platform', carrierSupports: false },
    },
    {
      name: 'carrier without timers, platform cannot refresh: outdial refreshes the platform leg',
      platform: { 'Session-Expires': '600' },
      carrier: {},
      headers: { 'Session-Expires': '600;refresher=uas' },
      timer: { seconds: 600, refresher: 'outdial', carrierSupports: false },
    },
    {
      name: 'nobody asked',
      platform: {},
      carrier: {},
      headers: {},
      timer: undefined,
    },
  ] as Array<{ name: string; platform: Record<string, string>; carrier: Record<string, string>; headers: Record<string, string>; timer: SessionTimer | undefined }>)('$name', ({ platform, carrier, headers, timer }) => {
    expect(answerPlatformTimer(request(platform), h(carrier))).toEqual({ headers, timer });
  });
});

describe('afterRefresh: a 2xx to a relayed re-INVITE or UPDATE (§10)', () => {
  const withCarrier: SessionTimer = { seconds: 1800, refresher: 'platform', carrierSupports: true };
  const noCarrier: SessionTimer = { seconds: 1800, refresher: 'platform', carrierSupports: false };

  it.each([
    { name: 'uac of a platform refresh = the platform', timer: withCarrier, from: 'platform', req: {}, ans: { 'Session-Expires': '1200;refresher=uac' }, refresher: 'platform', seconds: 1200 },
    { name: 'uas of a platform refresh = the carrier', timer: withCarrier, from: 'platform', req: {}, ans: { 'Session-Expires': '1200;refresher=uas' }, refresher: 'carrier', seconds: 1200 },
    { name: 'uac of a carrier refresh = the carrier', timer: withCarrier, from: 'carrier', req: {}, ans: { 'Session-Expires': '1800;refresher=uac' }, refresher: 'carrier', seconds: 1800 },
    { name: 'no refresher in the 2xx: unchanged', timer: withCarrier, from: 'carrier', req: {}, ans: { 'Session-Expires': '1000' }, refresher: 'platform', seconds: 1000 },
    { name: 'a carrier without timers never refreshes: outdial does', timer: noCarrier, from: 'carrier', req: {}, ans: { 'Session-Expires': '1800;refresher=uac' }, refresher: 'outdial', seconds: 1800 },
  ] as const)('$name', ({ timer, from, req, ans, refresher, seconds }) => {
    expect(afterRefresh(timer, from, h(req), h(ans))).toEqual({ timer: { ...timer, refresher, seconds }, addToAnswer: undefined });
  });

  it('a 2xx without Session-Expires ends the session expiration (§7.2)', () => {
    expect(afterRefresh(withCarrier, 'platform', h({ 'Session-Expires': '1800' }), h({}))).toEqual({ timer: undefined, addToAnswer: undefined });
  });

  it('toward a carrier without timers outdial answers the platform refresh itself', () => {
    expect(afterRefresh(noCarrier, 'platform', h({ 'Session-Expires': '900' }), h({}))).toEqual({
      timer: { seconds: 900, refresher: 'platform', carrierSupports: false },
      addToAnswer: { 'Session-Expires': '900;refresher=uac', Require: 'timer' },
    });
  });
});

describe('timer delays (§10)', () => {
  it.each([
    [{ seconds: 1800, refresher: 'platform' }, (1800 - 32) * 1000],
    [{ seconds: 90, refresher: 'carrier' }, 60_000],
    [{ seconds: 1800, refresher: 'outdial' }, 900_000],
  ] as const)('%o → %d ms', (t, ms) => {
    expect(timerDelayMs({ ...t, carrierSupports: true })).toBe(ms);
  });

  it('the answer to outdial\'s own refresh keeps outdial refreshing unless it says uas', () => {
    const t: SessionTimer = { seconds: 600, refresher: 'outdial', carrierSupports: false };
    expect(afterOwnRefresh(t, h({ 'Session-Expires': '600;refresher=uac' }))).toEqual(t);
    expect(afterOwnRefresh(t, h({ 'Session-Expires': '300;refresher=uas' }))).toEqual({ ...t, seconds: 300, refresher: 'platform' });
    expect(afterOwnRefresh(t, h({}))).toBeUndefined();
  });
});
