/**
 * REGISTERs for providers with `register: true` (docs/routing.md §9): one RegistrationClient per
 * provider, kept in step with the dial-plan snapshot, run only while this instance holds the
 * `registrations` lease (docs/cluster.md §4).
 *
 * Per client (RFC 3261 §10.2): the AOR `sip:<auth_username>@<hostname>` in To and From, the
 * registrar `sip:<hostname>` as Request-URI (with the provider's transport), one Call-ID for
 * every REGISTER of the client and a CSeq one higher each time (§10.2.4), our Contact with the
 * lifetime in Expires. srf answers the registrar's challenge with the credentials (srf-adapter.ts).
 * A 2xx schedules the refresh before the granted lifetime ends; a 423 is retried at once with the
 * registrar's Min-Expires (§10.2.8); anything else (a refused challenge, a 403, a timeout) is a
 * failure retried with back-off. A provider deleted, changed or left behind at shutdown gets a
 * REGISTER with `Expires: 0` for our Contact (§10.2.2), with the credentials it had.
 */
import { randomBytes } from 'node:crypto';
import type { Lease } from '../cluster/lease.ts';
import type { Logger } from '../log/logger.ts';
import type { ProviderRecord, RegistrationStatus } from '../routing/model.ts';
import { escapeSipUser, formatHostport, transportParam } from '../routing/request-uri.ts';
import { systemClock, type Clock } from '../sip/clock.ts';
import { formatMicros, systemMicros } from '../store/clock.ts';
import type { DigestCredentials, RegisterAnswer, RegisterSender } from '../call/srf-adapter.ts';
import { grantedSeconds, nextRegistration, refreshDelayMs, retryDelayMs } from './registration.ts';

export interface ProviderRegistrarOptions {
  readonly sender: RegisterSender;
  /** runs the job on one instance at a time (AlwaysHeldLease for a single instance) */
  readonly lease: Lease;
  /** the live providers now (the dial-plan snapshot) */
  readonly providers: () => ReadonlyMap<string, ProviderRecord>;
  /** the provider's credentials (the password opened only when a challenge asks for it) */
  readonly credentials: (provider: ProviderRecord) => DigestCredentials | undefined;
  /** records a status (the store's setRegistration) */
  readonly setRegistration: (id: string, status: RegistrationStatus, checkedAt: string) => void;
  readonly logger: Logger;
  /** config register.retryMs / retryMaxMs */
  readonly retryMs: number;
  readonly retryMaxMs: number;
  /** false while the SIP server is unreachable: nothing is sent, the client tries again shortly */
  readonly ready?: () => boolean;
  readonly clock?: Clock;
  /** time for registration_checked_at (default: now, in the store's row format) */
  readonly now?: () => string;
  /** the longest a REGISTER may go unanswered before it counts as failed (default 40 s: past the stack's Timer F, 64×T1) */
  readonly requestTimeoutMs?: number;
  /** how long close() waits for the Expires: 0 REGISTERs (default 2 s) */
  readonly closeWaitMs?: number;
}

/** What a client registers; a provider whose key changes gets a new client. */
function registrationKey(p: ProviderRecord): string {
  return JSON.stringify([p.hostname, p.transport, p.auth_username, p.auth_password_sealed, p.register_expires]);
}

function wantsRegistration(p: ProviderRecord): boolean {
  return p.register && p.auth_username !== '' && p.auth_password_sealed !== '';
}

const NOT_READY_RETRY_MS = 1000;

class RegistrationClient {
  state: RegistrationStatus = 'off';
  private readonly callId = `${randomBytes(12).toString('hex')}@outdial`;
  private readonly fromTag = randomBytes(6).toString('hex');
  private cseq = 0;
  private failures = 0;
  /** the lifetime asked for; raised by a 423's Min-Expires */
  private expires: number;
  private timer: unknown;
  /** bumped by stop(): answers to REGISTERs sent before are ignored */
  private generation = 0;
  private inFlight: Promise<void> | undefined;
  /** a REGISTER (not an unregister) may have left a binding at the registrar */
  private mayBeBound = false;

