import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.ts';
import { formatMicros } from '../store/clock.ts';
import type { CallRecordInput, CallStore } from '../store/store-types.ts';
import type { CallRecord } from './call-record.ts';

/**
 * Stores every call's record (docs/api.md "Call records") off the SIP path. `push` only appends
 * to a bounded in-memory queue; a timer writes the queue in batches, one transaction per batch,
 * yielding to the event loop between batches, so storing records costs a call nothing and the
 * event loop at most one batch insert at a time.
 *
 * A slow or full disk never delays or fails a call: when the queue is full a record is dropped,
 * when a batch cannot be written (disk full, read-only, I/O error) it is dropped; both are
 * counted (`outdial_call_records_dropped_total`) and warned about at most once per
 * `warnIntervalMs`. A batch refused only because another process holds the write lock stays
 * queued and is tried again on the next flush.
 */

export interface CallRecordSinkOptions {
  readonly store: Pick<CallStore, 'insertBatch'>;
  readonly logger: Logger;
  /** records waiting beyond this are dropped (default 10 000) */
  readonly maxQueued?: number;
  /** records per transaction (default 100: a few milliseconds of the event loop) */
  readonly batchSize?: number;
  /** how long a record waits at most before a flush starts, while the queue is below a batch (default 250 ms) */
  readonly flushIntervalMs?: number;
  /** at most one warning per reason this often (default 10 s) */
  readonly warnIntervalMs?: number;
  /** for the warning interval; default Date.now */
  readonly now?: () => number;
}

export type DropReason = 'queue_full' | 'write_failed' | 'closed';

/** How often close() retries a batch another writer's lock keeps out, and how long between tries. */
const CLOSE_BUSY_RETRIES = 10;
const CLOSE_BUSY_PAUSE_MS = 20;

/** The record as stored: the API's shape (docs/api.md "Call records"); the log line keeps its own. */
export function callRecordInputOf(r: CallRecord): CallRecordInput {
  const startMs = Date.parse(r.started_at);
  return {
    call_id: r.call_id,
    started_at: formatMicros(startMs * 1000),
    ended_at: formatMicros((startMs + r.duration_ms) * 1000),
    source: r.source,
    caller: r.caller,
    customer_id: r.customer_id ?? null,
    destination: r.destination ?? null,
    outcome: r.outcome,
    status: r.status ?? null,
    reason: r.reason ?? '',
    provider_id: r.provider_id ?? null,
    hangup_by: r.hangup_by ?? null,
    talk_ms: r.talk_ms ?? null,
    duration_ms: r.duration_ms,
    attempts: r.attempts.map((a) => ({
      route_id: a.route_id,
      provider_id: a.provider_id,
      request_uri: a.request_uri,
      status: a.status,
      reason: a.note ?? '',
      started_ms: a.started_ms,
      duration_ms: a.duration_ms,
    })),
  };
}

export class CallRecordSink {
  private queue: CallRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private writing = false;
  private closed = false;
  private readonly maxQueued: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly warnIntervalMs: number;
  private readonly now: () => number;
  /** per reason: when the last warning went out, and what was dropped since */
  private readonly warned = new Map<DropReason, { at: number; pending: number }>();
  private failing = false;
  private readonly written: Counter;
  private readonly dropped: Counter<'reason'>;
  private readonly queued: Gauge;

  constructor(private readonly opts: CallRecordSinkOptions) {
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.batchSize = opts.batchSize ?? 100;
    this.flushIntervalMs = opts.flushIntervalMs ?? 250;
    this.warnIntervalMs = opts.warnIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    const queueLength = () => this.queue.length;
    this.written = new Counter({ name: 'outdial_call_records_written_total', help: 'call records stored', registers: [] });
    this.dropped = new Counter({
      name: 'outdial_call_records_dropped_total',
      help: 'call records not stored: queue_full (the store fell behind), write_failed (a storage fault), closed (a call ended after shutdown began)',
      labelNames: ['reason'],
      registers: [],
    });
    this.queued = new Gauge({
      name: 'outdial_call_records_queued',
      help: 'call records waiting to be stored',
      registers: [],
      collect() {
        this.set(queueLength());
      },
    });
  }

  /** Serves this sink's metrics from `registry` (the call app's, at GET /metrics). */
  registerMetrics(registry: Registry): void {
    for (const m of [this.written, this.dropped, this.queued]) registry.registerMetric(m);
  }

