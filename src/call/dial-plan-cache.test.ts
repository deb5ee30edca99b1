import { describe, expect, it } from 'vitest';
import { createCapturingLogger } from '../log/logger.ts';
import { computeAttempts } from '../routing/dial-route-preview.ts';
import { provider, route } from '../routing/fixtures/records.ts';
import { DEFAULT_CUSTOMER_ID, type ProviderRecord, type RouteRecord, type RoutingSource } from '../routing/model.ts';
import { DialPlanCache } from './dial-plan-cache.ts';

/** A RoutingSource in memory that counts its reads and lets the test fire change signals. */
class FakeSource implements RoutingSource {
  reads = 0;
  providers: ProviderRecord[] = [provider('p1')];
  routes: RouteRecord[] = [route('r1', 'p1', '+1')];
  private readonly listeners = new Set<() => void>();

  readLive() {
    this.reads++;
    return { providers: [...this.providers], routes: [...this.routes] };
  }
  onChange(listener: () => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  get listenerCount() {
    return this.listeners.size;
  }
  change(): void {
    for (const l of this.listeners) l();
  }
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));
const providersFor = (cache: DialPlanCache, number = '+15551234567') =>
  computeAttempts(cache.current(), number, DEFAULT_CUSTOMER_ID).map((a) => a.provider.id);

function setup() {
  const source = new FakeSource();
  const cache = new DialPlanCache(source, createCapturingLogger('info').logger);
  return { source, cache };
}

describe('DialPlanCache', () => {
  it('reads the source once when built, and never per call', () => {
    const { source, cache } = setup();
    expect(source.reads).toBe(1);
    for (let i = 0; i < 100; i++) expect(providersFor(cache)).toEqual(['p1']);
    expect(source.reads).toBe(1);
    cache.close();
  });

  it('rebuilds before the next read when a change arrives (the very next call sees it)', () => {
    const { source, cache } = setup();
    source.providers.push(provider('p2'));
    source.routes.push(route('r2', 'p2', '+1555'));
    source.change();
    // No tick has passed: the read itself rebuilds the stale snapshot.
    expect(providersFor(cache)).toEqual(['p2', 'p1']);
    expect(source.reads).toBe(2);
    expect(providersFor(cache)).toEqual(['p2', 'p1']);
    expect(source.reads).toBe(2);
    cache.close();
  });

  it('rebuilds on its own soon after a change, once for a burst of changes', async () => {
    const { source, cache } = setup();
    source.routes = [];
    source.change();
    source.change();
    source.change();
    await nextTick();
    expect(source.reads).toBe(2);
    expect(providersFor(cache)).toEqual([]);
    expect(source.reads).toBe(2);
    cache.close();
  });

  it('stops listening when closed', async () => {
    const { source, cache } = setup();
    expect(source.listenerCount).toBe(1);
    cache.close();
    expect(source.listenerCount).toBe(0);
    source.change();
    await nextTick();
    expect(source.reads).toBe(1);
  });
});
