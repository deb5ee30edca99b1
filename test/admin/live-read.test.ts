import { afterEach, describe, expect, it } from 'vitest';
import { buildDialPlanSnapshot, planAttempts } from '../../src/routing/dial-plan.ts';
import { DEFAULT_CUSTOMER_ID, LIVE_SENTINEL, type RouteRecord } from '../../src/routing/model.ts';
import type { ProviderInput, Store } from '../../src/store/store.ts';
import { startTestEngine, type TestEngine } from './support/admin-harness.ts';

/**
 * The dial plan's full read (RoutingSource, docs/performance.md §4) on both stores: readLiveInto
 * hands the view readLive gives, and a consumer that stops or fails leaves the store usable.
 */
const engines: TestEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
});

const providerInput = (name: string): ProviderInput => ({ type: 'sip', hostname: `${name}.example.net`, tech_prefix: '', tech_postfix: '', tech_headers: {}, name, detail: '', codecs: '' });

async function seeded(): Promise<{ store: Store; liveRoutes: string[] }> {
  const e = await startTestEngine();
  engines.push(e);
  const store = e.engine.store;
  const a = await store.providers.create(providerInput('a'));
  const b = await store.providers.create(providerInput('b'));
  const gone = await store.providers.create(providerInput('gone'));
  await store.providers.softDelete(gone.id);
  const ids: string[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await store.routes.create({ customer_id: i % 2 === 0 ? DEFAULT_CUSTOMER_ID : 'c0ffee00-0000-4000-8000-000000000001', name: `r${i}`, detail: '', provider_id: i % 3 === 0 ? b.id : a.id, priority: i % 4, target: i === 0 ? 'all' : `+4${i}` });
    ids.push(r.id);
  }
  await store.routes.softDelete(ids[5]!);
  await store.routes.replace(ids[7]!, { name: 'moved', detail: '', provider_id: b.id, priority: 1, target: '+49' });
  return { store, liveRoutes: ids.filter((_, i) => i !== 5) };
}

describe('RoutingSource.readLiveInto', () => {
  it('hands the live providers and routes that readLive returns, in the same order', async () => {
    const { store, liveRoutes } = await seeded();
    const whole = await store.readLive();
    const streamed = await store.readLiveInto((providers, routes) => ({ providers, routes: [...routes] }));
    expect(streamed).toEqual(whole);
    expect(streamed.routes.map((r) => r.id).sort()).toEqual([...liveRoutes].sort());
    expect(streamed.routes.every((r) => r.tm_delete === LIVE_SENTINEL)).toBe(true);
    expect(streamed.providers.map((p) => p.name).sort()).toEqual(['a', 'b']);
    // The dial plan built while reading is the one built from readLive's arrays.
    const number = '+4912345';
    const built = await store.readLiveInto((providers, routes) => buildDialPlanSnapshot(providers, routes));
    const fromArrays = buildDialPlanSnapshot(whole.providers, whole.routes);
    expect(built.routeCount).toBe(fromArrays.routeCount);
    for (const customer of [DEFAULT_CUSTOMER_ID, 'c0ffee00-0000-4000-8000-000000000001']) {
      expect(planAttempts(built, number, customer)).toEqual(planAttempts(fromArrays, number, customer));
    }
  });

  it('a consumer that stops early or throws leaves the store usable', async () => {
    const { store, liveRoutes } = await seeded();
    const first = await store.readLiveInto((_providers, routes) => {
      for (const r of routes) return r;
      return undefined;
    });
    expect(first?.id).toBeDefined();
    // One row taken by hand, the iterator left open.
    const taken = await store.readLiveInto((_providers, routes) => routes[Symbol.iterator]().next().value);
    expect(taken?.id).toBe(first?.id);
    await expect(
      store.readLiveInto((_providers, routes) => {
        for (const r of routes) if (r.name === 'r3') throw new Error(`consumer failed at ${r.name}`);
        return 0;
      }),
    ).rejects.toThrow('consumer failed at r3');
    // Reads and writes go on as before.
    const providerId = (await store.readLive()).providers[0]!.id;
    const added: RouteRecord = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'after', detail: '', provider_id: providerId, priority: 1, target: '+1' });
    const ids = await store.readLiveInto((_providers, routes) => Array.from(routes, (r) => r.id));
    expect(ids.sort()).toEqual([...liveRoutes, added.id].sort());
  });
});
