/**
 * The routes of a dial plan in columns (docs/performance.md §4): per route only what routing
 * reads, as numbers in typed arrays plus the id string; customer, target and provider ids are
 * interned once and referred to by index. Append-only: a changed route gets a new slot, so a
 * snapshot that indexes the old slot still reads the old values (snapshots stay immutable).
 * Slots of replaced routes are garbage until the next full build starts new columns.
 */
import type { RouteRecord } from './model.ts';
import { prefixKey } from './prefix-key.ts';

/** A route as a lookup hands it out: what the call path and the preview need of it. */
export interface RouteRef {
  readonly id: string;
  readonly customer_id: string;
  readonly provider_id: string;
  readonly priority: number;
  readonly target: string;
}

/** Interns strings: one copy of each, and a small index for it. */
class Interner {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  of(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** tm_create (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC) as microseconds: exact in a double. */
function createdMicros(iso: string): number {
  if (iso.length === 27 && iso.charCodeAt(19) === 46 /* . */ && iso.charCodeAt(26) === 90 /* Z */) {
    const ms = Date.UTC(digits(iso, 0, 4), digits(iso, 5, 7) - 1, digits(iso, 8, 10), digits(iso, 11, 13), digits(iso, 14, 16), digits(iso, 17, 19));
    const frac = digits(iso, 20, 26);
    if (!Number.isNaN(ms) && !Number.isNaN(frac)) return ms * 1000 + frac;
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 0 : ms * 1000;
}

const STRIDE = 4;
const CUSTOMER = 0;
const TARGET = 1;
const PROVIDER = 2;
const PRIORITY = 3;

export class RouteColumns {
  readonly ids: string[] = [];
  /**
   * What a lookup reads of a slot, side by side (one cache line per slot, not one per field):
   * at slot * STRIDE its customer, target and provider indexes and its priority.
   */
  private cells = new Int32Array(1024 * STRIDE);
  private created = new Float64Array(1024);
  private readonly customers = new Interner();
  private readonly targets = new Interner();
  private readonly providers = new Interner();
  /** per interned target, its prefix key (prefix-key.ts; -1 for `all`) */
  private readonly targetKeys: number[] = [];
  /**
   * Per customer, route id → its latest slot: made when a change first names the customer (from
   * the snapshot it is applied to), then kept up to date. A route never changes customer
   * (RouteUpdate has no customer_id), so its old slot is found among its customer's alone, and a
   * full build needs no index of all ids.
   */
  private readonly byCustomer = new Map<number, Map<string, number>>();

  get length(): number {
    return this.ids.length;
  }

  /** The index of a customer key (lower case), for add(). */
  customerIndex(customerKey: string): number {
    return this.customers.of(customerKey);
  }

  /** Appends a route of the customer at `customer` (customerIndex); the id now names this slot. */
  add(r: RouteRecord, customer: number): number {
    const slot = this.ids.length;
    if (slot === this.created.length) this.grow();
    this.ids.push(r.id);
    const at = slot * STRIDE;
    this.cells[at + CUSTOMER] = customer;
    const target = this.targets.of(r.target);
    if (target === this.targetKeys.length) this.targetKeys.push(prefixKey(r.target));
    this.cells[at + TARGET] = target;
    this.cells[at + PROVIDER] = this.providers.of(r.provider_id);
    this.cells[at + PRIORITY] = r.priority;
    this.created[slot] = createdMicros(r.tm_create);
    this.byCustomer.get(customer)?.set(r.id, slot);
    return slot;
  }

  /**
   * The latest slot of a route id within its customer; `slots` lists the customer's slots in
   * the snapshot being changed, read once per customer to make the index.
   */
  slotOf(id: string, customer: number, slots: () => Iterable<number>): number | undefined {
    let index = this.byCustomer.get(customer);
    if (index === undefined) {
      index = new Map();
      for (const slot of slots()) index.set(this.ids[slot]!, slot);
      this.byCustomer.set(customer, index);
    }
    return index.get(id);
  }

  forget(id: string, customer: number): void {
    this.byCustomer.get(customer)?.delete(id);
  }

  customerOf(slot: number): string {
    return this.customers.values[this.cells[slot * STRIDE + CUSTOMER]!]!;
  }

  targetOf(slot: number): string {
    return this.targets.values[this.cells[slot * STRIDE + TARGET]!]!;
  }

  /** The prefix key of the slot's target (-1 for `all`). */
  targetKeyOf(slot: number): number {
    return this.targetKeys[this.cells[slot * STRIDE + TARGET]!]!;
  }

  /** The provider's index (stable for these columns), for lookups by index. */
  providerIndexOf(slot: number): number {
    return this.cells[slot * STRIDE + PROVIDER]!;
  }

  /** The index of a provider id (interned if new). */
  providerIndex(providerId: string): number {
    return this.providers.of(providerId);
  }

  providerOf(slot: number): string {
    return this.providers.values[this.cells[slot * STRIDE + PROVIDER]!]!;
  }

  priorityOf(slot: number): number {
    return this.cells[slot * STRIDE + PRIORITY]!;
  }

  /** Whether a changed row routes exactly as the slot does (then no new slot is needed). */
  sameRouting(slot: number, r: RouteRecord): boolean {
    return (
      this.targetOf(slot) === r.target &&
      this.providerOf(slot) === r.provider_id &&
      this.priorityOf(slot) === r.priority &&
      this.created[slot] === createdMicros(r.tm_create)
    );
  }

  /** priority ascending, then oldest first, then id: the order within one target (docs/routing.md §2). */
  compare(a: number, b: number): number {
    const pa = this.priorityOf(a);
    const pb = this.priorityOf(b);
    if (pa !== pb) return pa - pb;
    const ca = this.created[a]!;
    const cb = this.created[b]!;
    if (ca !== cb) return ca - cb;
    const ia = this.ids[a]!;
    const ib = this.ids[b]!;
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  }

  ref(slot: number): RouteRef {
    const at = slot * STRIDE;
    const cells = this.cells;
    return {
      id: this.ids[slot]!,
      customer_id: this.customers.values[cells[at + CUSTOMER]!]!,
      provider_id: this.providers.values[cells[at + PROVIDER]!]!,
      priority: cells[at + PRIORITY]!,
      target: this.targets.values[cells[at + TARGET]!]!,
    };
  }

  private grow(): void {
    const n = this.created.length * 2;
    const cells = new Int32Array(n * STRIDE);
    cells.set(this.cells);
    this.cells = cells;
    const c = new Float64Array(n);
    c.set(this.created);
    this.created = c;
  }
}
