import type Srf from 'drachtio-srf';
import type { CallLimiter, CallSlot } from '../cluster/call-limiter.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderRecord } from '../routing/model.ts';
import { finalAttempt, type Attempt, type FinalAttempt } from '../routing/dial-route-preview.ts';
import { TIMEOUT_STATUS, type FailoverPolicy } from '../routing/failover-policy.ts';
import type { HeaderPolicy } from '../routing/header-policy.ts';
import type { Clock } from '../sip/clock.ts';
import { checkedMove, type StateTable } from '../sip/state-table.ts';
import { Bridge, carryHeaders } from './bridge.ts';
import type { CallRecord, CallRecordBuilder } from './call-record.ts';
import { ALLOW_IN_DIALOG, relayReliably, SUPPORTED, type ReliableProvisionals } from './capabilities.ts';
import { AUTH_FAILED_REASON, CarrierAttempt, carrierInviteFor, offerFor, type AttemptOutcome } from './carrier-attempt.ts';
import { answerPlatformTimer, carrierTimerHeaders, type TimerRequest } from './session-timer.ts';
import { providerLimitKey, providerLimits } from './provider-limits.ts';
import {
  holdRequests,
  releaseDialogMessages,
  sendableStatus,
  type CarrierAnswer,
  type CarrierInviter,
  type DigestCredentials,
  type HeaderReader,
  type Leg,
  type PlatformAnswerer,
  type ProvisionalResponse,
} from './srf-adapter.ts';

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
  /** per-provider max_calls / max_cps (docs/cluster.md §5); the engine chooses the implementation */
  readonly limiter: CallLimiter;
  /** the provider's digest credentials, or undefined when it has none (docs/routing.md §4) */
  readonly credentials: (provider: ProviderRecord) => DigestCredentials | undefined;
}

/** What the platform's INVITE says for every attempt of the call, read once. */
export interface PlatformInvite {
  readonly headers: HeaderReader;
  /** RFC 7332 §3: the platform's Max-Forwards minus one. */
  readonly maxForwards: number;
  readonly timer: TimerRequest;
  /** RFC 3262: what the platform said about reliable provisionals (capabilities.ts). */
  readonly reliable: ReliableProvisionals;
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

const NO_HEADERS: HeaderReader = { get: () => undefined, has: () => false };

const NO_ROUTE: FinalStatus = { status: 404, phrase: undefined, note: 'no route', headers: undefined };
/** docs/routing.md §4: an attempt over the provider's limit is not sent; it counts as a local 503. */
const PROVIDER_LIMIT: FinalStatus = { status: 503, phrase: undefined, note: 'provider limit', headers: undefined };
/**
 * docs/routing.md §4: the carrier refused the trunk's credentials. The platform gets 503 when no
 * later attempt connects: the carrier's challenge is about outdial's trunk, not something the
 * platform could answer.
 */
const AUTH_FAILED: FinalStatus = { status: 503, phrase: undefined, note: AUTH_FAILED_REASON, headers: undefined };

/** The platform's INVITE as srf hands it to the app, and srf's response to it. */
interface PlatformTransaction {
  readonly req: Srf.SrfRequest;
  readonly res: Srf.SrfResponse;
}

export class OutboundCall {
  private current: CallState = 'routing';
  private platformCancelled = false;
  private attempt: CarrierAttempt | undefined;
  /** told once, when the call has ended (set by run) */
  private ended: (() => void) | undefined;
  /**
   * The platform's INVITE and srf's response to it, until the call is bridged: then nothing
   * answers or reads the INVITE any more, and a held call keeps neither (docs/performance.md §9).
   */
  private platform: PlatformTransaction | undefined;

  constructor(
    private readonly deps: OutboundCallDeps,
    req: Srf.SrfRequest,
    res: Srf.SrfResponse,
    private readonly record: CallRecordBuilder,
    private invite: PlatformInvite,
  ) {
    this.platform = { req, res };
    req.on('cancel', this.onPlatformCancel);
  }

  private get req(): Srf.SrfRequest {
    return this.unbridged().req;
  }

