/**
 * Measurement "db-stalls": does the database stall the call path? `outdial start` on a table of
 * 100k routes (20k of them the default customer's rate deck, the rest over 8k customers;
 * lib/route-fixture.ts), calls at 100 cps with post-dial delay traced (lib/invite-delay.ts), and
 * the event loop watched from outside (lib/event-loop-probe.ts), in three steps:
 *   quiet          no writes (the baseline)
 *   writer         an admin client changes a route every 10 ms through the API (lib/admin-writer.ts),
 *                  alternating the default customer's routes and other customers'
 *   writer + lock  the same, and another process takes the SQLite write lock 3 s into the calls,
 *                  holds it 3 s and commits a change (lib/sqlite-lock-holder.ts)
 * plus sipp → sipp at the same rate for the harness's share. Goals (issue 14): added p99 < 5 ms in
 * both loaded steps; no event-loop delay above 20 ms caused by the database.
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CUSTOMER_ID } from '../src/routing/model.ts';
import { startAdminWriter, type AdminWriterResult, type RouteToChange } from './lib/admin-writer.ts';
import { runStep, type StepPlan } from './lib/call-load.ts';
import { judgeEventLoop, startEventLoopProbe, type EventLoopProbeResult } from './lib/event-loop-probe.ts';
import { judge, notMeasured, type GoalRow, type Verdict } from './lib/goals.ts';
import { measurePostDialDelay, summarizeDelays, type PostDialDelayResult } from './lib/invite-delay.ts';
import { measurement, type BenchContext } from './lib/measurement.ts';
import { carrierLink, carrierProviderBody, provisionCarrier, startOutdial, type OutdialProcess } from './lib/outdial-process.ts';
import { fmt, table } from './lib/report.ts';
import { COUNTRY_CODES, insertRoutes, prefixPool, prng, uuidFrom } from './lib/route-fixture.ts';
import { startSqliteLockHolder, type LockWindow } from './lib/sqlite-lock-holder.ts';
import type { Summary } from './lib/summary-stats.ts';
import { PDD_HEADER, pddRow, withoutPairs } from './post-dial-delay.ts';

export interface StallStep {
  name: 'quiet' | 'writer' | 'writer + lock';
  pdd: PostDialDelayResult;
  /** p99 outdial − p99 direct */
  addedP99Ms: number;
  probe: EventLoopProbeResult;
  writer?: AdminWriterResult;
  lock?: LockWindow & { heldMs: number; callsDuring: number; duringLockMs: Summary };
}

export interface DbStallsResult {
  routes: number;
  defaultCustomerRoutes: number;
  insertSec: number;
  /** `outdial start` on the prepared table until /healthz answered */
  startWithTableSec: number;
  rate: number;
  seconds: number;
  direct: PostDialDelayResult;
  steps: StallStep[];
}

const DECK_PROVIDERS = 10;

interface PreparedTable {
  dbPath: string;
  carrier: { providerId: string; routeId: string };
  routesToChange: RouteToChange[];
  insertSec: number;
}

/**
 * A fresh outdial makes the schema and, through the API, the bench carrier (route `+1`, the only
 * one matching the bench number) and the deck's providers; stopped, its file gets the routes.
 * No generated route matches +1…: country code 1 is left out of the pool, and there is no `all`.
 */
