/**
 * Measurement "dialplan": the dial plan at scale, in-process: 1k, 100k and 1M routes across 10k
 * customers in a real SQLite file, loaded by DialPlanCache itself (Store.readLiveInto →
 * buildDialPlanSnapshot, as `outdial start` does), then full reloads through the cache,
 * applyRoutingChanges (one route change), planAttempts and computeAttempts. Goals (issue 14, at
 * 1M routes): lookup ≤ 5 µs, one route change applied ≤ 1 ms, ≤ 200 bytes of heap per route:
 * the heap the running process holds for its dial plan between reloads (the snapshot, after a
 * full GC, the rows let go). The highest heap while a load or reload runs is reported beside it
 * (sampled while the rows stream through the build). Only after those are measured are the rows
 * read as arrays (Store.readLive) for the naive linear scan, which is timed beside the indexed
 * lookup and checked to give the same answer.
 *
 * Run as its own process with --expose-gc (runDialPlanScale spawns it) so heap deltas can be
 * measured after a full GC:
 *   node --expose-gc --max-old-space-size=8192 --import tsx bench/dial-plan-scale.ts 1000 100000
 * It prints one JSON line (DialPlanScaleResult[]) on stdout.
 */
import Database from 'better-sqlite3';
import { getHeapStatistics } from 'node:v8';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DialPlanCache } from '../src/call/dial-plan-cache.ts';
import { createLogger } from '../src/log/logger.ts';
import { applyRoutingChanges, buildDialPlanSnapshot, planAttempts, type Candidate, type DialPlanSnapshot } from '../src/routing/dial-plan.ts';
import { computeAttempts } from '../src/routing/dial-route-preview.ts';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord, type RoutingChange } from '../src/routing/model.ts';
import type { RoutingSource } from '../src/store/store-types.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { spawnTracked } from './lib/child-processes.ts';
import { judge, notMeasured, type GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { fmt, table } from './lib/report.ts';
import { COUNTRY_CODES, insertRoutes, prefixPool, prng, uuidFrom } from './lib/route-fixture.ts';
import { median } from './lib/summary-stats.ts';

export const CUSTOMERS = 10_000;
const PROVIDERS = 50;

export interface DialPlanScaleResult {
  routes: number;
  customers: number;
  providers: number;
  /** distinct route targets in use */
  distinctTargets: number;
  sqliteInsertSec: number;
  /** Store.readLive(): every live row as arrays (what the naive scan reads; once) */
  readLiveMs: number;
  /** buildDialPlanSnapshot from those arrays alone (once) */
  buildSnapshotMs: number;
  /**
   * a full reload through DialPlanCache (a `reload` change, until settled): Store.readLiveInto
   * with buildDialPlanSnapshot consuming the rows as they are read (median)
   */
  rebuildMs: number;
  rebuildRepetitions: number;
  /**
   * what DialPlanCache does for one admin route change since the incremental path: re-index the
   * changed route's customer (median over repetitions, a random customer and the default one)
   */
  applyRouteChangeMs: { randomCustomer: number; defaultCustomer: number; max: number; repetitions: number };
  /** heapUsed after full GC with the rows as Store.readLive returns them held, minus before (not what outdial holds) */
  recordsHeapMiB: number;
  /** heapUsed after full GC with DialPlanCache loaded (rows let go), minus before: what outdial holds */
  snapshotHeapMiB: number;
  /** snapshotHeapMiB per route, bytes: the goal's measure */
  heapBytesPerRoute: number;
  recordsBytesPerRoute: number;
  /**
   * the highest heapUsed (garbage not yet collected included) sampled every 4096 rows and at the
   * end of the build, minus the heap before, per route: while the first load runs (nothing held
   * yet), and while a reload runs beside the snapshot already held (the highest of the repetitions)
   */
  loadPeakBytesPerRoute: number;
  reloadPeakBytesPerRoute: number;
  lookups: {
    /** ns per planAttempts call (median over repetitions) */
    planAttemptsNs: number;
    /** ns per computeAttempts call: planAttempts + Request-URI, headers, codecs per attempt */
    computeAttemptsNs: number;
    /** lookups per repetition (planAttempts, computeAttempts), repetitions */
    perRepetition: number;
    computePerRepetition: number;
    repetitions: number;
    /** share of lookups with at least one candidate */
    hitRate: number;
    /** mean candidates per lookup */
    meanCandidates: number;
  };
  naiveScan: {
    /** ns per lookup of a linear scan over every route row (median over repetitions) */
    ns: number;
    perRepetition: number;
    repetitions: number;
    /** naive ns / planAttempts ns */
    ratio: number;
    /** the naive scan gave the same ordered candidates as planAttempts on every checked lookup */
    agrees: boolean;
    checked: number;
  };
}

interface Fixture {
  customers: string[];
  pool: string[];
  distinctTargets: number;
}

/**
 * The providers through the store, then the routes straight into its file on a connection of
 * our own (lib/route-fixture.ts; the store's interface has no bulk load, and needs none).
 */
async function populate(store: Store, file: string, routeCount: number, rand: () => number): Promise<Fixture> {
  const providerIds: string[] = [];
  for (let i = 0; i < PROVIDERS; i++) {
    const p = await store.providers.create({
      type: 'sip',
      hostname: `carrier${i}.example.net:5060`,
      tech_prefix: i % 3 === 0 ? '00' : '',
      tech_postfix: '',
      tech_headers: i % 2 === 0 ? { 'X-Account': `acct-${i}` } : {},
      name: `carrier ${i}`,
      detail: '',
      codecs: i % 4 === 0 ? 'PCMA,PCMU' : '',
    });
    providerIds.push(p.id);
  }
  const customers = Array.from({ length: CUSTOMERS }, () => uuidFrom(rand));
  const pool = prefixPool(rand);
  // The default customer's plan: a catch-all and every country code (what a platform relies on).
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 10000');
    const table = insertRoutes(db, {
      count: routeCount,
      defaultCustomerRoutes: 1 + COUNTRY_CODES.length,
      defaultCatchAll: true,
      customers,
      providerIds,
      pool,
      rand,
    });
    return { customers, pool, distinctTargets: table.distinctTargets };
  } finally {
    db.close();
  }
}

