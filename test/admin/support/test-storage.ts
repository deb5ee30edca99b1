/**
 * The two store factories of the admin contract suite (docs/cluster.md §8.5): every test engine
 * gets its own storage, a SQLite file in a temp dir or a database of its own on a real
 * PostgreSQL server, and the tests look at and interfere with that storage through `TestDb`
 * only, in either dialect.
 *
 * Which store: `startTestEngine({ store })`, else the OUTDIAL_TEST_STORE environment variable
 * (`sqlite`, the default, or `postgres`; vitest.config.ts runs test/admin once with each). The
 * PostgreSQL server is the run's shared one (test/support/postgres-global-setup.ts) or, outside
 * that project, one started on first use in this test process.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { WRITE_LOCK } from '../../../src/store/postgres/postgres-migrations.ts';
import type { Store } from '../../../src/store/store.ts';
import { createTestDatabase, ENGINE_ROLE, preparePostgresForEngines, withAdmin, type TestDatabase } from '../../support/postgres-databases.ts';
import { startPostgres, type PostgresServer } from '../../support/postgres-server.ts';
import { fillDatabase, sqliteDb } from './sqlite-db.ts';

export type StoreKind = 'sqlite' | 'postgres';

/** Where a test engine keeps its data. */
export type TestStorage =
  | { readonly kind: 'sqlite'; readonly dir: string; readonly path: string; remove(): Promise<void> }
  | { readonly kind: 'postgres'; readonly dir: string; readonly database: TestDatabase; readonly dataDir: string | undefined; remove(): Promise<void> };

/** A PostgreSQL server to create the storage on: the run's shared one unless given. */
export interface PostgresChoice {
  readonly kind: 'postgres';
  readonly server?: { url: string; dataDir?: string };
}

export type StoreChoice = StoreKind | PostgresChoice;

export function testStoreKind(): StoreKind {
  const kind = process.env.OUTDIAL_TEST_STORE ?? 'sqlite';
  if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`OUTDIAL_TEST_STORE must be sqlite or postgres, got ${kind}`);
  return kind;
}

let ownServer: Promise<PostgresServer> | undefined;

/** The shared server of the admin-postgres project, or one of this process (stopped when it exits). */
async function sharedServer(): Promise<{ url: string; dataDir: string }> {
  let provided: { url: string; dataDir: string } | undefined;
  try {
    provided = inject('postgres');
  } catch {
    provided = undefined;
  }
  if (provided) return provided;
  ownServer ??= startPostgres().then(async (s) => {
    await preparePostgresForEngines(s.url);
    return s;
  });
  const s = await ownServer;
  return { url: s.url, dataDir: `${s.dir}/data` };
}

export async function createTestStorage(choice: StoreChoice = testStoreKind(), dir?: string): Promise<TestStorage> {
  const own = dir === undefined;
  const d = dir ?? mkdtempSync(join(tmpdir(), 'outdial-admin-'));
  const removeDir = async () => {
    if (own) rmSync(d, { recursive: true, force: true });
  };
  if (choice === 'sqlite') return { kind: 'sqlite', dir: d, path: join(d, 'outdial.db'), remove: removeDir };
  const given = typeof choice === 'object' ? choice.server : undefined;
  if (given) await preparePostgresForEngines(given.url);
  const server = given ?? (await sharedServer());
  const database = await createTestDatabase(server.url);
  return {
    kind: 'postgres',
    dir: d,
    database,
    dataDir: server.dataDir ?? undefined,
    async remove() {
      await database.drop();
      await removeDir();
    },
  };
}

/** The environment that points `outdial start` at the storage. */
export function storageEnv(storage: TestStorage): Record<string, string> {
  return storage.kind === 'sqlite' ? { OUTDIAL_DB_PATH: storage.path, OUTDIAL_DB_URL: '' } : { OUTDIAL_DB_PATH: join(storage.dir, 'unused.db'), OUTDIAL_DB_URL: storage.database.url };
}

/** How the tests look at and interfere with an engine's storage, the same way on both stores. */
export interface TestDb {
  readonly kind: StoreKind;
  count(table: string): Promise<number>;
  /** every row, by id */
  rows(table: string): Promise<Array<Record<string, unknown>>>;
  /** what any change to the admin tables would change */
  fingerprint(): Promise<string>;
  /** inserts into `table` fail with an error that is not a storage fault (a trigger raising one) */
  refuseInserts(table: string): Promise<void>;
  /** the database goes away: SQLite's connection is closed (for good); PostgreSQL refuses the engine and drops its connections */
  cutOff(): Promise<void>;
  /** PostgreSQL only: after cutOff(), the database accepts connections again */
  restoreConnections(): Promise<void>;
  /** another writer holds the write lock until the returned function is called */
  lockWrites(): Promise<() => Promise<void>>;
  /** writes are refused (read-only connection; privileges taken) until the returned function is called */
  refuseWrites(): Promise<() => Promise<void>>;
  /** whether these bytes are anywhere in the storage's files, once everything is written out */
  onDisk(bytes: Buffer): Promise<boolean>;
  /** SQLite only: the file may not grow, filled by `write` until it fails (a full disk); returns the undo */
  fill(write: () => Promise<boolean>): Promise<() => void>;
  /**
   * Writes start failing as storage faults until the returned function is called: SQLite's file
   * fills up through `write` (a full disk; `write` answers false once one failed); PostgreSQL's
   * engine role loses its write privileges (`write` is not used).
   */
  makeUnwritable(write: () => Promise<boolean>): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const ident = (name: string) => {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`not a table name: ${name}`);
  return name;
};