async function prepareTable(ctx: BenchContext, dir: string): Promise<PreparedTable> {
  const s = ctx.plan.stalls;
  const first = await startOutdial({ dir });
  let carrier: { providerId: string; routeId: string };
  const providerIds: string[] = [];
  try {
    carrier = await provisionCarrier(first, '127.0.0.1:9');
    for (let i = 0; i < DECK_PROVIDERS; i++) {
      const p = (await first.api('POST', '/v1.0/providers', carrierProviderBody('127.0.0.1:9', { name: `deck carrier ${i}` }))) as { id: string };
      providerIds.push(p.id);
    }
  } finally {
    await first.stop();
  }
  const rand = prng(0xdb57a11);
  const db = new Database(first.dbPath);
  try {
    db.pragma('busy_timeout = 10000');
    const customers = Array.from({ length: Math.max(1, Math.round((s.routes - s.defaultCustomerRoutes) / 10)) }, () => uuidFrom(rand));
    const t = insertRoutes(db, {
      count: s.routes,
      defaultCustomerRoutes: s.defaultCustomerRoutes,
      defaultCatchAll: false,
      customers,
      providerIds,
      pool: prefixPool(rand, COUNTRY_CODES.filter((cc) => cc !== '1')),
      rand,
    });
    const pick = (ids: string[], n: number) => Array.from({ length: Math.min(n, ids.length) }, (_, i) => ids[Math.floor((i * ids.length) / Math.min(n, ids.length))]!);
    const chosen = [...pick(t.defaultRouteIds, 100), ...pick(t.customerRouteIds, 100)];
    const get = db.prepare('SELECT id, customer_id, name, detail, provider_id, priority, target FROM routes WHERE id = ?');
    const rows = chosen.map((id) => get.get(id) as RouteToChange & { customer_id: string });
    // alternate: the default customer's deck, then another customer's routes
    const deck = rows.filter((r) => r.customer_id === DEFAULT_CUSTOMER_ID);
    const others = rows.filter((r) => r.customer_id !== DEFAULT_CUSTOMER_ID);
    const routesToChange: RouteToChange[] = [];
    for (let i = 0; i < Math.max(deck.length, others.length); i++) {
      if (deck[i]) routesToChange.push(deck[i]!);
      if (others[i]) routesToChange.push(others[i]!);
    }
    return { dbPath: first.dbPath, carrier, routesToChange, insertSec: Math.round(t.insertSec * 10) / 10 };
  } finally {
    db.close();
  }
}

async function stallStep(
  ctx: BenchContext,
  o: OutdialProcess,
  plan: StepPlan,
  name: StallStep['name'],
  directP99: number,
  table: PreparedTable,
): Promise<StallStep> {
  const s = ctx.plan.stalls;
  const calls = s.rate * s.seconds;
  const holder = name === 'writer + lock' ? await startSqliteLockHolder(o.dbPath, s.lockSec * 1000, table.routesToChange[0]!.id) : undefined;
  try {
    const probe = startEventLoopProbe(o, { healthzEveryMs: s.healthzEveryMs, metricsEveryMs: 1000 });
    const writer = name === 'quiet' ? undefined : startAdminWriter(o, table.routesToChange, s.writerEveryMs);
    let lockWindow: Promise<LockWindow> | undefined;
    let pdd!: Awaited<ReturnType<typeof measurePostDialDelay>>;
    let writerResult: AdminWriterResult | undefined;
    let probeResult: EventLoopProbeResult;
    try {
      pdd = await measurePostDialDelay(
        {
          ...plan,
          name: `stall-${name.replace(/\W+/g, '-')}`,
          onStarted: () => {
            if (holder) lockWindow = new Promise((r) => setTimeout(r, s.lockAtSec * 1000)).then(() => holder.lock());
          },
        },
        s.rate,
        calls,
      );
    } finally {
      writerResult = await writer?.stop();
      probeResult = await probe.stop();
    }
    const step: StallStep = { name, pdd: withoutPairs(pdd), addedP99Ms: Math.round((pdd.delayMs.p99 - directP99) * 1000) / 1000, probe: probeResult, ...(writerResult ? { writer: writerResult } : {}) };
    if (lockWindow) {
      const w = await lockWindow;
      const during = pdd.delays.filter((d) => d.sentUs / 1000 >= w.lockedAt && d.sentUs / 1000 <= w.releasedAt).map((d) => d.delayMs);
      step.lock = { ...w, heldMs: w.releasedAt - w.lockedAt, callsDuring: during.length, duringLockMs: summarizeDelays(during) };
    }
    return step;
  } finally {
    await holder?.stop();
  }
}

/**
 * "No event-loop delay above 20 ms caused by the database": PASS when the loaded step's largest
 * delay is surely within 20 ms; FAIL when it is surely over 20 ms and over anything the quiet
 * step saw (so the writes or the lock caused it); otherwise UNCLEAR (the quiet step, with no
 * database activity, stalled as long: GC or other load on the machine).
 */
