/**
 * The dial plan at scale, in-process: 1k, 100k and 1M routes across 10k customers, loaded from a
 * real SQLite file through Store.readLive() exactly as DialPlanCache does it, then
 * buildDialPlanSnapshot, planAttempts and computeAttempts. A naive linear scan over the same
 * route rows is timed beside the indexed lookup (and checked to give the same answer).
 *
 * Run as its own process with --expose-gc (runDialPlanScale spawns it) so heap deltas can be
 * measured after a full GC:
 *   node --expose-gc --max-old-space-size=8192 --import tsx bench/dial-plan-scale.ts 1000 100000
 * It prints one JSON line (DialPlanScaleResult[]) on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../src/log/logger.ts';
import { applyRoutingChanges, buildDialPlanSnapshot, planAttempts, type Candidate, type DialPlanSnapshot } from '../src/routing/dial-plan.ts';
import { computeAttempts } from '../src/routing/dial-route-preview.ts';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord } from '../src/routing/model.ts';
import { formatMicros } from '../src/store/clock.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { spawnTracked } from './child-processes.ts';
import { median } from './summary-stats.ts';

export const CUSTOMERS = 10_000;
const PROVIDERS = 50;

export interface DialPlanScaleResult {
  routes: number;
  customers: number;
  providers: number;
  /** distinct route targets in use */
  distinctTargets: number;
  sqliteInsertSec: number;
  /** Store.readLive(): the SQLite read DialPlanCache does on every admin change (median) */
  readLiveMs: number;
  /** buildDialPlanSnapshot alone (median) */
  buildSnapshotMs: number;
  /** what DialPlanCache.build costs: readLive + buildDialPlanSnapshot (median of the sums) */
  rebuildMs: number;
  rebuildRepetitions: number;
  /**
   * what DialPlanCache does for one admin route change since the incremental path: re-index the
   * changed route's customer (median over repetitions, a random customer and the default one)
   */
  applyRouteChangeMs: { randomCustomer: number; defaultCustomer: number; repetitions: number };
  /** heapUsed after full GC: the route/provider records as readLive returns them */
  recordsHeapMiB: number;
  /** heapUsed after full GC: the snapshot's own indexes on top of the records */
  snapshotIndexHeapMiB: number;
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

/** Deterministic PRNG (mulberry32) so every run measures the same tables and numbers. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

/**
 * Real country codes (ITU-T E.164 assignments, a selection across every zone), each extended to
 * longer prefixes the way carriers price them: area codes, mobile ranges, city codes.
 */
const COUNTRY_CODES = [
  '1', '7', '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90',
  '91', '92', '93', '94', '95', '98', '212', '213', '216', '218', '220', '221', '233', '234', '254', '255', '256', '260',
  '351', '352', '353', '354', '356', '357', '358', '359', '370', '371', '372', '380', '381', '385', '386', '420', '421',
  '852', '853', '855', '880', '886', '960', '961', '962', '963', '964', '965', '966', '971', '972', '973', '974', '977',
];

function prefixPool(rand: () => number): string[] {
  const pool = new Set<string>();
  for (const cc of COUNTRY_CODES) {
    pool.add(`+${cc}`);
    // 1..3 more digits (NANP area codes, city codes, mobile ranges): 40 per country code.
    for (let i = 0; i < 40; i++) {
      const extra = 1 + Math.floor(rand() * 3);
      let p = `+${cc}`;
      for (let d = 0; d < extra; d++) p += String(d === 0 ? 1 + Math.floor(rand() * 9) : Math.floor(rand() * 10));
      pool.add(p);
    }
  }
  return [...pool];
}

interface Fixture {
  customers: string[];
  pool: string[];
}

