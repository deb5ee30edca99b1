/**
 * An instance killed with SIGKILL in the middle of writes (docs/cluster.md §8.4): A is a separate
 * `outdial start` process on the shared PostgreSQL, written to by several clients at once when
 * it dies. Every write A acknowledged is in the database and in B's dial plan, nothing is
 * half-written, and B goes on taking writes and serving calls (A's open transaction and its
 * write lock died with its connections).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_SENTINEL } from '../../src/routing/model.ts';
import { ADMIN_PASSWORD, providerBody } from '../admin/support/admin-harness.ts';
import { storageEnv } from '../admin/support/test-storage.ts';
import { describeRun } from '../routing/support/routing-harness.ts';
import { ENGINE_URL_PASSWORD } from '../support/postgres-databases.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startCluster, until, type Cluster } from './support/cluster-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/outdial', import.meta.url));

let server: PostgresServer;
let cluster: Cluster | undefined;
let child: ChildProcess | undefined;

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  child = undefined;
  await cluster?.close();
  cluster = undefined;
});
afterAll(async () => {
  await server?.stop();
});

/** `outdial start` on the cluster's database; resolves with its admin API base URL. */
async function startProcess(env: Record<string, string>): Promise<{ base: string; output: () => string }> {
  child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env,
      ...env,
      OUTDIAL_HTTP_PORT: '0',
      OUTDIAL_SIP_HOST: '127.0.0.1',
      OUTDIAL_SIP_PORT: '0',
      OUTDIAL_EDGE_PORT: '0',
      OUTDIAL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      OUTDIAL_LOG_LEVEL: 'info',
      OUTDIAL_HEALTH_CHECK_INTERVAL_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 30 s:\n${out}`)), 30_000);
    child!.stdout!.on('data', () => {
      const m = /"port":(\d+)[^\n]*"msg":"admin API listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child!.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
  return { base: `http://127.0.0.1:${port}`, output: () => out };
}

describe('an instance killed with SIGKILL during writes', () => {
  it('loses no acknowledged write, leaves nothing half-written, and the other instance goes on', async () => {
    cluster = await startCluster(server);
    const b = await cluster.start('B');
    const a = await startProcess(storageEnv(cluster.storage));
    const token = await b.t.login(); // the signing key is the cluster's: B's token works on A
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${a.base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> & { id: string } };
    };

    // Through A: a carrier's provider and route, then writes from four clients at once.
    const carrier = await cluster.carrier('carrier-answer.xml');
    const first = await post('/v1.0/providers', { ...providerBody({ name: 'carrier' }), hostname: `127.0.0.1:${carrier.port}` });
    expect(first.status).toBe(200);
    const firstRoute = await post('/v1.0/routes', { customer_id: '00000000-0000-0000-0000-000000000001', name: 'all', detail: '', provider_id: first.body.id, priority: 1, target: '+1' });
    expect(firstRoute.status).toBe(200);
    const acked = new Map<string, Record<string, unknown>>([[first.body.id, first.body], [firstRoute.body.id, firstRoute.body]]);
    let sent = 0;
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        sent++;
        try {
          const p = await post('/v1.0/providers', providerBody({ name: `w${w}-${i}`, tech_headers: { 'X-Writer': String(w) }, codecs: 'PCMU,PCMA' }));
          if (p.status !== 200) throw new Error(`unexpected ${p.status}`);
          acked.set(p.body.id, p.body);
          const r = await post('/v1.0/routes', { customer_id: '00000000-0000-0000-0000-000000000001', name: `w${w}-${i}`, detail: '', provider_id: p.body.id, priority: 5, target: `+4${w}${i}` });
          if (r.status !== 200) throw new Error(`unexpected ${r.status}`);
          acked.set(r.body.id, r.body);
        } catch {
          return; // A is gone
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    await until(() => acked.size >= 40, 30_000, '40 acknowledged writes');
    const exited = new Promise((r) => child!.once('exit', r));
    child!.kill('SIGKILL');
    await exited;
    stop = true;
    await Promise.all(writers);
    expect(sent).toBeGreaterThan(acked.size / 2); // writes were in flight when it died

    // Every acknowledged row, exactly as acknowledged, through B; in B's dial plan too.
    const plan = () => b.t.engine.dialPlan.current();
    for (const [id, body] of acked) {
      const path = 'hostname' in body ? 'providers' : 'routes';
      const got = await b.t.request('GET', `/v1.0/${path}/${id}`, { token });
      expect([id, got.status]).toEqual([id, 200]);
      expect(got.body).toEqual(body);
    }
    await until(() => [...acked.values()].every((r) => ('hostname' in r ? plan().providers.has(r.id as string) : true)), 1000, "every acknowledged provider in B's dial plan");
    // Nothing half-written: every provider row that made it (acknowledged or not) is whole, and
    // every route names a live provider.
    const providers = (await b.t.db.rows('providers')) as Array<Record<string, string>>;
    for (const p of providers) {
      expect(p.tm_delete).toBe(LIVE_SENTINEL);
      expect(p.tm_create).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(JSON.parse(p.tech_headers!)).toBeTypeOf('object');
    }
    const providerIds = new Set(providers.map((p) => p.id));
    for (const r of (await b.t.db.rows('routes')) as Array<Record<string, string>>) expect(providerIds.has(r.provider_id!)).toBe(true);

    // B goes on: it takes writes (A's write lock died with its connection) and routes calls.
    const again = await b.t.request('POST', '/v1.0/providers', { token, body: providerBody({ name: 'after the crash' }) });
    expect(again.status).toBe(200);
    const platform = await b.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
    expect(a.output()).not.toContain(ENGINE_URL_PASSWORD);
  }, 90_000);
});
