import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type ProviderRecord, type RouteRecord, type RoutingChange } from './model.ts';
import { ChunkedMap } from './chunked-map.ts';
import { MAX_TARGET_LENGTH, prefixKeysOf } from './prefix-key.ts';
import { RouteColumns, type RouteRef } from './route-columns.ts';

export type { RouteRef } from './route-columns.ts';

/** A change that names its row (a `reload` needs a full rebuild instead). */
export type RoutingRowChange = Exclude<RoutingChange, { kind: 'reload' }>;

/**
 * The dial plan (docs/routing.md §2): number + customer → ordered candidates, computed from an
 * immutable in-memory snapshot. The snapshot is built from the store once and then follows
 * every admin change; a call never queries the database.
 *
 * Lookup cost is independent of the number of routes: per customer, routes are grouped by
 * target, so a call probes at most 15 prefixes of its number (`+` and 1..15 digits, longest
 * first) plus `all`, for the customer and then for the default customer. Targets are keyed by
 * number (prefix-key.ts), so the probes of one number are computed in one pass and make no
 * strings; providers are found by their column index and marked seen in a reused array, so a
 * lookup allocates only the candidates it returns.
 *
 * Size and change cost (docs/performance.md §4): routes live in RouteColumns (only the fields
 * routing reads, strings interned), a target's routes are one slot number or an Int32Array of
 * slots, and the maps are ChunkedMaps, so a route change copies one chunk of its customer's
 * targets and one chunk of the customer table: it re-indexes only the targets it touches.
 */

export interface Candidate {
  readonly route: RouteRef;
  readonly provider: ProviderRecord;
}

/** One target's routes: a slot, or slots in route order (priority, oldest, id). */
type Slots = number | Int32Array;

export interface CustomerRoutes {
  /** target (its prefix key, prefix-key.ts) → live routes */
  readonly byPrefix: ChunkedMap<Slots, number>;
  /** the `all` routes */
  readonly all: Slots | undefined;
  /** longest target length present (never less), so probes that cannot match are not made. */
  readonly longestPrefix: number;
  /** bit n set: a target of length n may be present (never cleared), likewise */
  readonly lengths: number;
}

export interface DialPlanSnapshot {
  /** live providers by id. */
  readonly providers: ReadonlyMap<string, ProviderRecord>;
  /** the same, by the columns' provider index (undefined: gone, or never live) */
  readonly providerAt: ReadonlyArray<ProviderRecord | undefined>;
  /** the default customer's routes (customers.get(DEFAULT_CUSTOMER_ID), read by every lookup) */
  readonly defaultRoutes: CustomerRoutes | undefined;
  /** customer id (lower case) → that customer's live routes. */
  readonly customers: ChunkedMap<CustomerRoutes>;
  readonly routeCount: number;
  /** the route data the indexes point into (shared with the snapshots derived from this one) */
  readonly columns: RouteColumns;
}

const ALL_TARGET = 'all';
const E164_PREFIX = /^\+[0-9]{1,15}$/;

function isLive(row: { tm_delete: string }): boolean {
  return row.tm_delete === LIVE_SENTINEL;
}

function routable(r: RouteRecord): boolean {
  return isLive(r) && (r.target === ALL_TARGET || E164_PREFIX.test(r.target));
}

function toSlots(cols: RouteColumns, list: number[]): Slots {
  if (list.length === 1) return list[0]!;
  list.sort((a, b) => cols.compare(a, b));
  return Int32Array.from(list);
}

/** The slots with one more, in route order. */
function slotsWith(cols: RouteColumns, slots: Slots | undefined, slot: number): Slots {
  if (slots === undefined) return slot;
  const list = typeof slots === 'number' ? [slots] : Array.from(slots);
  let i = 0;
  while (i < list.length && cols.compare(list[i]!, slot) <= 0) i++;
  list.splice(i, 0, slot);
  return Int32Array.from(list);
}

/** The slots without one; null when it was not there. */
function slotsWithout(slots: Slots | undefined, slot: number): Slots | undefined | null {
  if (slots === undefined) return null;
  if (typeof slots === 'number') return slots === slot ? undefined : null;
  const i = slots.indexOf(slot);
  if (i < 0) return null;
  if (slots.length === 2) return slots[1 - i]!;
  const out = new Int32Array(slots.length - 1);
  out.set(slots.subarray(0, i));
  out.set(slots.subarray(i + 1), i);
  return out;
}

/**
 * Precomputes the indexes. Deleted rows, routes to a deleted or unknown provider, and routes whose
 * target is neither `all` nor an E.164 prefix are left out. The rows are read once, in order, and
 * not kept: they may be streamed from the store (RoutingSource.readLiveInto).
 */