  private get res(): Srf.SrfResponse {
    return this.unbridged().res;
  }

  private unbridged(): PlatformTransaction {
    if (this.platform === undefined) throw new Error('the platform INVITE is no longer held: the call is bridged');
    return this.platform;
  }

  /**
   * docs/routing.md §4: the platform's CANCEL ends the plan. The SIP stack has already answered
   * 200 to the CANCEL and 487 to the INVITE (drachtio's quick-CANCEL behaviour).
   */
  private readonly onPlatformCancel = (): void => {
    this.platformCancelled = true;
    this.record.outcome(487, 'cancelled by platform');
    this.attempt?.cancel();
  };

  get state(): CallState {
    return this.current;
  }

  private move(to: CallState): void {
    this.current = checkedMove(CALL_TABLE, this.current, to, 'call');
  }

  /**
   * Runs the plan. `ended` is called once, when the call has ended one way or the other: before
   * this resolves when no attempt connected, at the hang-up when one did. A bridged call is not a
   * chain of pending promises for its length (docs/performance.md §9), so this resolves once the
   * plan has run.
   */
  async run(plan: readonly Attempt[], ended: () => void): Promise<void> {
    this.ended = ended;
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
      const slot = await this.admit(attempt.provider);
      if (slot === 'refused-max_calls' || slot === 'refused-max_cps') {
        this.record.attempt(attempt, PROVIDER_LIMIT.status, started, PROVIDER_LIMIT.note, { limit: slot === 'refused-max_calls' ? 'max_calls' : 'max_cps' });
        last = PROVIDER_LIMIT;
        continue;
      }
      if (this.platformCancelled) {
        slot?.release();
        break;
      }
      this.move('attempting');
      const carrier = new CarrierAttempt(
        this.deps,
        carrierInviteFor(attempt, offer, this.dialogHeaders(), this.deps.credentials(attempt.provider)),
        (prov) => this.relayProvisional(prov),
      );
      this.attempt = carrier;
      const outcome = await carrier.outcome;
      this.attempt = undefined;
      this.recordAttempt(attempt, started, outcome, carrier.challenged);
      if (outcome.kind === 'answered') {
        let bridge: Bridge | undefined;
        try {
          bridge = await this.connect(carrier, attempt, outcome.answer);
        } finally {
          if (bridge === undefined) slot?.release();
        }
        // The plan, the attempt and the carrier's INVITE are done with: nothing of this frame
        // stays reachable for the call's length, only the bridge (docs/performance.md §9).
        if (bridge !== undefined) this.untilHangUp(bridge, slot);
        return;
      }
      slot?.release();
      if (outcome.kind === 'cancelled' || this.platformCancelled) break;
      if (outcome.kind === 'failed' && outcome.early) {
        last = finalStatusOf(outcome);
        break;
      }
      if (outcome.kind === 'failed' && outcome.authFailed) {
        // docs/routing.md §4: the trunk was refused, not the callee: the next route may take it.
        last = AUTH_FAILED;
        continue;
      }
      last = finalStatusOf(outcome);
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
  }

  /**
   * A slot under the provider's limits for this attempt (and, if it connects, the call), or which
   * limit refused. A limiter that fails is logged and the attempt goes ahead without a slot: the
   * limits must never be what fails a call.
   */
  private async admit(provider: ProviderRecord): Promise<CallSlot | 'refused-max_calls' | 'refused-max_cps' | undefined> {
    try {
      const admission = await this.deps.limiter.admit(providerLimitKey(provider.id), providerLimits(provider));
      return admission.admitted ? admission : admission.limit === 'max_calls' ? 'refused-max_calls' : 'refused-max_cps';
    } catch (err) {
      this.deps.logger.error({ err, provider_id: provider.id }, 'provider limit not checked');
      return undefined;
    }
  }

