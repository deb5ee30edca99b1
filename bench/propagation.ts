/**
 * Measurement "propagation" (issue 11): two `outdial start` instances on one database. A route
 * created through instance A (POST /v1.0/routes, for a target no other route matches) is looked
 * for through instance B (GET /v1.0/dialroutes, which reads B's in-memory dial plan) every few ms
 * until B's plan has it: the propagation delay, from A's answer to B's first answer that shows it.
 * Beside it, the admin write latency (sequential POSTs through A while B runs). On SQLite (one
 * file, two processes) always; on PostgreSQL (test/support/postgres-server.ts, a throwaway
 * cluster) when outdial accepts OUTDIAL_DB_URL (lib/capabilities.ts), else "not available".
 * Goal (issue 11): B follows A's commits within 1 s.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { postgresBinDir, startPostgres, type PostgresServer } from '../test/support/postgres-server.ts';
import { DB_URL_VARIABLE } from './lib/capabilities.ts';
import { judge, notMeasured, type GoalRow } from './lib/goals.ts';
import { measurement, type BenchContext } from './lib/measurement.ts';
import { DEFAULT_CUSTOMER_ID, provisionCarrier, startOutdial, type OutdialProcess } from './lib/outdial-process.ts';
import { fmt, table } from './lib/report.ts';
import { sleep } from './lib/sipp-run.ts';
import { summarize, type Summary } from './lib/summary-stats.ts';

export interface StoreRun {
  store: string;
  changes: number;
  /** changes B had not shown within the timeout */
  missed: number;
  propagationMs: Summary;
  writes: number;
  writeLatencyMs: Summary;
}

export interface PropagationResult {
  pollEveryMs: number;
  sqlite: StoreRun;
  /** a string: why PostgreSQL was not measured */
  postgres: StoreRun | string;
}

const SEEN_TIMEOUT_MS = 10_000;
const r2 = (n: number) => Math.round(n * 100) / 100;
const round = (s: Summary): Summary => ({ n: s.n, min: r2(s.min), median: r2(s.median), p90: r2(s.p90), p99: r2(s.p99), max: r2(s.max), mean: r2(s.mean) });

async function measurePair(ctx: BenchContext, label: string, a: OutdialProcess, b: OutdialProcess): Promise<StoreRun> {
  const { changes, adminWrites, pollEveryMs } = ctx.plan.propagation;
  const { providerId } = await provisionCarrier(a, '127.0.0.1:9', { target: '+1999' });
  const delays: number[] = [];
  let missed = 0;
  for (let i = 0; i < changes; i++) {
    // a prefix no other route has: B shows the route only once B's plan has it
    const target = `+1999${String(i).padStart(4, '0')}`;
    const route = (await a.api('POST', '/v1.0/routes', { customer_id: DEFAULT_CUSTOMER_ID, name: `propagation ${i}`, detail: '', provider_id: providerId, priority: 1, target })) as { id: string };
    const written = performance.now();
    let seen: number | undefined;
    while (performance.now() - written < SEEN_TIMEOUT_MS) {
      const r = (await b.api('GET', `/v1.0/dialroutes?target=${encodeURIComponent(`${target}555`)}`)) as { result: Array<{ route: { id: string } }> };
      if (r.result.some((x) => x.route.id === route.id)) {
        seen = performance.now();
        break;
      }
      await sleep(pollEveryMs);
    }
    if (seen === undefined) missed++;
    else delays.push(seen - written);
    // writes land at random moments relative to any polling B does
    await sleep(Math.floor(Math.random() * 200));
  }
  const writes: number[] = [];
  for (let i = 0; i < adminWrites; i++) {
    const t = performance.now();
    await a.api('POST', '/v1.0/routes', { customer_id: DEFAULT_CUSTOMER_ID, name: `write ${i}`, detail: 'admin write latency', provider_id: providerId, priority: 5, target: '+4420' });
    writes.push(performance.now() - t);
  }
  return { store: label, changes, missed, propagationMs: round(summarize(delays)), writes: writes.length, writeLatencyMs: round(summarize(writes)) };
}

async function postgresRun(ctx: BenchContext): Promise<StoreRun | string> {
  if (!ctx.capabilities.dbUrl) return `not available: outdial does not accept ${DB_URL_VARIABLE} yet (PostgreSQL store, issue 11)`;
  try {
    postgresBinDir();
  } catch (err) {
    return `not available: ${err instanceof Error ? err.message : String(err)}`;
  }
  const pg: PostgresServer = await startPostgres();
  try {
    return await twoInstances(ctx, { [DB_URL_VARIABLE]: pg.url }, undefined, (a, b) => measurePair(ctx, 'PostgreSQL (two instances)', a, b));
  } finally {
    await pg.stop();
  }
}