export function buildDialPlanSnapshot(
  providers: readonly ProviderRecord[],
  routes: Iterable<RouteRecord>,
): DialPlanSnapshot {
  const providerById = new Map<string, ProviderRecord>();
  for (const p of providers) if (isLive(p)) providerById.set(p.id, p);

  const cols = new RouteColumns();
  const providerAt: Array<ProviderRecord | undefined> = [];
  for (const p of providerById.values()) providerAt[cols.providerIndex(p.id)] = p;
  // A target's slots are a number until a second route shares it (most targets have one route).
  const grouped = new Map<string, { index: number; byPrefix: Map<number, number | number[]>; all: number[]; longest: number; lengths: number }>();
  let routeCount = 0;
  for (const r of routes) {
    if (!routable(r) || !providerById.has(r.provider_id)) continue;
    const key = r.customer_id.toLowerCase();
    let g = grouped.get(key);
    if (g === undefined) grouped.set(key, (g = { index: cols.customerIndex(key), byPrefix: new Map(), all: [], longest: 0, lengths: 0 }));
    const slot = cols.add(r, g.index);
    const target = cols.targetOf(slot);
    if (target === ALL_TARGET) g.all.push(slot);
    else {
      const key = cols.targetKeyOf(slot);
      const list = g.byPrefix.get(key);
      if (list === undefined) g.byPrefix.set(key, slot);
      else if (typeof list === 'number') g.byPrefix.set(key, [list, slot]);
      else list.push(slot);
      if (target.length > g.longest) g.longest = target.length;
      g.lengths |= 1 << target.length;
    }
    routeCount++;
  }
  const customers = new Map<string, CustomerRoutes>();
  for (const [key, g] of grouped) {
    const byPrefix = g.byPrefix as Map<number, number | number[] | Slots>;
    for (const [target, list] of byPrefix) if (Array.isArray(list)) byPrefix.set(target, toSlots(cols, list));
    customers.set(key, { byPrefix: ChunkedMap.from(byPrefix as Map<number, Slots>), all: g.all.length > 0 ? toSlots(cols, g.all) : undefined, longestPrefix: g.longest, lengths: g.lengths });
  }
  return { providers: providerById, providerAt, defaultRoutes: customers.get(DEFAULT_CUSTOMER_ID), customers: ChunkedMap.from(customers), routeCount, columns: cols };
}

/** Every slot a customer's index holds. */
function* slotsOf(c: { byPrefix: ChunkedMap<Slots, number>; all: Slots | undefined } | undefined): Generator<number> {
  if (c === undefined) return;
  for (const slots of [...c.byPrefix.values(), c.all]) {
    if (slots === undefined) continue;
    if (typeof slots === 'number') yield slots;
    else yield* slots;
  }
}

/** A customer's routes being changed within one applyRoutingChanges. */
interface Draft {
  byPrefix: ChunkedMap<Slots, number>;
  all: Slots | undefined;
  longestPrefix: number;
  lengths: number;
}

/**
 * A new snapshot with committed changes applied, without reading or re-indexing everything: a
 * route change touches its old and new target only (one chunk copied each), a provider change
 * copies the provider map. The old snapshot is left untouched (calls in flight may still hold
 * it). A provider is never deleted while live routes use it (the store refuses), and lookups
 * skip routes whose provider is gone. Changes are applied to the latest snapshot of a lineage
 * (DialPlanCache does): a route id names its latest version.
 */
export function applyRoutingChanges(snapshot: DialPlanSnapshot, changes: ReadonlyArray<RoutingRowChange>): DialPlanSnapshot {
  const cols = snapshot.columns;
  let providers: Map<string, ProviderRecord> | undefined;
  let providerAt: Array<ProviderRecord | undefined> | undefined;
  const drafts = new Map<string, Draft>();
  let routeCount = snapshot.routeCount;
  const draftOf = (key: string): Draft => {
    let d = drafts.get(key);
    if (d === undefined) {
      const c = snapshot.customers.get(key);
      d = c
        ? { byPrefix: c.byPrefix, all: c.all, longestPrefix: c.longestPrefix, lengths: c.lengths }
        : { byPrefix: ChunkedMap.empty<Slots, number>(), all: undefined, longestPrefix: 0, lengths: 0 };
      drafts.set(key, d);
    }
    return d;
  };
  for (const change of changes) {
    if (change.kind === 'provider') {
      providers ??= new Map(snapshot.providers);
      providerAt ??= snapshot.providerAt.slice();
      const at = cols.providerIndex(change.row.id);
      if (isLive(change.row)) {
        providers.set(change.row.id, change.row);
        providerAt[at] = change.row;
      } else {
        providers.delete(change.row.id);
        providerAt[at] = undefined;
      }
      continue;
    }
    const route = change.row;
    const key = route.customer_id.toLowerCase();
    const customer = cols.customerIndex(key);
    const old = cols.slotOf(route.id, customer, () => slotsOf(drafts.get(key) ?? snapshot.customers.get(key)));
    const keep = routable(route);
    if (old !== undefined && keep && cols.sameRouting(old, route)) continue; // name or detail only
    if (old !== undefined) {
      const d = draftOf(key);
      const target = cols.targetOf(old);
      const tkey = cols.targetKeyOf(old);
      const next = slotsWithout(target === ALL_TARGET ? d.all : d.byPrefix.get(tkey), old);
      if (next !== null) {
        routeCount--;
        if (target === ALL_TARGET) d.all = next;
        else d.byPrefix = next === undefined ? d.byPrefix.without(tkey) : d.byPrefix.with(tkey, next);
      }
      if (!keep) cols.forget(route.id, customer);
    }
    if (keep) {
      const slot = cols.add(route, customer);
      const d = draftOf(key);
      const target = cols.targetOf(slot);
      if (target === ALL_TARGET) d.all = slotsWith(cols, d.all, slot);
      else {
        const tkey = cols.targetKeyOf(slot);
        d.byPrefix = d.byPrefix.with(tkey, slotsWith(cols, d.byPrefix.get(tkey), slot));
        if (target.length > d.longestPrefix) d.longestPrefix = target.length;
        d.lengths |= 1 << target.length;
      }
      routeCount++;
    }
  }
  let customers = snapshot.customers;
  for (const [key, d] of drafts) {
    customers = d.byPrefix.size === 0 && d.all === undefined ? customers.without(key) : customers.with(key, { byPrefix: d.byPrefix, all: d.all, longestPrefix: d.longestPrefix, lengths: d.lengths });
  }
  const defaultRoutes = drafts.has(DEFAULT_CUSTOMER_ID) ? customers.get(DEFAULT_CUSTOMER_ID) : snapshot.defaultRoutes;
  return { providers: providers ?? snapshot.providers, providerAt: providerAt ?? snapshot.providerAt, defaultRoutes, customers, routeCount, columns: cols };
}

