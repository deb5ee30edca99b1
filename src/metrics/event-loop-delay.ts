/**
 * Event-loop delay on GET /metrics (docs/performance.md §7):
 *
 *   outdial_event_loop_delay_seconds{thread}            histogram (_bucket{le}, _sum, _count) since
 *                                                       start: one observation per timer sample
 *   outdial_event_loop_delay_window_max_seconds{thread} the largest observation since the previous scrape
 *
 * The sample is the one perf_hooks.monitorEventLoopDelay takes (a repeating timer on the loop; the
 * time between two of its runs), taken here with a JS timer so that every sample is seen: the
 * perf_hooks monitor only hands out an HDR histogram, counting samples under a bound costs a walk
 * of it per bucket (milliseconds on the loop per scrape), and its reset() forgets the previous
 * run's time, so the interval in which a scrape falls, a stall right after it included, would
 * never be observed. An observation is how late the timer ran (the sample minus the resolution):
 * an idle loop observes about 0, a loop stalled for B ms observes about B ms once.
 *
 * `thread` is `main` (routing app, admin API, store) or `edge` (the SIP edge's worker thread when
 * OUTDIAL_EDGE_THREAD is on, counted there). `npm run bench` reads the difference of the buckets
 * between two scrapes (bucket le="0.02": the 20 ms of issue 14).
 */
import { performance } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

/** Interval of the sampling timer (ms): well under the 20 ms the goal is stated in. */
export const RESOLUTION_MS = 5;
/** Upper bounds of the histogram's buckets, in seconds (+Inf is added). */
export const BUCKETS_SECONDS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What one thread reports: its histogram since start, and the largest observation of the window. */
export interface DelaySnapshot {
  /** cumulative: observations ≤ BUCKETS_SECONDS[i] */
  buckets: number[];
  count: number;
  sumSeconds: number;
  windowMaxSeconds: number;
}

/** Observations of how late a timer ran, in the histogram's buckets. */
export class DelayHistogram {
  /** observations per bucket, not cumulative; the last one is +Inf */
  private readonly perBucket: number[] = new Array<number>(BUCKETS_SECONDS.length + 1).fill(0);
  private count = 0;
  private sumSeconds = 0;
  private windowMaxSeconds = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS_SECONDS.length && seconds > BUCKETS_SECONDS[i]!) i++;
    this.perBucket[i]!++;
    this.count++;
    this.sumSeconds += seconds;
    if (seconds > this.windowMaxSeconds) this.windowMaxSeconds = seconds;
  }

  /** The histogram so far; starts a new window for the largest observation. */
  snapshot(): DelaySnapshot {
    let running = 0;
    const buckets = BUCKETS_SECONDS.map((_le, i) => (running += this.perBucket[i]!));
    const windowMaxSeconds = this.windowMaxSeconds;
    this.windowMaxSeconds = 0;
    return { buckets, count: this.count, sumSeconds: this.sumSeconds, windowMaxSeconds };
  }
}

/** Watches this thread's event loop; snapshot() also starts a new window for the largest delay. */
export class EventLoopDelay {
  private readonly histogram = new DelayHistogram();
  private readonly timer: NodeJS.Timeout;

  constructor(now: () => number = () => performance.now()) {
    let due = now() + RESOLUTION_MS;
    this.timer = setInterval(() => {
      const t = now();
      this.histogram.observe(Math.max(0, t - due) / 1000);
      // a repeating timer is due one interval after its callback started (Node's timers)
      due = t + RESOLUTION_MS;
    }, RESOLUTION_MS);
    this.timer.unref();
  }

  snapshot(): DelaySnapshot {
    return this.histogram.snapshot();
  }

  close(): void {
    clearInterval(this.timer);
  }
}

type Source = () => DelaySnapshot | undefined | Promise<DelaySnapshot | undefined>;

/** Registers both metrics; `sources` maps a thread name to its snapshot. */
export function registerEventLoopDelay(registry: Registry, sources: ReadonlyMap<string, Source>): void {
  const read = async () => {
    const out: Array<[string, DelaySnapshot]> = [];
    for (const [thread, source] of sources) {
      const s = await source();
      if (s) out.push([thread, s]);
    }
    return out;
  };
  let pending: Promise<Array<[string, DelaySnapshot]>> | undefined;
  // One read serves both metrics of one scrape (each read starts a new window).
  const shared = () => {
    pending ??= read().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  const name = 'outdial_event_loop_delay_seconds';
  register(registry, name, `event-loop delay: how late a ${RESOLUTION_MS} ms timer ran (the time between its runs, as perf_hooks.monitorEventLoopDelay samples it, minus ${RESOLUTION_MS} ms), by thread`, 'histogram', async () => {
    const values: MetricValue[] = [];
    for (const [thread, s] of await shared()) {
      BUCKETS_SECONDS.forEach((le, i) => values.push({ metricName: `${name}_bucket`, labels: { thread, le }, value: s.buckets[i]! }));
      values.push({ metricName: `${name}_bucket`, labels: { thread, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${name}_sum`, labels: { thread }, value: s.sumSeconds });
      values.push({ metricName: `${name}_count`, labels: { thread }, value: s.count });
    }
    return values;
  });
  register(registry, 'outdial_event_loop_delay_window_max_seconds', 'largest event-loop delay observed since the previous scrape, by thread', 'gauge', async () =>
    (await shared()).map(([thread, s]) => ({ labels: { thread }, value: s.windowMaxSeconds })),
  );
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric whose values are computed at scrape time (prom-client's Registry#registerMetric contract). */
function register(registry: Registry, name: string, help: string, type: 'histogram' | 'gauge', values: () => Promise<MetricValue[]>): void {
  const metric = {
    name,
    help,
    type,
    // across cluster workers: counts add up, a largest delay stays the largest
    aggregator: type === 'histogram' ? 'sum' : 'max',
    async get() {
      return { name, help, type, values: await values(), aggregator: metric.aggregator };
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
