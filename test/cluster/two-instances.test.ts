/**
 * Two whole engines on one real PostgreSQL 15 (docs/cluster.md §8): what is configured through
 * one is used by the other within a second (a real sipp call), credentials issued by one work on
 * the other, a restarted instance misses nothing, an instance whose listening connection was
 * cut follows the change log, and health probes run on one instance at a time.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, invitesReceived } from '../routing/support/routing-harness.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { ENGINE_URL_PASSWORD } from '../support/postgres-databases.ts';
import { startCluster, until, type Cluster } from './support/cluster-harness.ts';

let server: PostgresServer;
let cluster: Cluster | undefined;

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});
afterAll(async () => {
  await server?.stop();
});

/** The propagation bound of docs/cluster.md §8.3. */
const PROPAGATION_MS = 1000;

describe('two instances on one PostgreSQL', () => {
  it('a provider and a route created through A carry a real call through B within a second', async () => {
    cluster = await startCluster(server);
    const a = await cluster.start('A');
    const b = await cluster.start('B');
    const carrier = await cluster.carrier('carrier-answer.xml');
    expect(b.routes('+15551234567')).toBe(false);
    await cluster.provision(a, carrier, { target: '+1555' });
    await until(() => b.routes('+15551234567'), PROPAGATION_MS, "the route in B's dial plan");
    const platform = await b.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const carried = await carrier.done;
    expect(carried.code, describeRun('carrier', carried)).toBe(0);
    expect(invitesReceived(carried)).toHaveLength(1);
    // B placed it: the call record is B's.
    expect(b.t.logs.lines.filter((l) => l.msg === 'call ended')).toHaveLength(1);
    expect(a.t.logs.lines.filter((l) => l.msg === 'call ended')).toHaveLength(0);
    for (const i of [a, b]) expect(i.t.logs.text()).not.toContain(ENGINE_URL_PASSWORD);
  });

  it('an agent created on A logs in on B; tokens and access keys issued by either work on both', async () => {
    cluster = await startCluster(server);
    const a = await cluster.start('A');
    const b = await cluster.start('B');
    const created = await a.t.request('POST', '/v1.0/agents', { body: { username: 'alice', password: 'alice secret password', permission: 1 } });
    expect(created.status).toBe(200);
    const fromB = await b.t.login('alice', 'alice secret password');
    expect((await a.t.request('GET', '/v1.0/providers', { token: fromB })).status).toBe(200);
    const fromA = await a.t.login('alice', 'alice secret password');
    expect((await b.t.request('GET', '/v1.0/providers', { token: fromA })).status).toBe(200);
    const key = (await b.t.request('POST', '/v1.0/accesskeys', { token: fromB, body: { name: 'ci' } })).body.token as string;
    expect((await fetch(`${a.t.base}/v1.0/providers?accesskey=${key}`)).status).toBe(200);
    // A password changed through B ends the token A issued.
    expect((await b.t.request('PUT', `/v1.0/agents/${created.body.id}/password`, { token: fromB, body: { old_password: 'alice secret password', password: 'alice next password' } })).status).toBe(200);
    expect((await a.t.request('GET', '/v1.0/providers', { token: fromA })).status).toBe(401);
  });

  it('B restarted misses nothing A changed while it was away', async () => {
    cluster = await startCluster(server);
    const a = await cluster.start('A');
    let b = await cluster.start('B');
    const carrier = await cluster.carrier('carrier-answer.xml');
    const kept = await cluster.provision(a, carrier, { target: '+1' });
    const gone = await cluster.provision(a, carrier, { target: '+44', priority: 2 });
    await until(() => b.routes('+442071234567'), PROPAGATION_MS, 'B to follow');
    await b.stop();
    // While B is away: a route deleted, another added, a provider renamed.
    const token = await a.t.login();
    expect((await a.t.request('DELETE', `/v1.0/routes/${gone.routeId}`, { token })).status).toBe(200);
    expect((await a.t.request('DELETE', `/v1.0/providers/${gone.providerId}`, { token })).status).toBe(200);
    const added = (await a.t.request('POST', '/v1.0/routes', { token, body: { customer_id: '00000000-0000-0000-0000-000000000001', name: 'nz', detail: '', provider_id: kept.providerId, priority: 1, target: '+64' } })).body;
    const renamed = (await a.t.request('PUT', `/v1.0/providers/${kept.providerId}`, { token, body: { type: 'sip', hostname: `127.0.0.1:${carrier.port}`, name: 'renamed while B was away', detail: '' } })).body;
    b = await cluster.start('B');
    const snapshotOf = (i: typeof a) => {
      const plan = i.t.engine.dialPlan.current();
      return { providers: [...plan.providers.values()].map((p) => [p.id, p.name, p.tm_update]).sort(), routes: i.routes('+6491234567') && !i.routes('+442071234567') };
    };
    expect(snapshotOf(b)).toEqual(snapshotOf(a));
    expect(b.t.engine.dialPlan.current().providers.get(kept.providerId)?.name).toBe(renamed.name);
    expect(added.target).toBe('+64');
    const platform = await b.platform('platform-call.xml', '+6491234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
  });

  it("B's listening connection cut: what A commits meanwhile reaches B from the change log, and B routes calls with it", async () => {
    cluster = await startCluster(server);
    const a = await cluster.start('A');
    // B waits 20 s before listening again, so whatever it learns until then comes from the log.
    const b = await cluster.start('B', {}, { feed: { pollDownMs: 200, minReconnectDelayMs: 20_000 } });
    const carrier = await cluster.carrier('carrier-answer.xml');
    await until(() => b.pg.feed.state === 'listening', 5000, 'B listening');
    const pid = b.pg.feed.listenerPid();
    const admin = await import('pg').then((m) => new m.default.Client({ connectionString: cluster!.storage.kind === 'postgres' ? cluster!.storage.database.adminUrl : '' }));
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    await until(() => b.pg.feed.state === 'down', 5000, 'B to notice the cut');
    await cluster.provision(a, carrier, { target: '+1555' });
    await until(() => b.routes('+15551234567'), PROPAGATION_MS, "the route in B's dial plan, from the change log");
    expect(b.pg.feed.state).toBe('down');
    const platform = await b.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
    // (Listening again afterwards, and catching up then: test/cluster/postgres-store.test.ts.)
  });

  it('health probes run on one instance at a time; the other learns the results; a stopped prober hands over', async () => {
    cluster = await startCluster(server);
    const routing = { healthCheckIntervalMs: 300, healthCheckTimeoutMs: 200 };
    const a = await cluster.start('A', { routing }, { cluster: { leaseTtlMs: 6000 } });
    const b = await cluster.start('B', { routing }, { cluster: { leaseTtlMs: 6000 } });
    const carrier = await cluster.carrier('carrier-options.xml', { calls: 1000, timeoutSec: 30 });
    const { providerId } = await cluster.provision(a, carrier);
    const probing = (i: typeof a) => i.t.logs.lines.some((l) => l.msg === 'provider health probing started');
    await until(() => a.t.engine.dialPlan.current().providers.get(providerId)?.health_status === 'healthy', 5000, 'a probe result');
    // Both dial plans say healthy (the result is a store change like any other).
    await until(() => b.t.engine.dialPlan.current().providers.get(providerId)?.health_status === 'healthy', PROPAGATION_MS, 'B to learn it');
    expect([probing(a), probing(b)].filter(Boolean)).toHaveLength(1);
    const [holder, other] = probing(a) ? [a, b] : [b, a];
    await new Promise((r) => setTimeout(r, 1000));
    await holder.stop();
    // A clean stop releases the lease: the other takes it at its next try (every third of the lease time).
    await until(() => probing(other), 6000, 'the other instance to take the probes over');
    await new Promise((r) => setTimeout(r, 1000));
    const received = await carrier.stop();
    // Every probe came from one edge at a time: first the holder's, then the other's.
    const sources = received.messages
      .split(/\n(?=-{10,})/)
      .filter((block) => /received/i.test(block) && /^OPTIONS /m.test(block))
      .map((block) => Number(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:(\d+)/im.exec(block)?.[1]));
    expect(sources.length).toBeGreaterThan(3);
    const switchAt = sources.findIndex((p) => p === other.sip.port);
    expect(switchAt, `probe sources ${sources.join(',')}`).toBeGreaterThan(0);
    expect(sources.slice(0, switchAt).every((p) => p === holder.sip.port)).toBe(true);
    expect(sources.slice(switchAt).every((p) => p === other.sip.port)).toBe(true);
  });
});
