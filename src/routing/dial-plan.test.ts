import { describe, expect, it } from 'vitest';
import { applyRoutingChanges, buildDialPlanSnapshot, planAttempts } from './dial-plan.ts';
import { CUSTOMER_A, CUSTOMER_B, DELETED_AT, provider, route } from '../../test/support/routing-fixtures/records.ts';
import { DEFAULT_CUSTOMER_ID, type ProviderRecord, type RouteRecord } from './model.ts';

const NUMBER = '+15551234567';

function plan(providers: ProviderRecord[], routes: RouteRecord[], customer = CUSTOMER_A, number = NUMBER): string[] {
  return planAttempts(buildDialPlanSnapshot(providers, routes), number, customer).map(
    (c) => `${c.route.id}:${c.provider.id}`,
  );
}

const P = ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => provider(id));
const A = { customer_id: CUSTOMER_A };

describe('planAttempts: order', () => {
  it.each<{ name: string; routes: RouteRecord[]; customer?: string; number?: string; expected: string[] }>([
    {
      name: 'customer routes before default routes',
      routes: [route('d1', 'p1', '+1'), route('c1', 'p2', '+1', A)],
      expected: ['c1:p2', 'd1:p1'],
    },
    {
      name: 'longest prefix first, then all',
      routes: [
        route('all', 'p1', 'all', A),
        route('one', 'p2', '+1', A),
        route('npa', 'p3', '+1555', A),
        route('full', 'p4', NUMBER, A),
        route('other', 'p5', '+44', A),
      ],
      expected: ['full:p4', 'npa:p3', 'one:p2', 'all:p1'],
    },
    {
      name: 'default customer in the same order after the customer',
      routes: [
        route('d-all', 'p1', 'all'),
        route('d-one', 'p2', '+1'),
        route('d-npa', 'p3', '+1555'),
        route('c-all', 'p4', 'all', A),
      ],
      expected: ['c-all:p4', 'd-npa:p3', 'd-one:p2', 'd-all:p1'],
    },
    {
      name: 'customer all comes before a longer default prefix',
      routes: [route('d-full', 'p1', NUMBER), route('c-all', 'p2', 'all', A)],
      expected: ['c-all:p2', 'd-full:p1'],
    },
    {
      name: 'priority ascending within a target',
      routes: [route('pr3', 'p1', '+1', { ...A, priority: 3 }), route('pr1', 'p2', '+1', { ...A, priority: 1 }), route('pr2', 'p3', '+1', { ...A, priority: 2 })],
      expected: ['pr1:p2', 'pr2:p3', 'pr3:p1'],
    },
    {
      name: 'negative and zero priorities sort numerically',
      routes: [route('ten', 'p1', 'all', { ...A, priority: 10 }), route('two', 'p2', 'all', { ...A, priority: 2 }), route('neg', 'p3', 'all', { ...A, priority: -1 })],
      expected: ['neg:p3', 'two:p2', 'ten:p1'],
    },
    {
      name: 'same priority: oldest first',
      routes: [
        route('young', 'p1', '+1', { ...A, tm_create: '2024-05-01T00:00:00.000000Z' }),
        route('old', 'p2', '+1', { ...A, tm_create: '2023-05-01T00:00:00.000000Z' }),
        route('mid', 'p3', '+1', { ...A, tm_create: '2024-01-01T00:00:00.500000Z' }),
      ],
      expected: ['old:p2', 'mid:p3', 'young:p1'],
    },
    {
      name: 'priority only orders within a target, not across targets',
      routes: [route('long', 'p1', '+1555', { ...A, priority: 9 }), route('short', 'p2', '+1', { ...A, priority: 0 })],
      expected: ['long:p1', 'short:p2'],
    },
    {
      name: 'a provider appears once: first (most specific) route wins',
      routes: [route('c-all', 'p1', 'all', A), route('c-one', 'p1', '+1', A), route('c-one-b', 'p2', '+1', { ...A, priority: 5 })],
      expected: ['c-one:p1', 'c-one-b:p2'],
    },
    {
      name: 'default routes skip providers the customer already listed',
      routes: [route('d1', 'p1', '+1'), route('d2', 'p2', '+1', { priority: 2 }), route('c1', 'p1', 'all', A)],
      expected: ['c1:p1', 'd2:p2'],
    },
    {
      name: 'other customers routes never apply',
      routes: [route('b1', 'p1', '+1', { customer_id: CUSTOMER_B }), route('d1', 'p2', 'all')],
      expected: ['d1:p2'],
    },
    {
      name: 'default customer itself: its own routes once',
      routes: [route('d1', 'p1', '+1'), route('d2', 'p2', 'all'), route('a1', 'p3', 'all', A)],
      customer: DEFAULT_CUSTOMER_ID,
      expected: ['d1:p1', 'd2:p2'],
    },
    {
      name: 'customer without routes falls back to the default routes',
      routes: [route('d1', 'p1', 'all')],
      customer: 'cccccccc-0000-4000-8000-000000000003',
      expected: ['d1:p1'],
    },
    {
      name: 'a target equal to the whole number matches',
      routes: [route('exact', 'p1', '+1', A)],
      number: '+1',
      expected: ['exact:p1'],
    },
    {
      name: 'a target longer than the number does not match',
      routes: [route('long', 'p1', '+15551234567', A), route('all', 'p2', 'all', A)],
      number: '+1555',
      expected: ['all:p2'],
    },
    {
      name: 'prefix match is on digits from the start only',
      routes: [route('mid', 'p1', '+555', A), route('one', 'p2', '+1', A)],
      expected: ['one:p2'],
    },
    {
      name: 'customer id compared case-insensitively',
      routes: [route('c1', 'p1', 'all', { customer_id: CUSTOMER_A.toUpperCase() })],
      expected: ['c1:p1'],
    },
  ])('$name', ({ routes, customer, number, expected }) => {
    expect(plan(P, routes, customer, number)).toEqual(expected);
  });
});

