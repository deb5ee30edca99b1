import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord } from './model.ts';

/**
 * The dial plan (call-routing spec §2): number + customer → ordered candidates, computed from an
 * immutable in-memory snapshot. The snapshot is rebuilt from the store after every admin change;
 * a call never queries the database.
 *
 * Lookup cost is independent of the number of routes: per customer, routes are grouped in a
 * Map keyed by target, so a call probes at most 15 prefixes of its number (`+` and 1..15 digits,
 * longest first) plus `all`, for the customer and then for the default customer.
 */

export interface Candidate {
  readonly route: RouteRecord;
  readonly provider: ProviderRecord;
}

interface CustomerRoutes {
  /** target (`+` digits) → live routes, priority ascending then oldest first. */
  readonly byPrefix: ReadonlyMap<string, readonly RouteRecord[]>;
  /** the `all` routes, same order. */
  readonly all: readonly RouteRecord[];
  /** longest target length present, so probes that cannot match are not made. */
  readonly longestPrefix: number;
}

export interface DialPlanSnapshot {
  /** live providers by id. */
  readonly providers: ReadonlyMap<string, ProviderRecord>;
  /** customer id (lower case) → that customer's live routes to live providers. */
  readonly customers: ReadonlyMap<string, CustomerRoutes>;
  readonly routeCount: number;
}

const ALL_TARGET = 'all';
const E164_PREFIX = /^\+[0-9]{1,15}$/;

function isLive(row: { tm_delete: string }): boolean {
  return row.tm_delete === LIVE_SENTINEL;
}

/** priority ascending, then oldest first; id last so equal rows always sort the same way. */
function compareRoutes(a: RouteRecord, b: RouteRecord): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  // tm_create is fixed-width ISO-8601 UTC, so string order is time order.
  if (a.tm_create !== b.tm_create) return a.tm_create < b.tm_create ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

interface MutableCustomer {
  byPrefix: Map<string, RouteRecord[]>;
  all: RouteRecord[];
  longestPrefix: number;
}

/**
 * Precomputes the indexes. Deleted rows, routes to a deleted or unknown provider, and routes whose
 * target is neither `all` nor an E.164 prefix are left out.
 */
export function buildDialPlanSnapshot(
  providers: readonly ProviderRecord[],
  routes: readonly RouteRecord[],
): DialPlanSnapshot {
  const providerById = new Map<string, ProviderRecord>();
  for (const p of providers) if (isLive(p)) providerById.set(p.id, p);

  const customers = new Map<string, MutableCustomer>();
  let routeCount = 0;
  for (const r of routes) {
    if (!isLive(r) || !providerById.has(r.provider_id)) continue;
    const isAll = r.target === ALL_TARGET;
    if (!isAll && !E164_PREFIX.test(r.target)) continue;
    const key = r.customer_id.toLowerCase();
    let c = customers.get(key);
    if (c === undefined) {
      c = { byPrefix: new Map(), all: [], longestPrefix: 0 };
      customers.set(key, c);
    }
    if (isAll) {
      c.all.push(r);
    } else {
      const list = c.byPrefix.get(r.target);
      if (list === undefined) c.byPrefix.set(r.target, [r]);
      else list.push(r);
      if (r.target.length > c.longestPrefix) c.longestPrefix = r.target.length;
    }
    routeCount++;
  }
  for (const c of customers.values()) {
    c.all.sort(compareRoutes);
    for (const list of c.byPrefix.values()) list.sort(compareRoutes);
  }
  return { providers: providerById, customers, routeCount };
}

/** Appends one customer's candidates: longest matching prefix first, then `all`. */
function collect(
  snapshot: DialPlanSnapshot,
  customer: CustomerRoutes | undefined,
  number: string,
  seen: Set<string>,
  out: Candidate[],
): void {
  if (customer === undefined) return;
  const add = (list: readonly RouteRecord[]): void => {
    for (const route of list) {
      if (seen.has(route.provider_id)) continue;
      const provider = snapshot.providers.get(route.provider_id);
      if (provider === undefined) continue;
      seen.add(route.provider_id);
      out.push({ route, provider });
    }
  };
  for (let len = Math.min(number.length, customer.longestPrefix); len >= 2; len--) {
    const list = customer.byPrefix.get(number.slice(0, len));
    if (list !== undefined) add(list);
  }
  add(customer.all);
}

/**
 * The ordered candidates for a normalized number (`+` and digits) and a customer id (lower case,
 * as parseCustomerHeader returns it). Empty → the caller answers 404 (no route).
 */
export function planAttempts(snapshot: DialPlanSnapshot, number: string, customerId: string): Candidate[] {
  const seen = new Set<string>();
  const ordered: Candidate[] = [];
  const customerKey = customerId.toLowerCase();
  collect(snapshot, snapshot.customers.get(customerKey), number, seen, ordered);
  if (customerKey !== DEFAULT_CUSTOMER_ID) {
    collect(snapshot, snapshot.customers.get(DEFAULT_CUSTOMER_ID), number, seen, ordered);
  }
  // Unhealthy providers go last, keeping their relative order (a stable partition).
  let unhealthy: Candidate[] | undefined;
  const healthy: Candidate[] = [];
  for (const c of ordered) {
    if (c.provider.health_status === 'unhealthy') (unhealthy ??= []).push(c);
    else healthy.push(c);
  }
  return unhealthy === undefined ? healthy : healthy.concat(unhealthy);
}