  constructor(
    readonly provider: ProviderRecord,
    readonly key: string,
    private readonly auth: DigestCredentials,
    private readonly opts: ProviderRegistrarOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {
    this.expires = provider.register_expires;
  }

  start(): void {
    this.move('start');
    this.publish();
    this.send();
  }

  /** Stops refreshing; with `unregister`, removes our binding (Expires: 0) and resolves when answered. */
  async stop(unregister: boolean): Promise<void> {
    this.generation++;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const wasBound = this.mayBeBound || this.state === 'registered';
    if (this.state !== 'off') this.state = nextRegistration(this.state, 'stop');
    if (!unregister || !wasBound) return;
    this.mayBeBound = false;
    try {
      const answer = await this.request(0);
      this.log.info({ provider_id: this.provider.id, status: answer.status }, 'provider unregistered');
    } catch (err) {
      this.log.info({ provider_id: this.provider.id, err: errorText(err) }, 'provider unregister not answered');
    }
  }

  private move(event: 'start' | 'success' | 'failure'): void {
    this.state = nextRegistration(this.state, event);
  }

  private publish(): void {
    try {
      this.opts.setRegistration(this.provider.id, this.state, (this.opts.now ?? (() => formatMicros(systemMicros())))());
    } catch (err) {
      this.log.error({ err, provider_id: this.provider.id }, 'provider registration not recorded');
    }
  }

  private schedule(ms: number): void {
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, ms);
  }

  private send(): void {
    if (this.inFlight) return;
    if (this.opts.ready && !this.opts.ready()) {
      this.schedule(Math.min(this.opts.retryMs, NOT_READY_RETRY_MS));
      return;
    }
    const generation = this.generation;
    this.mayBeBound = true;
    this.inFlight = this.request(this.expires).then(
      (answer) => {
        this.inFlight = undefined;
        if (generation === this.generation) this.onAnswer(answer);
      },
      (err: unknown) => {
        this.inFlight = undefined;
        if (generation === this.generation) this.onFailure(errorText(err), undefined);
      },
    );
  }

  private onAnswer(answer: RegisterAnswer): void {
    if (answer.status >= 200 && answer.status < 300) {
      const granted = grantedSeconds(answer.get('Contact'), answer.get('Expires'), answer.sentContact, this.expires);
      if (granted <= 0) return this.onFailure('the registrar kept no binding', undefined);
      const first = this.state !== 'registered';
      this.failures = 0;
      this.move('success');
      this.publish();
      (first ? this.log.info : this.log.debug).call(this.log, { provider_id: this.provider.id, expires: granted }, 'provider registered');
      this.schedule(refreshDelayMs(granted));
      return;
    }
    const minExpires = Number(answer.get('Min-Expires'));
    if (answer.status === 423 && Number.isInteger(minExpires) && minExpires > this.expires) {
      // RFC 3261 §10.2.8: the interval was too brief; ask again with the registrar's minimum.
      this.expires = minExpires;
      this.send();
      return;
    }
    const retryAfter = Number.parseInt(answer.get('Retry-After') ?? '', 10);
    this.onFailure(answer.authFailed ? 'credentials refused' : `${answer.status} ${answer.reason}`.trim(), Number.isFinite(retryAfter) ? retryAfter : undefined);
  }

  private onFailure(why: string, retryAfterSeconds: number | undefined): void {
    this.failures++;
    const changed = this.state !== 'failed';
    this.move('failure');
    this.publish();
    const delay = retryDelayMs(this.failures, this.opts.retryMs, this.opts.retryMaxMs, retryAfterSeconds);
    (changed ? this.log.warn : this.log.debug).call(this.log, { provider_id: this.provider.id, reason: why, failures: this.failures, retry_in_ms: delay }, 'provider registration failed');
    this.schedule(delay);
  }