/** Inserts the providers and `routeCount` routes into a fresh store; returns what lookups need. */
async function populate(store: SqliteStore, routeCount: number, rand: () => number): Promise<Fixture & { distinctTargets: number }> {
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
  const insert = store.db.prepare(
    `INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Bulk load only: a large page cache keeps the five route indexes in memory while inserting.
  store.db.pragma('cache_size = -1000000');
  store.db.pragma('synchronous = OFF');
  const targets = new Set<string>();
  let micros = Date.parse('2026-01-01T00:00:00Z') * 1000;
  store.db.transaction(() => {
    // The default customer's plan: a catch-all and every country code (what a platform relies on).
    const defaults = ['all', ...COUNTRY_CODES.map((cc) => `+${cc}`)];
    for (const [i, target] of defaults.entries()) {
      const t = formatMicros(micros++);
      insert.run(uuidFrom(rand), DEFAULT_CUSTOMER_ID, `default ${target}`, '', providerIds[i % PROVIDERS], 1 + (i % 3), target, t, t, LIVE_SENTINEL);
      targets.add(target);
    }
    for (let r = defaults.length; r < routeCount; r++) {
      const customer = customers[r % CUSTOMERS]!;
      const target = pool[Math.floor(rand() * pool.length)]!;
      const t = formatMicros(micros++);
      const provider = providerIds[Math.floor(rand() * PROVIDERS)]!;
      insert.run(uuidFrom(rand), customer, `route ${r}`, 'generated', provider, 1 + Math.floor(rand() * 5), target, t, t, LIVE_SENTINEL);
      targets.add(target);
    }
  })();
  return { customers, pool, distinctTargets: targets.size };
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

function timeNs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

async function timeNsAsync(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t);
}

/** A sink the optimiser cannot see through, so lookups are not dead code. */
let sink = 0;

async function measureScale(routeCount: number): Promise<DialPlanScaleResult> {
  const rand = prng(0x5eed + routeCount);
  const dir = mkdtempSync(path.join(tmpdir(), 'outdial-bench-dialplan-'));
  const store = openSqliteStore({ path: path.join(dir, 'routes.db'), logger: createLogger('silent') });
  try {
    const insertStart = process.hrtime.bigint();
    const fixture = await populate(store, routeCount, rand);
    const sqliteInsertSec = Number(process.hrtime.bigint() - insertStart) / 1e9;

    const heap0 = heapAfterGc();
    let live = await store.readLive();
    const heap1 = heapAfterGc();
    let snapshot: DialPlanSnapshot = buildDialPlanSnapshot(live.providers, live.routes);
    const heap2 = heapAfterGc();

    const reps = routeCount >= 1_000_000 ? 3 : 5;
    const readMs: number[] = [];
    const buildMs: number[] = [];
    const totalMs: number[] = [];
    for (let i = 0; i < reps; i++) {
      let fresh!: Awaited<ReturnType<SqliteStore['readLive']>>;
      const r = (await timeNsAsync(async () => void (fresh = await store.readLive()))) / 1e6;
      let snap!: DialPlanSnapshot;
      const b = timeNs(() => (snap = buildDialPlanSnapshot(fresh.providers, fresh.routes))) / 1e6;
      readMs.push(r);
      buildMs.push(b);
      totalMs.push(r + b);
      live = fresh;
      snapshot = snap;
    }

    // One admin change, the way DialPlanCache now follows it: a new route re-indexes its customer.
    const changeReps = 20;
    const applyMs = (customerId: string) => {
      const times: number[] = [];
      for (let i = 0; i < changeReps; i++) {
        const template = live.routes[Math.floor(rand() * live.routes.length)]!;
        const row = { ...template, id: `bench-change-${i}`, customer_id: customerId };
        times.push(timeNs(() => (sink += applyRoutingChanges(snapshot, [{ kind: 'route', row }]).routeCount)) / 1e6);
      }
      return Math.round(median(times) * 1000) / 1000;
    };
    const applyRouteChangeMs = {
      randomCustomer: applyMs(fixture.customers[Math.floor(rand() * CUSTOMERS)]!),
      defaultCustomer: applyMs(DEFAULT_CUSTOMER_ID),
      repetitions: changeReps,
    };

    // Lookups: the same numbers and customers for every repetition.
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
      readLiveMs: r1(median(readMs)),
      buildSnapshotMs: r1(median(buildMs)),
      rebuildMs: r1(median(totalMs)),
      rebuildRepetitions: reps,
      applyRouteChangeMs,
      recordsHeapMiB: r1((heap1 - heap0) / 2 ** 20),
      snapshotIndexHeapMiB: r1((heap2 - heap1) / 2 ** 20),
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
export async function runDialPlanScale(routeCounts: readonly number[], timeoutMs = 240_000): Promise<DialPlanScaleResult[]> {
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
