/**
 * Event-loop delay on GET /metrics (docs/performance.md §7), from perf_hooks.monitorEventLoopDelay:
 *
 *   outdial_event_loop_delay_seconds{thread,quantile}  summary since start (quantile "1" = max)
 *   outdial_event_loop_delay_window_max_seconds{thread} the largest delay since the previous scrape
 *
 * `thread` is `main` (routing app, admin API, store) or `edge` (the SIP edge's worker thread when
 * OUTDIAL_EDGE_THREAD is on, reported from there).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Registry } from 'prom-client';

/** Sampling interval of the delay timer (ms): finer than the 20 ms the goal is stated in. */
const RESOLUTION_MS = 10;
const QUANTILES = [0.5, 0.9, 0.99, 0.999, 1] as const;

/** What one thread reports: nanosecond figures, as the histogram has them. */
export interface DelaySnapshot {
  count: number;
  sumNs: number;
  quantilesNs: number[];
  windowMaxNs: number;
}

/** Watches this thread's event loop; snapshot() also starts a new scrape window. */
export class EventLoopDelay {
  private readonly total: IntervalHistogram;
  private readonly window: IntervalHistogram;

  constructor() {
    this.total = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.total.enable();
    this.window.enable();
  }

  snapshot(): DelaySnapshot {
    const h = this.total;
    const count = h.count;
    const windowMaxNs = this.window.count > 0 ? this.window.max : 0;
    this.window.reset();
    return {
      count,
      sumNs: count > 0 ? h.mean * count : 0,
      quantilesNs: QUANTILES.map((q) => (count > 0 ? (q === 1 ? h.max : h.percentile(q * 100)) : 0)),
      windowMaxNs,
    };
  }

  close(): void {
    this.total.disable();
    this.window.disable();
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
  register(registry, 'outdial_event_loop_delay_seconds', 'event-loop delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution) since start, by thread', 'summary', async () => {
    const values: MetricValue[] = [];
    for (const [thread, s] of await shared()) {
      QUANTILES.forEach((q, i) => values.push({ labels: { thread, quantile: q }, value: s.quantilesNs[i]! / 1e9 }));
      values.push({ metricName: 'outdial_event_loop_delay_seconds_sum', labels: { thread }, value: s.sumNs / 1e9 });
      values.push({ metricName: 'outdial_event_loop_delay_seconds_count', labels: { thread }, value: s.count });
    }
    return values;
  });
  register(registry, 'outdial_event_loop_delay_window_max_seconds', 'largest event-loop delay since the previous scrape, by thread', 'gauge', async () =>
    (await shared()).map(([thread, s]) => ({ labels: { thread }, value: s.windowMaxNs / 1e9 })),
  );
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** A metric whose values are computed at scrape time (prom-client's Registry#registerMetric contract). */
function register(registry: Registry, name: string, help: string, type: 'summary' | 'gauge', values: () => Promise<MetricValue[]>): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'max',
    async get() {
      return { name, help, type, values: await values(), aggregator: 'max' };
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
