import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallRecord } from './call-record.ts';
import { EventLoopDelay, registerEventLoopDelay, type DelaySnapshot } from '../metrics/event-loop-delay.ts';

/**
 * Prometheus metrics for the call path, fed from the same record the call log line is written
 * from, so the two never disagree. Served by the admin API at GET /metrics.
 */
export class CallMetrics {
  readonly registry = new Registry();
  private readonly calls: Counter<'outcome' | 'status'>;
  private readonly attempts: Counter<'provider_id' | 'status'>;
  private readonly setup: Histogram;
  private readonly limitRefusals: Counter<'provider_id' | 'limit'>;
  private readonly challenges: Counter<'provider_id' | 'outcome'>;
  private readonly loopDelay = new EventLoopDelay();
  /** event-loop delay of threads other than this one (the edge worker), by name */
  private readonly otherThreads = new Map<string, () => Promise<DelaySnapshot | undefined>>();

  constructor(activeCalls: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'outdial_' });
    this.calls = new Counter({
      name: 'outdial_calls_total',
      help: 'calls ended, by outcome and the final status the platform got',
      labelNames: ['outcome', 'status'],
      registers: [this.registry],
    });
    this.attempts = new Counter({
      name: 'outdial_call_attempts_total',
      help: 'carrier attempts, by provider and the status that ended them (488: skipped, no common codec; 408: connect timeout)',
      labelNames: ['provider_id', 'status'],
      registers: [this.registry],
    });
    this.setup = new Histogram({
      name: 'outdial_call_attempt_seconds',
      help: 'time from sending an INVITE to a carrier to its final outcome',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.limitRefusals = new Counter({
      name: 'outdial_provider_limit_refusals_total',
      help: 'attempts not sent because the provider was at its max_calls or max_cps (recorded as 503 provider limit)',
      labelNames: ['provider_id', 'limit'],
      registers: [this.registry],
    });
    this.challenges = new Counter({
      name: 'outdial_carrier_challenges_total',
      help: 'INVITEs a carrier challenged (401/407) and outdial answered with the trunk credentials, by outcome: accepted, or refused (carrier authentication failed)',
      labelNames: ['provider_id', 'outcome'],
      registers: [this.registry],
    });
    // docs/performance.md §7
    registerEventLoopDelay(
      this.registry,
      new Map<string, () => DelaySnapshot | undefined | Promise<DelaySnapshot | undefined>>([
        ['main', () => this.loopDelay.snapshot()],
        ['edge', async () => this.otherThreads.get('edge')?.()],
      ]),
    );
    new Gauge({
      name: 'outdial_active_calls',
      help: 'calls being routed or connected right now',
      registers: [this.registry],
      collect() {
        this.set(activeCalls());
      },
    });
  }

  /** Reports another thread's event-loop delay under `thread` (the edge worker). */
  addThread(thread: 'edge', snapshot: () => Promise<DelaySnapshot | undefined>): void {
    this.otherThreads.set(thread, snapshot);
  }

  close(): void {
    this.loopDelay.close();
  }

  callEnded(record: CallRecord): void {
    this.calls.inc({ outcome: record.outcome, status: String(record.status ?? 0) });
    for (const a of record.attempts) {
      this.attempts.inc({ provider_id: a.provider_id, status: String(a.status) });
      if (a.limit !== undefined) {
        this.limitRefusals.inc({ provider_id: a.provider_id, limit: a.limit });
        continue; // not sent: no setup time
      }
      if (a.challenged) this.challenges.inc({ provider_id: a.provider_id, outcome: a.note === 'carrier authentication failed' ? 'refused' : 'accepted' });
      this.setup.observe(a.duration_ms / 1000);
    }
  }
}