async function twoInstances<T>(ctx: BenchContext, env: Record<string, string>, dbPath: string | undefined, fn: (a: OutdialProcess, b: OutdialProcess) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(ctx.runDir, 'propagation-'));
  const a = await startOutdial({ dir, env });
  try {
    // B opens the same database: A's file, or the same OUTDIAL_DB_URL
    const b = await startOutdial({ dir, env, dbPath: dbPath ?? a.dbPath });
    try {
      return await fn(a, b);
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
  }
}

export const propagationMeasurement = measurement<PropagationResult>({
  name: 'propagation',
  title: 'Two instances on one database: dial-plan propagation delay and admin write latency',
  byDefault: true,
  async run(ctx) {
    const sqlite = await twoInstances(ctx, {}, undefined, (a, b) => measurePair(ctx, 'SQLite (one file, two processes)', a, b));
    return { pollEveryMs: ctx.plan.propagation.pollEveryMs, sqlite, postgres: await postgresRun(ctx) };
  },
  render(r) {
    const row = (x: StoreRun) => [x.store, `${x.changes - x.missed}/${x.changes}`, fmt(x.propagationMs.median, 1), fmt(x.propagationMs.p90, 1), fmt(x.propagationMs.max, 1), x.writes, fmt(x.writeLatencyMs.median, 2), fmt(x.writeLatencyMs.p99, 2), fmt(x.writeLatencyMs.max, 1)];
    const rows = [row(r.sqlite)];
    if (typeof r.postgres === 'string') rows.push(['PostgreSQL', r.postgres, '–', '–', '–', '–', '–', '–', '–']);
    else rows.push(row(r.postgres));
    return `${table(['store', 'changes seen by B', 'propagation median ms', 'p90 ms', 'max ms', 'admin writes', 'write p50 ms', 'write p99 ms', 'write max ms'], rows)}\n\nPropagation: A's POST answered → B's GET /v1.0/dialroutes first shows the route (polled every ${r.pollEveryMs} ms after the previous answer, so it includes up to one poll). Admin writes: sequential POST /v1.0/routes through A while B runs.`;
  },
  goals(r, _ctx, why): GoalRow[] {
    const g1 = { issue: '#11', goal: 'dial-plan propagation between two instances, SQLite (max)', target: '≤ 1 s' };
    const g2 = { issue: '#11', goal: 'dial-plan propagation between two instances, PostgreSQL (max)', target: '≤ 1 s' };
    const g3 = { issue: '#11', goal: 'admin write latency, PostgreSQL beside SQLite (p99)', target: 'reported' };
    if (!r) return notMeasured([g1, g2, g3], why);
    const prop = (x: StoreRun, g: typeof g1): GoalRow => ({
      ...g,
      measured: `max ${fmt(x.propagationMs.max, 0)} ms, median ${fmt(x.propagationMs.median, 0)} ms (${x.changes - x.missed}/${x.changes} seen)`,
      baseline: '–',
      ratio: '–',
      verdict: x.missed > 0 ? 'FAIL' : judge(x.propagationMs.max, '<=', 1000),
      value: x.propagationMs.max,
    });
    const rows: GoalRow[] = [prop(r.sqlite, g1)];
    if (typeof r.postgres === 'string') {
      rows.push({ ...g2, measured: '–', baseline: '–', ratio: '–', verdict: 'NOT AVAILABLE', note: r.postgres });
      rows.push({ ...g3, measured: '–', baseline: `SQLite p99 ${fmt(r.sqlite.writeLatencyMs.p99, 2)} ms`, ratio: '–', verdict: 'NOT AVAILABLE', note: r.postgres, baselineValue: r.sqlite.writeLatencyMs.p99 });
    } else {
      rows.push(prop(r.postgres, g2));
      rows.push({ ...g3, measured: `PostgreSQL p99 ${fmt(r.postgres.writeLatencyMs.p99, 2)} ms (p50 ${fmt(r.postgres.writeLatencyMs.median, 2)})`, baseline: `SQLite p99 ${fmt(r.sqlite.writeLatencyMs.p99, 2)} ms (p50 ${fmt(r.sqlite.writeLatencyMs.median, 2)})`, ratio: `${fmt(r.postgres.writeLatencyMs.p99 / r.sqlite.writeLatencyMs.p99, 2)}×`, verdict: 'INFO', value: r.postgres.writeLatencyMs.p99, baselineValue: r.sqlite.writeLatencyMs.p99 });
    }
    return rows;
  },
});
