import { describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../log/logger.ts';
import { buildDialPlanSnapshot } from '../routing/dial-plan.ts';
import { computeAttempts } from '../routing/dial-route-preview.ts';
import { DELETED_AT, provider, route } from '../../test/support/routing-fixtures/records.ts';
import { DEFAULT_CUSTOMER_ID, type ProviderRecord, type RouteRecord, type RoutingChange } from '../routing/model.ts';
import type { RoutingSource } from '../store/store-types.ts';
import { DialPlanCache } from './dial-plan-cache.ts';

/**
 * A RoutingSource in memory that counts its full reads and announces changes the way the store
 * does: with the committed row.
 */
class FakeSource implements RoutingSource {
  reads = 0;
  providers = new Map<string, ProviderRecord>([['p1', provider('p1')]]);
  routes = new Map<string, RouteRecord>([['r1', route('r1', 'p1', '+1')]]);
  private readonly listeners = new Set<(change: RoutingChange) => void>();

  async readLive() {
    this.reads++;
    return { providers: [...this.providers.values()], routes: [...this.routes.values()] };
  }
  /** Through readLive, so a test that replaces readLive (to hold or fail a read) holds this too. */
  async readLiveInto<T>(consume: (providers: ProviderRecord[], routes: Iterable<RouteRecord>) => T): Promise<T> {
    const { providers, routes } = await this.readLive();
    return consume(providers, routes);
  }
  onChange(listener: (change: RoutingChange) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get listenerCount() {
    return this.listeners.size;
  }
  putRoute(row: RouteRecord): void {
    this.routes.set(row.id, row);
    this.emit({ kind: 'route', row });
  }
  putProvider(row: ProviderRecord): void {
    this.providers.set(row.id, row);
    this.emit({ kind: 'provider', row });
  }
  emit(change: RoutingChange): void {
    for (const l of this.listeners) l(change);
  }
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));
const attemptsFor = (cache: DialPlanCache, number = '+15551234567', customer = DEFAULT_CUSTOMER_ID) =>
  computeAttempts(cache.current(), number, customer).map((a) => `${a.provider.id}:${a.requestUri}`);

async function setup() {
  const source = new FakeSource();
  const cache = await DialPlanCache.load(source, createCapturingLogger('info').logger);
  return { source, cache };
}

/** What a full rebuild from the source would answer: the incremental path must agree. */
function fromScratch(source: FakeSource, number = '+15551234567', customer = DEFAULT_CUSTOMER_ID) {
  const snapshot = buildDialPlanSnapshot([...source.providers.values()], [...source.routes.values()]);
  return computeAttempts(snapshot, number, customer).map((a) => `${a.provider.id}:${a.requestUri}`);
}

describe('DialPlanCache', () => {
  it('reads the source once when built, and never per call', async () => {
    const { source, cache } = await setup();
    expect(source.reads).toBe(1);
    for (let i = 0; i < 100; i++) expect(attemptsFor(cache)).toEqual(['p1:sip:+15551234567@p1.carrier.example.com']);
    expect(source.reads).toBe(1);
    cache.close();
  });

  it('applies a change before the next read (the very next call sees it), without reading everything', async () => {
    const { source, cache } = await setup();
    source.putProvider(provider('p2'));
    source.putRoute(route('r2', 'p2', '+1555'));
    // No tick has passed: the read itself applies the pending changes.
    expect(attemptsFor(cache)).toEqual(['p2:sip:+15551234567@p2.carrier.example.com', 'p1:sip:+15551234567@p1.carrier.example.com']);
    expect(attemptsFor(cache)).toEqual(fromScratch(source));
    expect(source.reads).toBe(1);
    cache.close();
  });

  it('applies updates, deletes and provider edits exactly as a full rebuild would', async () => {
    const { source, cache } = await setup();
    const customer = '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60';
    source.putProvider(provider('p2'));
    source.putProvider(provider('p3', { health_status: 'unhealthy' }));
    source.putRoute(route('r2', 'p2', '+1555', { priority: 5 }));
    source.putRoute(route('r3', 'p3', '+1555', { priority: 1 }));
    source.putRoute(route('r4', 'p2', 'all', { customer_id: customer }));
    await nextTick();
    for (const [n, c] of [['+15551234567', DEFAULT_CUSTOMER_ID], ['+15551234567', customer], ['+4420', customer]] as const) {
      expect(attemptsFor(cache, n, c)).toEqual(fromScratch(source, n, c));
    }
    // update: r2 moves to a longer prefix; delete: r3; provider edit: p1's host.
    source.putRoute(route('r2', 'p2', '+155512', { priority: 5 }));
    source.putRoute(route('r3', 'p3', '+1555', { tm_delete: DELETED_AT }));
    source.putProvider(provider('p1', { hostname: 'new.example.com:5080' }));
    source.putRoute(route('r4', 'p2', 'all', { customer_id: customer, tm_delete: DELETED_AT }));
    for (const [n, c] of [['+15551234567', DEFAULT_CUSTOMER_ID], ['+15551234567', customer], ['+4420', customer]] as const) {
      expect(attemptsFor(cache, n, c)).toEqual(fromScratch(source, n, c));
    }
    expect(attemptsFor(cache)).toEqual(['p2:sip:+15551234567@p2.carrier.example.com', 'p1:sip:+15551234567@new.example.com:5080']);
    expect(cache.current().customers.has(customer)).toBe(false);
    expect(source.reads).toBe(1);
    cache.close();
  });

  it('leaves a snapshot already handed out unchanged', async () => {
    const { source, cache } = await setup();
    const before = cache.current();
    source.putRoute(route('r1', 'p1', '+1', { tm_delete: DELETED_AT }));
    expect(computeAttempts(cache.current(), '+15551234567', DEFAULT_CUSTOMER_ID)).toEqual([]);
    expect(computeAttempts(before, '+15551234567', DEFAULT_CUSTOMER_ID)).toHaveLength(1);
    cache.close();
  });

  it('reads everything again on a change it cannot name, once for a burst', async () => {
    const { source, cache } = await setup();
    source.routes.clear();
    source.emit({ kind: 'reload' });
    source.emit({ kind: 'reload' });
    source.putRoute(route('r9', 'p1', '+44'));
    await cache.settled();
    expect(source.reads).toBe(2);
    expect(attemptsFor(cache)).toEqual([]);
    expect(attemptsFor(cache, '+4420')).toEqual(['p1:sip:+4420@p1.carrier.example.com']);
    expect(source.reads).toBe(2);
    cache.close();
  });

  it('keeps serving, and keeps named changes, while a full read is on its way', async () => {
    const { source, cache } = await setup();
    // The next full read answers only when released, and with the rows as they were when it began.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const original = source.readLive.bind(source);
    source.readLive = async () => {
      const rows = await original();
      await gate;
      return rows;
    };
    source.emit({ kind: 'reload' });
    await nextTick();
    expect(source.reads).toBe(2);
    source.putRoute(route('r5', 'p1', '+4420'));
    expect(attemptsFor(cache, '+4420123')).toEqual(['p1:sip:+4420123@p1.carrier.example.com']);
    release();
    await cache.settled();
    // The read began before r5 was committed; r5 is applied again on its result.
    expect(attemptsFor(cache, '+4420123')).toEqual(['p1:sip:+4420123@p1.carrier.example.com']);
    expect(attemptsFor(cache)).toEqual(fromScratch(source));
    cache.close();
  });

  it('keeps the snapshot it has when a full read fails', async () => {
    const log = createCapturingLogger('info');
    const source = new FakeSource();
    const cache = await DialPlanCache.load(source, log.logger);
    source.readLive = async () => {
      throw new Error('disk I/O error');
    };
    source.emit({ kind: 'reload' });
    await cache.settled();
    expect(attemptsFor(cache)).toEqual(['p1:sip:+15551234567@p1.carrier.example.com']);
    expect(log.lines.some((l) => l.msg === 'dial plan reload failed')).toBe(true);
    cache.close();
  });

  it('stops listening when closed', async () => {
    const { source, cache } = await setup();
    expect(source.listenerCount).toBe(1);
    cache.close();
    expect(source.listenerCount).toBe(0);
    source.emit({ kind: 'reload' });
    await nextTick();
    expect(source.reads).toBe(1);
  });
});