  /** One REGISTER, bounded in time. */
  private request(expires: number): Promise<RegisterAnswer> {
    const p = this.provider;
    const hostport = formatHostport(p.hostname);
    const aor = `sip:${escapeSipUser(p.auth_username)}@${hostport}`;
    const transport = transportParam(p);
    // The stack writes its own address for `localhost` (drachtio-server and the edge alike).
    const contact = `<sip:${escapeSipUser(p.auth_username)}@localhost${transport}>`;
    const sent = this.opts.sender.register({
      uri: `sip:${hostport}${transport}`,
      headers: {
        From: `<${aor}>;tag=${this.fromTag}`,
        To: `<${aor}>`,
        'Call-ID': this.callId,
        // srf's challenge answer uses the next CSeq; the next REGISTER goes above it.
        CSeq: `${(this.cseq += 2) - 1} REGISTER`,
        Contact: contact,
        Expires: String(expires),
      },
      auth: this.auth,
    });
    const timeoutMs = this.opts.requestTimeoutMs ?? 40_000;
    return new Promise<RegisterAnswer>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      sent.then(
        (answer) => {
          this.clock.clearTimeout(timer);
          resolve(answer);
        },
        (err: unknown) => {
          this.clock.clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

export class ProviderRegistrar {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly clients = new Map<string, RegistrationClient>();
  /** clients sending their Expires: 0, by provider: a new client for it waits (its REGISTER must come after) */
  private readonly stopping = new Map<string, Promise<void>>();
  private held = false;
  private closed = false;

  constructor(private readonly opts: ProviderRegistrarOptions) {
    this.log = opts.logger.child({ component: 'registrar' });
    this.clock = opts.clock ?? systemClock;
  }

  /** Campaigns for the lease; while held, every provider with `register` is registered. */
  start(): void {
    this.opts.lease.start((held) => {
      this.held = held;
      if (held) this.sync();
      else this.stopAll(true);
    });
  }

  /** Brings the clients in line with the providers now (call after every provider change). */
  sync(): void {
    if (this.closed || !this.held) return;
    const providers = this.opts.providers();
    for (const [id, client] of this.clients) {
      const p = providers.get(id);
      if (p === undefined || !wantsRegistration(p) || registrationKey(p) !== client.key) this.stopClient(id, client);
    }
    for (const p of providers.values()) {
      if (!wantsRegistration(p) || this.clients.has(p.id) || this.stopping.has(p.id)) continue;
      const auth = this.opts.credentials(p);
      if (!auth) continue;
      const client = new RegistrationClient(p, registrationKey(p), auth, this.opts, this.log, this.clock);
      this.clients.set(p.id, client);
      client.start();
    }
  }

  /** The client's state (tests). */
  state(providerId: string): RegistrationStatus {
    return this.clients.get(providerId)?.state ?? 'off';
  }

  /** Stops every client, sending Expires: 0 for each binding, waiting at most closeWaitMs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopAll(true);
    await this.opts.lease.stop();
    const all = Promise.all([...this.stopping.values()]);
    const waitMs = this.opts.closeWaitMs ?? 2000;
    let timer: unknown;
    await Promise.race([all, new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, waitMs)))]);
    this.clock.clearTimeout(timer);
  }

  private stopAll(unregister: boolean): void {
    for (const [id, client] of this.clients) this.stopClient(id, client, unregister);
  }

  private stopClient(id: string, client: RegistrationClient, unregister = true): void {
    this.clients.delete(id);
    const previous = this.stopping.get(id);
    const done = (previous ? previous.then(() => client.stop(unregister)) : client.stop(unregister)).catch((err: unknown) =>
      this.log.error({ err, provider_id: id }, 'provider unregister failed'),
    );
    this.stopping.set(id, done);
    void done.finally(() => {
      if (this.stopping.get(id) !== done) return;
      this.stopping.delete(id);
      // A changed provider registers anew once its old binding is gone (RFC 3261 §10.2.2).
      this.sync();
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
