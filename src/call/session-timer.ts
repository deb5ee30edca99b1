/**
 * Session timers (RFC 4028) for a bridged call, as pure decisions (docs/routing.md §6). outdial
 * carries the negotiation across: the platform's Session-Expires and Min-SE go to the carrier,
 * the carrier's answer comes back, and the refreshes the refresher sends are relayed like any
 * re-INVITE or UPDATE. Where the carrier does not do session timers, outdial answers the
 * platform's request itself, as RFC 4028 §8.1 has a proxy do, and refreshes the platform leg
 * when the platform cannot. The bridge keeps the timer; these functions decide what it is.
 */
import type { HeaderReader } from './srf-adapter.ts';

/** RFC 4028 §4 / §5: no interval below 90 s; outdial's own Min-SE. */
export const MIN_SE_SECONDS = 90;

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  readonly seconds: number;
  /** relative to the transaction that carried it (RFC 4028 §4); undefined = not given. */
  readonly refresher: Refresher | undefined;
}

/** Who sends the refreshes of a bridged call. 'outdial' refreshes the platform leg itself. */
export type Party = 'platform' | 'carrier' | 'outdial';

export interface SessionTimer {
  readonly seconds: number;
  readonly refresher: Party;
  /** whether the carrier leg runs the timer too (its 2xx carried Session-Expires). */
  readonly carrierSupports: boolean;
}

/** What the platform's INVITE asked for. */
export interface TimerRequest {
  readonly sessionExpires: SessionExpires | undefined;
  readonly minSe: number;
  /** `timer` in its Supported or Require: the platform can refresh (RFC 4028 §7.1). */
  readonly supported: boolean;
}

export const NO_TIMER_REQUEST: TimerRequest = { sessionExpires: undefined, minSe: MIN_SE_SECONDS, supported: false };

const DELTA = /^\s*(\d{1,9})\s*(?:;(.*))?$/;

/** `Session-Expires: 1800;refresher=uac` (RFC 4028 §4: delta-seconds *(SEMI se-params)). */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const m = DELTA.exec(value);
  if (m === null) return undefined;
  let refresher: Refresher | undefined;
  for (const param of (m[2] ?? '').split(';')) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'refresher') continue;
    const v = param.slice(eq + 1).trim().toLowerCase();
    if (v === 'uac' || v === 'uas') refresher = v;
  }
  return { seconds: Number(m[1]), refresher };
}

export function formatSessionExpires(seconds: number, refresher: Refresher): string {
  return `${seconds};refresher=${refresher}`;
}

/** `Min-SE: 90` (RFC 4028 §5: delta-seconds *(SEMI generic-param)). */
export function parseMinSe(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = DELTA.exec(value);
  return m === null ? undefined : Number(m[1]);
}

/** Whether an option-tag list (Supported, Require) names `tag` (RFC 3261 §20.37, case-insensitive). */
export function hasOptionTag(value: string | undefined, tag: string): boolean {
  if (value === undefined) return false;
  for (const t of value.split(',')) if (t.trim().toLowerCase() === tag) return true;
  return false;
}

export type TimerCheck = { ok: true; request: TimerRequest } | { ok: false; minSe: number };

/**
 * The platform INVITE's session-timer headers. An interval below outdial's Min-SE is refused
 * (422 with Min-SE, RFC 4028 §9); the platform then retries with a larger one (§7.4).
 */
export function readTimerRequest(invite: HeaderReader): TimerCheck {
  const seText = invite.has('Session-Expires') ? invite.get('Session-Expires') : undefined;
  const minText = invite.has('Min-SE') ? invite.get('Min-SE') : undefined;
  const supported = hasOptionTag(invite.has('Supported') ? invite.get('Supported') : undefined, 'timer') ||
    hasOptionTag(invite.has('Require') ? invite.get('Require') : undefined, 'timer');
  if (seText === undefined && minText === undefined && !supported) return { ok: true, request: NO_TIMER_REQUEST };
  const sessionExpires = parseSessionExpires(seText);
  const minSe = Math.max(MIN_SE_SECONDS, parseMinSe(minText) ?? 0);
  if (sessionExpires !== undefined && sessionExpires.seconds < MIN_SE_SECONDS) return { ok: false, minSe: MIN_SE_SECONDS };
  return { ok: true, request: { sessionExpires, minSe, supported } };
}

/**
 * Headers for the carrier INVITE: the platform's interval and refresher unchanged (a refresher
 * named for the platform's INVITE names the same party on ours: outdial relays the refreshes),
 * Min-SE, and `Supported: timer` only when the platform can refresh. Never `Require: timer`:
 * outdial itself satisfies the platform's Require, so a carrier without timers still connects.
 */
export function carrierTimerHeaders(request: TimerRequest, into: Record<string, string>): void {
  if (request === NO_TIMER_REQUEST) return;
  if (request.sessionExpires !== undefined) {
    const se = request.sessionExpires;
    into['Session-Expires'] = se.refresher === undefined ? String(se.seconds) : formatSessionExpires(se.seconds, se.refresher);
  }
  if (request.sessionExpires !== undefined || request.minSe !== MIN_SE_SECONDS) into['Min-SE'] = String(request.minSe);
  if (request.supported) into['Supported'] = 'timer';
}

export interface PlatformTimerAnswer {
  /** to add to the 200 toward the platform */
  readonly headers: Record<string, string>;
  readonly timer: SessionTimer | undefined;
}

