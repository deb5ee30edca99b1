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

  it('carrier settings: defaults, the kept password, registration state, settings values (docs/api.md §9, §18)', async () => {
    const { store } = tempStore();
    const changes: string[] = [];
    store.onChange((c) => changes.push(c.kind === 'provider' ? `${c.row.registration_status}/${c.row.tm_update}` : c.kind));
    const plain = await store.providers.create(provider());
    expect(plain).toMatchObject({ auth_username: '', auth_password_sealed: '', register: false, register_expires: 3600, registration_status: 'off', leading_plus: true, transport: 'udp', max_calls: 0, max_cps: 0 });
    const p = await store.providers.create(provider({ auth_username: 'u', auth_password_sealed: 'sb1.opaque', register: true, max_cps: 0.5 }));
    expect(p).toMatchObject({ registration_status: 'registering', max_cps: 0.5, auth_password_sealed: 'sb1.opaque' });
    // omitted password: kept; registration settings unchanged: status kept
    await store.providers.setRegistration(p.id, 'registered', '2026-01-01T00:00:00.000000Z');
    const renamed = await store.providers.replace(p.id, provider({ name: 'x', auth_username: 'u', register: true, max_cps: 0.5 }));
    expect(renamed).toMatchObject({ auth_password_sealed: 'sb1.opaque', registration_status: 'registered', registration_checked_at: '2026-01-01T00:00:00.000000Z' });
    // a new password: registration starts over
    expect(await store.providers.replace(p.id, provider({ auth_username: 'u', auth_password_sealed: 'sb1.new', register: true }))).toMatchObject({ registration_status: 'registering', registration_checked_at: null });
    // without a user name no password is kept, whatever was given
    expect(await store.providers.replace(p.id, provider({ auth_password_sealed: 'sb1.orphan' }))).toMatchObject({ auth_username: '', auth_password_sealed: '', register: false, registration_status: 'off' });
    // a registrar result is a change for the dial plan, not a configuration change
    const before = (await store.providers.get(p.id))!.tm_update;
    await store.providers.setRegistration(p.id, 'failed', '2026-01-02T00:00:00.000000Z');
    expect(changes.at(-1)).toBe(`failed/${before}`);

    expect(await store.settings.putIfAbsent('k', 'first')).toBe('first');
    expect(await store.settings.putIfAbsent('k', 'second')).toBe('first');
    await store.settings.remove('k');
    expect(await store.settings.get('k')).toBeUndefined();
    expect(await store.settings.putIfAbsent('k', 'third')).toBe('third');
  });

  it('the CHECK constraints refuse carrier settings the API would have refused', () => {
    const { store } = tempStore();
    const db = store.db;
    expect(() => db.prepare("UPDATE providers SET transport = 'sctp'").run()).not.toThrow(); // no rows yet
    db.prepare(
      "INSERT INTO providers (id, type, hostname, tech_prefix, tech_postfix, tech_headers, name, detail, codecs, metadata, health_status, tm_create, tm_update, tm_delete) VALUES ('x', 'sip', 'h', '', '', '{}', '', '', '', '{}', 'unknown', 'a', 'a', 'a')",
    ).run();
    for (const bad of ["transport = 'sctp'", 'register_expires = 59', 'max_calls = -1', 'max_cps = -0.5', "registration_status = 'maybe'", 'register = 2']) {
      expect(() => db.prepare(`UPDATE providers SET ${bad}`).run(), bad).toThrow(/CHECK constraint failed/);
    }
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