/**
 * Per-lookup scratch, reused (planAttempts is synchronous and never re-entered): the prefix keys
 * of the number, and per provider index the lookup that last took it (a provider is taken once
 * per lookup, docs/routing.md §2).
 */
const probeKeys: number[] = new Array<number>(MAX_TARGET_LENGTH + 1).fill(0);
let takenIn = new Uint32Array(64);
let lookupStamp = 0;

function nextLookupStamp(): number {
  if (lookupStamp === 0xffffffff) {
    takenIn.fill(0);
    lookupStamp = 0;
  }
  return ++lookupStamp;
}

/** Appends one slot's candidate unless its provider is gone or already in the list. */
function take(snapshot: DialPlanSnapshot, slot: number, stamp: number, out: Candidate[]): void {
  const at = snapshot.columns.providerIndexOf(slot);
  if (at >= takenIn.length) {
    const grown = new Uint32Array(Math.max(at + 1, takenIn.length * 2));
    grown.set(takenIn);
    takenIn = grown;
  }
  if (takenIn[at] === stamp) return;
  const provider = snapshot.providerAt[at];
  if (provider === undefined) return;
  takenIn[at] = stamp;
  out.push({ route: snapshot.columns.ref(slot), provider });
}

function takeAll(snapshot: DialPlanSnapshot, slots: Slots | undefined, stamp: number, out: Candidate[]): void {
  if (slots === undefined) return;
  if (typeof slots === 'number') take(snapshot, slots, stamp, out);
  else for (let i = 0; i < slots.length; i++) take(snapshot, slots[i]!, stamp, out);
}

/** Appends one customer's candidates: longest matching prefix first, then `all`. */
function collect(
  snapshot: DialPlanSnapshot,
  customer: CustomerRoutes | undefined,
  numberLength: number,
  stamp: number,
  out: Candidate[],
): void {
  if (customer === undefined) return;
  for (let len = Math.min(numberLength, customer.longestPrefix); len >= 2; len--) {
    if ((customer.lengths & (1 << len)) === 0) continue;
    takeAll(snapshot, customer.byPrefix.get(probeKeys[len]!), stamp, out);
  }
  takeAll(snapshot, customer.all, stamp, out);
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
  const stamp = nextLookupStamp();
  const ordered: Candidate[] = [];
  const customerKey = customerId.toLowerCase();
  const numberLength = prefixKeysOf(number, probeKeys);
  if (customerKey !== DEFAULT_CUSTOMER_ID) {
    collect(snapshot, snapshot.customers.get(customerKey), numberLength, stamp, ordered);
  }
  collect(snapshot, snapshot.defaultRoutes, numberLength, stamp, ordered);
  // Unhealthy providers, and those whose registration failed, go last, keeping their relative
  // order (a stable partition; docs/routing.md §2).
  let first = 0;
  while (first < ordered.length && !orderedLast(ordered[first]!.provider)) first++;
  if (first === ordered.length) return ordered;
  const healthy = ordered.slice(0, first);
  const unhealthy: Candidate[] = [];
  for (let i = first; i < ordered.length; i++) {
    const c = ordered[i]!;
    if (orderedLast(c.provider)) unhealthy.push(c);
    else healthy.push(c);
  }
  return healthy.concat(unhealthy);
}
