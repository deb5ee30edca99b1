/**
 * Several whole engines (admin API, call routing, embedded SIP edge) as instances of one cluster:
 * one PostgreSQL database shared by all (a throwaway server of the test file's), optionally one
 * Redis, sipp as the media platform and the carriers. Each instance is a TestEngine
 * (test/admin/support/admin-harness.ts) on the cluster's storage.
 */
import type { Config } from '../../../src/config/config-schema.ts';
import type { DeepPartial } from '../../../src/config/load-config.ts';
import type { EngineOptions } from '../../../src/engine.ts';
import { computeAttempts } from '../../../src/routing/dial-route-preview.ts';
import { DEFAULT_CUSTOMER_ID } from '../../../src/routing/model.ts';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';
import { startTestEngine, type TestEngine } from '../../admin/support/admin-harness.ts';
import { createTestStorage, type TestStorage } from '../../admin/support/test-storage.ts';
import { renderScenario } from '../../support/scenario-template.ts';
import { startSipp, type SippResult, type SippRun } from '../../support/sipp.ts';
import { preparePostgresForEngines } from '../../support/postgres-databases.ts';
import type { PostgresServer } from '../../support/postgres-server.ts';

export interface Instance {
  readonly name: string;
  readonly t: TestEngine;
  readonly sip: { host: string; port: number };
  /** the store, as PostgreSQL (its change feed) */
  readonly pg: PostgresStore;
  /** the platform placing one call to `number` through this instance */
  platform(scenario: string, number: string, opts?: { pauseMs?: number; timeoutSec?: number }): Promise<SippResult>;
  /** whether this instance's dial plan has a route for `number` (default customer) */
  routes(number: string): boolean;
  /** stops the instance (a restart or a stop); the cluster's database stays */
  stop(): Promise<void>;
}

export interface Cluster {
  readonly storage: TestStorage;
  /** starts an instance on the cluster's database (config overrides and engine hooks as for a test engine) */
  start(name: string, overrides?: DeepPartial<Config>, engineOptions?: Pick<EngineOptions, 'feed' | 'cluster'>): Promise<Instance>;
  /** a sipp carrier (UAS) on its own port; `scenario` is a file under test/sipp/routing/ */
  carrier(scenario: string, opts?: { calls?: number; values?: Record<string, string>; timeoutSec?: number }): Promise<SippRun>;
  /** a provider pointing at `carrier` and a route to it, created through `via`; returns both ids */
  provision(via: Instance, carrier: SippRun, route?: { target?: string; priority?: number }): Promise<{ providerId: string; routeId: string }>;
  /** stops every instance and sipp run, and drops the database */
  close(): Promise<void>;
}

export async function startCluster(server: PostgresServer): Promise<Cluster> {
  await preparePostgresForEngines(server.url);
  const storage = await createTestStorage({ kind: 'postgres', server: { url: server.url, dataDir: `${server.dir}/data` } });
  const instances = new Set<Instance>();
  const runs = new Set<SippRun>();
  const track = (r: SippRun) => {
    runs.add(r);
    return r;
  };
  let token: string | undefined;

  const cluster: Cluster = {
    storage,
    async start(name, overrides = {}, engineOptions = {}) {
      const t = await startTestEngine({
        storage,
        overrides: {
          log: { level: 'debug' },
          ...overrides,
          sip: { host: '127.0.0.1', port: 0, t1Ms: 100, ...overrides.sip },
          edge: { host: '127.0.0.1', port: 0, ...overrides.edge },
          routing: { connectTimeoutMs: 1000, ...overrides.routing },
        },
        engineOptions: { ...engineOptions, cluster: { instanceId: name, ...engineOptions.cluster } },
      });
      const sip = t.engine.sip!;
      if (!(t.engine.store instanceof PostgresStore)) throw new Error('a cluster instance runs on PostgreSQL');
      const instance: Instance = {
        name,
        t,
        sip,
        pg: t.engine.store,
        async platform(scenario, number, opts = {}) {
          const run = track(
            await startSipp({
              scenario: `routing/${scenario}`,
              transport: 'udp',
              remote: sip,
              service: number,
              timeoutSec: opts.timeoutSec ?? 15,
              keys: { customer_header: 'X-Platform-Leg: a' },
              extraArgs: ['-d', String(opts.pauseMs ?? 200)],
            }),
          );
          return run.done;
        },
        routes: (number) => computeAttempts(t.engine.dialPlan.current(), number, DEFAULT_CUSTOMER_ID).length > 0,
        async stop() {
          instances.delete(instance);
          await t.close(true);
        },
      };
      instances.add(instance);
      return instance;
    },
    async carrier(scenario, opts = {}) {
      const file = opts.values ? renderScenario(`routing/${scenario}`, opts.values) : `routing/${scenario}`;
      return track(await startSipp({ scenario: file, transport: 'udp', calls: opts.calls ?? 1, timeoutSec: opts.timeoutSec ?? 20 }));
    },
    async provision(via, carrier, route = {}) {
      token ??= await via.t.login();
      const hostname = `127.0.0.1:${carrier.port}`;
      const p = await via.t.request('POST', '/v1.0/providers', {
        token,
        body: { type: 'sip', hostname, tech_prefix: '', tech_postfix: '', tech_headers: {}, name: `carrier ${hostname}`, detail: '' },
      });
      if (p.status !== 200) throw new Error(`provider create failed: ${p.status} ${p.text}`);
      const r = await via.t.request('POST', '/v1.0/routes', {
        token,
        body: { customer_id: DEFAULT_CUSTOMER_ID, name: `route to ${hostname}`, detail: '', provider_id: p.body.id, priority: route.priority ?? 1, target: route.target ?? '+1' },
      });
      if (r.status !== 200) throw new Error(`route create failed: ${r.status} ${r.text}`);
      return { providerId: p.body.id as string, routeId: r.body.id as string };
    },
    async close() {
      for (const r of runs) await r.stop();
      for (const i of [...instances]) await i.stop();
      await storage.remove();
    },
  };
  return cluster;
}

/** Polls `check` every 10 ms; fails after `timeoutMs` naming what it waited for. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}