describe('planAttempts: health', () => {
  it.each<{ name: string; health?: Record<string, ProviderRecord['health_status']>; registration?: Record<string, ProviderRecord['registration_status']>; expected: string[] }>([
    { name: 'all unknown: plan order', health: {}, expected: ['r1:p1', 'r2:p2', 'r3:p3', 'r4:p4'] },
    { name: 'a failed registration goes last like an unhealthy provider', health: { p2: 'unhealthy' }, registration: { p1: 'failed', p3: 'registered' }, expected: ['r3:p3', 'r4:p4', 'r1:p1', 'r2:p2'] },
    { name: 'registering and registered providers keep their place', registration: { p1: 'registering', p2: 'registered' }, expected: ['r1:p1', 'r2:p2', 'r3:p3', 'r4:p4'] },
    { name: 'unhealthy first provider goes last', health: { p1: 'unhealthy' }, expected: ['r2:p2', 'r3:p3', 'r4:p4', 'r1:p1'] },
    {
      name: 'several unhealthy keep their relative order (stable)',
      health: { p1: 'unhealthy', p3: 'unhealthy', p2: 'healthy' },
      expected: ['r2:p2', 'r4:p4', 'r1:p1', 'r3:p3'],
    },
    { name: 'healthy and unknown are equal', health: { p1: 'unknown', p2: 'healthy', p3: 'unknown' }, expected: ['r1:p1', 'r2:p2', 'r3:p3', 'r4:p4'] },
    {
      name: 'all unhealthy: plan order',
      health: { p1: 'unhealthy', p2: 'unhealthy', p3: 'unhealthy', p4: 'unhealthy' },
      expected: ['r1:p1', 'r2:p2', 'r3:p3', 'r4:p4'],
    },
  ])('$name', ({ health = {}, registration = {}, expected }) => {
    const providers = P.map((p) => ({ ...p, health_status: health[p.id] ?? p.health_status, registration_status: registration[p.id] ?? p.registration_status }));
    const routes = [route('r1', 'p1', '+1555', A), route('r2', 'p2', '+1', A), route('r3', 'p3', 'all', A), route('r4', 'p4', '+1')];
    expect(plan(providers, routes)).toEqual(expected);
  });
});

