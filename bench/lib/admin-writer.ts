/**
 * An admin client changing routes through the API at a fixed cadence (issue 14: "an admin writer
 * changes routes every 10 ms"): one PUT /v1.0/routes/:id at a time, the next one `everyMs` after
 * the previous one started (or at once when it took longer), cycling through `routes` and
 * moving each one's priority, so every write changes the dial plan.
 */
import type { OutdialProcess } from './outdial-process.ts';
import { summarize, type Summary } from './summary-stats.ts';

export interface RouteToChange {
  id: string;
  name: string;
  detail: string;
  provider_id: string;
  priority: number;
  target: string;
}

export interface AdminWriterResult {
  writes: number;
  failures: number;
  /** per PUT, ms */
  latencyMs: Summary;
  firstError?: string;
}

export function startAdminWriter(outdial: Pick<OutdialProcess, 'api'>, routes: readonly RouteToChange[], everyMs: number): { stop(): Promise<AdminWriterResult> } {
  if (routes.length === 0) throw new Error('admin writer: no routes to change');
  let running = true;
  const latencies: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const route = routes[i % routes.length]!;
      const started = performance.now();
      try {
        await outdial.api('PUT', `/v1.0/routes/${route.id}`, {
          name: route.name,
          detail: route.detail,
          provider_id: route.provider_id,
          priority: 1 + ((route.priority + i) % 9),
          target: route.target,
        });
        latencies.push(performance.now() - started);
      } catch (err) {
        failures++;
        firstError ??= err instanceof Error ? err.message.slice(0, 300) : String(err);
      }
      const wait = everyMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const s = summarize(latencies);
      const r2 = (n: number) => Math.round(n * 100) / 100;
      return {
        writes: latencies.length,
        failures,
        latencyMs: { n: s.n, min: r2(s.min), median: r2(s.median), p90: r2(s.p90), p99: r2(s.p99), max: r2(s.max), mean: r2(s.mean) },
        ...(firstError ? { firstError } : {}),
      };
    },
  };
}
