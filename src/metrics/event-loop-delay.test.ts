import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { histogramDelay } from '../../bench/lib/event-loop-probe.ts';
import { histogramBuckets, parsePrometheusText, sampleValue } from '../../bench/lib/prometheus-text.ts';
import { BUCKETS_SECONDS, DelayHistogram, EventLoopDelay, RESOLUTION_MS, registerEventLoopDelay, type DelaySnapshot } from './event-loop-delay.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
describe('event-loop delay histogram', () => {
  it('puts each observation in the first bucket whose bound it does not exceed, cumulatively', () => {
    const h = new DelayHistogram();
    // seconds: 0, 0.0001, 0.001 (on the bound), 0.019, 0.02 (on the bound), 0.025, 0.155, 11
    for (const s of [0, 0.0001, 0.001, 0.019, 0.02, 0.025, 0.155, 11]) h.observe(s);
    const snap = h.snapshot();
    const at = (le: number) => snap.buckets[BUCKETS_SECONDS.indexOf(le as (typeof BUCKETS_SECONDS)[number])];
    expect([at(0.001), at(0.002), at(0.01), at(0.02), at(0.05), at(0.1), at(0.25), at(10)]).toEqual([3, 3, 3, 5, 6, 6, 7, 7]);
    expect(snap.count).toBe(8);
    expect(snap.sumSeconds).toBeCloseTo(11.2201, 6);
    expect(snap.windowMaxSeconds).toBe(11);
    // the window maximum starts again; the histogram does not
    h.observe(0.003);
    const next = h.snapshot();
    expect(next.windowMaxSeconds).toBe(0.003);
    expect(next.count).toBe(9);
    expect(next.buckets[BUCKETS_SECONDS.indexOf(0.005)]).toBe(4);
  });

  it('observes how late its timer ran, from the clock it is given', async () => {
    let clock = 0;
    const delay = new EventLoopDelay(() => clock);
    try {
      // each run of the 5 ms timer reads the clock: first on time, then 40 ms late
      clock = RESOLUTION_MS;
      await sleep(RESOLUTION_MS * 3);
      clock = RESOLUTION_MS * 2 + 40;
      await sleep(RESOLUTION_MS * 3);
      const s = delay.snapshot();
      expect(s.count).toBeGreaterThanOrEqual(2);
      expect(s.windowMaxSeconds).toBeCloseTo(0.04, 6);
      expect(s.count - s.buckets[BUCKETS_SECONDS.indexOf(0.02)]!).toBe(1);
    } finally {
      delay.close();
    }
  });
});

describe('event-loop delay metric', () => {
  it('serves a histogram by thread that the bench reads as one stall over 20 ms', async () => {
    const registry = new Registry();
    const delay = new EventLoopDelay();
    try {
      registerEventLoopDelay(registry, new Map([['main', () => delay.snapshot()]]));
      await sleep(100);
      const before = await registry.metrics();
      expect(before).toContain('# TYPE outdial_event_loop_delay_seconds histogram');
      expect(before).toMatch(/outdial_event_loop_delay_seconds_bucket\{thread="main",le="0\.02"\} \d+\n/);
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // block the loop: the next run of the timer is about 250 ms late
      }
      await sleep(30);
      const after = await registry.metrics();
      const first = parsePrometheusText(before);
      const last = parsePrometheusText(after);
      // the bench's own reader (bench/lib/event-loop-probe.ts)
      const d = histogramDelay(first, last);
      // at least the stall (a loaded machine may add its own)
      expect(d.over20ms).toBeGreaterThanOrEqual(1);
      expect(d.maxLowerMs).toBeGreaterThanOrEqual(100);
      expect(d.maxUpperMs ?? Infinity).toBeGreaterThanOrEqual(250);
      // cumulative, +Inf is the count, the window maximum saw the stall
      const buckets = histogramBuckets(last, 'outdial_event_loop_delay_seconds');
      expect(buckets.map((b) => b.le)).toEqual([...BUCKETS_SECONDS, Infinity]);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
      expect(buckets.at(-1)!.count).toBe(sampleValue(last, 'outdial_event_loop_delay_seconds_count', { thread: 'main' }));
      expect(sampleValue(last, 'outdial_event_loop_delay_seconds_sum', { thread: 'main' })).toBeGreaterThan(0.2);
      expect(sampleValue(last, 'outdial_event_loop_delay_window_max_seconds', { thread: 'main' })).toBeGreaterThan(0.2);
      // a new window starts with every scrape; the histogram keeps the stall
      await sleep(60);
      const next = parsePrometheusText(await registry.metrics());
      expect(sampleValue(next, 'outdial_event_loop_delay_window_max_seconds', { thread: 'main' })).toBeLessThan(0.2);
      expect(histogramDelay(first, next).over20ms).toBeGreaterThanOrEqual(d.over20ms!);
      const later = histogramBuckets(next, 'outdial_event_loop_delay_seconds');
      later.forEach((b, i) => expect(b.count).toBeGreaterThanOrEqual(buckets[i]!.count));
    } finally {
      delay.close();
    }
  });

  it('reports every thread under its own label, added up by the bench', async () => {
    const registry = new Registry();
    const edge: DelaySnapshot = { buckets: BUCKETS_SECONDS.map((le) => (le >= 0.05 ? 12 : 10)), count: 12, sumSeconds: 0.07, windowMaxSeconds: 0.03 };
    const main = new EventLoopDelay();
    try {
      registerEventLoopDelay(registry, new Map<string, () => DelaySnapshot | undefined | Promise<DelaySnapshot>>([['main', () => main.snapshot()], ['edge', async () => edge], ['gone', () => undefined]]));
      await sleep(30);
      const text = await registry.metrics();
      expect(text).toContain('outdial_event_loop_delay_seconds_bucket{thread="edge",le="0.02"} 10\n');
      expect(text).toContain('outdial_event_loop_delay_seconds_bucket{thread="edge",le="+Inf"} 12\n');
      expect(text).toContain('outdial_event_loop_delay_window_max_seconds{thread="edge"} 0.03\n');
      expect(text).not.toContain('thread="gone"');
      const s = parsePrometheusText(text);
      const mainCount = sampleValue(s, 'outdial_event_loop_delay_seconds_count', { thread: 'main' })!;
      expect(histogramBuckets(s, 'outdial_event_loop_delay_seconds').at(-1)).toEqual({ le: Infinity, count: mainCount + 12 });
    } finally {
      main.close();
    }
  });
});