  /** What the B2BUA sets on every attempt's INVITE for the new dialog (RFC 7332 §3, RFC 4028 §7). */
  private dialogHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'Max-Forwards': String(this.invite.maxForwards) };
    carrierTimerHeaders(this.invite.timer, headers);
    // RFC 3262 §3: the carrier may send reliable provisionals only when the platform can take
    // them (relayed reliably) or requires them; outdial's leg PRACKs them (docs/routing.md §4).
    if (this.invite.reliable !== 'none') headers['Supported'] = headers['Supported'] ? `${headers['Supported']}, 100rel` : '100rel';
    return headers;
  }

  private recordAttempt(attempt: FinalAttempt, started: number, outcome: AttemptOutcome, challenged: boolean): void {
    const details = { challenged };
    switch (outcome.kind) {
      case 'answered':
        return this.record.attempt(attempt, 200, started, undefined, details);
      case 'failed':
        return this.record.attempt(attempt, outcome.status, started, outcome.authFailed ? AUTH_FAILED.note : outcome.reason, details);
      case 'timed-out':
        return this.record.attempt(attempt, TIMEOUT_STATUS, started, 'connect timeout', details);
      case 'cancelled':
        return this.record.attempt(attempt, 487, started, 'cancelled by platform', details);
    }
  }

  /** A carrier's 18x to the platform, reason phrase unchanged (docs/routing.md §4). */
  private relayProvisional(prov: ProvisionalResponse): void {
    if (this.platformCancelled || this.platform === undefined || this.res.finalResponseSent) return;
    const { status, reason } = sendableStatus(prov.status, prov.reason);
    // RFC 3262 §3: the stack adds RSeq and retransmits it until the platform PRACKs it.
    const reliable: Record<string, string> = relayReliably(this.invite.reliable, prov.get('Require')) ? { Require: '100rel' } : {};
    if (prov.body) {
      // docs/routing.md §4: once early media reached the platform this attempt is final.
      if (this.current === 'attempting') this.move('early');
      this.res.send(status, reason, { body: prov.body, headers: { 'Content-Type': 'application/sdp', ...reliable } });
    } else {
      this.res.send(status, reason, { headers: reliable });
    }
  }

  /** The bridged call ends with either side's hang-up; the provider's slot is held until then. */
  private untilHangUp(bridge: Bridge, slot: CallSlot | undefined): void {
    void bridge.ended.then((ended) => {
      slot?.release();
      this.record.hangup(ended.by, ended.reason);
      this.end(undefined);
    });
  }

  /**
   * Carrier answered: answer the platform with the carrier's SDP and bridge the two dialogs.
   * Resolves with the running bridge, or undefined when the call ended on the way.
   */
  private async connect(carrier: CarrierAttempt, attempt: FinalAttempt, answer: CarrierAnswer): Promise<Bridge | undefined> {
    if (this.platformCancelled || this.res.finalResponseSent) {
      carrier.abandon(answer, 'platform cancelled before the answer');
      this.end({ status: 487, phrase: undefined, note: 'cancelled by platform', headers: undefined });
      return undefined;
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
      return undefined;
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
        return undefined;
      }
      try {
        carrierLeg = await answer.ack(ack);
      } catch (err) {
        this.deps.logger.warn({ err }, 'ACK to the carrier failed');
        hangUp(platformLeg, this.deps.logger, 'carrier ACK failed');
        this.end(undefined);
        return undefined;
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
    // a CANCEL cannot undo an answered INVITE (RFC 3261 §9.2): the listener goes with the plan
    this.req.removeListener('cancel', this.onPlatformCancel);
    // what the bridge keeps of each leg is its dialog, without the messages it was made from
    this.platform = undefined;
    releaseDialogMessages(platformLeg, carrierLeg);
    // the platform's headers were read to build the attempts; the bridge has what it needs
    this.invite = { ...this.invite, headers: NO_HEADERS };
    return bridge;
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
      if (this.platform !== undefined && !this.res.finalResponseSent) {
        const { status, reason } = sendableStatus(final.status, final.phrase);
        this.res.send(status, reason, final.headers !== undefined ? { headers: final.headers } : {});
      }
      this.record.outcome(final.status, final.note);
    }
    this.move('ended');
    this.deps.report(this.record.build());
    const ended = this.ended;
    this.ended = undefined;
    ended?.();
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