  /** Records waiting to be written. */
  get pending(): number {
    return this.queue.length;
  }

  /** Called on the SIP path when a call ends: appends and returns; never throws, never waits. */
  push(record: CallRecord): void {
    if (this.closed) return this.drop('closed', 1, undefined);
    if (this.queue.length >= this.maxQueued) return this.drop('queue_full', 1, undefined);
    this.queue.push(record);
    this.schedule();
  }

  /** Writes everything queued now (tests; close). Resolves once the queue is empty or a batch stays busy. */
  async flush(): Promise<void> {
    this.cancelTimers();
    while (this.queue.length > 0 || this.writing) {
      const result = await this.writeBatch();
      if (result === 'busy') {
        if (!this.closed) this.schedule();
        return;
      }
      await nextTick();
    }
  }

  /** Stops the timers and writes what is left (a lock held by another process is waited for briefly). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimers();
    let busyTries = 0;
    while (this.queue.length > 0 || this.writing) {
      const result = await this.writeBatch();
      if (result === 'in-progress') {
        await nextTick();
      } else if (result === 'busy') {
        if (++busyTries > CLOSE_BUSY_RETRIES) {
          this.drop('write_failed', this.queue.length, new Error('the database stayed locked by another process during shutdown'));
          this.queue = [];
          break;
        }
        await new Promise((r) => setTimeout(r, CLOSE_BUSY_PAUSE_MS));
      }
    }
    this.reportPendingDrops();
  }

  private schedule(): void {
    if (this.writing || this.soon) return;
    if (this.queue.length >= this.batchSize) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.soon = setImmediate(() => this.runScheduled());
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => this.runScheduled(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private runScheduled(): void {
    this.timer = undefined;
    this.soon = undefined;
    void this.writeBatch().then((result) => {
      if (this.closed || this.queue.length === 0) return;
      if (result === 'busy') {
        // another writer holds the lock: try again after the interval, not at once
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.runScheduled(), this.flushIntervalMs);
        this.timer.unref();
      } else {
        this.schedule();
      }
    });
  }

  /** One batch, one transaction. Never rejects. */
  private async writeBatch(): Promise<'written' | 'busy' | 'dropped' | 'empty' | 'in-progress'> {
    if (this.writing) return 'in-progress';
    const batch = this.queue.splice(0, this.batchSize);
    if (batch.length === 0) return 'empty';
    this.writing = true;
    try {
      const result = await this.opts.store.insertBatch(batch.map(callRecordInputOf));
      if (result === 'busy') {
        this.requeue(batch);
        return 'busy';
      }
      this.written.inc(batch.length);
      if (this.failing) {
        this.failing = false;
        this.reportPendingDrops();
        this.opts.logger.info({ written: batch.length }, 'call records stored again');
      }
      return 'written';
    } catch (err) {
      this.failing = true;
      this.drop('write_failed', batch.length, err);
      return 'dropped';
    } finally {
      this.writing = false;
    }
  }

  /** A busy batch goes back to the front; records pushed meanwhile that no longer fit are dropped. */
  private requeue(batch: CallRecord[]): void {
    this.queue = batch.concat(this.queue);
    const over = this.queue.length - this.maxQueued;
    if (over > 0) {
      this.queue.length = this.maxQueued;
      this.drop('queue_full', over, undefined);
    }
  }

  private drop(reason: DropReason, count: number, err: unknown): void {
    this.dropped.inc({ reason }, count);
    const now = this.now();
    const w = this.warned.get(reason);
    if (w !== undefined && now - w.at < this.warnIntervalMs) {
      w.pending += count;
      return;
    }
    this.warned.set(reason, { at: now, pending: 0 });
    this.warn(reason, count + (w?.pending ?? 0), err);
  }

  /** Drops counted while warnings were held back are told once more (recovery, close). */
  private reportPendingDrops(): void {
    for (const [reason, w] of this.warned) {
      if (w.pending === 0) continue;
      this.warn(reason, w.pending, undefined);
      w.pending = 0;
      w.at = this.now();
    }
  }

  private warn(reason: DropReason, dropped: number, err: unknown): void {
    const fields: Record<string, unknown> = { reason, dropped, queued: this.queue.length };
    if (err !== undefined) fields.err = err instanceof Error ? err.message : String(err);
    this.opts.logger.warn(fields, 'call records dropped');
  }

  private cancelTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
  }
}

/** Lets timers and I/O run before the next batch (a resolved await alone does not). */
function nextTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