export function databaseDelayVerdict(loaded: EventLoopProbeResult, quiet: EventLoopProbeResult): { verdict: Verdict; why: string } {
  const abs = judgeEventLoop(loaded);
  if (abs.verdict !== 'FAIL' && abs.verdict !== 'UNCLEAR') return { verdict: abs.verdict, why: '' };
  const lower = loaded.metric.maxLowerMs ?? 0;
  const quietUpper = quiet.metric.maxUpperMs ?? Infinity;
  if (lower > 20 && lower > quietUpper) return { verdict: 'FAIL', why: '' };
  return { verdict: 'UNCLEAR', why: `not attributable: the quiet step (no database activity) reached up to ${quiet.metric.maxUpperMs ?? '?'} ms too` };
}

export const dbStallsMeasurement = measurement<DbStallsResult>({
  name: 'db-stalls',
  title: 'Database stalls: post-dial delay and event-loop delay on a large route table, quiet / admin writer / writer + outside lock',
  byDefault: true,
  async run(ctx) {
    const s = ctx.plan.stalls;
    const dir = mkdtempSync(path.join(ctx.runDir, 'stalls-'));
    ctx.log(`  preparing ${s.routes} routes …`);
    const prepared = await prepareTable(ctx, dir);
    const calls = s.rate * s.seconds;
    const direct = withoutPairs(await measurePostDialDelay({ name: 'stall-direct', dir, route: async (port) => ({ host: '127.0.0.1', port }), pauseMs: 0 }, s.rate, calls));
    const t0 = performance.now();
    const o = await startOutdial({ dir, dbPath: prepared.dbPath });
    const startWithTableSec = Math.round((performance.now() - t0) / 100) / 10;
    try {
      const link = carrierLink(o, prepared.carrier.providerId, prepared.carrier.routeId);
      const plan: StepPlan = {
        name: 'stall',
        dir,
        route: async (port) => {
          await link.pointAt(`127.0.0.1:${port}`);
          return o.sip;
        },
        pauseMs: 0,
      };
      await runStep({ ...plan, name: 'stall-warmup', pauseMs: ctx.plan.holdMs }, ctx.plan.warmup.rate, ctx.plan.warmup.calls);
      const steps: StallStep[] = [];
      for (const name of ['quiet', 'writer', 'writer + lock'] as const) {
        const step = await stallStep(ctx, o, plan, name, direct.delayMs.p99, prepared);
        ctx.log(`  ${name}: p99 ${step.pdd.delayMs.p99} ms, max ${step.pdd.delayMs.max} ms, event loop ${judgeEventLoop(step.probe).text}, /healthz max ${step.probe.healthz.maxMs} ms${step.writer ? `, ${step.writer.writes} writes (p99 ${step.writer.latencyMs.p99} ms)` : ''}`);
        steps.push(step);
      }
      return { routes: s.routes, defaultCustomerRoutes: s.defaultCustomerRoutes, insertSec: prepared.insertSec, startWithTableSec, rate: s.rate, seconds: s.seconds, direct, steps };
    } finally {
      await o.stop();
    }
  },
  render(r) {
    const pdd = table([...PDD_HEADER, 'added p99 ms'], [[...pddRow(r.direct), '–'], ...r.steps.map((x) => [...pddRow({ ...x.pdd, name: x.name }), fmt(x.addedP99Ms, 3)])]);
    const loop = table(
      ['step', 'event-loop metric', 'largest delay (bounds)', 'periods / observations over 20 ms', '/healthz p50 ms', '/healthz p99 ms', '/healthz max ms', '/healthz samples'],
      r.steps.map((x) => [x.name, x.probe.metric.source, `${fmt(x.probe.metric.maxLowerMs, 1)} … ${fmt(x.probe.metric.maxUpperMs, 1)} ms`, fmt(x.probe.metric.over20ms, 0), fmt(x.probe.healthz.medianMs, 2), fmt(x.probe.healthz.p99Ms, 2), fmt(x.probe.healthz.maxMs, 1), x.probe.healthz.samples]),
    );
    const writes = table(
      ['step', 'route writes', 'failed', 'PUT p50 ms', 'PUT p99 ms', 'PUT max ms', 'lock held', 'calls sent during the lock', 'their PDD p99 / max ms'],
      r.steps.filter((x) => x.writer).map((x) => [x.name, x.writer!.writes, x.writer!.failures, fmt(x.writer!.latencyMs.median, 2), fmt(x.writer!.latencyMs.p99, 2), fmt(x.writer!.latencyMs.max, 1), x.lock ? `${fmt(x.lock.heldMs, 0)} ms` : '–', x.lock ? x.lock.callsDuring : '–', x.lock ? `${fmt(x.lock.duringLockMs.p99, 1)} / ${fmt(x.lock.duringLockMs.max, 1)}` : '–']),
    );
    return [
      `${r.routes.toLocaleString('en-US')} routes (${r.defaultCustomerRoutes.toLocaleString('en-US')} the default customer's), inserted in ${fmt(r.insertSec)} s; \`outdial start\` on that table answered /healthz after ${fmt(r.startWithTableSec)} s. Each step: ${r.rate} cps × ${r.seconds} s, BYE right after the ACK.`,
      pdd,
      loop,
      writes,
    ].join('\n\n');
  },
  goals(r, ctx, why): GoalRow[] {
    const g = [
      { issue: '#14', goal: 'post-dial delay added, p99, admin writer every 10 ms on 100k routes', target: '< 5 ms' },
      { issue: '#14', goal: 'post-dial delay added, p99, another process holding the write lock 3 s', target: '< 5 ms' },
      { issue: '#14', goal: 'event-loop delay caused by the database (writer and lock steps)', target: '≤ 20 ms' },
    ];
    if (!r) return notMeasured(g, why);
    g[0]!.goal = `post-dial delay added, p99, admin writer every ${ctx.plan.stalls.writerEveryMs} ms on ${r.routes.toLocaleString('en-US')} routes`;
    g[1]!.goal = `post-dial delay added, p99, another process holding the write lock ${ctx.plan.stalls.lockSec} s`;
    const quiet = r.steps.find((x) => x.name === 'quiet')!;
    const writer = r.steps.find((x) => x.name === 'writer')!;
    const lock = r.steps.find((x) => x.name === 'writer + lock')!;
    const base = `quiet step: ${fmt(quiet.addedP99Ms, 3)} ms added`;
    const pddGoal = (x: StallStep, goal: (typeof g)[number]): GoalRow => ({
      ...goal,
      measured: `${fmt(x.addedP99Ms, 3)} ms added (p99 ${fmt(x.pdd.delayMs.p99, 3)}, max ${fmt(x.pdd.delayMs.max, 1)} ms)`,
      baseline: base,
      ratio: '–',
      verdict: x.pdd.paired < x.pdd.calls ? 'FAIL' : judge(x.addedP99Ms, '<', 5),
      ...(x.pdd.paired < x.pdd.calls ? { note: `only ${x.pdd.paired}/${x.pdd.calls} calls reached the carrier` } : x.lock ? { note: `calls sent while the lock was held: p99 ${fmt(x.lock.duringLockMs.p99, 1)} ms, max ${fmt(x.lock.duringLockMs.max, 1)} ms (${x.lock.callsDuring} calls)` } : {}),
      value: x.addedP99Ms,
      baselineValue: quiet.addedP99Ms,
    });
    const loops = [writer, lock].map((x) => ({ x, j: databaseDelayVerdict(x.probe, quiet.probe) }));
    const order: Verdict[] = ['FAIL', 'UNCLEAR', 'NOT AVAILABLE', 'NOT MEASURED', 'PASS'];
    const worst = order.find((v) => loops.some((l) => l.j.verdict === v)) ?? 'PASS';
    return [
      pddGoal(writer, g[0]!),
      pddGoal(lock, g[1]!),
      {
        ...g[2]!,
        measured: loops.map((l) => `${l.x.name}: ${judgeEventLoop(l.x.probe).text}`).join('; '),
        baseline: `quiet: ${judgeEventLoop(quiet.probe).text}`,
        ratio: '–',
        verdict: worst,
        note: `${loops.filter((l) => l.j.why).map((l) => `${l.x.name}: ${l.j.verdict}, ${l.j.why}`).join('; ')}${loops.some((l) => l.j.why) ? '; ' : ''}source ${lock.probe.metric.source}; /healthz max latency: quiet ${quiet.probe.healthz.maxMs} ms, writer ${writer.probe.healthz.maxMs} ms, writer + lock ${lock.probe.healthz.maxMs} ms`,
        value: Math.max(...loops.map((l) => l.x.probe.metric.maxUpperMs ?? NaN)),
        baselineValue: quiet.probe.metric.maxUpperMs,
      },
    ];
  },
});
