/**
 * The PostgreSQL store's own mechanics on a real PostgreSQL 15 (docs/cluster.md §8): migrations
 * (once, by version, instances starting together, refusals), the change feed (every instance
 * hears every commit, its own and others', in commit order; a lost listening connection; a log
 * pruned past an instance) and network faults (a hung connection, a cut one). The admin API's
 * behaviour on PostgreSQL is the admin contract suite's (test/admin, project admin-postgres).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/errors.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import type { RoutingChange } from '../../src/routing/model.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { storedSigningKey } from '../../src/secrets/signing-key.ts';
import { ChangeFeed } from '../../src/store/postgres/postgres-change-feed.ts';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.ts';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/postgres-store.ts';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import type { ProviderInput } from '../../src/store/store.ts';
import { createTestDatabase, ENGINE_URL_PASSWORD, preparePostgresForEngines, testPool, type TestDatabase } from '../support/postgres-databases.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const provider = (over: Partial<ProviderInput> = {}): ProviderInput => ({
  type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: '', ...over,
});
const route = (providerId: string, target = 'all') => ({ customer_id: '00000000-0000-0000-0000-000000000001', name: '', detail: '', provider_id: providerId, priority: 1, target });

let server: PostgresServer;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeAll(async () => {
  server = await startPostgres();
  await preparePostgresForEngines(server.url);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(async () => {
  await server?.stop();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase(server.url);
  cleanups.push(() => db.drop());
  return db;
}

async function open(url: string, over: Partial<PostgresStoreOptions> = {}) {
  const log = createCapturingLogger('debug');
  const store = await openPostgresStore({ url, logger: log.logger, ...over });
  cleanups.push(() => store.close());
  return { store, log };
}

async function admin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  cleanups.push(() => c.end().catch(() => {}));
  return c;
}

function listen(store: PostgresStore): RoutingChange[] {
  const seen: RoutingChange[] = [];
  store.onChange((c) => seen.push(c));
  return seen;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const names = (seen: RoutingChange[]) => seen.map((c) => (c.kind === 'reload' ? 'reload' : `${c.kind}:${c.row.name}:${c.row.tm_delete.startsWith('9999') ? 'live' : 'deleted'}`));

describe('migrations', () => {
  it('are the SQLite store\'s, version for version (a new SQLite migration needs its PostgreSQL twin)', () => {
    expect(POSTGRES_MIGRATIONS.length).toBe(MIGRATIONS.length);
  });

  it('run once when three instances start together on a fresh database, and not again on a restart', async () => {
    const db = await database();
    const opened = await Promise.all([open(db.url), open(db.url), open(db.url)]);
    const migrated = opened.flatMap((o) => o.log.lines.filter((l) => l.msg === 'schema migrated').map((l) => l.schema_version));
    expect(migrated.sort()).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    const c = await admin(db.adminUrl);
    expect((await c.query('SELECT version FROM schema_version ORDER BY version')).rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    const again = await open(db.url);
    expect(again.log.lines.filter((l) => l.msg === 'schema migrated')).toEqual([]);
    // Each instance works on what the others wrote.
    const p = await opened[0]!.store.providers.create(provider({ name: 'shared' }));
    expect((await again.store.providers.get(p.id))?.name).toBe('shared');
  });

  it("refuse another application's database, naming it without the password; its tables untouched", async () => {
    const db = await database();
    const c = await admin(db.adminUrl);
    await c.query('CREATE TABLE invoices (id serial PRIMARY KEY, total numeric); INSERT INTO invoices (total) VALUES (9.5); ALTER TABLE invoices OWNER TO outdial_engine');
    const err = await open(db.url).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(new RegExp(`the database postgres://outdial_engine@127\\.0\\.0\\.1:${server.port}/${db.name} belongs to another application \\(tables: invoices\\)`));
    expect((err as Error).message).not.toContain(ENGINE_URL_PASSWORD);
    expect((await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows).toEqual([{ tablename: 'invoices' }]);
  });

  it('refuse a schema newer than this build before writing anything', async () => {
    const db = await database();
    const first = await openPostgresStore({ url: db.url, logger: createCapturingLogger().logger });
    await first.close();
    const c = await admin(db.adminUrl);
    await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [POSTGRES_MIGRATIONS.length + 7, new Date().toISOString()]);
    const err = await open(db.url).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(`schema version ${POSTGRES_MIGRATIONS.length + 7}, newer than this build of outdial knows (${POSTGRES_MIGRATIONS.length})`);
    expect((await c.query('SELECT count(*)::int AS n FROM agents')).rows[0].n).toBe(0);
  });

  it('an unreachable server stops start-up with a message naming it, never the password', async () => {
    const probe = await startTcpProxy({ host: '127.0.0.1', port: 1 });
    const port = probe.port;
    await probe.close(); // a port nothing listens on now
    const url = `postgres://outdial_engine:${ENGINE_URL_PASSWORD}@127.0.0.1:${port}/nowhere`;
    const err = await openPostgresStore({ url, logger: createCapturingLogger().logger }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(`cannot connect to the database postgres://outdial_engine@127.0.0.1:${port}/nowhere`);
    expect((err as Error).message).not.toContain(ENGINE_URL_PASSWORD);
  });
});

describe('outdial start on PostgreSQL', () => {
  it('an unreachable OUTDIAL_DB_URL: exit 1 with a message naming the database, never its password, and no stack trace', async () => {
    const probe = await startTcpProxy({ host: '127.0.0.1', port: 1 });
    const port = probe.port;
    await probe.close();
    const bin = fileURLToPath(new URL('../../bin/outdial', import.meta.url));
    const child = spawn(process.execPath, [bin, 'start'], {
      env: {
        ...process.env,
        OUTDIAL_DB_URL: `postgresql://outdial_engine:${ENGINE_URL_PASSWORD}@127.0.0.1:${port}/outdial`,
        OUTDIAL_HTTP_PORT: '0', OUTDIAL_SIP_HOST: '127.0.0.1', OUTDIAL_SIP_PORT: '0', OUTDIAL_EDGE_PORT: '0', OUTDIAL_LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    expect(code, out).toBe(1);
    expect(out).toContain(`outdial: cannot connect to the database postgresql://outdial_engine@127.0.0.1:${port}/outdial`);
    expect(out).not.toContain(ENGINE_URL_PASSWORD);
    expect(out).not.toMatch(/at .*\.ts:\d+/);
  }, 30_000);
});

describe('rows', () => {
  it('tm_create stays unique and in commit order across instances writing at once, on the database clock', async () => {
    const db = await database();
    const [a, b] = [await open(db.url), await open(db.url)];
    const made = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).store.providers.create(provider({ name: `p${i}` }))));
    const stamps = made.map((p) => p.tm_create);
    expect(new Set(stamps).size).toBe(40);
    const c = await admin(db.adminUrl);
    // Commit order is change-log order: the timestamps rise with it.
    const inLogOrder = (await c.query("SELECT p.tm_create FROM change_log l JOIN providers p ON p.id = l.row_id WHERE l.kind = 'provider' ORDER BY l.seq")).rows.map((r) => r.tm_create as string);
    expect(inLogOrder).toEqual([...stamps].sort());
  });

  it('keep JSON fields as written (key order too) and enforce the foreign key', async () => {
    const db = await database();
    const { store } = await open(db.url);
    const p = await store.providers.create(provider({ tech_headers: { 'X-Zeta': '1', 'X-Alpha': '2' }, metadata: { z: 1, a: { b: 2 } } }));
    expect(Object.keys((await store.providers.get(p.id))!.tech_headers)).toEqual(['X-Zeta', 'X-Alpha']);
    expect(Object.keys((await store.providers.get(p.id))!.metadata)).toEqual(['z', 'a']);
    const c = await admin(db.adminUrl);
    await expect(c.query("INSERT INTO routes VALUES ('r', 'c', '', '', 'no-such-provider', 1, 'all', 'a', 'a', 'a')")).rejects.toThrow(/foreign key/);
  });
});

describe('carrier settings and secrets (migration 4, docs/api.md §20)', () => {
  it('keep every carrier field and the registration state; the change feed carries them to other instances', async () => {
    const db = await database();
    const [a, b] = [await open(db.url), await open(db.url)];
    const atB = listen(b.store);
    const p = await a.store.providers.create(
      provider({ auth_username: 'u', auth_password_sealed: 'sb1.opaque', register: true, register_expires: 120, leading_plus: false, transport: 'tcp', max_calls: 3, max_cps: 2.5 }),
    );
    expect(p).toMatchObject({ auth_username: 'u', auth_password_sealed: 'sb1.opaque', register: true, register_expires: 120, registration_status: 'registering', leading_plus: false, transport: 'tcp', max_calls: 3, max_cps: 2.5 });
    await a.store.providers.setRegistration(p.id, 'registered', '2026-01-01T00:00:00.000000Z');
    const got = (await b.store.providers.get(p.id))!;
    expect(got).toMatchObject({ registration_status: 'registered', registration_checked_at: '2026-01-01T00:00:00.000000Z', tm_update: p.tm_update });
    // omitted password kept; a changed registration target starts over
    const replaced = await a.store.providers.replace(p.id, provider({ hostname: 'other.example.com', auth_username: 'u', register: true, register_expires: 120 }));
    expect(replaced).toMatchObject({ auth_password_sealed: 'sb1.opaque', registration_status: 'registering', registration_checked_at: null, leading_plus: true, transport: 'udp', max_calls: 0, max_cps: 0 });
    // the other instance's dial plan follows: the last row it hears is the committed one, carrier fields and all
    const lastAtB = () => atB.filter((x): x is Extract<RoutingChange, { kind: 'provider' }> => x.kind === 'provider' && x.row.id === p.id).at(-1)?.row;
    await until(() => lastAtB()?.hostname === 'other.example.com', 5000, 'the other instance to hear the replace');
    expect(lastAtB()).toEqual(replaced);
    const c = await admin(db.adminUrl);
    await expect(c.query('UPDATE providers SET transport = $1 WHERE id = $2', ['sctp', p.id])).rejects.toThrow(/check constraint/);
  });

  it('settings: instances putting a value at once agree on one; a clear signing key from before encryption is sealed and removed from the table file', async () => {
    const db = await database();
    const [a, b] = [await open(db.url), await open(db.url)];
    const agreed = await Promise.all([a.store.settings.putIfAbsent('k', 'from a'), b.store.settings.putIfAbsent('k', 'from b')]);
    expect(agreed[0]).toBe(agreed[1]);

    const clear = `clear-signing-key-${Date.now()}-0123456789abcdef`;
    const c = await admin(db.adminUrl);
    await c.query("INSERT INTO settings (key, value) VALUES ('jwt_secret', $1)", [clear]);
    const box = new SecretBox(randomBytes(32));
    expect(await storedSigningKey(a.store.settings, box, a.log.logger)).toBe(clear); // tokens signed before stay valid
    expect(await b.store.settings.get('jwt_secret')).toBeUndefined();
    expect(box.open((await b.store.settings.get('jwt_secret_sealed'))!, 'jwt_secret')).toBe(clear);
    expect(await storedSigningKey(b.store.settings, box, b.log.logger)).toBe(clear);
    expect(a.log.lines.some((l) => l.msg === 'settings table not vacuumed')).toBe(false);
    // VACUUM FULL rewrote the table: its file holds the sealed key only (the WAL keeps the old row until recycled)
    await c.query('CHECKPOINT');
    const file = (await c.query<{ p: string }>("SELECT pg_relation_filepath('settings') AS p")).rows[0]!.p;
    expect(readFileSync(join(server.dir, 'data', file)).includes(Buffer.from(clear))).toBe(false);
  });
});

describe('the change feed', () => {
  it('tells every instance every committed provider or route change, in commit order, and nothing for a refused write', async () => {
    const db = await database();
    const a = await open(db.url);
    const b = await open(db.url);
    const atA = listen(a.store);
    const atB = listen(b.store);
    const p = await a.store.providers.create(provider({ name: 'p1' }));
    const r = await b.store.routes.create(route(p.id));
    await expect(a.store.providers.softDelete(p.id)).rejects.toThrow(/live routes/);
    await a.store.routes.softDelete(r.id);
    await b.store.providers.replace(p.id, provider({ name: 'p1-renamed' }));
    await a.store.providers.softDelete(p.id);
    // A row read in a catch-up is delivered as it then is, once per batch, so an instance may
    // hear fewer than five deliveries; in commit order, the last is the provider's deletion, and
    // a route's last state comes before it.
    const last = 'provider:p1-renamed:deleted';
    await until(() => names(atA).at(-1) === last && names(atB).at(-1) === last, 5000, 'both instances to hear the last change');
    await until(() => a.store.feed.position === b.store.feed.position, 5000, 'both at the same entry');
    for (const seen of [atA, atB]) {
      const n = names(seen);
      expect(n.lastIndexOf('route::deleted')).toBeGreaterThan(n.lastIndexOf('route::live'));
      expect(n.indexOf('route::deleted')).toBeLessThan(n.lastIndexOf(last));
      expect(n.filter((x) => x === 'provider:p1:deleted')).toEqual([]); // never a state that was not committed
    }
    // The writer hears its own change at once, before its write returns.
    expect(names(atA)[0]).toBe('provider:p1:live');
    // B's own route: delivered to B by the time B's write returned.
    expect(names(atB)).toContain('route::live');
  });

  it('delivers a change made outside outdial (plain SQL) to every instance', async () => {
    const db = await database();
    const a = await open(db.url);
    const p = await a.store.providers.create(provider({ name: 'before' }));
    const seen = listen(a.store);
    const c = await admin(db.adminUrl);
    await c.query("UPDATE providers SET name = 'edited by hand' WHERE id = $1", [p.id]);
    await until(() => seen.length > 0, 3000, 'the hand edit');
    expect(names(seen)).toEqual(['provider:edited by hand:live']);
  });

  it('the listening connection cut: changes committed meanwhile arrive from the change log, then it listens again', async () => {
    const db = await database();
    const a = await open(db.url, { feed: { pollDownMs: 100, minReconnectDelayMs: 8000 } });
    const b = await open(db.url);
    const seen = listen(a.store);
    await until(() => a.store.feed.state === 'listening', 3000, 'A listening');
    const pid = a.store.feed.listenerPid();
    expect(pid).toBeGreaterThan(0);
    const c = await admin(db.adminUrl);
    await c.query('SELECT pg_terminate_backend($1)', [pid]);
    await until(() => a.store.feed.state === 'down', 3000, 'A to notice');
    const p = await b.store.providers.create(provider({ name: 'while cut' }));
    await until(() => names(seen).includes('provider:while cut:live'), 2000, 'the change from the log');
    // It came by polling: A has not listened again yet (it waits 8 s before redialling).
    expect(a.store.feed.state).toBe('down');
    expect(a.log.lines.map((l) => l.msg)).toContain('change feed not listening; following the change log by polling');
    await until(() => a.store.feed.state === 'listening', 15_000, 'A listening again');
    await b.store.providers.replace(p.id, provider({ name: 'after' }));
    await until(() => names(seen).includes('provider:after:live'), 2000, 'a change by notification');
    expect(a.log.lines.map((l) => l.msg)).toContain('change feed listening again; catching up');
  });

  it('an instance whose last entry was pruned reloads everything, then follows again', async () => {
    const db = await database();
    const writer = await open(db.url, { feed: { retentionMs: 1, pruneEveryMs: 50 } });
    const p = await writer.store.providers.create(provider({ name: 'old' }));
    await writer.store.providers.replace(p.id, provider({ name: 'older' }));
    const c = await admin(db.adminUrl);
    await until(async () => Number((await c.query('SELECT through FROM change_log_pruned')).rows[0].through) >= 2, 5000, 'the log to be pruned');
    // A reader that last saw entry 0: what it missed is gone from the log.
    const log = createCapturingLogger('debug');
    const seen: RoutingChange[] = [];
    const pool = testPool({ connectionString: db.url, max: 2 });
    cleanups.push(() => pool.end());
    const feed = new ChangeFeed({ pool, clientConfig: { connectionString: db.url }, logger: log.logger, description: 'test', emit: (ch) => seen.push(ch), pollMs: 100 });
    cleanups.push(() => feed.close());
    await feed.start(0);
    await until(() => seen.some((s) => s.kind === 'reload'), 3000, 'a reload');
    expect(log.lines.map((l) => l.msg)).toContain('change log pruned past this instance; reloading the dial plan');
    // An instance keeping entries for the usual hour writes the next change: it is followed.
    await writer.store.close();
    const next = await open(db.url);
    await next.store.providers.replace(p.id, provider({ name: 'new' }));
    await until(() => names(seen).includes('provider:new:live'), 3000, 'the next change');
  });
});

describe('network faults', () => {
  let proxy: TcpProxy;
  afterEach(async () => {
    await proxy?.close();
  });

  it('a hung connection: a write answers STORAGE_UNAVAILABLE within the statement timeout, reads too; all recovers once the network does', async () => {
    const db = await database();
    proxy = await startTcpProxy({ host: server.host, port: server.port });
    const viaProxy = db.url.replace(`:${server.port}/`, `:${proxy.port}/`);
    const { store, log } = await open(viaProxy, { busyTimeoutMs: 200, statementTimeoutMs: 500, connectTimeoutMs: 1000 });
    const p = await store.providers.create(provider({ name: 'before' }));
    proxy.hang();
    const started = Date.now();
    const err = await store.providers.create(provider({ name: 'lost' })).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ reason: 'STORAGE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await store.health()).toMatchObject({ readable: false, writable: false });
    proxy.cut();
    proxy.resume();
    await until(async () => (await store.health()).writable, 10_000, 'the store to recover');
    expect((await store.providers.get(p.id))?.name).toBe('before');
    await store.providers.create(provider({ name: 'after' }));
    expect(log.text()).not.toContain(ENGINE_URL_PASSWORD);
    // The write that failed was not committed (its connection was dropped before COMMIT).
    expect((await store.readLive()).providers.map((x) => x.name).sort()).toEqual(['after', 'before']);
  });
});
