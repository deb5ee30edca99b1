import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { LIVE_SENTINEL } from '../../src/routing/model.ts';
import { formatMicros, parseMicros } from '../../src/store/clock.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { schemaVersion } from '../../src/store/sqlite/sqlite-db.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { ProviderInput } from '../../src/store/store.ts';

const provider = (over: Partial<ProviderInput> = {}): ProviderInput => ({
  type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: '', ...over,
});

const dirs: string[] = [];
const stores: SqliteStore[] = [];
function tempStore(micros?: () => number): { store: SqliteStore; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'outdial-store-'));
  dirs.push(dir);
  const path = join(dir, 'outdial.db');
  const store = openSqliteStore({ path, logger: createCapturingLogger().logger, ...(micros ? { micros } : {}) });
  stores.push(store);
  return { store, path };
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('timestamps', () => {
  it('formats microseconds with six decimals and parses them back', () => {
    const t = Date.UTC(2026, 3, 23, 10, 0, 0, 123) * 1000 + 456;
    expect(formatMicros(t)).toBe('2026-04-23T10:00:00.123456Z');
    expect(parseMicros('2026-04-23T10:00:00.123456Z')).toBe(t);
    expect(parseMicros('2026-04-23 10:00:00.123456')).toBeUndefined();
  });

  it('never issues the same tm_create twice, even when the clock stands still', async () => {
    const frozen = Date.UTC(2026, 0, 1) * 1000;
    const { store } = tempStore(() => frozen);
    const created = [];
    for (let i = 0; i < 50; i++) created.push(await store.providers.create(provider()));
    const stamps = created.map((p) => p.tm_create);
    expect(new Set(stamps).size).toBe(50);
    expect([...stamps].sort()).toEqual(stamps);
    expect(stamps[0]).toBe('2026-01-01T00:00:00.000000Z');
    expect(stamps[49]).toBe('2026-01-01T00:00:00.000049Z');
  });
});

describe('database', () => {
  it('uses WAL, enforces foreign keys and records the schema version', () => {
    const { store } = tempStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(Number(store.db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    expect(() =>
      store.db.prepare("INSERT INTO routes VALUES ('r', 'c', '', '', 'no-such-provider', 1, 'all', 'a', 'a', 'a')").run(),
    ).toThrow(/FOREIGN KEY/);
  });

  it('reopening does not re-apply migrations', async () => {
    const { store, path } = tempStore();
    await store.providers.create(provider());
    await store.close();
    const again = openSqliteStore({ path, logger: createCapturingLogger().logger });
    stores.push(again);
    expect(schemaVersion(again.db)).toBe(MIGRATIONS.length);
    expect((await again.readLive()).providers).toHaveLength(1);
  });

  it('a second process writing the same file at the same time corrupts nothing and loses nothing', async () => {
    const { store, path } = tempStore();
    const writer = fileURLToPath(new URL('./support/store-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, '300', 'child'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Keep writing until the child has finished, so the two writers overlap for the child's whole run.
    let mine = 0;
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      await store.providers.create(provider({ name: `parent-${mine}` }));
      mine++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, err).toBe(0);
    expect(out).toContain('done');
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const all = (await store.readLive()).providers;
    expect(all).toHaveLength(mine + 300);
    expect(all.filter((p) => p.name.startsWith('child-'))).toHaveLength(300);
    expect(new Set(all.map((p) => p.tm_create)).size).toBe(all.length);
    // The writes really interleaved: in creation order, a parent row sits between two child rows.
    const order = all.map((p) => (p.name.startsWith('child-') ? 'c' : 'p')).join('');
    expect(order).toMatch(/c+p+c/);
  }, 60_000);
});

describe('RoutingSource', () => {
  it('readLive returns only live providers and routes', async () => {
    const { store } = tempStore();
    const a = await store.providers.create(provider({ name: 'a' }));
    const b = await store.providers.create(provider({ name: 'b' }));
    const r1 = await store.routes.create({ customer_id: '00000000-0000-0000-0000-000000000001', name: '', detail: '', provider_id: a.id, priority: 1, target: 'all' });
    const r2 = await store.routes.create({ customer_id: '00000000-0000-0000-0000-000000000001', name: '', detail: '', provider_id: a.id, priority: 2, target: '+1' });
    await store.routes.softDelete(r2.id);
    await store.providers.softDelete(b.id);
    const live = await store.readLive();
    expect(live.providers.map((p) => p.id)).toEqual([a.id]);
    expect(live.routes.map((r) => r.id)).toEqual([r1.id]);
    expect(live.routes[0]!.tm_delete).toBe(LIVE_SENTINEL);
    expect(live.providers[0]!.tech_headers).toEqual({});
  });

  it('tells listeners after every committed provider or route change, not after a refused one', async () => {
    const { store } = tempStore();
    // What a listener reads when told: the change is already committed.
    const seen: Array<Promise<string>> = [];
    const off = store.onChange(() => seen.push(store.readLive().then((l) => `${l.providers.length}/${l.routes.length}`)));
    const p = await store.providers.create(provider());
    await store.providers.replace(p.id, provider({ codecs: 'PCMU' }));
    const r = await store.routes.create({ customer_id: '00000000-0000-0000-0000-000000000001', name: '', detail: '', provider_id: p.id, priority: 1, target: 'all' });
    await expect(store.providers.softDelete(p.id)).rejects.toThrow(/in use|live routes/);
    await store.routes.replace(r.id, { name: 'x', detail: '', provider_id: p.id, priority: 2, target: '+1' });
    await store.routes.softDelete(r.id);
    await store.providers.softDelete(p.id);
    expect(await Promise.all(seen)).toEqual(['1/0', '1/0', '1/1', '1/1', '1/0', '0/0']);
    off();
    await store.providers.create(provider());
    expect(seen).toHaveLength(6);
  });

  it('a PUT that changes the hostname resets health; one that does not keeps it', async () => {
    const { store } = tempStore();
    const p = await store.providers.create(provider());
    await store.providers.setHealth(p.id, 'healthy', '2026-01-01T00:00:00.000000Z');
    expect(await store.providers.replace(p.id, provider({ name: 'renamed' }))).toMatchObject({ health_status: 'healthy', health_checked_at: '2026-01-01T00:00:00.000000Z' });
    expect(await store.providers.replace(p.id, provider({ hostname: 'other.example.com' }))).toMatchObject({ health_status: 'unknown', health_checked_at: null });
  });

  it('tells listeners about commits made through another connection to the same file', async () => {
    const { store, path } = tempStore();
    const other = openSqliteStore({ path, logger: createCapturingLogger().logger });
    stores.push(other);
    let calls = 0;
    store.onChange(() => calls++);
    store.watchExternalChanges(20);
    await other.providers.create(provider({ name: 'from elsewhere' }));
    await vi.waitFor(() => expect(calls).toBe(1), { timeout: 5000, interval: 20 });
    expect((await store.readLive()).providers.map((p) => p.name)).toEqual(['from elsewhere']);
  });
});