/**
 * The session timer of the call once the carrier answered, and what the platform's 200 says.
 * - The carrier's 2xx has Session-Expires: it is copied (RFC 4028 §9: `Require: timer` when the
 *   refresher is the UAC, i.e. the platform); the carrier's refresher, if it named none, is the
 *   platform when it can refresh, else the carrier.
 * - Else, when the platform asked: outdial answers as a session-timer UAS would (§9, as a proxy
 *   does for a UAS without support, §8.1): refresher as the platform named it, else the platform
 *   if it can refresh; when the refresher is the UAS side, outdial refreshes the platform leg.
 */
export function answerPlatformTimer(request: TimerRequest, carrier2xx: HeaderReader): PlatformTimerAnswer {
  const carrier = parseSessionExpires(carrier2xx.has('Session-Expires') ? carrier2xx.get('Session-Expires') : undefined);
  if (carrier !== undefined) {
    const refresher = carrier.refresher ?? (request.supported ? 'uac' : 'uas');
    return {
      headers: timerHeaders(carrier.seconds, refresher),
      timer: { seconds: carrier.seconds, refresher: refresher === 'uac' ? 'platform' : 'carrier', carrierSupports: true },
    };
  }
  const asked = request.sessionExpires;
  if (asked === undefined) return { headers: {}, timer: undefined };
  const refresher = asked.refresher ?? (request.supported ? 'uac' : 'uas');
  return {
    headers: timerHeaders(asked.seconds, refresher),
    timer: { seconds: asked.seconds, refresher: refresher === 'uac' ? 'platform' : 'outdial', carrierSupports: false },
  };
}

function timerHeaders(seconds: number, refresher: Refresher): Record<string, string> {
  const headers: Record<string, string> = { 'Session-Expires': formatSessionExpires(seconds, refresher) };
  if (refresher === 'uac') headers['Require'] = 'timer';
  return headers;
}

export interface RefreshResult {
  /** the timer from now on; undefined = no session expiration any more (RFC 4028 §7.2). */
  readonly timer: SessionTimer | undefined;
  /** headers outdial adds to the 2xx it relays back to the requester */
  readonly addToAnswer: Record<string, string> | undefined;
}

/**
 * A 2xx to a re-INVITE or UPDATE is a session refresh, whoever sent it (RFC 4028 §10). Its
 * Session-Expires sets the interval and, by its refresher (the requester for `uac`, §4), who
 * refreshes next; a 2xx without one ends the session expiration (§7.2). Toward a carrier without
 * timers, outdial answers the platform's refresh itself, as it did the INVITE.
 */
export function afterRefresh(timer: SessionTimer, requester: 'platform' | 'carrier', request: HeaderReader, answer: HeaderReader): RefreshResult {
  const responder: Party = requester === 'platform' ? 'carrier' : 'platform';
  const se = parseSessionExpires(answer.has('Session-Expires') ? answer.get('Session-Expires') : undefined);
  if (se !== undefined) {
    let refresher: Party = se.refresher === 'uac' ? requester : se.refresher === 'uas' ? responder : timer.refresher;
    // A carrier without timers never refreshes: outdial does, on the platform leg.
    if (refresher === 'carrier' && !timer.carrierSupports) refresher = 'outdial';
    return { timer: { ...timer, seconds: se.seconds, refresher }, addToAnswer: undefined };
  }
  if (!timer.carrierSupports && requester === 'platform') {
    const asked = parseSessionExpires(request.has('Session-Expires') ? request.get('Session-Expires') : undefined);
    if (asked === undefined) return { timer: undefined, addToAnswer: undefined };
    const refresher = asked.refresher ?? (timer.refresher === 'platform' ? 'uac' : 'uas');
    return {
      timer: { ...timer, seconds: asked.seconds, refresher: refresher === 'uac' ? 'platform' : 'outdial' },
      addToAnswer: timerHeaders(asked.seconds, refresher),
    };
  }
  return { timer: undefined, addToAnswer: undefined };
}

/**
 * When the timer fires after the last refresh (RFC 4028 §10): the refresher at half the interval;
 * the side watching ends the session "slightly before" expiry, min(32 s, interval/3) before it.
 */
export function timerDelayMs(timer: SessionTimer): number {
  if (timer.refresher === 'outdial') return (timer.seconds * 1000) / 2;
  return (timer.seconds - Math.min(32, timer.seconds / 3)) * 1000;
}

/** Headers of outdial's own refresh toward the platform: it is the UAC of that re-INVITE (§7.4). */
export function ownRefreshHeaders(timer: SessionTimer): Record<string, string> {
  return {
    'Session-Expires': formatSessionExpires(timer.seconds, 'uac'),
    'Min-SE': String(MIN_SE_SECONDS),
    Supported: 'timer',
  };
}

/** The answer to outdial's own refresh: its 2xx's Session-Expires, or none (§7.2). */
export function afterOwnRefresh(timer: SessionTimer, answer: HeaderReader): SessionTimer | undefined {
  const se = parseSessionExpires(answer.has('Session-Expires') ? answer.get('Session-Expires') : undefined);
  if (se === undefined) return undefined;
  return { ...timer, seconds: se.seconds, refresher: se.refresher === 'uas' ? 'platform' : 'outdial' };
}