describe('planAttempts: rows left out', () => {
  it.each<{ name: string; providers: ProviderRecord[]; routes: RouteRecord[]; expected: string[] }>([
    {
      name: 'deleted route',
      providers: P,
      routes: [route('gone', 'p1', '+1', { ...A, tm_delete: DELETED_AT }), route('live', 'p2', '+1', A)],
      expected: ['live:p2'],
    },
    {
      name: 'route to a deleted provider',
      providers: [provider('p1', { tm_delete: DELETED_AT }), provider('p2')],
      routes: [route('r1', 'p1', '+1', A), route('r2', 'p2', 'all', A)],
      expected: ['r2:p2'],
    },
    {
      name: 'route to an unknown provider',
      providers: P,
      routes: [route('r1', 'nope', '+1', A), route('r2', 'p2', 'all', A)],
      expected: ['r2:p2'],
    },
    {
      name: 'a deleted route does not hide the provider from a later live route',
      providers: P,
      routes: [route('gone', 'p1', '+1555', { ...A, tm_delete: DELETED_AT }), route('d1', 'p1', 'all')],
      expected: ['d1:p1'],
    },
    {
      name: 'malformed target',
      providers: P,
      routes: [route('bad', 'p1', '1555', A), route('bad2', 'p2', 'ALL', A), route('ok', 'p3', 'all', A)],
      expected: ['ok:p3'],
    },
  ])('$name', ({ providers, routes, expected }) => {
    expect(plan(providers, routes)).toEqual(expected);
  });

  it.each<{ name: string; providers: ProviderRecord[]; routes: RouteRecord[] }>([
    { name: 'no routes at all', providers: P, routes: [] },
    { name: 'no matching prefix', providers: P, routes: [route('uk', 'p1', '+44', A), route('duk', 'p2', '+44')] },
    { name: 'every route deleted', providers: P, routes: [route('r', 'p1', 'all', { tm_delete: DELETED_AT })] },
    { name: 'every provider deleted', providers: [provider('p1', { tm_delete: DELETED_AT })], routes: [route('r', 'p1', 'all')] },
  ])('no candidate: $name', ({ providers, routes }) => {
    expect(plan(providers, routes)).toEqual([]);
  });
});

