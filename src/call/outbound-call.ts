import type Srf from 'drachtio-srf';
import type { Logger } from '../log/logger.ts';
import { finalAttempt, type Attempt, type FinalAttempt } from '../routing/dial-route-preview.ts';
import { TIMEOUT_STATUS, type FailoverPolicy } from '../routing/failover-policy.ts';
import type { HeaderPolicy } from '../routing/header-policy.ts';
import type { Clock } from '../sip/clock.ts';
import { checkedMove, type StateTable } from '../sip/state-table.ts';
import { Bridge, carryHeaders } from './bridge.ts';
import type { CallRecord, CallRecordBuilder } from './call-record.ts';
import { ALLOW_IN_DIALOG, SUPPORTED } from './capabilities.ts';
import { CarrierAttempt, carrierInviteFor, offerFor, type AttemptOutcome } from './carrier-attempt.ts';
import { answerPlatformTimer, carrierTimerHeaders, type TimerRequest } from './session-timer.ts';
import { holdRequests, sendableStatus, type CarrierAnswer, type HeaderReader, type CarrierInviter, type Leg, type PlatformAnswerer, type ProvisionalResponse } from './srf-adapter.ts';

/**
 * One call's life (docs/routing.md §3–§5): the plan's attempts in turn, one CarrierAttempt at a
 * time, then the platform's answer and the Bridge.
 *   routing   → attempting | ended
 *   attempting→ attempting (failover) | early (early media relayed) | answering | ended
 *   early     → answering | ended          (no failover after early media)
 *   answering → bridged | ended            (the platform's 200, and for a delayed offer its ACK)
 *   bridged   → ended
 */
export type CallState = 'routing' | 'attempting' | 'early' | 'answering' | 'bridged' | 'ended';

const CALL_TABLE: StateTable<CallState> = {
  routing: ['attempting', 'ended'],
  attempting: ['attempting', 'early', 'answering', 'ended'],
  early: ['answering', 'ended'],
  answering: ['bridged', 'ended'],
  bridged: ['ended'],
  ended: [],
};

export interface OutboundCallDeps {
  readonly inviter: CarrierInviter;
  readonly answerer: PlatformAnswerer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly failover: FailoverPolicy;
  readonly headerPolicy: HeaderPolicy;
  readonly connectTimeoutMs: number;
  /** 64 × T1 (RFC 3261 §13.3.1.4): the longest an ACK from the platform is waited for. */
  readonly ackWaitMs: number;
  /** called once with the call's record when it ends (log line, metrics). */
  readonly report: (record: CallRecord) => void;
}

/** What the platform's INVITE says for every attempt of the call, read once. */
export interface PlatformInvite {
  readonly headers: HeaderReader;
  /** RFC 7332 §3: the platform's Max-Forwards minus one. */
  readonly maxForwards: number;
  readonly timer: TimerRequest;
}

/** The status the platform gets: the carrier's, with its reason phrase and the headers that explain it. */
interface FinalStatus {
  readonly status: number;
  /** the carrier's reason phrase; undefined = the standard one */
  readonly phrase: string | undefined;
  /** for the call record */
  readonly note: string | undefined;
  readonly headers: Record<string, string> | undefined;
}

/** Headers of a carrier's final failure that the platform needs to act on it (RFC 4028 §6, RFC 3261 §20). */
const FAILURE_HEADERS = ['Min-SE', 'Retry-After', 'Warning', 'Unsupported', 'Allow', 'Accept'];

const NO_ROUTE: FinalStatus = { status: 404, phrase: undefined, note: 'no route', headers: undefined };

