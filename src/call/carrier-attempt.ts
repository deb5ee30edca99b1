import type { Logger } from '../log/logger.ts';
import { filterSdpOffer } from '../routing/codec-filter.ts';
import type { Finished, ProviderAttempt } from '../routing/dial-route-preview.ts';
import type { Clock } from '../sip/clock.ts';
import { checkedMove, isFinalState, type StateTable } from '../sip/state-table.ts';
import type { CarrierAnswer, CarrierFailure, CarrierInvite, CarrierInviter, DigestCredentials, HeaderReader, InviteEvents, ProvisionalResponse, SentInvite } from './srf-adapter.ts';

/**
 * One INVITE to one carrier (docs/routing.md §4), from sending it to its outcome. It owns its
 * connect timer and its CANCEL; the call decides what the outcome means for the plan.
 *
 *   sent     → ringing | early | answered | failed | timed-out | cancelled
 *   ringing  → ringing | early | answered | failed | cancelled
 *   early    → early | answered | failed | cancelled
 *   answered, failed, timed-out, cancelled: final
 */
export type AttemptState = 'sent' | 'ringing' | 'early' | 'answered' | 'failed' | 'timed-out' | 'cancelled';

const ATTEMPT_TABLE: StateTable<AttemptState> = {
  // RFC 3261 §17.1.1.2: no provisional yet. The connect timer runs only here: a 100 Trying is
  // hop-by-hop (§21.1.1) and says nothing about the carrier placing the call.
  sent: ['ringing', 'early', 'answered', 'failed', 'timed-out', 'cancelled'],
  // a 18x without SDP: the carrier is placing the call (§21.1.2)
  ringing: ['ringing', 'early', 'answered', 'failed', 'cancelled'],
  // a 18x with SDP: early media (RFC 3960); a later 18x without SDP does not undo it
  early: ['early', 'answered', 'failed', 'cancelled'],
  answered: [],
  failed: [],
  'timed-out': [],
  cancelled: [],
};

export type AttemptOutcome =
  | { kind: 'answered'; answer: CarrierAnswer }
  /** `early`: the platform heard this carrier's media, so the failure is final (docs/routing.md §4). */
  | {
      kind: 'failed';
      status: number;
      reason: string | undefined;
      response: HeaderReader | undefined;
      early: boolean;
      /** the INVITE could not be sent: no carrier answered at all (always fails over). */
      notSent: boolean;
      /** the carrier refused our credentials (docs/routing.md §4: fails over, whatever the status) */
      authFailed: boolean;
    }
  | { kind: 'timed-out' }
  | { kind: 'cancelled' };

export interface CarrierAttemptDeps {
  readonly inviter: CarrierInviter;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * The INVITE of one attempt (docs/routing.md §3): the finished attempt's Request-URI, its headers
 * after the header policy, the To the provider wants, then the headers the sender sets for the
 * new dialog, the offer, the caller and the provider's digest credentials (docs/routing.md §8).
 * Routed calls and provider test calls both build their INVITE here, from finalAttempt's result,
 * so a test call sends what a call through that provider would.
 */
export function carrierInviteFor(
  attempt: Finished<ProviderAttempt>,
  sdp: string,
  dialogHeaders: Readonly<Record<string, string>>,
  auth: DigestCredentials | undefined,
): CarrierInvite {
  const headers: Record<string, string> = {};
  for (const h of attempt.headers) headers[h.name] = h.value;
  // docs/routing.md §3: To names the dialled number as the provider wants it, without URI parameters.
  headers.To = `<${attempt.toUri}>`;
  Object.assign(headers, dialogHeaders);
  return { uri: attempt.requestUri, headers, sdp, callingNumber: attempt.fromUser ?? undefined, ...(auth ? { auth } : {}) };
}

/**
 * The offer toward a provider, filtered to its codecs (docs/routing.md §3); undefined when no
 * codec is in common. A delayed offer ('') has nothing to filter: the carrier makes the offer.
 */
export function offerFor(codecs: readonly string[], offer: string): string | undefined {
  if (codecs.length === 0 || offer === '') return offer;
  const filtered = filterSdpOffer(offer, codecs);
  return filtered.ok ? filtered.sdp : undefined;
}

/** docs/routing.md §4: the carrier challenged again after our credentials (call records, test calls). */
export const AUTH_FAILED_REASON = 'carrier authentication failed';

/** A status for an INVITE that never got a response: the stack could not send it (docs/routing.md §4). */
export const NOT_SENT_STATUS = 503;

export class CarrierAttempt {
  private current: AttemptState = 'sent';
  private sentInvite: SentInvite | undefined;
  private readonly connectTimer: unknown;
  private settle!: (outcome: AttemptOutcome) => void;
  /** where the stack's INVITE callbacks go; let go of once answered or failed (forwardingEvents) */
  private readonly events: { to: InviteEvents | undefined } = { to: undefined };
  private wasChallenged = false;
  /** resolves once, when the attempt reaches a final state. */
  readonly outcome: Promise<AttemptOutcome>;

