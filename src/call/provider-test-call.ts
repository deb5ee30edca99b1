import { ApiError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { finalAttempt, providerAttempt, type PlatformHeaders } from '../routing/dial-route-preview.ts';
import { LIVE_SENTINEL } from '../routing/model.ts';
import type { Clock } from '../sip/clock.ts';
import { checkedMove, type StateTable } from '../sip/state-table.ts';
import { formatMicros, systemMicros, type MicrosSource } from '../store/clock.ts';
import type { Page, PageRequest } from '../store/page.ts';
import type { ProviderCallRecord, ProviderCallResult, ProviderCallStatus, Store } from '../store/store-types.ts';
import { CarrierAttempt, carrierInviteFor, offerFor, type AttemptOutcome } from './carrier-attempt.ts';
import type { CarrierInviter } from './srf-adapter.ts';
import { testCallOffer } from './test-call-offer.ts';

/**
 * Provider test calls (`POST /v1.0/providercalls`, docs/api.md "Provider test calls"): one INVITE
 * through one provider, outside the dial plan. The attempt is built by the call path's own
 * functions (providerAttempt, finalAttempt, carrierInviteFor, offerFor) and placed by the same
 * CarrierAttempt, so the carrier sees what a routed call through that provider would send: the
 * Request-URI, the tech headers, the codec-filtered offer.
 *
 * A test call is one of:
 *   calling → answered   (2xx: ACKed by the stack and hung up at once with a BYE, RFC 3261 §15)
 *   calling → failed     (a final non-2xx, the INVITE could not be sent, no common codec, outdial stopped)
 *   calling → timeout    (no response within the connect timeout, or no answer within the cap: CANCEL, §9.1)
 */
const TEST_CALL_TABLE: StateTable<ProviderCallStatus> = {
  calling: ['answered', 'failed', 'timeout'],
  answered: [],
  failed: [],
  timeout: [],
};

/** No test call waits longer than this for its answer, whatever the connect timeout. */
export const TEST_CALL_CAP_MS = 30_000;
/** Test calls in progress at once; more are refused with PROVIDER_CALL_LIMIT. */
export const MAX_TEST_CALLS = 10;

/** What a test call's INVITE carries besides the provider's headers: a new dialog's hop count (RFC 3261 §8.1.1.6). */
const DIALOG_HEADERS = { 'Max-Forwards': '70' };

export interface ProviderTestCallsOptions {
  readonly store: Pick<Store, 'providers' | 'providerCalls'>;
  readonly inviter: CarrierInviter;
  readonly logger: Logger;
  readonly clock: Clock;
  /** no response within this → CANCEL (the call path's OUTDIAL_CONNECT_TIMEOUT_MS) */
  readonly connectTimeoutMs: number;
  /** the address the test offer names (test-call-offer.ts testCallMediaAddress) */
  readonly mediaAddress: string;
  readonly capMs?: number;
  readonly maxInProgress?: number;
  readonly micros?: MicrosSource;
}

export interface TestCallRequest {
  providerId: string;
  destination: string;
  /** the From user part; '' = the SIP stack's default */
  source: string;
}

export class ProviderTestCalls {
  private readonly inProgress = new Map<string, TestCall>();
  /** slots taken by requests still being set up, so concurrent POSTs cannot pass the limit together */
  private reserved = 0;
  private closed = false;
  private readonly capMs: number;
  private readonly maxInProgress: number;
  private readonly micros: MicrosSource;
  private readonly log: Logger;

  constructor(private readonly opts: ProviderTestCallsOptions) {
    this.capMs = opts.capMs ?? TEST_CALL_CAP_MS;
    this.maxInProgress = opts.maxInProgress ?? MAX_TEST_CALLS;
    this.micros = opts.micros ?? systemMicros;
    this.log = opts.logger.child({ component: 'provider-test-call' });
  }

  /**
   * Test calls left `calling` by a process that stopped during them (older than any test call
   * can last) are marked failed.
   */
  async recover(): Promise<void> {
    const before = formatMicros(this.micros() - (this.capMs + this.opts.connectTimeoutMs + 30_000) * 1000);
    const n = await this.opts.store.providerCalls.failUnfinished(before, 'outdial stopped during the call');
    if (n > 0) this.log.info({ count: n }, 'unfinished provider test calls marked failed');
  }

  /** Places the call and answers at once with its record (status `calling`, or already final). */
  async start(request: TestCallRequest): Promise<ProviderCallRecord> {
    if (this.closed) throw new ApiError('PROVIDER_CALL_LIMIT', 'outdial is shutting down; no test call can start');
    if (this.inProgress.size + this.reserved >= this.maxInProgress) {
      throw new ApiError('PROVIDER_CALL_LIMIT', `${this.maxInProgress} provider test calls are in progress; wait for one to end`);
    }
    this.reserved++;
    try {
      return await this.place(request);
    } finally {
      this.reserved--;
    }
  }

  async get(id: string): Promise<ProviderCallRecord | undefined> {
    const stored = await this.opts.store.providerCalls.get(id);
    return stored && this.withProgress(stored);
  }

  async list(page: PageRequest & { providerId?: string | undefined }): Promise<Page<ProviderCallRecord>> {
    const result = await this.opts.store.providerCalls.list(page);
    return { items: result.items.map((r) => this.withProgress(r)), nextPageToken: result.nextPageToken };
  }

  /** Ends every test call in progress (CANCEL, or BYE if answered meanwhile) and stores their results. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.inProgress.values()];
    for (const call of running) call.stop();
    await Promise.all(running.map((c) => c.stored));
  }

  private async place(request: TestCallRequest): Promise<ProviderCallRecord> {
    const { store } = this.opts;
    const provider = await store.providers.get(request.providerId);
    if (!provider || provider.tm_delete !== LIVE_SENTINEL) {
      throw new ApiError('PROVIDER_NOT_FOUND', `provider ${request.providerId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
    }
    const attempt = finalAttempt(providerAttempt(provider, request.destination), callerOnly(request.source));
    const offer = offerFor(attempt.codecs, testCallOffer(this.opts.mediaAddress, Math.floor(this.micros() / 1000)));
    const row = await store.providerCalls.create({
      provider_id: provider.id,
      destination: request.destination,
      source: request.source,
      request_uri: attempt.requestUri,
      codecs: [...attempt.codecs],
    });
    this.log.info({ provider_call_id: row.id, provider_id: provider.id, request_uri: row.request_uri }, 'provider test call started');
    if (offer === undefined) {
      // docs/routing.md §3: a provider sharing no codec with the offer is skipped, as in a call.
      const result: ProviderCallResult = {
        status: 'failed',
        sip_status: null,
        sip_reason: '',
        reason: `no common codec: the test offer has none of the provider's codecs (${attempt.codecs.join(', ')}); nothing was sent`,
        tm_ringing: null,
        tm_answer: null,
        tm_hangup: this.now(),
      };
      return this.finish(row.id, result);
    }
    const call = new TestCall(
      { inviter: this.opts.inviter, clock: this.opts.clock, connectTimeoutMs: this.opts.connectTimeoutMs, logger: this.log },
      carrierInviteFor(attempt, offer, DIALOG_HEADERS),
      this.capMs,
      () => this.now(),
    );
    const stored = call.result.then((result) => this.finish(row.id, result)).then(
      () => undefined,
      (err: unknown) => this.log.warn({ err, provider_call_id: row.id }, 'provider test call result not stored'),
    );
    call.stored = stored.finally(() => this.inProgress.delete(row.id));
    this.inProgress.set(row.id, call);
    return this.withProgress(row);
  }

  private async finish(id: string, result: ProviderCallResult): Promise<ProviderCallRecord> {
    const done = await this.opts.store.providerCalls.finish(id, result);
    this.log.info(
      { provider_call_id: id, provider_id: done.provider_id, status: done.status, sip_status: done.sip_status, reason: done.reason },
      'provider test call ended',
    );
    return done;
  }

  /** A stored `calling` row, with what the call in progress has seen since (its first provisional). */
  private withProgress(row: ProviderCallRecord): ProviderCallRecord {
    const call = row.status === 'calling' ? this.inProgress.get(row.id) : undefined;
    return call?.ringingAt ? { ...row, tm_ringing: call.ringingAt } : row;
  }

  private now(): string {
    return formatMicros(this.micros());
  }
}

/** A test call's only platform input: the From user part it asks for (through the same header policy as a call). */
function callerOnly(source: string): PlatformHeaders {
  return {
    policy: { passthrough: [], customerHeaderKey: '' },
    headers: source === '' ? [] : [{ name: 'From', value: `<sip:${source}@outdial.invalid>` }],
  };
}

interface TestCallDeps {
  readonly inviter: CarrierInviter;
  readonly clock: Clock;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

/** One test call in flight: its CarrierAttempt, the cap timer, and the state table above. */
class TestCall {
  private state: ProviderCallStatus = 'calling';
  private readonly attempt: CarrierAttempt;
  private readonly capTimer: unknown;
  private capped = false;
  private stopped = false;
  ringingAt: string | null = null;
  readonly result: Promise<ProviderCallResult>;
  /** resolves once the result is stored (or could not be) */
  stored: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: TestCallDeps,
    invite: ReturnType<typeof carrierInviteFor>,
    private readonly capMs: number,
    private readonly now: () => string,
  ) {
    this.attempt = new CarrierAttempt(deps, invite, () => {
      this.ringingAt ??= now();
    });
    this.capTimer = deps.clock.setTimeout(() => {
      this.capped = true;
      this.attempt.cancel();
    }, capMs);
    this.result = this.attempt.outcome.then((outcome) => this.settle(outcome));
  }

  /** outdial is stopping: end the call now. */
  stop(): void {
    this.stopped = true;
    this.attempt.cancel();
  }

  private move(to: ProviderCallStatus): void {
    this.state = checkedMove(TEST_CALL_TABLE, this.state, to, 'provider test call');
  }

  private settle(outcome: AttemptOutcome): ProviderCallResult {
    this.deps.clock.clearTimeout(this.capTimer);
    const base = { tm_ringing: this.ringingAt, tm_answer: null, sip_reason: '' };
    switch (outcome.kind) {
      case 'answered': {
        const answeredAt = this.now();
        // RFC 3261 §15: the stack ACKed the 2xx; the BYE ends the dialog at once.
        this.attempt.abandon(outcome.answer, 'provider test call answered');
        this.move('answered');
        return { ...base, status: 'answered', sip_status: 200, tm_answer: answeredAt, reason: 'answered; hung up at once with a BYE', tm_hangup: this.now() };
      }
      case 'failed':
        this.move('failed');
        if (outcome.notSent) {
          return { ...base, status: 'failed', sip_status: null, reason: 'the INVITE could not be sent: the SIP server (embedded edge or drachtio-server) did not take it', tm_hangup: this.now() };
        }
        return {
          ...base,
          status: 'failed',
          sip_status: outcome.status,
          sip_reason: outcome.reason ?? '',
          reason: `the carrier refused the call: ${outcome.status}${outcome.reason ? ` ${outcome.reason}` : ''}`,
          tm_hangup: this.now(),
        };
      case 'timed-out':
        this.move('timeout');
        return { ...base, status: 'timeout', sip_status: null, reason: `no response within the connect timeout (${this.deps.connectTimeoutMs} ms); CANCEL sent`, tm_hangup: this.now() };
      case 'cancelled':
        if (this.stopped && !this.capped) {
          this.move('failed');
          return { ...base, status: 'failed', sip_status: null, reason: 'outdial stopped during the call; CANCEL sent', tm_hangup: this.now() };
        }
        this.move('timeout');
        return { ...base, status: 'timeout', sip_status: null, reason: `no answer within ${this.capMs / 1000} s; CANCEL sent`, tm_hangup: this.now() };
    }
  }
}
