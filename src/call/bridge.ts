import type { Logger } from '../log/logger.ts';
import type { HangupBy } from './call-record.ts';
import { filterSdpOffer } from '../routing/codec-filter.ts';
import type { Clock } from '../sip/clock.ts';
import { checkedMove, type StateTable } from '../sip/state-table.ts';
import { ALLOW_IN_DIALOG } from './capabilities.ts';
import { nextMaxForwards } from './max-forwards.ts';
import { afterOwnRefresh, afterRefresh, ownRefreshHeaders, timerDelayMs, type SessionTimer } from './session-timer.ts';
import { sendableStatus, type AckFn, type HeaderReader, type Leg, type LegAnswer, type LegEvent, type LegRequest, type Responder } from './srf-adapter.ts';

/**
 * The two dialogs of a connected call, tied together (docs/routing.md §5): a BYE on one side ends
 * the other, and what either side sends inside its dialog reaches the other side with its answer
 * coming back. The bridge owns the wait for the platform's ACK and the session timer.
 *
 *   unconfirmed → confirmed | releasing | ended
 *   confirmed   → ended
 *   releasing   → ended
 */
export type BridgeState = 'unconfirmed' | 'confirmed' | 'releasing' | 'ended';

const BRIDGE_TABLE: StateTable<BridgeState> = {
  // RFC 3261 §13.3.1.4: our 2xx to the platform waits for its ACK
  unconfirmed: ['confirmed', 'releasing', 'ended'],
  confirmed: ['ended'],
  // the carrier hung up before the platform's ACK: no BYE toward the platform before it (§15)
  releasing: ['ended'],
  ended: [],
};

export interface BridgeEnd {
  readonly by: HangupBy;
  /** why outdial ended it (by 'outdial' only) */
  readonly reason?: string;
}

export interface BridgeDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** 64 × T1: the longest the platform's ACK is waited for (RFC 3261 §13.3.1.4). */
  readonly ackWaitMs: number;
}

export interface BridgeOptions {
  /** the codec list of the provider the call connected through; offers toward it are filtered. */
  readonly carrierCodecs: readonly string[];
  /** whether the platform's ACK has arrived already (a delayed offer waits for it before bridging). */
  readonly platformAcked: boolean;
  readonly sessionTimer: SessionTimer | undefined;
}

type Side = 'platform' | 'carrier';

/** Request headers carried to the other leg (the body's description, event packages, RFC 4028). */
const REQUEST_HEADERS = [
  'Content-Type', 'Content-Disposition', 'Content-Encoding', 'Content-Language', 'Accept',
  'Event', 'Subscription-State', 'Info-Package', 'Recv-Info', 'Session-Expires', 'Min-SE', 'Supported', 'Require',
];

/** Response headers carried back (the body's description, capabilities, RFC 4028, retry hints). */
const RESPONSE_HEADERS = [
  'Content-Type', 'Content-Disposition', 'Content-Encoding', 'Accept', 'Allow', 'Supported', 'Require',
  'Unsupported', 'Session-Expires', 'Min-SE', 'Retry-After', 'Warning', 'Recv-Info',
];

/**
 * The srf events of the in-dialog requests the bridge answers or relays. INFO, MESSAGE, NOTIFY and
 * OPTIONS are relayed as they are: body, Content-Type and the answer (docs/routing.md §5).
 */
const LEG_EVENTS: ReadonlyArray<LegEvent> = ['modify', 'update', 'info', 'message', 'notify', 'options', 'refer', 'publish'];

/** RFC 3515 §2.4.2 lets a UA decline a REFER; outdial has nobody to transfer to. */
const REFER_REFUSAL = {
  Warning: '399 outdial "call transfer (REFER) is not supported; the call continues"',
  Reason: 'SIP;cause=603;text="REFER not supported"',
};

/** How long outdial waits before retrying its own refresh after a 491 glare (RFC 3261 §14.1). */
const GLARE_RETRY_MS = 2_000;

/** Copies `names` present on `from` into `into`. */
export function carryHeaders(from: HeaderReader, names: readonly string[], into: Record<string, string>): Record<string, string> {
  for (const name of names) {
    if (!from.has(name)) continue;
    const value = from.get(name);
    if (value !== undefined) into[name] = value;
  }
  return into;
}

/**
 * The BYE that ends the other leg carries the received BYE's Max-Forwards minus one (RFC 7332 §3).
 * A BYE creates nothing a loop could multiply, and one refused for its hop count would leave the
 * other leg up: at 0 it goes with the default instead of not at all.
 */