/** Destination numbers: a prefix from the pool filled to 11..13 digits; 1 in 10 matches none. */
function lookupNumbers(count: number, pool: readonly string[], rand: () => number): string[] {
  return Array.from({ length: count }, () => {
    let n = rand() < 0.1 ? '+999' : pool[Math.floor(rand() * pool.length)]!;
    const digits = 11 + Math.floor(rand() * 3);
    while (n.length - 1 < digits) n += String(Math.floor(rand() * 10));
    return n;
  });
}

/**
 * The naive plan: scan every row, keep live routes of the customer or the default customer whose
 * target is `all` or a prefix of the number, sort (customer before default, longest prefix
 * first, `all` last, then priority, age, id), first route per provider, unhealthy providers last.
 */
function naivePlan(routes: readonly RouteRecord[], providers: ReadonlyMap<string, ProviderRecord>, number: string, customerId: string): Candidate[] {
  const customer = customerId.toLowerCase();
  const matches: Array<{ route: RouteRecord; rank: number; len: number }> = [];
  for (const route of routes) {
    if (route.tm_delete !== LIVE_SENTINEL) continue;
    const owner = route.customer_id.toLowerCase();
    const rank = owner === customer ? 0 : owner === DEFAULT_CUSTOMER_ID ? 1 : -1;
    if (rank < 0) continue;
    const isAll = route.target === 'all';
    if (!isAll && !(/^\+[0-9]{1,15}$/.test(route.target) && number.startsWith(route.target))) continue;
    if (!providers.has(route.provider_id)) continue;
    matches.push({ route, rank, len: isAll ? 0 : route.target.length });
  }
  matches.sort(
    (a, b) =>
      a.rank - b.rank ||
      b.len - a.len ||
      a.route.priority - b.route.priority ||
      (a.route.tm_create < b.route.tm_create ? -1 : a.route.tm_create > b.route.tm_create ? 1 : 0) ||
      (a.route.id < b.route.id ? -1 : a.route.id > b.route.id ? 1 : 0),
  );
  const seen = new Set<string>();
  const healthy: Candidate[] = [];
  const unhealthy: Candidate[] = [];
  for (const { route } of matches) {
    if (seen.has(route.provider_id)) continue;
    seen.add(route.provider_id);
    const provider = providers.get(route.provider_id)!;
    (provider.health_status === 'unhealthy' ? unhealthy : healthy).push({ route, provider });
  }
  return healthy.concat(unhealthy);
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function heapNow(): number {
  return getHeapStatistics().used_heap_size;
}

/**
 * The store as DialPlanCache reads it, with the heap sampled while a full read runs: every 4096
 * rows as they pass to the build, and once the build is done (the rows of a store that hands an
 * array are still held then). `reload()` announces what another process's commit announces.
 */
function sampledSource(store: Store) {
  let peak = 0;
  const listeners = new Set<(change: RoutingChange) => void>();
  const sample = () => {
    const h = heapNow();
    if (h > peak) peak = h;
  };
  const source: RoutingSource = {
    readLive: () => store.readLive(),
    readLiveInto: (consume) =>
      store.readLiveInto((providers, routes) => {
        const result = consume(providers, {
          *[Symbol.iterator]() {
            let n = 0;
            for (const r of routes) {
              if ((++n & 4095) === 0) sample();
              yield r;
            }
            sample();
          },
        });
        sample();
        return result;
      }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    source,
    reload: () => {
      for (const l of listeners) l({ kind: 'reload' });
    },
    /** the highest heap sampled since the last call */
    takePeak(): number {
      const p = peak;
      peak = 0;
      return p;
    },
  };
}

function timeNs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

/** A sink the optimiser cannot see through, so lookups are not dead code. */
let sink = 0;

async function timeNsAsync(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t);
}

// `await` on the store's calls: they are synchronous today and may become asynchronous.
async function measureScale(routeCount: number): Promise<DialPlanScaleResult> {
  const rand = prng(0x5eed + routeCount);
  const dir = mkdtempSync(path.join(tmpdir(), 'outdial-bench-dialplan-'));
  const file = path.join(dir, 'routes.db');
  const store = await openStore({ path: file, logger: createLogger('silent') });
  try {
    const insertStart = process.hrtime.bigint();
    const fixture = await populate(store, file, routeCount, rand);
    const sqliteInsertSec = Number(process.hrtime.bigint() - insertStart) / 1e9;

    // What `outdial start` holds: DialPlanCache loads the plan the way the process does, the rows
    // streamed through the build and let go; after a full GC, the heap on top of the start.
    const heap0 = heapAfterGc();
    const sampled = sampledSource(store);
    const cache = await DialPlanCache.load(sampled.source, createLogger('silent'));
    const loadPeak = sampled.takePeak();
    const heapHeld = heapAfterGc();

    // Full reloads through the cache (what a `reload` change costs), beside the snapshot it holds.
    const reps = routeCount >= 1_000_000 ? 3 : 5;
    const totalMs: number[] = [];
    let reloadPeak = 0;
    for (let i = 0; i < reps; i++) {
      heapAfterGc();
      sampled.takePeak();
      totalMs.push(
        (await timeNsAsync(async () => {
          sampled.reload();
          await cache.settled();
        })) / 1e6,
      );
      reloadPeak = Math.max(reloadPeak, sampled.takePeak());
    }
    const snapshot: DialPlanSnapshot = cache.current();
    cache.close();

    // Lookups on the snapshot alone: the rows are not read yet.
    const perRep = 100_000;
    const computePerRep = 20_000;
    const lookupReps = 5;
    const numbers = lookupNumbers(perRep, fixture.pool, rand);
    const customers = numbers.map(() => fixture.customers[Math.floor(rand() * CUSTOMERS)]!);
    let hits = 0;
    let candidates = 0;
    for (let i = 0; i < perRep; i++) {
      const n = planAttempts(snapshot, numbers[i]!, customers[i]!).length;
      candidates += n;
      if (n > 0) hits++;
    }
    const planNs: number[] = [];
    const computeNs: number[] = [];
    for (let rep = 0; rep < lookupReps; rep++) {
      planNs.push(timeNs(() => {
        for (let i = 0; i < perRep; i++) sink += planAttempts(snapshot, numbers[i]!, customers[i]!).length;
      }) / perRep);
      computeNs.push(timeNs(() => {
        for (let i = 0; i < computePerRep; i++) sink += computeAttempts(snapshot, numbers[i]!, customers[i]!).length;
      }) / computePerRep);
    }

    // Now the rows as arrays, for the naive scan and as templates of route changes (the heap
    // figures above are taken): what they weigh, and readLive and a build from them timed once.
    const heapRows0 = heapAfterGc();
    let live!: Awaited<ReturnType<Store['readLive']>>;
    const readLiveMs = (await timeNsAsync(async () => void (live = await store.readLive()))) / 1e6;
    const heapRows1 = heapAfterGc();
    const buildSnapshotMs = timeNs(() => (sink += buildDialPlanSnapshot(live.providers, live.routes).routeCount)) / 1e6;

    // One admin change, the way DialPlanCache now follows it: a new route re-indexes its customer.
    const changeReps = 20;
    const allChangeMs: number[] = [];
    const applyMs = (customerId: string) => {
      const times: number[] = [];
      for (let i = 0; i < changeReps; i++) {
        const template = live.routes[Math.floor(rand() * live.routes.length)]!;
        const row = { ...template, id: `bench-change-${i}`, customer_id: customerId };
        times.push(timeNs(() => (sink += applyRoutingChanges(snapshot, [{ kind: 'route', row }]).routeCount)) / 1e6);
      }
      allChangeMs.push(...times);
      return Math.round(median(times) * 1000) / 1000;
    };
    const applyRouteChangeMs = {
      randomCustomer: applyMs(fixture.customers[Math.floor(rand() * CUSTOMERS)]!),
      defaultCustomer: applyMs(DEFAULT_CUSTOMER_ID),
      max: Math.round(Math.max(...allChangeMs) * 1000) / 1000,
      repetitions: changeReps,
    };

    // The naive scan: fewer lookups as the table grows (each one reads every row).
    const naivePerRep = Math.max(5, Math.min(5_000, Math.round(5e6 / routeCount)));
    const naiveReps = 3;
    const naiveNs: number[] = [];
    for (let rep = 0; rep < naiveReps; rep++) {
      naiveNs.push(timeNs(() => {
        for (let i = 0; i < naivePerRep; i++) sink += naivePlan(live.routes, snapshot.providers, numbers[i]!, customers[i]!).length;
      }) / naivePerRep);
    }
    let agrees = true;
    const checked = Math.min(naivePerRep, 1000);
    for (let i = 0; i < checked; i++) {
      const a = planAttempts(snapshot, numbers[i]!, customers[i]!).map((c) => c.route.id).join();
      const b = naivePlan(live.routes, snapshot.providers, numbers[i]!, customers[i]!).map((c) => c.route.id).join();
      if (a !== b) agrees = false;
    }
    const planMedian = median(planNs);
    const naiveMedian = median(naiveNs);
    const r1 = (n: number) => Math.round(n * 10) / 10;
    return {
      routes: routeCount,
      customers: CUSTOMERS,
      providers: PROVIDERS,
      distinctTargets: fixture.distinctTargets,
      sqliteInsertSec: r1(sqliteInsertSec),
      readLiveMs: r1(readLiveMs),
      buildSnapshotMs: r1(buildSnapshotMs),
      rebuildMs: r1(median(totalMs)),
      rebuildRepetitions: reps,
      applyRouteChangeMs,
      recordsHeapMiB: r1((heapRows1 - heapRows0) / 2 ** 20),
      snapshotHeapMiB: r1((heapHeld - heap0) / 2 ** 20),
      heapBytesPerRoute: Math.round((heapHeld - heap0) / routeCount),
      recordsBytesPerRoute: Math.round((heapRows1 - heapRows0) / routeCount),
      loadPeakBytesPerRoute: Math.round((loadPeak - heap0) / routeCount),
      reloadPeakBytesPerRoute: Math.round((reloadPeak - heap0) / routeCount),
      lookups: { planAttemptsNs: Math.round(planMedian), computeAttemptsNs: Math.round(median(computeNs)), perRepetition: perRep, computePerRepetition: computePerRep, repetitions: lookupReps, hitRate: Math.round((hits / perRep) * 1000) / 1000, meanCandidates: r1(candidates / perRep) },
      naiveScan: { ns: Math.round(naiveMedian), perRepetition: naivePerRep, repetitions: naiveReps, ratio: Math.round(naiveMedian / planMedian), agrees, checked },
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const SELF = fileURLToPath(import.meta.url);

/** Spawns this file in a child node with --expose-gc and returns its results. */
export async function runDialPlanScale(routeCounts: readonly number[], timeoutMs = 900_000): Promise<DialPlanScaleResult[]> {
  const child = spawnTracked(
    'dial-plan-scale',
    process.execPath,
    ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', SELF, ...routeCounts.map(String)],
    { cwd: path.resolve(path.dirname(SELF), '..') },
  );
  let stdout = '';
  child.process.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = setTimeout(() => void child.stop(1000), timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (exit.code !== 0 || !line.startsWith('[')) {
    throw new Error(`dial-plan-scale exited ${exit.code ?? exit.signal}:\n${child.outputTail()}`);
  }
  return JSON.parse(line) as DialPlanScaleResult[];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const counts = process.argv.slice(2).map(Number);
  const results: DialPlanScaleResult[] = [];
  for (const n of counts.length > 0 ? counts : [1_000, 100_000, 1_000_000]) {
    process.stderr.write(`dial-plan-scale: ${n} routes\n`);
    results.push(await measureScale(n));
  }
  if (sink === -1) process.stderr.write('');
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

const GOALS = [
  { issue: '#14', goal: 'dial plan lookup at 1M routes (planAttempts)', target: '≤ 5 µs' },
  { issue: '#14', goal: 'one route change applied at 1M routes (median, a customer\'s and the default\'s)', target: '≤ 1 ms' },
  { issue: '#14', goal: 'heap per route at 1M routes (the dial plan outdial holds between reloads)', target: '≤ 200 B' },
];

export const dialPlanMeasurement = measurement<DialPlanScaleResult[]>({
  name: 'dialplan',
  title: 'Dial plan at scale (in-process, 10k customers, 50 providers)',
  byDefault: true,
  async run(ctx) {
    return runDialPlanScale(ctx.plan.dialPlanRoutes);
  },
  render(r) {
    return table(
      ['routes', 'targets', 'readLive ms', 'build ms', 'reload ms', 'one route change ms (customer / default / max)', 'rows heap', 'held heap', 'held B / route', 'load / reload peak B / route', 'planAttempts ns', 'computeAttempts ns', 'naive scan ns', 'naive / indexed', 'same answer'],
      r.map((d) => [
        d.routes.toLocaleString('en-US'),
        d.distinctTargets,
        fmt(d.readLiveMs),
        fmt(d.buildSnapshotMs),
        fmt(d.rebuildMs),
        `${fmt(d.applyRouteChangeMs.randomCustomer, 3)} / ${fmt(d.applyRouteChangeMs.defaultCustomer, 3)} / ${fmt(d.applyRouteChangeMs.max, 3)}`,
        `${fmt(d.recordsHeapMiB)} MiB`,
        `${fmt(d.snapshotHeapMiB)} MiB`,
        fmt(d.heapBytesPerRoute, 0),
        `${fmt(d.loadPeakBytesPerRoute, 0)} / ${fmt(d.reloadPeakBytesPerRoute, 0)}`,
        fmt(d.lookups.planAttemptsNs, 0),
        fmt(d.lookups.computeAttemptsNs, 0),
        fmt(d.naiveScan.ns, 0),
        `${fmt(d.naiveScan.ratio, 0)}×`,
        d.naiveScan.agrees ? `yes (${d.naiveScan.checked})` : 'NO',
      ]),
    ) +
      '\n\nreload = a full reload through DialPlanCache (Store.readLiveInto, the rows streamed into buildDialPlanSnapshot), as `outdial start` does it; readLive / build = the rows read as arrays and a build from them (the naive scan\'s rows). ' +
      'held = heapUsed after full GC with DialPlanCache loaded and the rows let go, minus before the load (what a running outdial keeps between reloads); rows heap = the arrays Store.readLive returns, measured after the held figure, for the naive scan. ' +
      'load / reload peak = the highest heapUsed (uncollected garbage included) sampled every 4096 rows and after the build, minus before the load, per route: the first load, and a reload beside the snapshot already held.';
  },
  goals(r, _ctx, why): GoalRow[] {
    const big = r?.find((d) => d.routes === 1_000_000);
    if (!r || !big) return notMeasured(GOALS, r ? `1M routes not in this run (largest ${Math.max(...r.map((d) => d.routes)).toLocaleString('en-US')}; --dialplan-max / --quick)` : why);
    const small = [...r].sort((a, b) => a.routes - b.routes)[0]!;
    const lookupUs = big.lookups.planAttemptsNs / 1000;
    // the typical change: the slowest of the two customers' medians (the tail is GC pauses, shown beside)
    const change = Math.max(big.applyRouteChangeMs.randomCustomer, big.applyRouteChangeMs.defaultCustomer);
    return [
      { ...GOALS[0]!, measured: `${fmt(lookupUs, 2)} µs`, baseline: `${fmt(small.lookups.planAttemptsNs / 1000, 2)} µs at ${small.routes.toLocaleString('en-US')} routes; naive scan ${fmt(big.naiveScan.ns / 1e6, 1)} ms`, ratio: `${fmt(big.lookups.planAttemptsNs / small.lookups.planAttemptsNs, 1)}× the small table`, verdict: judge(lookupUs, '<=', 5), value: lookupUs, baselineValue: small.lookups.planAttemptsNs / 1000 },
      { ...GOALS[1]!, measured: `${fmt(change, 3)} ms (median; slowest of ${2 * big.applyRouteChangeMs.repetitions} ${fmt(big.applyRouteChangeMs.max, 1)} ms)`, baseline: `full rebuild ${fmt(big.rebuildMs, 0)} ms`, ratio: `${fmt(big.rebuildMs / change, 0)}× faster than a rebuild`, verdict: judge(change, '<=', 1), value: change, baselineValue: big.rebuildMs },
      {
        ...GOALS[2]!,
        measured: `${fmt(big.heapBytesPerRoute, 0)} B held`,
        baseline: `peak while a full reload runs ${fmt(big.reloadPeakBytesPerRoute, 0)} B (first load ${fmt(big.loadPeakBytesPerRoute, 0)} B); readLive's rows as arrays ${fmt(big.recordsBytesPerRoute, 0)} B`,
        ratio: '–',
        verdict: judge(big.heapBytesPerRoute, '<=', 200),
        value: big.heapBytesPerRoute,
        baselineValue: big.reloadPeakBytesPerRoute,
        note: 'held = the snapshot after a full GC, the rows let go; the reload peak is transient (the old snapshot and the one being built, plus garbage not yet collected)',
      },
    ];
  },
});
