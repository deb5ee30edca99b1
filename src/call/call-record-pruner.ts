import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import { formatMicros } from '../store/clock.ts';
import type { CallStore, ProviderCallStore } from '../store/store-types.ts';

/**
 * Removes call records and provider test calls older than the retention
 * (`OUTDIAL_CALL_RECORD_DAYS`, docs/api.md "Call records"): every `intervalMs`, in small
 * transactions of `batchSize` rows with the event loop free in between, so a large backlog is
 * worked off without one long write. A round that fails (a storage fault) is logged and the
 * next round tries again.
 */

export interface CallRecordPrunerOptions {
  readonly calls: Pick<CallStore, 'pruneBefore'>;
  readonly providerCalls: Pick<ProviderCallStore, 'pruneBefore'>;
  readonly retentionDays: number;
  readonly logger: Logger;
  /** between rounds (default 1 h); the first round runs `firstRoundMs` after start (default 10 s) */
  readonly intervalMs?: number;
  readonly firstRoundMs?: number;
  /** rows per transaction (default 500) */
  readonly batchSize?: number;
  /** the current time in ms (tests move it on); default Date.now */
  readonly now?: () => number;
}

const DAY_MS = 24 * 3600 * 1000;

export interface PruneResult {
  calls: number;
  providerCalls: number;
}

export class CallRecordPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;
  private closed = false;
  private readonly batchSize: number;
  private readonly now: () => number;
  private readonly pruned: Counter<'table'>;

  constructor(private readonly opts: CallRecordPrunerOptions) {
    this.batchSize = opts.batchSize ?? 500;
    this.now = opts.now ?? Date.now;
    this.pruned = new Counter({
      name: 'outdial_call_records_pruned_total',
      help: 'records removed for being older than OUTDIAL_CALL_RECORD_DAYS, by table (calls, provider_calls)',
      labelNames: ['table'],
      registers: [],
    });
  }

  registerMetrics(registry: Registry): void {
    registry.registerMetric(this.pruned);
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.arm(this.opts.firstRoundMs ?? 10_000);
  }

  /** Everything older than the retention, removed now (also what each round does). */
  prune(): Promise<PruneResult> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.prune()
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'call record pruning failed; retrying next round'))
        .finally(() => {
          if (!this.closed) this.arm(this.opts.intervalMs ?? 3600_000);
        });
    }, ms);
    this.timer.unref();
  }

  private async round(): Promise<PruneResult> {
    const before = formatMicros((this.now() - this.opts.retentionDays * DAY_MS) * 1000);
    const calls = await this.drain('calls', (limit) => this.opts.calls.pruneBefore(before, limit));
    const providerCalls = await this.drain('provider_calls', (limit) => this.opts.providerCalls.pruneBefore(before, limit));
    if (calls + providerCalls > 0) this.opts.logger.info({ calls, provider_calls: providerCalls, before }, 'call records pruned');
    return { calls, providerCalls };
  }

  private async drain(table: string, prune: (limit: number) => Promise<number>): Promise<number> {
    let total = 0;
    while (!this.closed) {
      const n = await prune(this.batchSize);
      total += n;
      this.pruned.inc({ table }, n);
      if (n < this.batchSize) break;
      // let calls and requests run between two deletes
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }
}
