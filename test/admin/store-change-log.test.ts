/**
 * The SQLite change log (migration 5, docs/performance.md §8): another process's commits reach
 * this process's dial plan row by row, without a full read, on real database files, with the
 * other writer a real second process (test/admin/support/change-log-writer.ts).
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DialPlanCache } from '../../src/call/dial-plan-cache.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { planAttempts } from '../../src/routing/dial-plan.ts';
import { DEFAULT_CUSTOMER_ID, type RoutingChange } from '../../src/routing/model.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { PRUNE_BATCH } from '../../src/store/sqlite/sqlite-change-log.ts';
import { schemaVersion } from '../../src/store/sqlite/sqlite-db.ts';
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/sqlite-store.ts';
import type { ProviderInput } from '../../src/store/store.ts';

const WRITER = fileURLToPath(new URL('./support/change-log-writer.ts', import.meta.url));

const provider = (name: string): ProviderInput => ({
  type: 'sip', hostname: `${name}.example.com`, tech_prefix: '', tech_postfix: '', tech_headers: {}, name, detail: '', codecs: '',
});

const dirs: string[] = [];
const stores: SqliteStore[] = [];
const caches: DialPlanCache[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'outdial-changelog-'));
  dirs.push(dir);
  return join(dir, 'outdial.db');
}
function open(path: string, options: Partial<SqliteStoreOptions> = {}) {
  const log = createCapturingLogger('debug');
  const store = openSqliteStore({ path, logger: log.logger, ...options });
  stores.push(store);
  const changes: RoutingChange[] = [];
  store.onChange((c) => changes.push(c));
  return { store, log, changes };
}
afterEach(async () => {
  for (const c of caches.splice(0)) c.close();
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs one step of the writer process to completion; resolves what it printed (JSON). */
function otherProcess(path: string, ...args: string[]): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()!) as Record<string, string>);
      else reject(new Error(`writer ${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

async function loadPlan(store: SqliteStore) {
  const fullReads = vi.spyOn(store, 'readLiveInto');
  const cache = await DialPlanCache.load(store, createCapturingLogger('info').logger);
  caches.push(cache);
  return { cache, fullReads };
}

const providersOf = (cache: DialPlanCache, number: string, customer = DEFAULT_CUSTOMER_ID) =>
  planAttempts(cache.current(), number, customer).map((c) => c.provider.id);
const kinds = (changes: RoutingChange[]) => changes.map((c) => c.kind);
const routeRows = (changes: RoutingChange[], id: string) => changes.flatMap((c) => (c.kind === 'route' && c.row.id === id ? [c.row] : []));

describe('the SQLite change log: commits of another process', () => {
  it('its provider and route writes reach the dial plan as row changes, without a full read', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path);
    const { cache, fullReads } = await loadPlan(store);
    store.watchExternalChanges(20);
    const ids = await otherProcess(path, 'create', 'elsewhere', DEFAULT_CUSTOMER_ID, '+49');
    await vi.waitFor(() => expect(providersOf(cache, '+4930123456')).toEqual([ids.provider]), { timeout: 5000, interval: 20 });
    expect(fullReads).toHaveBeenCalledTimes(1); // the load; no reload since
    expect(kinds(changes)).toEqual(['provider', 'route']); // commit order: the provider first
    expect(changes[0]).toMatchObject({ kind: 'provider', row: { id: ids.provider, name: 'elsewhere', hostname: 'elsewhere.example.com' } });
    expect(changes[1]).toMatchObject({ kind: 'route', row: { id: ids.route, provider_id: ids.provider, target: '+49', priority: 1 } });
    expect(log.lines.filter((l) => String(l.msg).includes('reloading'))).toEqual([]);
    expect(store.changeLog.position).toBe((store.db.prepare('SELECT max(seq) AS s FROM change_log').get() as { s: number }).s);
  }, 60_000);

  it('plain SQL writes (no outdial code) are seen, as the rows committed', async () => {
    const path = tempPath();
    const { store, changes } = open(path);
    const p = await store.providers.create(provider('mine'));
    const { cache, fullReads } = await loadPlan(store);
    store.watchExternalChanges(20);
    changes.length = 0;
    await otherProcess(
      path,
      'sql',
      `UPDATE providers SET hostname = 'moved.example.com' WHERE id = '${p.id}';
       INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete)
         VALUES ('route-by-sql', '${DEFAULT_CUSTOMER_ID}', 'by sql', '', '${p.id}', 2, '+33', '2026-01-01T00:00:00.000001Z', '2026-01-01T00:00:00.000001Z', '9999-01-01T00:00:00.000000Z');`,
    );
    await vi.waitFor(() => expect(providersOf(cache, '+33123456')).toEqual([p.id]), { timeout: 5000, interval: 20 });
    expect(fullReads).toHaveBeenCalledTimes(1);
    expect(kinds(changes)).toEqual(['provider', 'route']);
    expect(changes[0]).toMatchObject({ kind: 'provider', row: { id: p.id, hostname: 'moved.example.com' } });
    expect(cache.current().providers.get(p.id)?.hostname).toBe('moved.example.com');
    expect(routeRows(changes, 'route-by-sql')).toMatchObject([{ priority: 2, name: 'by sql' }]);
  }, 60_000);

  it('several changes to one row are announced once, as the last one left it, in the order of the log', async () => {
    const path = tempPath();
    const { store, changes } = open(path);
    const p = await store.providers.create(provider('mine'));
    const r1 = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'r1', detail: '', provider_id: p.id, priority: 1, target: '+44' });
    const r2 = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'r2', detail: '', provider_id: p.id, priority: 1, target: '+45' });
    store.checkExternalChanges(); // own commits only: nothing announced again
    changes.length = 0;
    // r1 three times through the store, then r2, then r1 again: three commits each way
    await otherProcess(path, 'priorities', r1.id, '5,7,3');
    await otherProcess(path, 'sql', `UPDATE routes SET priority = 6 WHERE id = '${r2.id}'; UPDATE routes SET priority = 8 WHERE id = '${r1.id}';`);
    store.checkExternalChanges();
    expect(changes.map((c) => (c.kind === 'route' ? `${c.row.name}:${c.row.priority}` : c.kind))).toEqual(['r2:6', 'r1:8']);
    store.checkExternalChanges();
    expect(changes).toHaveLength(2);
  }, 60_000);

  it('this process\'s own writes are announced once as they commit; with another\'s in between, again as committed', async () => {
    const path = tempPath();
    const { store, changes } = open(path);
    const p = await store.providers.create(provider('mine'));
    const r = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'r', detail: '', provider_id: p.id, priority: 1, target: '+46' });
    for (let i = 0; i < 3; i++) store.checkExternalChanges();
    expect(kinds(changes)).toEqual(['provider', 'route']);
    const head = store.changeLog.position;
    expect(head).toBe((store.db.prepare('SELECT max(seq) AS s FROM change_log').get() as { s: number }).s);
    // another process commits, then this one: the check re-announces the row as it now is (ours)
    await otherProcess(path, 'sql', `UPDATE routes SET priority = 9 WHERE id = '${r.id}'`);
    await store.routes.replace(r.id, { name: 'r', detail: '', provider_id: p.id, priority: 4, target: '+46' });
    store.checkExternalChanges();
    expect(routeRows(changes, r.id).map((x) => x.priority)).toEqual([1, 4, 4]);
    expect(store.changeLog.position).toBe(head! + 2);
  }, 60_000);

  it('a watermark pruned away falls back to one full read, then follows row by row again', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path);
    const { cache, fullReads } = await loadPlan(store);
    // The other process writes and prunes its entries before this one looks.
    const first = await otherProcess(path, 'create', 'early', DEFAULT_CUSTOMER_ID, '+47');
    expect(Number((await otherProcess(path, 'prune')).removed)).toBeGreaterThanOrEqual(2);
    store.watchExternalChanges(20);
    await vi.waitFor(() => expect(providersOf(cache, '+4712345')).toEqual([first.provider]), { timeout: 5000, interval: 20 });
    await cache.settled();
    expect(kinds(changes)).toEqual(['reload']);
    expect(fullReads).toHaveBeenCalledTimes(2);
    expect(log.lines.filter((l) => l.msg === 'external database change; reloading the dial plan')).toMatchObject([{ why: 'pruned' }]);
    const later = await otherProcess(path, 'create', 'later', DEFAULT_CUSTOMER_ID, '+48');
    await vi.waitFor(() => expect(providersOf(cache, '+4812345')).toEqual([later.provider]), { timeout: 5000, interval: 20 });
    expect(kinds(changes)).toEqual(['reload', 'provider', 'route']);
    expect(fullReads).toHaveBeenCalledTimes(2);
  }, 60_000);

  it('more new entries than are cheaper to apply one by one fall back to one full read', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path, { changeLog: { maxIncremental: 2 } });
    const p = await store.providers.create(provider('mine'));
    store.checkExternalChanges();
    await otherProcess(path, 'sql', `UPDATE providers SET name = 'a' WHERE id = '${p.id}'; UPDATE providers SET name = 'b' WHERE id = '${p.id}';`);
    store.checkExternalChanges(); // two entries: applied
    expect(changes.map((c) => (c.kind === 'provider' ? c.row.name : c.kind))).toEqual(['mine', 'b']);
    await otherProcess(path, 'sql', `UPDATE providers SET name = 'c' WHERE id = '${p.id}'; UPDATE providers SET name = 'd' WHERE id = '${p.id}'; UPDATE providers SET name = 'e' WHERE id = '${p.id}';`);
    store.checkExternalChanges(); // three: a full read instead
    expect(kinds(changes)).toEqual(['provider', 'provider', 'reload']);
    expect(log.lines.filter((l) => l.msg === 'external database change; reloading the dial plan')).toMatchObject([{ why: 'too many' }]);
    expect(store.changeLog.position).toBe(6);
  }, 60_000);

  it('beyond a quarter of the rows the last full read returned, one full read is the cheaper way', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path);
    const p = await store.providers.create(provider('mine'));
    const insert = store.db.prepare(
      "INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete) VALUES (?, 'c', '', '', ?, 1, '+1', ?, 'a', '9999-01-01T00:00:00.000000Z')",
    );
    store.db.transaction(() => {
      for (let i = 0; i < 799; i++) insert.run(`r${String(i).padStart(3, '0')}`, p.id, `t${String(i).padStart(6, '0')}`);
    })();
    await store.readLive(); // 800 rows: up to 200 entries are applied one by one
    expect(store.changeLog.incrementalLimit).toBe(200);
    store.checkExternalChanges();
    changes.length = 0;
    await otherProcess(path, 'sql', "UPDATE routes SET priority = 2 WHERE id < 'r200'");
    store.checkExternalChanges();
    expect(kinds(changes)).toEqual(Array(200).fill('route'));
    await otherProcess(path, 'sql', "UPDATE routes SET priority = 3 WHERE id < 'r201'");
    store.checkExternalChanges();
    expect(kinds(changes.slice(200))).toEqual(['reload']);
    expect(log.lines.filter((l) => l.msg === 'external database change; reloading the dial plan')).toMatchObject([{ why: 'too many' }]);
  }, 60_000);

  it('a row deleted outright by plain SQL (outdial only soft-deletes) falls back to one full read, which drops it', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path);
    const p = await store.providers.create(provider('mine'));
    const r = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'r', detail: '', provider_id: p.id, priority: 1, target: '+41' });
    const { cache } = await loadPlan(store);
    expect(providersOf(cache, '+41123')).toEqual([p.id]);
    await otherProcess(path, 'sql', `DELETE FROM routes WHERE id = '${r.id}'`);
    store.checkExternalChanges();
    expect(kinds(changes)).toEqual(['provider', 'route', 'reload']);
    expect(log.lines.filter((l) => l.msg === 'external database change; reloading the dial plan')).toMatchObject([{ why: 'row gone' }]);
    await cache.settled();
    expect(providersOf(cache, '+41123')).toEqual([]);
  }, 60_000);

  it('a log that cannot be read falls back to a full read per outside commit', async () => {
    const path = tempPath();
    const { store, changes, log } = open(path);
    await otherProcess(path, 'sql', 'DROP TABLE change_log');
    store.checkExternalChanges();
    store.checkExternalChanges(); // nothing new committed: no second reload
    expect(kinds(changes)).toEqual(['reload']);
    expect(log.lines.filter((l) => l.msg === 'change log unreadable; reloading the dial plan on outside commits')).toHaveLength(1);
    await otherProcess(path, 'sql', 'CREATE TABLE unrelated (x INTEGER)');
    store.checkExternalChanges();
    expect(kinds(changes)).toEqual(['reload', 'reload']);
  }, 60_000);
});

describe('the SQLite change log: the table', () => {
  it('is pruned by size and by age, and the pruning mark records how far', async () => {
    const path = tempPath();
    const { store } = open(path, { changeLog: { maxEntries: 2 } });
    for (let i = 0; i < 5; i++) await store.providers.create(provider(`p${i}`));
    const seqs = (s: SqliteStore) => (s.db.prepare('SELECT seq FROM change_log ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
    const through = (s: SqliteStore) => (s.db.prepare('SELECT through FROM change_log_pruned').get() as { through: number }).through;
    expect(seqs(store)).toEqual([1, 2, 3, 4, 5]);
    expect(await store.changeLog.prune()).toBe(3);
    expect(seqs(store)).toEqual([4, 5]);
    expect(through(store)).toBe(3);
    expect(await store.changeLog.prune()).toBe(0);
    await store.close();
    // by age: only the entry older than the retention goes
    const aged = open(path, { changeLog: { retentionMs: 60_000 } }).store;
    aged.db.prepare("UPDATE change_log SET tm = '2000-01-01T00:00:00.000Z' WHERE seq = 4").run();
    expect(await aged.changeLog.prune()).toBe(1);
    expect(seqs(aged)).toEqual([5]);
    expect(through(aged)).toBe(4);
    // numbers are never handed out again after a prune (AUTOINCREMENT)
    await aged.providers.create(provider('p5'));
    expect(seqs(aged)).toEqual([5, 6]);
  });

  it('a backlog (a bulk import of rows) is pruned in short batches, one soon after another, while watching', async () => {
    const path = tempPath();
    const { store } = open(path, { changeLog: { maxEntries: 0 }, pruneEveryMs: 3_600_000 });
    const p = await store.providers.create(provider('bulk'));
    const insert = store.db.prepare(
      "INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete) VALUES (?, 'c', '', '', ?, 1, '+1', ?, 'a', '9999-01-01T00:00:00.000000Z')",
    );
    store.db.transaction(() => {
      for (let i = 0; i < 2 * PRUNE_BATCH + 500; i++) insert.run(`r${i}`, p.id, `t${String(i).padStart(6, '0')}`);
    })();
    const count = () => (store.db.prepare('SELECT count(*) AS n FROM change_log').get() as { n: number }).n;
    expect(count()).toBe(2 * PRUNE_BATCH + 501);
    store.watchExternalChanges(1000); // prunes at once, then again while batches come back full
    await vi.waitFor(() => expect(count()).toBe(0), { timeout: 10_000, interval: 50 });
    expect((store.db.prepare('SELECT through FROM change_log_pruned').get() as { through: number }).through).toBe(2 * PRUNE_BATCH + 501);
  });

  it('is made by migration 5 on a database of schema version 4, whose rows stay as they were', () => {
    const path = tempPath();
    const v4 = new Database(path);
    v4.pragma('journal_mode = WAL');
    v4.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT');
    for (let i = 0; i < 4; i++) {
      v4.exec(MIGRATIONS[i]!);
      v4.prepare('INSERT INTO schema_version VALUES (?, ?)').run(i + 1, new Date().toISOString());
    }
    v4.prepare(
      "INSERT INTO providers (id, type, hostname, tech_prefix, tech_postfix, tech_headers, name, detail, codecs, metadata, health_status, tm_create, tm_update, tm_delete) VALUES ('old', 'sip', 'old.example.com', '', '', '{}', 'old', '', '', '{}', 'unknown', 'a', 'a', '9999-01-01T00:00:00.000000Z')",
    ).run();
    v4.close();
    const { store, log, changes } = open(path);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    expect(log.lines.filter((l) => l.msg === 'schema migrated').map((l) => l.schema_version)).toEqual([5]);
    expect(store.db.prepare('SELECT count(*) AS n FROM change_log').get()).toEqual({ n: 0 });
    expect(store.changeLog.position).toBe(0);
    const other = new Database(path);
    other.prepare("UPDATE providers SET name = 'renamed' WHERE id = 'old'").run();
    other.close();
    store.checkExternalChanges();
    expect(changes).toMatchObject([{ kind: 'provider', row: { id: 'old', name: 'renamed', hostname: 'old.example.com' } }]);
  });
});
