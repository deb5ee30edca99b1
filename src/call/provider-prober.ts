/**
 * Provider health from SIP OPTIONS probes (docs/routing.md §2: unhealthy providers are tried
 * last; docs/api.md: `health_status` unknown|healthy|unhealthy and `health_checked_at`).
 *
 * Every interval, each live provider of the current dial-plan snapshot gets one out-of-dialog
 * OPTIONS to `sip:<hostname>` (RFC 3261 §11: OPTIONS asks a UA about its capabilities and is the
 * customary keep-alive between SIP peers). The probe rounds read the in-memory snapshot only;
 * the database is touched solely to record a result (`setHealth`).
 *
 * What a probe says about a host:
 * - any final response means a SIP element answered there, so the host is alive — even 404, 405
 *   or 489 (RFC 3261 §11.2: a UA may refuse OPTIONS and is still up);
 * - except 408 and 503. The SIP stack reports a request that got no answer (Timer F, RFC 3261
 *   §17.1.2.2) as 408 and one it could not send (§8.1.3.1) as 503; a carrier that answers 503
 *   itself says "Service Unavailable" (§21.5.4: temporarily unable to process the request),
 *   which is exactly what routing should avoid, so both count as failures whoever generated
 *   them. A 408 from the carrier itself is equally a failure to serve;
 * - no final response within the probe timeout is a failure (the stack's own Timer F is
 *   64×T1 = 32 s by default, far too long to wait);
 * - a request the SIP server refused to send (e.g. the host name does not resolve) is a failure.
 *
 * Per provider (explicit state machine, `nextHealth`): `unhealthyAfter` consecutive failures →
 * unhealthy; one success → healthy; a failure below the threshold keeps the status. Results
 * obtained while the SIP server connection is down say nothing about the provider and are
 * dropped.
 */
import type { Logger } from '../log/logger.ts';
import type { HealthStatus, ProviderRecord } from '../routing/model.ts';
import { formatHostport, transportParam } from '../routing/request-uri.ts';
import { formatMicros, systemMicros } from '../store/clock.ts';
import { systemClock, type Clock } from '../sip/clock.ts';

/** What came back from one probe. */
export type ProbeOutcome =
  | { kind: 'answered'; status: number }
  | { kind: 'timeout' }
  /** the request never left (refused by the SIP server, unresolvable host, ...) */
  | { kind: 'not-sent'; reason: string };

/**
 * Sends one probe to `uri` and resolves with its outcome. When `signal` aborts (probe timeout
 * or close) the caller stops waiting; the function should let go of the request if it can.
 */
export type ProbeFn = (uri: string, signal: AbortSignal) => Promise<ProbeOutcome>;

/** Statuses that mean "not serving" although an answer arrived (see the module comment). */
const FAILURE_STATUSES: ReadonlySet<number> = new Set([408, 503]);

export function probeSucceeded(outcome: ProbeOutcome): boolean {
  return outcome.kind === 'answered' && !FAILURE_STATUSES.has(outcome.status);
}

/** The probe's Request-URI: the provider's host (with its port), IPv6 literals bracketed, over the provider's transport. */
export function probeUri(hostname: string, transport?: ProviderRecord['transport']): string {
  return `sip:${formatHostport(hostname)}${transportParam({ transport })}`;
}

export interface ProviderHealth {
  readonly status: HealthStatus;
  /** consecutive failed probes since the last success */
  readonly failures: number;
}

/** The health state machine: one probe result moves a provider's health. */
export function nextHealth(health: ProviderHealth, succeeded: boolean, unhealthyAfter: number): ProviderHealth {
  if (succeeded) return { status: 'healthy', failures: 0 };
  const failures = health.failures + 1;
  return { status: failures >= unhealthyAfter ? 'unhealthy' : health.status, failures };
}

