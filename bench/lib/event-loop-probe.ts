/**
 * Event-loop delay of a running outdial, read from outside while a measurement runs (src is not
 * changed for it), two ways at once:
 *
 * 1. GET /metrics, once per `metricsEveryMs`. The metric outdial is to expose (issue 14; the
 *    contract the bench reads):
 *
 *      outdial_event_loop_delay_seconds   histogram (cumulative _bucket{le}, _sum, _count)
 *        one observation per perf_hooks.monitorEventLoopDelay sample, as the time the loop ran
 *        late: the sample minus the monitor's resolution (an idle loop observes ≈ 0); resolution
 *        ≤ 5 ms; buckets include le="0.02" (the goal's 20 ms), e.g. 0.001 0.002 0.005 0.01 0.02
 *        0.05 0.1 0.25 0.5 1 2.5 5 10.
 *
 *    The bench takes the difference of the buckets between the first and the last scrape: the
 *    observations over 20 ms, and bounds on the largest delay (the bucket it fell in). Until that
 *    metric exists, prom-client's default `outdial_nodejs_eventloop_lag_max_seconds` is read: also
 *    monitorEventLoopDelay, 10 ms resolution, the raw largest sample since the previous scrape
 *    (prom-client resets its histogram on every collect). A raw sample includes the resolution,
 *    so a stall of B ms shows as B…B+10 ms: the delay is known within [raw − 10 ms, raw].
 * 2. GET /healthz latency every `healthzEveryMs`, one request at a time: a stalled loop answers
 *    late (the request waits out the stall), so the largest latency is a lower bound of the
 *    longest stall that a sample met, and needs no metric at all. It includes HTTP and this
 *    process's own scheduling: read it beside the quiet baseline.
 */
import { performance } from 'node:perf_hooks';
import { judgeBounded, type Verdict } from './goals.ts';
import { histogramBuckets, parsePrometheusText, sampleValue, type MetricSample } from './prometheus-text.ts';
import { summarize } from './summary-stats.ts';

export const EVENT_LOOP_DELAY_HISTOGRAM = 'outdial_event_loop_delay_seconds';
export const PROM_CLIENT_LAG_MAX = 'outdial_nodejs_eventloop_lag_max_seconds';
/** prom-client's default eventLoopMonitoringPrecision */
export const PROM_CLIENT_RESOLUTION_MS = 10;

export interface EventLoopDelay {
  source: typeof EVENT_LOOP_DELAY_HISTOGRAM | typeof PROM_CLIENT_LAG_MAX | 'none';
  /** the largest delay lies within [maxLowerMs, maxUpperMs] */
  maxLowerMs: number | null;
  maxUpperMs: number | null;
  /** histogram: observations over 20 ms; lag max: scrape periods whose largest delay was surely over 20 ms */
  over20ms: number | null;
  scrapes: number;
  scrapeFailures: number;
}

export interface HealthzLatency {
  samples: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  over20ms: number;
  failures: number;
}

export interface EventLoopProbeResult {
  windowSec: number;
  metric: EventLoopDelay;
  healthz: HealthzLatency;
}

