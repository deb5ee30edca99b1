import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { EventLoopDelay, registerEventLoopDelay } from './event-loop-delay.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function value(text: string, pattern: RegExp): number {
  const m = pattern.exec(text);
  if (!m) throw new Error(`no ${pattern} in\n${text}`);
  return Number(m[1]);
}

describe('event-loop delay metric', () => {
  it('reports a blocked event loop as a summary by thread and as the window maximum', async () => {
    const registry = new Registry();
    const delay = new EventLoopDelay();
    try {
      registerEventLoopDelay(registry, new Map([['main', () => delay.snapshot()]]));
      await sleep(50);
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // block the loop: the next delay sample sees about 250 ms
      }
      await sleep(30);
      const text = await registry.metrics();
      expect(text).toContain('# TYPE outdial_event_loop_delay_seconds summary');
      expect(value(text, /outdial_event_loop_delay_seconds\{thread="main",quantile="1"\} ([0-9.e-]+)/)).toBeGreaterThan(0.2);
      expect(value(text, /outdial_event_loop_delay_seconds_count\{thread="main"\} ([0-9]+)/)).toBeGreaterThan(0);
      expect(value(text, /outdial_event_loop_delay_window_max_seconds\{thread="main"\} ([0-9.e-]+)/)).toBeGreaterThan(0.2);
      // a new window starts with every scrape: the next one has no such delay in it
      await sleep(60);
      const next = await registry.metrics();
      expect(value(next, /outdial_event_loop_delay_window_max_seconds\{thread="main"\} ([0-9.e-]+)/)).toBeLessThan(0.2);
      expect(value(next, /outdial_event_loop_delay_seconds\{thread="main",quantile="1"\} ([0-9.e-]+)/)).toBeGreaterThan(0.2);
    } finally {
      delay.close();
    }
  });
});