describe('buildDialPlanSnapshot', () => {
  it('indexes providers by id and counts usable routes', () => {
    const snap = buildDialPlanSnapshot(
      [provider('p1'), provider('p2', { tm_delete: DELETED_AT })],
      [route('r1', 'p1', '+1'), route('r2', 'p2', '+1'), route('r3', 'p1', 'all', { tm_delete: DELETED_AT })],
    );
    expect([...snap.providers.keys()]).toEqual(['p1']);
    expect(snap.routeCount).toBe(1);
  });

  it('does not depend on input order', () => {
    const routes = [
      route('a', 'p1', '+1', { ...A, priority: 2 }),
      route('b', 'p2', '+1', { ...A, priority: 1 }),
      route('c', 'p3', '+1555', A),
      route('d', 'p4', 'all'),
    ];
    const forward = plan(P, routes);
    expect(plan([...P].reverse(), [...routes].reverse())).toEqual(forward);
    expect(forward).toEqual(['c:p3', 'b:p2', 'a:p1', 'd:p4']);
  });

  it('handles many customers and routes', () => {
    const providers = Array.from({ length: 100 }, (_, i) => provider(`p${i}`));
    const routes: RouteRecord[] = [];
    for (let c = 0; c < 2000; c++) {
      const customer = `${c.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
      for (let r = 0; r < 25; r++) {
        routes.push(route(`r${c}-${r}`, `p${(c + r) % 100}`, `+1${String(r).padStart(2, '0')}`, { customer_id: customer, priority: r }));
      }
    }
    routes.push(route('default-all', 'p99', 'all'));
    const snap = buildDialPlanSnapshot(providers, routes);
    expect(snap.routeCount).toBe(50_001);
    const customer = `${(1234).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    // Targets are +100..+124 per customer; +1055512 matches +105 only, then the default `all`.
    expect(planAttempts(snap, '+1055512', customer).map((c) => `${c.route.id}:${c.provider.id}`)).toEqual([
      'r1234-5:p39',
      'default-all:p99',
    ]);
    expect(planAttempts(snap, '+4420', customer).map((c) => c.route.id)).toEqual(['default-all']);
  });
});

describe('applyRoutingChanges: the compact, incremental index (docs/performance.md §4)', () => {
  it('gives what a full rebuild gives after random creates, moves, re-prioritisations and deletes, leaving earlier snapshots as they were', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const providers = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'].map((id) => provider(id));
    const customers = [CUSTOMER_A, CUSTOMER_B, DEFAULT_CUSTOMER_ID];
    const targets = ['all', '+1', '+15', '+155', '+1555', '+15551234567', '+44', '+4420'];
    const numbers = ['+15551234567', '+15559999999', '+442071234567', '+4930123', '+1'];
    const rows = new Map<string, RouteRecord>();
    let snap = buildDialPlanSnapshot(providers, []);
    const history: Array<{ snap: typeof snap; expected: string[][] }> = [];
    const view = (s: typeof snap) => customers.flatMap((c) => numbers.map((n) => planAttempts(s, n, c).map((x) => `${x.route.id}:${x.provider.id}:${x.route.priority}:${x.route.target}`)));
    for (let step = 0; step < 400; step++) {
      const existing = [...rows.values()].filter((r) => r.tm_delete !== DELETED_AT);
      let row: RouteRecord;
      const roll = rand();
      if (existing.length === 0 || roll < 0.4) {
        row = route(`r${step}`, pick(providers).id, pick(targets), { customer_id: pick(customers), priority: Math.floor(rand() * 4), tm_create: `2026-01-01T00:00:${String(step % 60).padStart(2, '0')}.${String(step).padStart(6, '0')}Z` });
      } else if (roll < 0.8) {
        const r = pick(existing);
        row = { ...r, target: pick(targets), priority: Math.floor(rand() * 4), provider_id: pick(providers).id };
      } else if (roll < 0.9) {
        row = { ...pick(existing), name: `renamed ${step}` };
      } else {
        row = { ...pick(existing), tm_delete: DELETED_AT };
      }
      rows.set(row.id, row);
      snap = applyRoutingChanges(snap, [{ kind: 'route', row }]);
      const rebuilt = buildDialPlanSnapshot(providers, [...rows.values()]);
      expect(view(snap)).toEqual(view(rebuilt));
      expect(snap.routeCount).toBe(rebuilt.routeCount);
      if (step % 50 === 0) history.push({ snap, expected: view(snap) });
    }
    for (const h of history) expect(view(h.snap)).toEqual(h.expected);
  });

  it('keeps only what routing reads of a route', () => {
    const snap = buildDialPlanSnapshot([provider('p1')], [route('r1', 'p1', '+1', { ...A, priority: 3 })]);
    expect(planAttempts(snap, NUMBER, CUSTOMER_A)[0]!.route).toEqual({ id: 'r1', customer_id: CUSTOMER_A, provider_id: 'p1', priority: 3, target: '+1' });
  });
});

describe('the dial plan at scale: numeric prefix keys, providers by index, incremental changes', () => {
  /** The plan read straight off the rows (docs/routing.md §2), to hold the index against. */
  function naive(rows: Iterable<RouteRecord>, providers: ReadonlyMap<string, ProviderRecord>, number: string, customer: string): string[] {
    const matches: Array<{ r: RouteRecord; rank: number; len: number }> = [];
    for (const r of rows) {
      if (r.tm_delete === DELETED_AT || !providers.has(r.provider_id)) continue;
      const rank = r.customer_id === customer ? 0 : r.customer_id === DEFAULT_CUSTOMER_ID ? 1 : -1;
      if (rank < 0) continue;
      if (r.target !== 'all' && !number.startsWith(r.target)) continue;
      matches.push({ r, rank, len: r.target === 'all' ? 0 : r.target.length });
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    matches.sort((a, b) => a.rank - b.rank || b.len - a.len || a.r.priority - b.r.priority || cmp(a.r.tm_create, b.r.tm_create) || cmp(a.r.id, b.r.id));
    const seen = new Set<string>();
    const first: string[] = [];
    const last: string[] = [];
    for (const { r } of matches) {
      if (seen.has(r.provider_id)) continue;
      seen.add(r.provider_id);
      const p = providers.get(r.provider_id)!;
      (p.health_status === 'unhealthy' || p.registration_status === 'failed' ? last : first).push(`${r.id}:${r.provider_id}:${r.priority}:${r.target}:${r.customer_id}`);
    }
    return first.concat(last);
  }

  it('answers as the rows do after batches of adds, re-prioritisations, target and provider moves, deletes and provider health changes', () => {
    let seed = 1234;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    // More providers than the lookup's first seen-array holds (it grows).
    const providers = new Map(Array.from({ length: 120 }, (_, i) => [`p${i}`, provider(`p${i}`, i % 17 === 3 ? { health_status: 'unhealthy' } : i % 23 === 5 ? { registration_status: 'failed' } : {})]));
    const customers = Array.from({ length: 300 }, (_, c) => `${c.toString(16).padStart(8, '0')}-0000-4000-8000-00000000000c`);
    // Leading zeros, 15-digit targets, and prefixes of one another.
    const targets = ['all', '+0', '+00', '+001', '+01', '+1', '+15', '+155', '+1555', '+15551', '+155512', '+15551234567', '+155512345678901', '+155512345678902', '+44', '+4420', '+44207', '+49', '+493', '+4930', '+86', '+861', '+8613', '+999999999999999'];
    const numbers = ['+15551234567', '+155512345678901', '+155512345678909', '+15559999999', '+442071234567', '+4930123456', '+8613912345678', '+0012345', '+0198765', '+00', '+999999999999999', '+999999999999998', '+1', '+4420x123', '+7123', '15551234567'];
    let micros = 0;
    const created = () => {
      const n = Math.floor(micros++ / 3); // some routes share a tm_create: the id breaks the tie
      return `2026-01-01T${String(Math.floor(n / 3_600_000_000) % 24).padStart(2, '0')}:${String(Math.floor(n / 60_000_000) % 60).padStart(2, '0')}:${String(Math.floor(n / 1_000_000) % 60).padStart(2, '0')}.${String(n % 1_000_000).padStart(6, '0')}Z`;
    };
    const rows = new Map<string, RouteRecord>();
    const byCustomer = new Map<string, Map<string, RouteRecord>>();
    const put = (r: RouteRecord) => {
      rows.set(r.id, r);
      let m = byCustomer.get(r.customer_id);
      if (m === undefined) byCustomer.set(r.customer_id, (m = new Map()));
      m.set(r.id, r);
    };
    let next = 0;
    const fresh = (customer: string) => route(`r${next++}`, pick([...providers.keys()]), pick(targets), { customer_id: customer, priority: Math.floor(rand() * 4), tm_create: created() });
    for (let i = 0; i < 500; i++) put(fresh(DEFAULT_CUSTOMER_ID));
    for (const c of customers) for (let i = 0; i < 100; i++) put(fresh(c));
    let snap = buildDialPlanSnapshot([...providers.values()], [...rows.values()]);
    expect(snap.routeCount).toBe(30_500);

    const view = (s: typeof snap, cs: readonly string[]) => cs.flatMap((c) => numbers.map((n) => planAttempts(s, n, c).map((x) => `${x.route.id}:${x.provider.id}:${x.route.priority}:${x.route.target}:${x.route.customer_id}`)));
    const expected = (cs: readonly string[]) => cs.flatMap((c) => numbers.map((n) => naive([...(byCustomer.get(c)?.values() ?? []), ...(c === DEFAULT_CUSTOMER_ID ? [] : byCustomer.get(DEFAULT_CUSTOMER_ID)!.values())], providers, n, c)));
    expect(view(snap, customers.slice(0, 40))).toEqual(expected(customers.slice(0, 40)));

    const history: Array<{ snap: typeof snap; customers: string[]; view: string[][] }> = [];
    const kinds = { add: 0, priority: 0, target: 0, provider: 0, rename: 0, delete: 0, health: 0 };
    for (let step = 0; step < 250; step++) {
      const batch: Array<{ kind: 'route'; row: RouteRecord } | { kind: 'provider'; row: ProviderRecord }> = [];
      const touched = new Set<string>();
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) {
        const customer = rand() < 0.2 ? DEFAULT_CUSTOMER_ID : pick(customers);
        touched.add(customer);
        const live = [...byCustomer.get(customer)!.values()].filter((r) => r.tm_delete !== DELETED_AT);
        const roll = rand();
        let row: RouteRecord;
        if (roll < 0.2 || live.length === 0) {
          row = fresh(customer);
          kinds.add++;
        } else if (roll < 0.4) {
          row = { ...pick(live), priority: Math.floor(rand() * 4) };
          kinds.priority++;
        } else if (roll < 0.6) {
          row = { ...pick(live), target: pick(targets) };
          kinds.target++;
        } else if (roll < 0.7) {
          row = { ...pick(live), provider_id: pick([...providers.keys()]) };
          kinds.provider++;
        } else if (roll < 0.75) {
          row = { ...pick(live), name: `renamed ${step}` };
          kinds.rename++;
        } else if (roll < 0.9) {
          row = { ...pick(live), tm_delete: DELETED_AT };
          kinds.delete++;
        } else {
          const p = providers.get(pick([...providers.keys()]))!;
          const changed = { ...p, health_status: p.health_status === 'unhealthy' ? ('healthy' as const) : ('unhealthy' as const) };
          providers.set(changed.id, changed);
          batch.push({ kind: 'provider', row: changed });
          kinds.health++;
          continue;
        }
        put(row);
        batch.push({ kind: 'route', row });
      }
      snap = applyRoutingChanges(snap, batch);
      const check = [...touched, DEFAULT_CUSTOMER_ID, pick(customers)];
      expect(view(snap, check)).toEqual(expected(check));
      if (step % 50 === 0) {
        const rebuilt = buildDialPlanSnapshot([...providers.values()], [...rows.values()]);
        expect(snap.routeCount).toBe(rebuilt.routeCount);
        expect(view(snap, customers.slice(0, 30))).toEqual(view(rebuilt, customers.slice(0, 30)));
        history.push({ snap, customers: check, view: view(snap, check) });
      }
    }
    // A provider created after the build, then a route to it (its index is new to the columns).
    const late = provider('p-late');
    providers.set(late.id, late);
    const lateRoute = { ...fresh(customers[7]!), provider_id: late.id, target: '+15559', priority: 0 };
    put(lateRoute);
    snap = applyRoutingChanges(snap, [{ kind: 'provider', row: late }, { kind: 'route', row: lateRoute }]);
    expect(planAttempts(snap, '+15559999999', customers[7]!)[0]!.route.id).toBe(lateRoute.id);
    expect(view(snap, [customers[7]!, DEFAULT_CUSTOMER_ID])).toEqual(expected([customers[7]!, DEFAULT_CUSTOMER_ID]));
    // Every kind of change happened, and snapshots taken along the way still answer as they did.
    for (const n of Object.values(kinds)) expect(n).toBeGreaterThan(10);
    for (const h of history) expect(view(h.snap, h.customers)).toEqual(h.view);
  });
});