  /**
   * Sends the INVITE at once. `onProvisional` sees every provisional above 100 while the attempt
   * is live, with the state it moved to (`early` for early media).
   */
  constructor(
    private readonly deps: CarrierAttemptDeps,
    invite: CarrierInvite,
    private readonly onProvisional: (res: ProvisionalResponse, state: AttemptState) => void,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    this.connectTimer = deps.clock.setTimeout(() => this.timedOut(), deps.connectTimeoutMs);
    this.events.to = {
      sent: (req) => this.onSent(req),
      provisional: (res) => this.onResponse(res),
      challenged: () => {
        this.wasChallenged = true;
      },
    };
    deps.inviter
      .invite(invite, forwardingEvents(this.events))
      .then(
        (answer) => this.onAnswer(answer),
        (failure: CarrierFailure) => this.onFailure(failure),
      );
  }

  get state(): AttemptState {
    return this.current;
  }

  /** whether the carrier challenged the INVITE and our credentials were sent (docs/routing.md §8) */
  get challenged(): boolean {
    return this.wasChallenged;
  }

  get final(): boolean {
    return isFinalState(ATTEMPT_TABLE, this.current);
  }

  /** The platform CANCELed (docs/routing.md §4): CANCEL this INVITE and end the attempt. */
  cancel(): void {
    if (this.final) return;
    this.move('cancelled');
    this.sendCancel();
    this.settle({ kind: 'cancelled' });
  }

  private move(to: AttemptState): void {
    this.current = checkedMove(ATTEMPT_TABLE, this.current, to, 'carrier attempt');
  }

  private onSent(req: SentInvite): void {
    this.sentInvite = req;
    // The attempt ended before the stack echoed the INVITE: the CANCEL could not go out then.
    if (this.current === 'cancelled' || this.current === 'timed-out') this.sendCancel();
  }

  private onResponse(res: ProvisionalResponse): void {
    if (res.status <= 100 || this.final) return;
    if (this.current === 'sent') this.deps.clock.clearTimeout(this.connectTimer);
    this.move(this.current === 'early' || res.body ? 'early' : 'ringing');
    this.onProvisional(res, this.current);
  }

  private onAnswer(answer: CarrierAnswer): void {
    if (this.final) {
      // Answered after the attempt ended (the 2xx crossed our CANCEL, RFC 3261 §9.1): the stack
      // has ACKed it, or destroy() does; hang it up (§15).
      this.abandon(answer, 'answered after the attempt ended');
      return;
    }
    this.deps.clock.clearTimeout(this.connectTimer);
    this.move('answered');
    this.letGoOfInvite();
    this.settle({ kind: 'answered', answer });
  }

  private onFailure(failure: CarrierFailure): void {
    // A 487 for our own CANCEL, or a failure after the timer: the outcome is already decided.
    if (this.final) return;
    this.deps.clock.clearTimeout(this.connectTimer);
    const early = this.current === 'early';
    this.move('failed');
    this.letGoOfInvite();
    this.settle({
      kind: 'failed',
      status: failure.status ?? NOT_SENT_STATUS,
      reason: failure.reason,
      response: failure.response,
      early,
      notSent: failure.status === undefined,
      authFailed: failure.authFailed === true,
    });
  }

  /** Answered or failed: no CANCEL and no callback of this INVITE can matter any more. */
  private letGoOfInvite(): void {
    this.events.to = undefined;
    this.sentInvite = undefined;
  }

  private timedOut(): void {
    // docs/routing.md §4: no response within the connect timeout → CANCEL and fail over.
    if (this.current !== 'sent') return;
    this.move('timed-out');
    this.sendCancel();
    this.settle({ kind: 'timed-out' });
  }

  private sendCancel(): void {
    if (this.sentInvite === undefined) return;
    try {
      this.sentInvite.cancel();
    } catch (err) {
      this.deps.logger.debug({ err }, 'carrier CANCEL not sent');
    }
  }

  /** Tears down an answer nobody will bridge: BYE on its dialog, or ACK then BYE for a delayed offer. */
  abandon(answer: CarrierAnswer, why: string): void {
    if (answer.kind === 'dialog') {
      answer.leg.destroy(undefined, (err) => {
        if (err) this.deps.logger.debug({ err, why }, 'BYE not sent');
      });
    } else {
      answer.destroy().catch((err: unknown) => this.deps.logger.debug({ err, why }, 'carrier answer not torn down'));
    }
  }
}

/**
 * The callbacks handed to the stack for one INVITE. srf keeps them for as long as the carrier's
 * dialog lives (lib/srf.js createUAC: they stay on its request), so they reach the attempt only
 * through a handle it clears once answered or failed: otherwise the attempt, and through it the
 * whole call, would stay reachable from srf until the hang-up (docs/performance.md §9). Made in
 * a function of its own so the closures capture only the handle.
 */
function forwardingEvents(handle: { readonly to: InviteEvents | undefined }): InviteEvents {
  return {
    sent: (req) => handle.to?.sent(req),
    provisional: (res) => handle.to?.provisional(res),
    challenged: () => handle.to?.challenged?.(),
  };
}