/** The timer functions the prober uses (the shared Clock's; tests inject a manual one). */
export type ProberTimers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export interface ProviderProberOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyAfter: number;
  /** the live providers now (the dial-plan snapshot's map; read every round and before each write) */
  readonly providers: () => ReadonlyMap<string, ProviderRecord>;
  readonly probe: ProbeFn;
  /** records a result (the store's setHealth; it announces the change to the dial plan) */
  readonly setHealth: (id: string, status: HealthStatus, checkedAt: string) => void;
  readonly logger: Logger;
  /** false while the SIP server is unreachable: no round starts and results are dropped */
  readonly ready?: () => boolean;
  /** probes in flight at once, across providers (default 20) */
  readonly maxConcurrent?: number;
  /**
   * An unchanged status is written again (refreshing `health_checked_at`) only after this many
   * probes of the provider since its last write (default 10: every 5 minutes at the 30 s default).
   */
  readonly refreshEvery?: number;
  /** time for `health_checked_at` (default: now, in the store's row format) */
  readonly now?: () => string;
  readonly timers?: ProberTimers;
}

interface ProbeState {
  /** the hostname the counters describe; a different hostname starts afresh */
  hostname: string;
  failures: number;
  probesSinceWrite: number;
}

/**
 * Probes every live provider each interval; at most one probe per provider at a time (a provider
 * still queued or in flight is skipped by the next round) and at most `maxConcurrent` in all.
 */
export class ProviderProber {
  private readonly log: Logger;
  private readonly timers: ProberTimers;
  private readonly maxConcurrent: number;
  private readonly refreshEvery: number;
  private readonly now: () => string;
  private readonly states = new Map<string, ProbeState>();
  /** provider ids waiting for a probe slot, in round order */
  private queue: string[] = [];
  /** ids queued or in flight */
  private readonly busy = new Set<string>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly settled = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private timer: unknown;
  private closed = false;

  constructor(private readonly opts: ProviderProberOptions) {
    this.log = opts.logger.child({ component: 'provider-prober' });
    this.timers = opts.timers ?? systemClock;
    this.maxConcurrent = opts.maxConcurrent ?? 20;
    this.refreshEvery = opts.refreshEvery ?? 10;
    this.now = opts.now ?? (() => formatMicros(systemMicros()));
  }

  /** Schedules the rounds: the first one interval from now. */
  start(): void {
    if (this.closed || this.timer !== undefined) return;
    const tick = () => {
      this.timer = this.timers.setTimeout(tick, this.opts.intervalMs);
      this.startRound();
    };
    this.timer = this.timers.setTimeout(tick, this.opts.intervalMs);
    this.log.info(
      { interval_ms: this.opts.intervalMs, timeout_ms: this.opts.timeoutMs, unhealthy_after: this.opts.unhealthyAfter },
      'provider health probing started',
    );
  }

