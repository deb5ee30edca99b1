/**
 * Large route tables for the dial-plan and database-stall measurements, the same every run
 * (seeded PRNG): real country codes extended to the longer prefixes carriers price (area codes,
 * mobile ranges), spread over many customers, with the default customer's own rate deck.
 * Rows go straight into the SQLite file with one prepared INSERT in one transaction (through the
 * admin API, 100k routes would take minutes); the schema is outdial's own (its migrations ran
 * when outdial or the store opened the file first).
 */
import type Database from 'better-sqlite3';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL } from '../../src/routing/model.ts';
import { formatMicros } from '../../src/store/clock.ts';

/** Deterministic PRNG (mulberry32) so every run measures the same tables and numbers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuidFrom(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

/** Real country codes (ITU-T E.164 assignments, a selection across every zone). */
export const COUNTRY_CODES = [
  '1', '7', '20', '27', '30', '31', '32', '33', '34', '36', '39', '40', '41', '43', '44', '45', '46', '47', '48', '49',
  '51', '52', '53', '54', '55', '56', '57', '58', '60', '61', '62', '63', '64', '65', '66', '81', '82', '84', '86', '90',
  '91', '92', '93', '94', '95', '98', '212', '213', '216', '218', '220', '221', '233', '234', '254', '255', '256', '260',
  '351', '352', '353', '354', '356', '357', '358', '359', '370', '371', '372', '380', '381', '385', '386', '420', '421',
  '852', '853', '855', '880', '886', '960', '961', '962', '963', '964', '965', '966', '971', '972', '973', '974', '977',
];

/** Each country code and 40 longer prefixes under it (1..3 more digits). */
export function prefixPool(rand: () => number, countryCodes: readonly string[] = COUNTRY_CODES): string[] {
  const pool = new Set<string>();
  for (const cc of countryCodes) {
    pool.add(`+${cc}`);
    for (let i = 0; i < 40; i++) {
      const extra = 1 + Math.floor(rand() * 3);
      let p = `+${cc}`;
      for (let d = 0; d < extra; d++) p += String(d === 0 ? 1 + Math.floor(rand() * 9) : Math.floor(rand() * 10));
      pool.add(p);
    }
  }
  return [...pool];
}

export interface RouteTableSpec {
  /** routes to insert in all */
  count: number;
  /** of which for the default customer (its rate deck); the rest spread over `customers` */
  defaultCustomerRoutes: number;
  customers: readonly string[];
  providerIds: readonly string[];
  /** route targets to draw from */
  pool: readonly string[];
  /** also give the default customer a catch-all `all` route and every country code */
  defaultCatchAll: boolean;
  rand: () => number;
  /** the first row's tm_create (µs since the epoch); rows get consecutive microseconds */
  firstMicros?: number;
}

export interface RouteTable {
  /** ids of the default customer's routes and of the others, in insertion order */
  defaultRouteIds: string[];
  customerRouteIds: string[];
  distinctTargets: number;
  insertSec: number;
}

/** Inserts the routes of `spec` in one transaction (bulk-load pragmas only for its duration). */
export function insertRoutes(db: Database.Database, spec: RouteTableSpec): RouteTable {
  const t0 = process.hrtime.bigint();
  const insert = db.prepare(
    `INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const cacheBefore = db.pragma('cache_size', { simple: true }) as number;
  const syncBefore = db.pragma('synchronous', { simple: true }) as number;
  // A large page cache keeps the route indexes in memory while inserting.
  db.pragma('cache_size = -1000000');
  db.pragma('synchronous = OFF');
  const targets = new Set<string>();
  const defaultRouteIds: string[] = [];
  const customerRouteIds: string[] = [];
  let micros = spec.firstMicros ?? Date.parse('2026-01-01T00:00:00Z') * 1000;
  const providers = spec.providerIds;
  const add = (customer: string, name: string, target: string, provider: string, priority: number) => {
    const id = uuidFrom(spec.rand);
    const t = formatMicros(micros++);
    insert.run(id, customer, name, 'generated', provider, priority, target, t, t, LIVE_SENTINEL);
    targets.add(target);
    (customer === DEFAULT_CUSTOMER_ID ? defaultRouteIds : customerRouteIds).push(id);
  };
  try {
    db.transaction(() => {
      let n = 0;
      if (spec.defaultCatchAll) {
        for (const [i, target] of ['all', ...COUNTRY_CODES.map((cc) => `+${cc}`)].entries()) {
          add(DEFAULT_CUSTOMER_ID, `default ${target}`, target, providers[i % providers.length]!, 1 + (i % 3));
          n++;
        }
      }
      for (; n < spec.defaultCustomerRoutes; n++) {
        const target = spec.pool[Math.floor(spec.rand() * spec.pool.length)]!;
        add(DEFAULT_CUSTOMER_ID, `deck ${n}`, target, providers[Math.floor(spec.rand() * providers.length)]!, 1 + Math.floor(spec.rand() * 5));
      }
      for (let r = 0; n < spec.count; n++, r++) {
        const customer = spec.customers[r % spec.customers.length]!;
        const target = spec.pool[Math.floor(spec.rand() * spec.pool.length)]!;
        add(customer, `route ${r}`, target, providers[Math.floor(spec.rand() * providers.length)]!, 1 + Math.floor(spec.rand() * 5));
      }
    })();
  } finally {
    db.pragma(`cache_size = ${cacheBefore}`);
    db.pragma(`synchronous = ${syncBefore}`);
  }
  return { defaultRouteIds, customerRouteIds, distinctTargets: targets.size, insertSec: Number(process.hrtime.bigint() - t0) / 1e9 };
}
