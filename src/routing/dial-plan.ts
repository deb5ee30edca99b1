import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord, type RoutingChange } from './model.ts';

/** A change that names its row (a `reload` needs a full rebuild instead). */
export type RoutingRowChange = Exclude<RoutingChange, { kind: 'reload' }>;

/**
 * The dial plan (docs/routing.md §2): number + customer → ordered candidates, computed from an
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

/** Groups one customer's live, well-formed routes by target and sorts each group. */
function customerRoutes(routes: readonly RouteRecord[]): CustomerRoutes {
  const byPrefix = new Map<string, RouteRecord[]>();
  const all: RouteRecord[] = [];
  let longestPrefix = 0;
  for (const r of routes) {
    if (r.target === ALL_TARGET) {
      all.push(r);
      continue;
    }
    const list = byPrefix.get(r.target);
    if (list === undefined) byPrefix.set(r.target, [r]);
    else list.push(r);
    if (r.target.length > longestPrefix) longestPrefix = r.target.length;
  }
  all.sort(compareRoutes);
  for (const list of byPrefix.values()) list.sort(compareRoutes);
  return { byPrefix, all, longestPrefix };
}

/** Every route a customer has in the snapshot (the inverse of customerRoutes). */
function routesOf(c: CustomerRoutes | undefined): RouteRecord[] {
  if (c === undefined) return [];
  const out = [...c.all];
  for (const list of c.byPrefix.values()) out.push(...list);
  return out;
}

function routable(r: RouteRecord): boolean {
  return isLive(r) && (r.target === ALL_TARGET || E164_PREFIX.test(r.target));
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

  const grouped = new Map<string, RouteRecord[]>();
  let routeCount = 0;
  for (const r of routes) {
    if (!routable(r) || !providerById.has(r.provider_id)) continue;
    const key = r.customer_id.toLowerCase();
    const list = grouped.get(key);
    if (list === undefined) grouped.set(key, [r]);
    else list.push(r);
    routeCount++;
  }
  const customers = new Map<string, CustomerRoutes>();
  for (const [key, list] of grouped) customers.set(key, customerRoutes(list));
  return { providers: providerById, customers, routeCount };
}

/**
 * A new snapshot with committed changes applied, without reading or re-indexing everything: a
 * route change re-indexes only its customer, a provider change copies the provider map. The old
 * snapshot is left untouched (calls in flight may still hold it). A provider is never deleted
 * while live routes use it (the store refuses), and lookups skip routes whose provider is gone.
 */
export function applyRoutingChanges(snapshot: DialPlanSnapshot, changes: ReadonlyArray<RoutingRowChange>): DialPlanSnapshot {
  let providers: Map<string, ProviderRecord> | undefined;
  const touched = new Map<string, RouteRecord[]>();
  let routeCount = snapshot.routeCount;
  for (const change of changes) {
    if (change.kind === 'provider') {
      providers ??= new Map(snapshot.providers);
      if (isLive(change.row)) providers.set(change.row.id, change.row);
      else providers.delete(change.row.id);
      continue;
    }
    const route = change.row;
    const key = route.customer_id.toLowerCase();
    let list = touched.get(key);
    if (list === undefined) {
      list = routesOf(snapshot.customers.get(key));
      touched.set(key, list);
    }
    const i = list.findIndex((r) => r.id === route.id);
    if (i >= 0) {
      list.splice(i, 1);
      routeCount--;
    }
    if (routable(route)) {
      list.push(route);
      routeCount++;
    }
  }
  let customers: ReadonlyMap<string, CustomerRoutes> = snapshot.customers;
  if (touched.size > 0) {
    const next = new Map(snapshot.customers);
    for (const [key, list] of touched) {
      if (list.length === 0) next.delete(key);
      else next.set(key, customerRoutes(list));
    }
    customers = next;
  }
  return { providers: providers ?? snapshot.providers, customers, routeCount };
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

/** An unhealthy provider, or one whose REGISTER failed, is tried after every other (docs/routing.md §2). */
export function orderedLast(provider: Pick<ProviderRecord, 'health_status' | 'registration_status'>): boolean {
  return provider.health_status === 'unhealthy' || provider.registration_status === 'failed';
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
  // Unhealthy providers, and those whose registration failed, go last, keeping their relative
  // order (a stable partition; docs/routing.md §2).
  let unhealthy: Candidate[] | undefined;
  const healthy: Candidate[] = [];
  for (const c of ordered) {
    if (orderedLast(c.provider)) (unhealthy ??= []).push(c);
    else healthy.push(c);
  }
  return unhealthy === undefined ? healthy : healthy.concat(unhealthy);
}
