import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { Logger } from '../log/logger.ts';
import { filterSdpOffer } from '../routing/codec-filter.ts';
import type { Attempt } from '../routing/dial-route-preview.ts';
import { TIMEOUT_STATUS, type FailoverPolicy } from '../routing/failover-policy.ts';
import { applyHeaderPolicy, type HeaderPolicy } from '../routing/header-policy.ts';
import type { CallRecord, CallRecordBuilder } from './call-record.ts';

type Dialog = Srf.Dialog;
type SrfRequest = Srf.SrfRequest;
type SrfResponse = Srf.SrfResponse;

/**
 * One call's life (routing spec §3–§4). Explicit states; `transition` refuses illegal moves.
 *   routing   → attempting (an INVITE is out to a carrier)
 *   attempting→ attempting (failover) | early (18x with SDP relayed) | connected | ended
 *   early     → connected | ended          (no failover after early media)
 *   connected → ended
 */
export type CallState = 'routing' | 'attempting' | 'early' | 'connected' | 'ended';

const LEGAL: Readonly<Record<CallState, readonly CallState[]>> = {
  routing: ['attempting', 'ended'],
  attempting: ['attempting', 'early', 'connected', 'ended'],
  early: ['connected', 'ended'],
  connected: ['ended'],
  ended: [],
};

export interface OutboundCallDeps {
  readonly srf: Srf;
  readonly logger: Logger;
  readonly failover: FailoverPolicy;
  readonly headerPolicy: HeaderPolicy;
  readonly connectTimeoutMs: number;
  /** called once with the call's record when it ends (log line, metrics). */
  readonly report: (record: CallRecord) => void;
}

/** What one attempt came to. `early` is set once the platform has heard this carrier's media. */
type AttemptResult =
  | { kind: 'connected'; answer: CarrierAnswer }
  | { kind: 'failed'; status: number; reason?: string; early: boolean }
  | { kind: 'timeout' }
  | { kind: 'cancelled' };

/**
 * What drachtio-srf's createUAC gives for a 2xx. With an offer in our INVITE: the dialog (srf has
 * ACKed). With a delayed offer (no SDP, RFC 3261 §13.2.1 and 3264 §5): the carrier's offer from
 * its 2xx, and `ack(answer)` to send the ACK carrying our answer, which creates the dialog.
 */
type CarrierAnswer =
  | { kind: 'dialog'; uac: Dialog }
  | { kind: 'offer'; sdp: string; ack(answer: string): Promise<Dialog>; destroy(): Promise<void> };

interface PendingOffer {
  sdp: string;
  ack(answer: string): Promise<Dialog>;
  destroy(): Promise<void>;
}

interface SipError {
  status?: number;
  reason?: string;
}

/**
 * RFC 3261 §15: the callee MUST NOT send BYE before the ACK for its 2xx (or the server
 * transaction's end). If the platform never ACKs, the SIP stack ends that dialog itself after
 * 64*T1; this bound only keeps the wait from outliving it by much (64 × the default T1 of 500 ms).
 */
const ACK_WAIT_MS = 32_000;