export class OutboundCall {
  private current: CallState = 'routing';
  private platformCancelled = false;
  private attempt: CarrierAttempt | undefined;
  private readonly finished: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly deps: OutboundCallDeps,
    private readonly req: Srf.SrfRequest,
    private readonly res: Srf.SrfResponse,
    private readonly record: CallRecordBuilder,
    private readonly invite: PlatformInvite,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    req.on('cancel', () => {
      // docs/routing.md §4: the platform's CANCEL ends the plan. The SIP stack has already
      // answered 200 to the CANCEL and 487 to the INVITE (drachtio's quick-CANCEL behaviour).
      this.platformCancelled = true;
      this.record.outcome(487, 'cancelled by platform');
      this.attempt?.cancel();
    });
  }

  get state(): CallState {
    return this.current;
  }

  private move(to: CallState): void {
    this.current = checkedMove(CALL_TABLE, this.current, to, 'call');
  }

  /** Runs the plan and resolves when the call has ended, one way or the other. */
  async run(plan: readonly Attempt[]): Promise<void> {
    let last = NO_ROUTE;
    const platform = { policy: this.deps.headerPolicy, headers: this.invite.headers.get };
    for (const planned of plan) {
      if (this.platformCancelled) break;
      const attempt = finalAttempt(planned, platform);
      const started = this.deps.clock.now();
      const offer = offerFor(attempt.codecs, this.req.body ?? '');
      if (offer === undefined) {
        // docs/routing.md §3: no common codec → the attempt is skipped as a 488.
        this.record.attempt(attempt, 488, started, 'no common codec');
        last = { status: 488, phrase: undefined, note: 'no common codec', headers: undefined };
        if (!this.deps.failover.shouldFailover(488)) break;
        continue;
      }
      this.move('attempting');
      const carrier = new CarrierAttempt(this.deps, carrierInviteFor(attempt, offer, this.dialogHeaders()), (prov) => this.relayProvisional(prov));
      this.attempt = carrier;
      const outcome = await carrier.outcome;
      this.attempt = undefined;
      this.recordAttempt(attempt, started, outcome);
      if (outcome.kind === 'answered') {
        await this.connect(carrier, attempt, outcome.answer);
        return this.finished;
      }
      if (outcome.kind === 'cancelled' || this.platformCancelled) break;
      last = finalStatusOf(outcome);
      if (outcome.kind === 'failed' && outcome.early) break;
      const failover = this.deps.failover.shouldFailoverOutcome(
        outcome.kind === 'timed-out'
          ? { kind: 'timeout' }
          : outcome.notSent
            ? { kind: 'transport-error' }
            : { kind: 'status', status: outcome.status },
      );
      if (!failover) break;
    }
    this.end(last);
    return this.finished;
  }

  /** What the B2BUA sets on every attempt's INVITE for the new dialog (RFC 7332 §3, RFC 4028 §7). */
  private dialogHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'Max-Forwards': String(this.invite.maxForwards) };
    carrierTimerHeaders(this.invite.timer, headers);
    return headers;
  }

  private recordAttempt(attempt: FinalAttempt, started: number, outcome: AttemptOutcome): void {
    switch (outcome.kind) {
      case 'answered':
        return this.record.attempt(attempt, 200, started);
      case 'failed':
        return this.record.attempt(attempt, outcome.status, started, outcome.reason);
      case 'timed-out':
        return this.record.attempt(attempt, TIMEOUT_STATUS, started, 'connect timeout');
      case 'cancelled':
        return this.record.attempt(attempt, 487, started, 'cancelled by platform');
    }
  }

  /** A carrier's 18x to the platform, reason phrase unchanged (docs/routing.md §4). */
  private relayProvisional(prov: ProvisionalResponse): void {
    if (this.platformCancelled || this.res.finalResponseSent) return;
    const { status, reason } = sendableStatus(prov.status, prov.reason);
    if (prov.body) {
      // docs/routing.md §4: once early media reached the platform this attempt is final.
      if (this.current === 'attempting') this.move('early');
      this.res.send(status, reason, { body: prov.body, headers: { 'Content-Type': 'application/sdp' } });
    } else {
      this.res.send(status, reason, {});
    }
  }

  /** Carrier answered: answer the platform with the carrier's SDP and bridge the two dialogs. */
  private async connect(carrier: CarrierAttempt, attempt: FinalAttempt, answer: CarrierAnswer): Promise<void> {
    if (this.platformCancelled || this.res.finalResponseSent) {
      carrier.abandon(answer, 'platform cancelled before the answer');
      this.end({ status: 487, phrase: undefined, note: 'cancelled by platform', headers: undefined });
      return;
    }
    this.move('answering');
    const timer = answerPlatformTimer(this.invite.timer, answer.response);
    // RFC 3261 §13.3.1.4: the 2xx says what the platform may use in this dialog.
    const headers: Record<string, string> = { Allow: ALLOW_IN_DIALOG, Supported: SUPPORTED, ...timer.headers };
    // The carrier's requests wait until its dialog is bridged: srf would answer them itself.
    if (answer.kind === 'dialog') holdRequests(answer.leg, true);
    let platformLeg: Leg;
    try {
      platformLeg = await this.deps.answerer.answer(this.req, this.res, { sdp: answer.kind === 'dialog' ? answer.leg.remote.sdp : answer.sdp, headers });
    } catch (err) {
      // A platform CANCEL that crossed our 200 lands here too (srf rejects with 487).
      if (this.platformCancelled) this.deps.logger.debug({ err }, 'platform cancelled while being answered');
      else this.deps.logger.warn({ err }, 'answering the platform failed');
      carrier.abandon(answer, 'platform answer failed');
      this.end({ status: 500, phrase: undefined, note: 'platform answer failed', headers: undefined });
      return;
    }
    let carrierLeg: Leg;
    let platformAcked = false;
    if (answer.kind === 'dialog') {
      carrierLeg = answer.leg;
    } else {
      // Delayed offer: the platform's ACK carries its answer to the carrier's offer.
      const ack = await this.platformAck(platformLeg);
      if (!ack) {
        carrier.abandon(answer, 'no answer from the platform in its ACK');
        if (platformLeg.connected) hangUp(platformLeg, this.deps.logger, 'no answer in the ACK');
        this.record.outcome(488, 'no SDP answer in the platform ACK');
        this.end(undefined);
        return;
      }
      try {
        carrierLeg = await answer.ack(ack);
      } catch (err) {
        this.deps.logger.warn({ err }, 'ACK to the carrier failed');
        hangUp(platformLeg, this.deps.logger, 'carrier ACK failed');
        this.end(undefined);
        return;
      }
      platformAcked = true;
    }
    this.move('bridged');
    this.record.connected();
    const bridge = new Bridge(
      { clock: this.deps.clock, logger: this.deps.logger, ackWaitMs: this.deps.ackWaitMs },
      platformLeg,
      carrierLeg,
      { carrierCodecs: attempt.codecs, platformAcked, sessionTimer: timer.timer },
    );
    bridge.start();
    if (answer.kind === 'dialog') holdRequests(carrierLeg, false);
    const ended = await bridge.ended;
    this.record.hangup(ended.by, ended.reason);
    this.end(undefined);
  }

  /** The SDP in the platform's ACK for our 2xx; undefined when it hangs up or never ACKs (RFC 3261 §13.3.1.4). */
  private platformAck(leg: Leg): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimeout(() => resolve(undefined), this.deps.ackWaitMs);
      leg.once('ack', (ack) => {
        this.deps.clock.clearTimeout(timer);
        resolve(ack.body);
      });
      leg.once('destroy', () => {
        this.deps.clock.clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** Ends the call: a final status to the platform when it has none yet, then the record. */
  private end(final: FinalStatus | undefined): void {
    if (this.current === 'ended') return;
    if (final !== undefined && !this.platformCancelled) {
      if (!this.res.finalResponseSent) {
        const { status, reason } = sendableStatus(final.status, final.phrase);
        this.res.send(status, reason, final.headers !== undefined ? { headers: final.headers } : {});
      }
      this.record.outcome(final.status, final.note);
    }
    this.move('ended');
    this.deps.report(this.record.build());
    this.finish();
  }
}

function finalStatusOf(outcome: Exclude<AttemptOutcome, { kind: 'answered' } | { kind: 'cancelled' }>): FinalStatus {
  if (outcome.kind === 'timed-out') return { status: TIMEOUT_STATUS, phrase: undefined, note: 'connect timeout', headers: undefined };
  const headers = outcome.response !== undefined ? carryHeaders(outcome.response, FAILURE_HEADERS, {}) : undefined;
  return { status: outcome.status, phrase: outcome.reason, note: outcome.reason, headers };
}

function hangUp(leg: Leg, logger: Logger, why: string): void {
  leg.destroy(undefined, (err) => {
    if (err) logger.debug({ err, why }, 'BYE not sent');
  });
}
