import type { Attempt } from '../routing/dial-route-preview.ts';
import { ownString } from '../sip/own-string.ts';

export type HangupBy = 'platform' | 'carrier' | 'outdial';

/** One attempt as the call record shows it (docs/routing.md §8). */
export interface AttemptRecord {
  route_id: string;
  provider_id: string;
  request_uri: string;
  status: number;
  note?: string;
  /** the carrier challenged the INVITE and outdial answered with the trunk's credentials */
  challenged?: true;
  /** not sent: the provider's limit that refused it (note `provider limit`, status 503) */
  limit?: 'max_calls' | 'max_cps';
  started_ms: number;
  duration_ms: number;
}

/** What an attempt record may add to its status and note. */
export interface AttemptDetails {
  readonly challenged?: boolean;
  readonly limit?: 'max_calls' | 'max_cps';
}

/** The one structured record written when a call ends (docs/routing.md §8); plain JSON, fit to store. */
export interface CallRecord {
  call_id: string;
  /** when the platform's INVITE arrived, ISO 8601 UTC */
  started_at: string;
  source: string;
  /** the user part of the platform's From (the calling number); '' when it has none */
  caller: string;
  customer_id: string | undefined;
  destination: string | undefined;
  attempts: AttemptRecord[];
  outcome: 'connected' | 'failed';
  status: number | undefined;
  reason?: string;
  provider_id?: string;
  /** who ended a connected call; 'outdial' when its session timer did (reason says why) */
  hangup_by?: HangupBy;
  talk_ms?: number;
  duration_ms: number;
}

/**
 * Collects what happened to one call and yields the single structured log record written when
 * it ends. Never holds credentials: provider records carry none, and headers are not copied.
 */
export class CallRecordBuilder {
  private readonly startedAt = Date.now();
  private readonly attempts: AttemptRecord[] = [];
  private connectedAt: number | undefined;
  /**
   * the provider of the attempt that answered, and of the last one; only their ids: an Attempt
   * holds its headers and SDP plan, which a held call would otherwise keep (docs/performance.md §9)
   */
  private connectedProvider: string | undefined;
  private lastProvider: string | undefined;
  private status: number | undefined;
  private reason: string | undefined;
  private hungUpBy: HangupBy | undefined;
  private callerUser = '';

  private readonly callId: string;
  private readonly source: string;
  private customer: string | undefined;
  private destination: string | undefined;

  /**
   * The strings a builder keeps for the call's length are copied flat: srf slices them from the
   * INVITE's text, and a slice keeps the whole message (docs/performance.md §9).
   */
  constructor(
    callId: string,
    source: string,
    customer?: string,
    destination?: string,
  ) {
    this.callId = ownString(callId);
    this.source = ownString(source);
    this.customer = customer === undefined ? undefined : ownString(customer);
    this.destination = destination === undefined ? undefined : ownString(destination);
  }

  /** The platform's From user part, as userPartOf reads it. */
  caller(user: string | null): void {
    this.callerUser = ownString(user ?? '');
  }

  routing(customer: string, destination: string): void {
    this.customer = ownString(customer);
    this.destination = ownString(destination);
  }

  attempt(attempt: Attempt, status: number, startedAt: number, note?: string, details: AttemptDetails = {}): void {
    this.lastProvider = attempt.provider.id;
    this.attempts.push({
      route_id: attempt.route.id,
      provider_id: attempt.provider.id,
      request_uri: ownString(attempt.requestUri),
      status,
      ...(note ? { note: ownString(note) } : {}),
      ...(details.challenged ? { challenged: true as const } : {}),
      ...(details.limit ? { limit: details.limit } : {}),
      started_ms: startedAt - this.startedAt,
      duration_ms: Date.now() - startedAt,
    });
  }

  connected(): void {
    this.connectedAt = Date.now();
    this.connectedProvider = this.lastProvider;
    this.status = 200;
  }

  outcome(status: number, reason?: string): void {
    if (this.status !== undefined) return;
    this.status = status;
    this.reason = reason;
  }

  hangup(by: HangupBy, reason?: string): void {
    if (this.hungUpBy !== undefined) return;
    this.hungUpBy = by;
    if (reason !== undefined) this.reason ??= reason;
  }

  build(): CallRecord {
    const now = Date.now();
    return {
      call_id: this.callId,
      started_at: new Date(this.startedAt).toISOString(),
      source: this.source,
      caller: this.callerUser,
      customer_id: this.customer,
      destination: this.destination,
      attempts: this.attempts,
      outcome: this.status === 200 ? 'connected' : 'failed',
      status: this.status,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.connectedProvider !== undefined ? { provider_id: this.connectedProvider } : {}),
      ...(this.hungUpBy ? { hangup_by: this.hungUpBy } : {}),
      ...(this.connectedAt !== undefined ? { talk_ms: now - this.connectedAt } : {}),
      duration_ms: now - this.startedAt,
    };
  }
}