export class OutboundCall {
  private state: CallState = 'routing';
  private platformCancelled = false;
  /** cancels the attempt in flight (set while one is). */
  private abortAttempt: (() => void) | undefined;
  private readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly deps: OutboundCallDeps,
    private readonly req: SrfRequest,
    private readonly res: SrfResponse,
    private readonly record: CallRecordBuilder,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    req.on('cancel', () => {
      // Routing spec §4: the platform's CANCEL ends the plan. The SIP stack has already answered
      // 200 to the CANCEL and 487 to the INVITE (drachtio's quick-CANCEL behaviour).
      this.platformCancelled = true;
      this.record.outcome(487, 'cancelled by platform');
      this.abortAttempt?.();
    });
  }

  get currentState(): CallState {
    return this.state;
  }

  /** Runs the plan and resolves when the call has ended, one way or the other. */
  async run(attempts: readonly Attempt[]): Promise<void> {
    let last: { status: number; reason?: string } = { status: 404, reason: 'no route' };
    for (const attempt of attempts) {
      if (this.platformCancelled) break;
      const result = await this.tryAttempt(attempt);
      if (result.kind === 'connected') {
        await this.connect(result.answer);
        return this.finished;
      }
      if (result.kind === 'cancelled' || this.platformCancelled) break;
      const status = result.kind === 'timeout' ? TIMEOUT_STATUS : result.status;
      last = { status, reason: result.kind === 'failed' ? result.reason : 'connect timeout' };
      const passOn =
        (result.kind === 'failed' && result.early) ||
        !this.deps.failover.shouldFailoverOutcome(
          result.kind === 'timeout' ? { kind: 'timeout' } : { kind: 'status', status },
        );
      if (passOn) break;
    }
    this.end(last.status, last.reason);
    return this.finished;
  }

  private transition(to: CallState): void {
    if (!LEGAL[this.state].includes(to)) throw new Error(`illegal call transition ${this.state} → ${to}`);
    this.state = to;
  }

  private async tryAttempt(attempt: Attempt): Promise<AttemptResult> {
    const started = Date.now();
    // A delayed offer has nothing to filter: the carrier makes the offer, in its 2xx.
    const offer = this.req.body ?? '';
    const filtered = attempt.codecs.length === 0 || offer === '' ? { ok: true as const, sdp: offer } : filterSdpOffer(offer, attempt.codecs);
    if (!filtered.ok) {
      // Routing spec §3: no common codec → the attempt is skipped as a 488.
      this.record.attempt(attempt, 488, started, 'no common codec');
      return { kind: 'failed', status: 488, reason: 'no common codec', early: false };
    }
    const outgoing = applyHeaderPolicy(
      this.deps.headerPolicy,
      (name) => (this.req.has(name) ? this.req.get(name) : undefined),
      attempt.provider,
    );
    const headers: Record<string, string> = {};
    for (const h of outgoing.headers) headers[h.name] = h.value;
    this.transition('attempting');

    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      let uacReq: SrfRequest | undefined;
      let early = false;
      let heardBack = false;
      const settle = (result: AttemptResult, status: number, note?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        this.abortAttempt = undefined;
        this.record.attempt(attempt, status, started, note);
        resolve(result);
      };
      const cancelUac = () => {
        if (uacReq === undefined) return;
        try {
          uacReq.cancel(() => undefined);
        } catch (err) {
          this.deps.logger.debug({ err }, 'cancel of carrier attempt failed');
        }
      };
      // Routing spec §4: no response within the connect timeout → CANCEL and fail over.
      // A 100 Trying is hop-by-hop and says nothing about the carrier placing the call.
      const connectTimer = setTimeout(() => {
        if (heardBack) return;
        cancelUac();
        settle({ kind: 'timeout' }, TIMEOUT_STATUS, 'connect timeout');
      }, this.deps.connectTimeoutMs);
      this.abortAttempt = () => {
        cancelUac();
        settle({ kind: 'cancelled' }, 487, 'cancelled by platform');
      };

      // Without localSdp srf sends the INVITE without a body and hands back the carrier's offer.
      const opts: Srf.CreateUACOptions & { callingNumber?: string; callingName?: string } = {
        ...(filtered.sdp !== '' ? { localSdp: filtered.sdp } : {}),
        headers,
      };
      if (outgoing.fromUser !== null) opts.callingNumber = outgoing.fromUser;

      this.deps.srf
        .createUAC(attempt.requestUri, opts, {
          // drachtio-srf calls this as (err, req), whatever its typings say.
          cbRequest: ((err: unknown, sent?: SrfRequest) => {
            if (err || sent === undefined) return;
            uacReq = sent;
            if (settled) cancelUac(); // the platform CANCELed or the timer fired before the echo
          }) as unknown as (req: SrfRequest) => void,
          cbProvisional: (prov: SrfResponse) => {
            if (prov.status <= 100 || settled) return;
            heardBack = true;
            clearTimeout(connectTimer);
            if (this.platformCancelled || this.res.finalResponseSent) return;
            if (prov.body) {
              // Routing spec §4: once early media reached the platform this attempt is final.
              early = true;
              if (this.state === 'attempting') this.transition('early');
              this.res.send(prov.status, prov.reason, { body: prov.body, headers: { 'Content-Type': 'application/sdp' } });
            } else {
              this.res.send(prov.status, prov.reason, {});
            }
          },
        })
        .then(
          (result: Dialog | PendingOffer) => {
            const answer: CarrierAnswer =
              result instanceof EventEmitter
                ? { kind: 'dialog', uac: result as Dialog }
                : { kind: 'offer', ...(result as PendingOffer) };
            if (settled) {
              // Answered after we gave up on it (the 200 crossed our CANCEL, RFC 3261 §9.1):
              // ACK it (srf has, for a dialog) and hang it up.
              if (answer.kind === 'dialog') this.hangUp(answer.uac, 'answered after the attempt was abandoned');
              else answer.destroy().catch((err: unknown) => this.deps.logger.debug({ err }, 'abandoned answer not torn down'));
              return;
            }
            settle({ kind: 'connected', answer }, 200);
          },
          (err: SipError) => {
            const status = typeof err?.status === 'number' ? err.status : 503;
            settle({ kind: 'failed', status, reason: err?.reason, early }, status, err?.reason);
          },
        );
    });
  }

  /** Carrier answered: answer the platform with the carrier's SDP and tie the two dialogs. */
  private async connect(answer: CarrierAnswer): Promise<void> {
    const abandon = (why: string) => {
      if (answer.kind === 'dialog') this.hangUp(answer.uac, why);
      else answer.destroy().catch((err: unknown) => this.deps.logger.debug({ err, why }, 'carrier answer not torn down'));
    };
    if (this.platformCancelled || this.res.finalResponseSent) {
      abandon('platform cancelled before the answer');
      this.end(487, 'cancelled by platform');
      return;
    }
    // The carrier's BYE may arrive while the platform's 200 is being sent; listen from now on.
    let carrierGone = false;
    if (answer.kind === 'dialog') {
      answer.uac.on('destroy', () => {
        carrierGone = true;
      });
    }
    let uas: Dialog;
    try {
      const sdp = answer.kind === 'dialog' ? answer.uac.remote.sdp : answer.sdp;
      uas = await this.deps.srf.createUAS(this.req, this.res, { localSdp: sdp });
    } catch (err) {
      // A platform CANCEL that crossed our 200 lands here too (srf rejects with 487).
      if (this.platformCancelled) this.deps.logger.debug({ err }, 'platform cancelled while being answered');
      else this.deps.logger.warn({ err }, 'answering the platform failed');
      if (!carrierGone) abandon('platform answer failed');
      this.end(500, 'platform answer failed');
      return;
    }
    let uac: Dialog;
    if (answer.kind === 'dialog') {
      uac = answer.uac;
    } else {
      // Delayed offer: the platform's ACK carries its answer to the carrier's offer.
      const ack = await this.platformAck(uas);
      if (ack === undefined || !ack.body) {
        abandon('no answer from the platform in its ACK');
        this.hangUp(uas, 'no answer in the ACK');
        this.record.outcome(488, 'no SDP answer in the platform ACK');
        this.end();
        return;
      }
      try {
        uac = await answer.ack(ack.body);
      } catch (err) {
        this.deps.logger.warn({ err }, 'ACK to the carrier failed');
        this.hangUp(uas, 'carrier ACK failed');
        this.end();
        return;
      }
      uac.on('destroy', () => {
        carrierGone = true;
      });
    }
    this.transition('connected');
    this.record.connected();
    if (!(uas as Dialog & { connected?: boolean }).connected) {
      // The platform's BYE arrived before createUAS resolved: its 'destroy' has already fired.
      this.record.hangup('platform');
      if (!carrierGone) this.hangUp(uac, 'platform hung up');
      this.end();
      return;
    }
    let platformAcked = answer.kind === 'offer';
    uas.on('ack', () => {
      platformAcked = true;
    });
    const hangUpPlatform = () => {
      if (platformAcked) return this.hangUp(uas, 'carrier hung up');
      // RFC 3261 §15: no BYE toward the platform before its ACK.
      const timer = setTimeout(() => this.hangUp(uas, 'carrier hung up; no ACK from the platform'), ACK_WAIT_MS);
      timer.unref();
      uas.on('ack', () => {
        clearTimeout(timer);
        this.hangUp(uas, 'carrier hung up');
      });
    };
    uas.on('destroy', () => {
      this.record.hangup('platform');
      if (!carrierGone) this.hangUp(uac, 'platform hung up');
      this.end();
    });
    const onCarrierBye = () => {
      this.record.hangup('carrier');
      hangUpPlatform();
      this.end();
    };
    if (carrierGone) onCarrierBye();
    else uac.on('destroy', onCarrierBye);
    this.relayModify(uas, uac, true);
    this.relayModify(uac, uas, false);
  }

  /** The platform's ACK for our 2xx, or undefined when it hangs up or never ACKs (RFC 3261 §13.3.1.4). */
  private platformAck(uas: Dialog): Promise<SrfRequest | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ACK_WAIT_MS);
      timer.unref();
      uas.once('ack', ((ack: SrfRequest) => {
        clearTimeout(timer);
        resolve(ack);
      }) as unknown as (msg: SrfResponse) => void); // srf's typings give `once` a response
      uas.once('destroy', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** Sends BYE on a dialog; a failure (dialog already gone at the SIP stack) is only logged. */
  private hangUp(dialog: Dialog, why: string): void {
    dialog.destroy(undefined, (err: unknown) => {
      if (err) this.deps.logger.debug({ err, why }, 'BYE not sent');
    });
  }

  /**
   * re-INVITE and UPDATE from one leg go to the other (routing spec §4); toward the carrier the
   * offer goes through the same codec filter as the first INVITE.
   *
   * Only 'modify' is listened to, never 'hold', 'unhold' or 'refresh': srf's Dialog answers a
   * re-INVITE itself (200 with the old local SDP) when a listener for one of those exists and the
   * offer looks like a hold, unhold or session refresh. Without such listeners every re-INVITE
   * is a 'modify', so a hold (a=sendonly) and a session refresh reach the other side too.
   */
  private relayModify(from: Dialog, to: Dialog, towardCarrier: boolean): void {
    const codecs = this.record.connectedCodecs();
    /** An offer on its way to the carrier, filtered; undefined = no codec in common. */
    const forCarrier = (sdp: string): string | undefined => {
      if (!sdp || codecs.length === 0) return sdp;
      const f = filterSdpOffer(sdp, codecs);
      return f.ok ? f.sdp : undefined;
    };
    const offerFor = (sdp: string): string | undefined => (towardCarrier ? forCarrier(sdp) : sdp);
    from.on('modify', (req: SrfRequest, res: SrfResponse) => {
      if (!req.body) return this.relayOfferlessReinvite(from, to, res, towardCarrier ? (sdp) => sdp : forCarrier);
      const offer = offerFor(req.body);
      if (offer === undefined) return res.send(488);
      to.modify(offer).then(
        (answer: string) => res.send(200, { body: answer, headers: { 'Content-Type': 'application/sdp' } }),
        (err: SipError) => res.send(err?.status ?? 500),
      );
    });
    from.on('update', (req: SrfRequest, res: SrfResponse) => {
      const offer = req.body ? offerFor(req.body) : '';
      if (offer === undefined) return res.send(488);
      const request = { method: 'UPDATE', ...(offer ? { body: offer, headers: { 'Content-Type': 'application/sdp' } } : {}) };
      (to.request(request as unknown as SrfRequest) as Promise<SrfResponse>).then(
        (r: SrfResponse) => res.send(r.status, r.body ? { body: r.body, headers: { 'Content-Type': 'application/sdp' } } : {}),
        (err: SipError) => res.send(err?.status ?? 500),
      );
    });
  }

  /**
   * A re-INVITE without SDP (RFC 3261 §14.1, RFC 3264 §5): the other side's 200 carries the
   * offer and the requester's ACK the answer, so the ACK toward the other side waits for it.
   * `offerOut` filters that offer when it travels toward the carrier; with no codec in common it
   * goes unfiltered, since the other side has already accepted the re-INVITE.
   */
  private relayOfferlessReinvite(from: Dialog, to: Dialog, res: SrfResponse, offerOut: (sdp: string) => string | undefined): void {
    const modify = to.modify as unknown as (opts: { noAck: true }) => Promise<{ sdp: string; ack: (sdp: string) => void } | string>;
    modify.call(to, { noAck: true }).then(
      (result) => {
        if (typeof result === 'string') {
          // The other side answered without an offer of its own: nothing to wait for.
          res.send(200, result ? { body: result, headers: { 'Content-Type': 'application/sdp' } } : {});
          return;
        }
        const offer = offerOut(result.sdp) ?? result.sdp;
        (from as unknown as { once(ev: 'ack', cb: (ack: SrfRequest) => void): void }).once('ack', (ack) => {
          result.ack(ack.body);
          to.local.sdp = ack.body;
        });
        res.send(200, { body: offer, headers: { 'Content-Type': 'application/sdp' } });
      },
      (err: SipError) => res.send(err?.status ?? 500),
    );
  }

  /** Ends the call: a final status to the platform when it has none yet, then the record. */
  private end(status?: number, reason?: string): void {
    if (this.state === 'ended') return;
    if (status !== undefined && !this.res.finalResponseSent && !this.platformCancelled) {
      this.res.send(status, {});
    }
    if (status !== undefined && !this.platformCancelled) this.record.outcome(status, reason);
    this.transition('ended');
    this.deps.report(this.record.build());
    this.finish();
  }
}
