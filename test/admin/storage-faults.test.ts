import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { fillDatabase, sqliteDb } from './support/sqlite-db.ts';

let t: TestEngine | undefined;
const others: Database.Database[] = [];
afterEach(async () => {
  for (const db of others.splice(0)) if (db.open) db.close();
  await t?.close();
  t = undefined;
});

const providerCount = (e: TestEngine) => (sqliteDb(e.engine.store).prepare('SELECT count(*) AS n FROM providers').get() as { n: number }).n;

async function health(e: TestEngine) {
  const r = await e.request('GET', '/healthz', { token: null });
  return { status: r.status, reason: r.body.error?.reason as string | undefined, store: r.body.store ?? r.body.error?.details?.store };
}

const HEALTHY = { status: 200, reason: undefined, store: { readable: true, writable: true } };
const NOT_WRITABLE = { status: 503, reason: 'STORAGE_UNAVAILABLE', store: { readable: true, writable: false } };

describe('storage faults: 503 STORAGE_UNAVAILABLE, /healthz not writable, writes recover by themselves', () => {
  it('disk full (the file may not grow)', async () => {
    t = await startTestEngine();
    expect(await health(t)).toEqual(HEALTHY);
    let written = 0;
    const makeRoom = await fillDatabase(sqliteDb(t.engine.store), async () => {
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
    expect(providerCount(t)).toBe(written);
    expect((await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'y'.repeat(1000) }) })).status).toBe(503);
    expect(await health(t)).toEqual(NOT_WRITABLE);
    // Reads go on.
    expect((await t.request('GET', '/v1.0/providers')).body.result).toHaveLength(written);

    makeRoom();
    expect((await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'z'.repeat(1000) }) })).status).toBe(200);
    expect(await health(t)).toEqual(HEALTHY);
    expect(providerCount(t)).toBe(written + 1);
  });

  it('/healthz notices a full disk by itself, and its recovery, without a failed request first', async () => {
    t = await startTestEngine();
    const db = sqliteDb(t.engine.store);
    const makeRoom = await fillDatabase(db, async () => {
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

  it('a database locked by another process past the busy timeout', async () => {
    t = await startTestEngine({ overrides: { db: { busyTimeoutMs: 200 } } });
    const before = providerCount(t);
    const other = new Database(t.dbPath);
    others.push(other);
    other.exec('BEGIN IMMEDIATE');
    const r = await t.request('POST', '/v1.0/providers', { body: providerBody() });
    expect([r.status, r.body.error.reason]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(r.body.error.message).toMatch(/locked|busy/i);
    expect(await health(t)).toEqual(NOT_WRITABLE);
    other.exec('ROLLBACK');
    expect((await t.request('POST', '/v1.0/providers', { body: providerBody() })).status).toBe(200);
    expect(await health(t)).toEqual(HEALTHY);
    expect(providerCount(t)).toBe(before + 1);
  });

  it('a read-only database (the connection refuses writes)', async () => {
    t = await startTestEngine();
    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    sqliteDb(t.engine.store).pragma('query_only = 1');
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
    sqliteDb(t.engine.store).pragma('query_only = 0');
    expect((await t.request('PUT', `/v1.0/providers/${p.id}`, { body: providerBody({ name: 'x' }) })).body.name).toBe('x');
    expect(await health(t)).toEqual(HEALTHY);
  });
});
