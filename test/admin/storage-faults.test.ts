import { afterEach, describe, expect, it } from 'vitest';
import { providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { ENGINE_URL_PASSWORD } from '../support/postgres-databases.ts';
import { testStoreKind } from './support/test-storage.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const providerCount = (e: TestEngine) => e.db.count('providers');

async function health(e: TestEngine) {
  const r = await e.request('GET', '/healthz', { token: null });
  return { status: r.status, reason: r.body.error?.reason as string | undefined, store: r.body.store ?? r.body.error?.details?.store };
}

const HEALTHY = { status: 200, reason: undefined, store: { readable: true, writable: true } };
const NOT_WRITABLE = { status: 503, reason: 'STORAGE_UNAVAILABLE', store: { readable: true, writable: false } };
const UNREACHABLE = { status: 503, reason: 'STORAGE_UNAVAILABLE', store: { readable: false, writable: false } };

describe('storage faults: 503 STORAGE_UNAVAILABLE, /healthz not writable, writes recover by themselves', () => {
  it('a database locked by another writer past the busy timeout', async () => {
    t = await startTestEngine({ overrides: { db: { busyTimeoutMs: 200 } } });
    const before = await providerCount(t);
    const release = await t.db.lockWrites();
    const r = await t.request('POST', '/v1.0/providers', { body: providerBody() });
    expect([r.status, r.body.error.reason]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(r.body.error.message).toMatch(/locked|busy/i);
    expect(await health(t)).toEqual(NOT_WRITABLE);
    await release();
    expect((await t.request('POST', '/v1.0/providers', { body: providerBody() })).status).toBe(200);
    expect(await health(t)).toEqual(HEALTHY);
    expect(await providerCount(t)).toBe(before + 1);
  });

  it('a read-only database (the connection refuses writes)', async () => {
    t = await startTestEngine();
    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    const restore = await t.db.refuseWrites();
    for (const [method, path, body] of [
      ['POST', '/v1.0/providers', providerBody()],
      ['PUT', `/v1.0/providers/${p.id}`, providerBody({ name: 'x' })],
      ['DELETE', `/v1.0/providers/${p.id}`, undefined],
      ['POST', '/v1.0/agents', { username: 'x', password: 'long enough password', permission: 0 }],
    ] as const) {
      const r = await t.request(method, path, body === undefined ? {} : { body });
      expect([method, path, r.status, r.body.error.reason]).toEqual([method, path, 503, 'STORAGE_UNAVAILABLE']);
    }
    expect(await health(t)).toEqual(NOT_WRITABLE);
    expect((await t.request('GET', `/v1.0/providers/${p.id}`)).body).toEqual(p);
    await restore();
    expect((await t.request('PUT', `/v1.0/providers/${p.id}`, { body: providerBody({ name: 'x' }) })).body.name).toBe('x');
    expect(await health(t)).toEqual(HEALTHY);
  });

  it('/healthz notices writes being refused by itself, and their return, without a failed request first', async () => {
    t = await startTestEngine();
    expect(await health(t)).toEqual(HEALTHY);
    const restore = await t.db.refuseWrites();
    // The probe result is reused for a second; the next probe sees the refusal.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await health(t)).toEqual(NOT_WRITABLE);
    await restore();
    await new Promise((r) => setTimeout(r, 1100));
    expect(await health(t)).toEqual(HEALTHY);
  });
});

if (testStoreKind() === 'sqlite') {
  describe('SQLite: a full disk', () => {
    it('disk full (the file may not grow)', async () => {
      t = await startTestEngine();
      expect(await health(t)).toEqual(HEALTHY);
      let written = 0;
      const makeRoom = await t.db.fill(async () => {
        const r = await t!.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'x'.repeat(1000) }) });
        if (r.status === 200) {
          written++;
          return true;
        }
        expect([r.status, r.body.error.status, r.body.error.reason]).toEqual([503, 'UNAVAILABLE', 'STORAGE_UNAVAILABLE']);
        expect(r.body.error.message).toMatch(/full/);
        return false;
      });
      // Nothing half-written: exactly the acknowledged rows are there.
      expect(await providerCount(t)).toBe(written);
      expect((await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'y'.repeat(1000) }) })).status).toBe(503);
      expect(await health(t)).toEqual(NOT_WRITABLE);
      // Reads go on.
      expect((await t.request('GET', '/v1.0/providers')).body.result).toHaveLength(written);

      makeRoom();
      expect((await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'z'.repeat(1000) }) })).status).toBe(200);
      expect(await health(t)).toEqual(HEALTHY);
      expect(await providerCount(t)).toBe(written + 1);
    });

    it('/healthz notices a full disk by itself, and its recovery, without a failed request first', async () => {
      t = await startTestEngine();
      const { sqliteDb } = await import('./support/sqlite-db.ts');
      const db = sqliteDb(t.engine.store);
      const makeRoom = await t.db.fill(async () => {
        try {
          db.prepare("INSERT INTO settings (key, value) VALUES (?, 'x')").run(`filler-${Math.random()}`.padEnd(900, 'x'));
          return true;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
          return false;
        }
      });
      // The probe result is reused for a second; the next probe sees the full file.
      await new Promise((r) => setTimeout(r, 1100));
      expect(await health(t)).toEqual(NOT_WRITABLE);
      makeRoom();
      expect(await health(t)).toEqual(HEALTHY);
    });
  });
} else {
  describe('PostgreSQL: the server unreachable', () => {
    it('every request needing the database answers 503, /healthz says unreadable, and all recovers by itself once it is back', async () => {
      t = await startTestEngine();
      const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
      const token = await t.login();
      await t.db.cutOff();
      for (const [method, path, body] of [
        ['GET', `/v1.0/providers/${p.id}`, undefined],
        ['GET', '/v1.0/providers', undefined],
        ['POST', '/v1.0/providers', providerBody()],
      ] as const) {
        const r = await t.request(method, path, { token, ...(body === undefined ? {} : { body }) });
        expect([method, path, r.status, r.body.error.reason]).toEqual([method, path, 503, 'STORAGE_UNAVAILABLE']);
        // The message names the database, never the URL's password.
        expect(r.body.error.message).toMatch(/postgres(ql)?:\/\/outdial_engine@127\.0\.0\.1:\d+\/t_|terminat/);
        expect(r.text).not.toContain(ENGINE_URL_PASSWORD);
      }
      expect(await health(t)).toEqual(UNREACHABLE);
      // Calls keep being routed from the dial plan in memory.
      expect(t.engine.dialPlan.current().providers.has(p.id)).toBe(true);
      await t.db.restoreConnections();
      expect((await t.request('POST', '/v1.0/providers', { token, body: providerBody({ name: 'after' }) })).status).toBe(200);
      expect(await health(t)).toEqual(HEALTHY);
      expect(await providerCount(t)).toBe(2);
      expect(t.logs.text()).not.toContain(ENGINE_URL_PASSWORD);
    });
  });
}