function byeHeaders(bye: LegRequest | undefined): Record<string, string> | undefined {
  if (bye === undefined || !bye.has('Max-Forwards')) return undefined;
  const mf = nextMaxForwards(bye.get('Max-Forwards'));
  return mf === undefined ? undefined : { 'Max-Forwards': String(mf) };
}

function statusOf(err: unknown): number {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : 500;
}

export class Bridge {
  private current: BridgeState;
  private readonly settled: Promise<BridgeEnd>;
  private resolveEnd!: (end: BridgeEnd) => void;
  private endedBy: BridgeEnd | undefined;
  private platformGone = false;
  private carrierGone = false;
  /** the carrier's BYE's hop count, for the BYE toward the platform (sent at once or after its ACK) */
  private carrierByeHeaders: Record<string, string> | undefined;
  private ackTimer: unknown;
  private timer: SessionTimer | undefined;
  private timerHandle: unknown;

  constructor(
    private readonly deps: BridgeDeps,
    private readonly platform: Leg,
    private readonly carrier: Leg,
    private readonly opts: BridgeOptions,
  ) {
    this.current = opts.platformAcked ? 'confirmed' : 'unconfirmed';
    this.timer = opts.sessionTimer;
    this.settled = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  get state(): BridgeState {
    return this.current;
  }

  /** Resolves once the call is over for the record (the first hang-up); BYEs may still follow. */
  get ended(): Promise<BridgeEnd> {
    return this.settled;
  }

  /** The session timer now in force (RFC 4028), for tests and logs. */
  get sessionTimer(): SessionTimer | undefined {
    return this.timer;
  }

  /** Listens on both legs. Call once both dialogs exist, before srf replays held requests. */
  start(): void {
    const { platform, carrier } = this;
    platform.on('destroy', (bye) => this.onPlatformBye(bye));
    carrier.on('destroy', (bye) => this.onCarrierBye(bye));
    if (this.current === 'unconfirmed') platform.once('ack', () => this.onPlatformAck());
    this.listen(platform, carrier, 'platform');
    this.listen(carrier, platform, 'carrier');
    if (!platform.connected) {
      // The platform's BYE arrived before its dialog reached us: its 'destroy' has fired already.
      this.onPlatformBye();
      return;
    }
    this.armTimer();
  }

  private move(to: BridgeState): void {
    this.current = checkedMove(BRIDGE_TABLE, this.current, to, 'bridge');
  }

  private finish(end: BridgeEnd): void {
    if (this.endedBy !== undefined) return;
    this.endedBy = end;
    this.deps.clock.clearTimeout(this.timerHandle);
    this.resolveEnd(end);
  }

  // ------------------------------------------------------------------ hang-ups

  private onPlatformBye(bye?: LegRequest): void {
    this.platformGone = true;
    if (this.current === 'ended') return;
    this.deps.clock.clearTimeout(this.ackTimer);
    this.move('ended');
    if (!this.carrierGone) this.hangUp(this.carrier, 'platform hung up', byeHeaders(bye));
    this.finish({ by: 'platform' });
  }

  private onCarrierBye(bye?: LegRequest): void {
    this.carrierGone = true;
    this.carrierByeHeaders = byeHeaders(bye);
    if (this.current === 'ended' || this.current === 'releasing') return;
    if (this.current === 'unconfirmed') {
      // RFC 3261 §15: no BYE toward the platform before its ACK; the wait is bounded by 64 × T1,
      // after which the stack gives up on the ACK too.
      this.move('releasing');
      this.ackTimer = this.deps.clock.setTimeout(() => this.releasePlatform('carrier hung up; no ACK from the platform'), this.deps.ackWaitMs);
    } else {
      this.move('ended');
      this.hangUp(this.platform, 'carrier hung up', this.carrierByeHeaders);
    }
    this.finish({ by: 'carrier' });
  }

  private onPlatformAck(): void {
    if (this.current === 'unconfirmed') this.move('confirmed');
    else if (this.current === 'releasing') this.releasePlatform('carrier hung up');
  }

  private releasePlatform(why: string): void {
    if (this.current !== 'releasing') return;
    this.deps.clock.clearTimeout(this.ackTimer);
    this.move('ended');
    if (!this.platformGone) this.hangUp(this.platform, why, this.carrierByeHeaders);
  }

  /** outdial ends the call itself (session timer): BYE on both legs. */
  private endBoth(reason: string): void {
    if (this.current === 'ended' || this.current === 'releasing') return;
    this.deps.logger.info({ reason }, 'call ended by outdial');
    this.deps.clock.clearTimeout(this.ackTimer);
    this.move('ended');
    if (!this.platformGone) this.hangUp(this.platform, reason);
    if (!this.carrierGone) this.hangUp(this.carrier, reason);
    this.finish({ by: 'outdial', reason });
  }

  private hangUp(leg: Leg, why: string, headers?: Record<string, string>): void {
    leg.destroy(headers ? { headers } : undefined, (err) => {
      if (err) this.deps.logger.debug({ err, why }, 'BYE not sent');
    });
  }

  // ------------------------------------------------------------------ in-dialog relays

  /**
   * srf emits each in-dialog method under an event of its own (lib/dialog.js: a re-INVITE is
   * 'modify') and answers itself when nobody listens, so the bridge listens for all of them, with
   * one listener per leg that tells them apart by method: a held call keeps one closure per
   * leg instead of eight (docs/performance.md §9).
   */
  private listen(from: Leg, to: Leg, side: Side): void {
    const onRequest = (req: LegRequest, res: Responder): void => this.onRequest(from, to, side, req, res);
    for (const event of LEG_EVENTS) from.on(event, onRequest);
  }

  private onRequest(from: Leg, to: Leg, side: Side, req: LegRequest, res: Responder): void {
    switch (req.method.toUpperCase()) {
      case 'INVITE':
        return this.relayInvite(from, to, side, req, res);
      case 'UPDATE':
        return this.relayUpdate(from, to, side, req, res);
      case 'REFER':
        return res.send(603, 'Decline', { headers: { ...REFER_REFUSAL } });
      case 'PUBLISH':
        // PUBLISH has no meaning inside an INVITE dialog (RFC 3903 §4); srf would answer it 200.
        return res.send(405, undefined, { headers: { Allow: ALLOW_IN_DIALOG } });
      default:
        return this.relayPlain(to, req, res);
    }
  }

  /** Headers for the relayed request: what describes its body or negotiates, and Max-Forwards - 1. */
  private requestHeaders(req: LegRequest, to: Leg, withContact: boolean): Record<string, string> | undefined {
    const mf = nextMaxForwards(req.has('Max-Forwards') ? req.get('Max-Forwards') : undefined);
    if (mf === undefined) return undefined;
    const headers = carryHeaders(req, REQUEST_HEADERS, { 'Max-Forwards': String(mf) });
    // lib/dialog.js modify sets it too: a re-INVITE or UPDATE is a target refresh (RFC 3261 §12.2.1.1).
    if (withContact && to.local.contact !== undefined) headers['Contact'] = to.local.contact;
    return headers;
  }

  /** An offer `sender` made, for the other side: filtered toward the carrier; undefined = no codec in common. */
  private offerFrom(sender: Side, sdp: string): string | undefined {
    if (sender === 'carrier' || sdp === '' || this.opts.carrierCodecs.length === 0) return sdp;
    const f = filterSdpOffer(sdp, this.opts.carrierCodecs);
    return f.ok ? f.sdp : undefined;
  }

  private answer(res: Responder, answer: LegAnswer, extra?: Record<string, string>): void {
    const { status, reason } = sendableStatus(answer.status, answer.reason);
    const headers = carryHeaders(answer, RESPONSE_HEADERS, {});
    if (extra !== undefined) Object.assign(headers, extra);
    res.send(status, reason, answer.body ? { headers, body: answer.body } : { headers });
  }

  private relayPlain(to: Leg, req: LegRequest, res: Responder): void {
    const headers = this.requestHeaders(req, to, false);
    if (headers === undefined) return res.send(483, undefined, {});
    to.request({ method: req.method, headers, ...(req.body ? { body: req.body } : {}) }, (err, answer) => {
      if (err || answer === undefined) return res.send(statusOf(err), undefined, {});
      this.answer(res, answer);
    });
  }

  /** re-INVITE (docs/routing.md §5): toward the carrier the offer goes through the codec filter. */
  private relayInvite(from: Leg, to: Leg, side: Side, req: LegRequest, res: Responder): void {
    const headers = this.requestHeaders(req, to, true);
    if (headers === undefined) return res.send(483, undefined, {});
    if (!req.body) return this.relayOfferlessInvite(from, to, side, req, res, headers);
    const offer = this.offerFrom(side, req.body);
    if (offer === undefined) return res.send(488, undefined, {});
    headers['Content-Type'] = 'application/sdp';
    to.request({ method: 'INVITE', headers, body: offer }, (err, answer) => {
      if (err || answer === undefined) return res.send(statusOf(err), undefined, {});
      let extra: Record<string, string> | undefined;
      if (answer.status >= 200 && answer.status < 300) {
        to.local.sdp = offer;
        if (answer.body) {
          to.remote.sdp = answer.body;
          from.local.sdp = answer.body;
        }
        extra = this.refreshed(side, req, answer);
      }
      this.answer(res, answer, extra);
    });
  }

  /**
   * A re-INVITE without SDP (RFC 3261 §14.1, RFC 3264 §5): the other side's 2xx carries the offer
   * and the requester's ACK the answer, so our ACK toward the other side waits for it. Toward the
   * carrier the offer is filtered; with no codec in common it goes unfiltered, since the other side
   * has already accepted the re-INVITE.
   */
  private relayOfferlessInvite(from: Leg, to: Leg, side: Side, req: LegRequest, res: Responder, headers: Record<string, string>): void {
    to.request({ method: 'INVITE', headers, noAck: true }, (err, answer, ack?: AckFn) => {
      if (err || answer === undefined) return res.send(statusOf(err), undefined, {});
      if (answer.status < 200 || answer.status >= 300 || ack === undefined) return this.answer(res, answer);
      const extra = this.refreshed(side, req, answer);
      if (!answer.body) {
        // The other side answered without an offer of its own: nothing to wait for.
        ack();
        return this.answer(res, answer, extra);
      }
      const offer = this.offerFrom(side === 'platform' ? 'carrier' : 'platform', answer.body) ?? answer.body;
      from.once('ack', (ackReq) => {
        ack({ body: ackReq.body });
        to.local.sdp = ackReq.body;
        from.remote.sdp = ackReq.body;
      });
      from.local.sdp = offer;
      const { status, reason } = sendableStatus(answer.status, answer.reason);
      const out = carryHeaders(answer, RESPONSE_HEADERS, {});
      out['Content-Type'] = 'application/sdp';
      if (extra !== undefined) Object.assign(out, extra);
      res.send(status, reason, { headers: out, body: offer });
    });
  }

  /** UPDATE (RFC 3311), with or without an offer; a session refresh when it has none (RFC 4028 §7.4). */
  private relayUpdate(from: Leg, to: Leg, side: Side, req: LegRequest, res: Responder): void {
    const headers = this.requestHeaders(req, to, true);
    if (headers === undefined) return res.send(483, undefined, {});
    const offer = req.body ? this.offerFrom(side, req.body) : '';
    if (offer === undefined) return res.send(488, undefined, {});
    if (offer !== '') headers['Content-Type'] = 'application/sdp';
    to.request({ method: 'UPDATE', headers, ...(offer !== '' ? { body: offer } : {}) }, (err, answer) => {
      if (err || answer === undefined) return res.send(statusOf(err), undefined, {});
      let extra: Record<string, string> | undefined;
      if (answer.status >= 200 && answer.status < 300) {
        if (offer !== '') {
          to.local.sdp = offer;
          if (answer.body) {
            to.remote.sdp = answer.body;
            from.local.sdp = answer.body;
          }
        }
        extra = this.refreshed(side, req, answer);
      }
      this.answer(res, answer, extra);
    });
  }

  // ------------------------------------------------------------------ session timer (RFC 4028)

  /** A 2xx to a relayed re-INVITE or UPDATE refreshes the session; returns headers for the 2xx. */
  private refreshed(requester: Side, req: HeaderReader, answer: HeaderReader): Record<string, string> | undefined {
    if (this.timer === undefined) return undefined;
    const result = afterRefresh(this.timer, requester, req, answer);
    this.timer = result.timer;
    this.armTimer();
    return result.addToAnswer;
  }

  private armTimer(): void {
    this.deps.clock.clearTimeout(this.timerHandle);
    const timer = this.timer;
    if (timer === undefined || this.endedBy !== undefined) return;
    this.timerHandle = this.deps.clock.setTimeout(() => {
      if (timer.refresher === 'outdial') this.refreshPlatform(timer);
      else this.endBoth('session expired');
    }, timerDelayMs(timer));
  }

  /** outdial refreshes the platform leg itself (RFC 4028 §10): a re-INVITE with the SDP it last sent. */
  private refreshPlatform(timer: SessionTimer): void {
    const headers = ownRefreshHeaders(timer);
    headers['Content-Type'] = 'application/sdp';
    if (this.platform.local.contact !== undefined) headers['Contact'] = this.platform.local.contact;
    this.platform.request({ method: 'INVITE', headers, body: this.platform.local.sdp }, (err, answer) => {
      if (this.endedBy !== undefined) return;
      if (!err && answer !== undefined && answer.status >= 200 && answer.status < 300) {
        this.timer = afterOwnRefresh(timer, answer);
        this.armTimer();
        return;
      }
      if (!err && answer?.status === 491) {
        // glare with a re-INVITE from the platform: that one refreshes the session if it succeeds
        this.timerHandle = this.deps.clock.setTimeout(() => this.refreshPlatform(timer), GLARE_RETRY_MS);
        return;
      }
      this.endBoth('session refresh failed');
    });
  }
}