export interface ProbeTarget {
  readonly base: string;
  metrics(): Promise<string>;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

/** The histogram's difference between two scrapes: over-20 ms count and bounds on the largest. */
export function histogramDelay(first: readonly MetricSample[], last: readonly MetricSample[]): Pick<EventLoopDelay, 'maxLowerMs' | 'maxUpperMs' | 'over20ms'> {
  const a = new Map(histogramBuckets(first, EVENT_LOOP_DELAY_HISTOGRAM).map((b) => [b.le, b.count]));
  const diff = histogramBuckets(last, EVENT_LOOP_DELAY_HISTOGRAM).map((b) => ({ le: b.le, count: b.count - (a.get(b.le) ?? 0) }));
  const total = diff.find((b) => b.le === Infinity)?.count ?? 0;
  if (total === 0) return { maxLowerMs: 0, maxUpperMs: 0, over20ms: 0 };
  // observations over the first bound at or above 20 ms: surely over 20 ms
  const at20 = diff.find((b) => b.le >= 0.02);
  const over20ms = at20 ? total - at20.count : null;
  let lower = 0;
  let upper = Infinity;
  for (const b of diff) {
    if (b.count >= total) {
      upper = b.le;
      break;
    }
    lower = b.le;
  }
  return { maxLowerMs: r2(lower * 1000), maxUpperMs: upper === Infinity ? null : r2(upper * 1000), over20ms };
}

export function startEventLoopProbe(target: ProbeTarget, opts: { healthzEveryMs: number; metricsEveryMs: number }): { stop(): Promise<EventLoopProbeResult> } {
  let running = true;
  const started = performance.now();
  const latencies: number[] = [];
  let healthzFailures = 0;
  const scrapes: MetricSample[][] = [];
  let scrapeFailures = 0;

  const healthzLoop = (async () => {
    while (running) {
      const t = performance.now();
      try {
        const res = await fetch(`${target.base}/healthz`, { signal: AbortSignal.timeout(15_000) });
        await res.arrayBuffer();
        if (res.ok) latencies.push(performance.now() - t);
        else healthzFailures++;
      } catch {
        healthzFailures++;
      }
      await new Promise((r) => setTimeout(r, opts.healthzEveryMs));
    }
  })();
  const scrape = async () => {
    try {
      scrapes.push(parsePrometheusText(await target.metrics()));
    } catch {
      scrapeFailures++;
    }
  };
  const metricsLoop = (async () => {
    await scrape(); // the starting point (and, for prom-client's gauge, the reset)
    while (running) {
      await new Promise((r) => setTimeout(r, opts.metricsEveryMs));
      if (running) await scrape();
    }
  })();

  return {
    async stop() {
      running = false;
      await Promise.all([healthzLoop, metricsLoop]);
      await scrape(); // the end point
      const windowSec = r2((performance.now() - started) / 1000);
      const s = summarize(latencies);
      const healthz: HealthzLatency = { samples: s.n, medianMs: r2(s.median), p99Ms: r2(s.p99), maxMs: r2(s.max), over20ms: latencies.filter((l) => l > 20).length, failures: healthzFailures };
      const first = scrapes[0] ?? [];
      const last = scrapes[scrapes.length - 1] ?? [];
      let metric: EventLoopDelay;
      if (histogramBuckets(last, EVENT_LOOP_DELAY_HISTOGRAM).length > 0) {
        metric = { source: EVENT_LOOP_DELAY_HISTOGRAM, ...histogramDelay(first, last), scrapes: scrapes.length, scrapeFailures };
      } else if (sampleValue(last, PROM_CLIENT_LAG_MAX) !== undefined) {
        // every scrape after the first covers the time since the one before
        const maxes = scrapes.slice(1).map((x) => sampleValue(x, PROM_CLIENT_LAG_MAX)).filter((v): v is number => v !== undefined && Number.isFinite(v)).map((v) => v * 1000);
        const raw = maxes.length ? Math.max(...maxes) : NaN;
        metric = {
          source: PROM_CLIENT_LAG_MAX,
          maxLowerMs: Number.isNaN(raw) ? null : r2(Math.max(0, raw - PROM_CLIENT_RESOLUTION_MS)),
          maxUpperMs: Number.isNaN(raw) ? null : r2(raw),
          over20ms: maxes.filter((m) => m - PROM_CLIENT_RESOLUTION_MS > 20).length,
          scrapes: scrapes.length,
          scrapeFailures,
        };
      } else {
        metric = { source: 'none', maxLowerMs: null, maxUpperMs: null, over20ms: null, scrapes: scrapes.length, scrapeFailures };
      }
      return { windowSec, metric, healthz };
    },
  };
}

/** "No event-loop delay above `limitMs`", judged on the metric's bounds. */
export function judgeEventLoop(r: EventLoopProbeResult, limitMs = 20): { verdict: Verdict; text: string } {
  const m = r.metric;
  if (m.source === 'none') return { verdict: 'NOT AVAILABLE', text: `no event-loop metric in /metrics; /healthz max ${r.healthz.maxMs} ms` };
  if (m.source === EVENT_LOOP_DELAY_HISTOGRAM) {
    const verdict: Verdict = m.over20ms === null ? 'NOT MEASURED' : m.over20ms === 0 ? 'PASS' : 'FAIL';
    return { verdict, text: `max ${m.maxLowerMs}…${m.maxUpperMs ?? '∞'} ms, ${m.over20ms ?? '?'} over 20 ms` };
  }
  return { verdict: judgeBounded(m.maxLowerMs, m.maxUpperMs, limitMs), text: `max ${m.maxLowerMs}…${m.maxUpperMs} ms` };
}