export function testDbOf(storage: TestStorage, store: Store): TestDb {
  return storage.kind === 'sqlite' ? sqliteTestDb(storage.path, store) : postgresTestDb(storage);
}

function sqliteTestDb(path: string, store: Store): TestDb {
  const others: Database.Database[] = [];
  const db = () => sqliteDb(store);
  return {
    kind: 'sqlite',
    async count(table) {
      return (db().prepare(`SELECT count(*) AS n FROM ${ident(table)}`).get() as { n: number }).n;
    },
    async rows(table) {
      return db().prepare(`SELECT * FROM ${ident(table)} ORDER BY id`).all() as Array<Record<string, unknown>>;
    },
    async fingerprint() {
      return JSON.stringify(['providers', 'routes', 'agents', 'access_keys'].map((t) => db().prepare(`SELECT count(*) AS n, max(tm_update) AS u FROM ${t}`).get()));
    },
    async refuseInserts(table) {
      db().exec(`CREATE TRIGGER refuse_${ident(table)} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    },
    async cutOff() {
      db().close();
    },
    async restoreConnections() {
      throw new Error('a closed SQLite connection does not come back');
    },
    async lockWrites() {
      const other = new Database(path);
      others.push(other);
      other.exec('BEGIN IMMEDIATE');
      return async () => {
        other.exec('ROLLBACK');
      };
    },
    async refuseWrites() {
      db().pragma('query_only = 1');
      return async () => {
        db().pragma('query_only = 0');
      };
    },
    async onDisk(bytes) {
      db().pragma('wal_checkpoint(TRUNCATE)');
      return readFileSync(path).includes(bytes);
    },
    fill(write) {
      return fillDatabase(db(), write);
    },
    async makeUnwritable(write) {
      const undo = await fillDatabase(db(), write);
      return async () => undo();
    },
    async close() {
      for (const o of others.splice(0)) if (o.open) o.close();
    },
  };
}

function postgresTestDb(storage: Extract<TestStorage, { kind: 'postgres' }>): TestDb {
  let client: Promise<pg.Client> | undefined;
  /** superuser connection to the test database (the inspector's own, never the engine's) */
  const admin = () =>
    (client ??= (async () => {
      const c = new pg.Client({ connectionString: storage.database.adminUrl });
      c.on('error', () => {});
      await c.connect();
      return c;
    })());
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => (await (await admin()).query<R>(text, values)).rows;
  const extra: pg.Client[] = [];
  const name = storage.database.name;
  return {
    kind: 'postgres',
    async count(table) {
      return (await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(table)}`))[0]!.n;
    },
    async rows(table) {
      return query(`SELECT * FROM ${ident(table)} ORDER BY id`);
    },
    async fingerprint() {
      const parts = [];
      for (const t of ['providers', 'routes', 'agents', 'access_keys']) parts.push((await query(`SELECT count(*)::int AS n, max(tm_update) AS u FROM ${t}`))[0]);
      return JSON.stringify(parts);
    },
    async refuseInserts(table) {
      await query(`CREATE FUNCTION refuse_${ident(table)}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`);
      await query(`CREATE TRIGGER refuse_${table} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_${table}()`);
    },
    async cutOff() {
      // From the maintenance database: the inspector's own connection goes too.
      await withAdmin(storage.database.serverAdminUrl, async (c) => {
        await c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      });
      const old = client;
      client = undefined;
      if (old) await (await old).end().catch(() => {});
    },
    async restoreConnections() {
      await withAdmin(storage.database.serverAdminUrl, (c) => c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
    },
    async lockWrites() {
      // Another instance in the middle of a write: the store's write lock, held.
      const other = new pg.Client({ connectionString: storage.database.adminUrl });
      other.on('error', () => {});
      extra.push(other);
      await other.connect();
      await other.query(`SELECT pg_advisory_lock(${WRITE_LOCK})`);
      return async () => {
        await other.query(`SELECT pg_advisory_unlock(${WRITE_LOCK})`);
      };
    },
    async refuseWrites() {
      await query(`REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM ${ENGINE_ROLE}`);
      return async () => {
        await query(`GRANT INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${ENGINE_ROLE}`);
      };
    },
    async onDisk(bytes) {
      if (!storage.dataDir) throw new Error('the server data directory is not known');
      await query('CHECKPOINT');
      const oid = (await query<{ oid: string }>('SELECT oid::text FROM pg_database WHERE datname = current_database()'))[0]!.oid;
      return filesContain([join(storage.dataDir, 'base', oid), join(storage.dataDir, 'pg_wal')], bytes);
    },
    async fill() {
      throw new Error('fill() is SQLite only: a PostgreSQL server cannot be made full from a test');
    },
    makeUnwritable() {
      return this.refuseWrites();
    },
    async close() {
      for (const o of extra.splice(0)) await o.end().catch(() => {});
      if (client) await (await client).end().catch(() => {});
      client = undefined;
    },
  };
}

function filesContain(dirs: string[], bytes: Buffer): boolean {
  const stack = [...dirs];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let st;
    try {
      st = statSync(p);
    } catch {
      continue; // removed meanwhile (a recycled WAL segment)
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) stack.push(join(p, name));
    } else if (st.isFile() && readFileSync(p).includes(bytes)) {
      return true;
    }
  }
  return false;
}