  /** Queues a probe for every live provider not already queued or in flight. */
  startRound(): void {
    if (this.closed) return;
    if (this.opts.ready && !this.opts.ready()) {
      this.log.debug('SIP server not connected; probe round skipped');
      return;
    }
    const providers = this.opts.providers();
    for (const id of this.states.keys()) if (!providers.has(id)) this.states.delete(id);
    for (const id of providers.keys()) {
      if (this.busy.has(id)) continue;
      this.busy.add(id);
      this.queue.push(id);
    }
    this.pump();
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Probes queued or in flight. */
  pending(): number {
    return this.busy.size;
  }

  /** Stops the rounds and abandons the probes in flight; no result is written afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const id of this.queue) this.busy.delete(id);
    this.queue = [];
    for (const controller of this.inFlight.values()) controller.abort();
    await Promise.all(this.settled);
    this.wakeIdle();
  }

  private pump(): void {
    while (!this.closed && this.inFlight.size < this.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const provider = this.opts.providers().get(id);
      if (provider === undefined) {
        this.busy.delete(id); // deleted since the round started
        continue;
      }
      const controller = new AbortController();
      this.inFlight.set(id, controller);
      const done = this.probeOne(provider, controller).finally(() => {
        this.inFlight.delete(id);
        this.busy.delete(id);
        this.settled.delete(done);
        this.pump();
        if (this.busy.size === 0) this.wakeIdle();
      });
      this.settled.add(done);
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async probeOne(provider: ProviderRecord, controller: AbortController): Promise<void> {
    const outcome = await this.probeWithTimeout(probeUri(provider.hostname, provider.transport), controller);
    if (this.closed) return;
    if (this.opts.ready && !this.opts.ready()) return; // the SIP server went away, not the provider
    try {
      this.record(provider.id, provider.hostname, outcome);
    } catch (err) {
      this.log.error({ err, provider_id: provider.id }, 'provider health not recorded');
    }
  }

  private probeWithTimeout(uri: string, controller: AbortController): Promise<ProbeOutcome> {
    return new Promise<ProbeOutcome>((resolve) => {
      const timer = this.timers.setTimeout(() => {
        finish({ kind: 'timeout' });
        controller.abort();
      }, this.opts.timeoutMs);
      const finish = (outcome: ProbeOutcome) => {
        this.timers.clearTimeout(timer);
        resolve(outcome);
      };
      controller.signal.addEventListener('abort', () => finish({ kind: 'timeout' }), { once: true });
      let sent: Promise<ProbeOutcome>;
      try {
        sent = this.opts.probe(uri, controller.signal);
      } catch (err) {
        sent = Promise.resolve({ kind: 'not-sent', reason: errorText(err) });
      }
      sent.then(finish, (err: unknown) => finish({ kind: 'not-sent', reason: errorText(err) }));
    });
  }

  private record(id: string, hostname: string, outcome: ProbeOutcome): void {
    // Re-read: the provider may have been deleted, or its hostname changed (which resets its
    // health to unknown, docs/api.md) while the probe was out; then this result is stale.
    const current = this.opts.providers().get(id);
    if (current === undefined || current.hostname !== hostname) return;
    let state = this.states.get(id);
    if (state === undefined || state.hostname !== hostname) {
      state = { hostname, failures: 0, probesSinceWrite: 0 };
      this.states.set(id, state);
    }
    const succeeded = probeSucceeded(outcome);
    // The stored status is the "from" state, so a write by someone else is never overruled by a
    // stale belief of ours.
    const next = nextHealth({ status: current.health_status, failures: state.failures }, succeeded, this.opts.unhealthyAfter);
    state.failures = next.failures;
    state.probesSinceWrite++;
    this.log.trace({ provider_id: id, outcome: describe(outcome), failures: next.failures }, 'provider probed');
    const changed = next.status !== current.health_status;
    if (!changed && state.probesSinceWrite < this.refreshEvery) return;
    this.opts.setHealth(id, next.status, this.now());
    state.probesSinceWrite = 0;
    if (changed) {
      this.log.info(
        { provider_id: id, hostname, from: current.health_status, to: next.status, failures: next.failures, outcome: describe(outcome) },
        'provider health changed',
      );
    }
  }
}

function describe(outcome: ProbeOutcome): string {
  switch (outcome.kind) {
    case 'answered':
      return String(outcome.status);
    case 'timeout':
      return 'timeout';
    case 'not-sent':
      return `not sent: ${outcome.reason}`;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The part of drachtio-srf the SIP probe uses (srf.request with a callback; lib/srf.js). */
export interface OptionsSender {
  request(
    uri: string,
    opts: { method: string; headers: Record<string, string> },
    callback: (err: unknown, req: { on(event: 'response', listener: (res: { status: number }) => void): unknown }) => void,
  ): unknown;
}

/**
 * The probe over drachtio-srf: an out-of-dialog OPTIONS. srf calls back once the server has
 * sent the request (or refused to); the final response arrives as the request's 'response'
 * event, including the 408/503 the server generates itself when nothing answers or the send
 * fails. After an abort a late response is ignored: a non-INVITE transaction cannot be
 * cancelled (RFC 3261 §9.1), so the server keeps it until Timer F ends it.
 */
export function createSipOptionsProbe(srf: OptionsSender): ProbeFn {
  return (uri, signal) =>
    new Promise<ProbeOutcome>((resolve) => {
      if (signal.aborted) return resolve({ kind: 'timeout' });
      let settled = false;
      const settle = (outcome: ProbeOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      signal.addEventListener('abort', () => settle({ kind: 'timeout' }), { once: true });
      try {
        // RFC 3261 §11.1: Accept names the body the prober could read (none is needed).
        srf.request(uri, { method: 'OPTIONS', headers: { Accept: 'application/sdp' } }, (err, req) => {
          if (err) return settle({ kind: 'not-sent', reason: errorText(err) });
          req.on('response', (res) => {
            if (res.status >= 200) settle({ kind: 'answered', status: res.status });
          });
        });
      } catch (err) {
        settle({ kind: 'not-sent', reason: errorText(err) });
      }
    });
}
