/**
 * Databases for test engines on a throwaway PostgreSQL server (postgres-server.ts): each one
 * fresh and owned by an ordinary role (an engine never runs as a superuser: privileges can then
 * be taken from it mid-test, as a read-only database would), dropped afterwards. The engine's
 * URL carries a password (trust authentication ignores it), so tests can check that it never
 * reaches a log line.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const ENGINE_ROLE = 'outdial_engine';
/** The password in every engine URL: not needed by the server, never to be logged. */
export const ENGINE_URL_PASSWORD = 'pg-url-secret-Zq7';

/** Once per server: the engines' role (several workers may race to make it). */
export async function preparePostgresForEngines(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  // a server stopping at the end of a run ends the connection: the query fails, the run does not
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DO $$ BEGIN
      PERFORM pg_advisory_lock(42);
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ENGINE_ROLE}') THEN CREATE ROLE ${ENGINE_ROLE} LOGIN; END IF;
      PERFORM pg_advisory_unlock(42);
    END $$`);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  readonly name: string;
  /** what an engine connects with (as ENGINE_ROLE, with a password in it) */
  readonly url: string;
  /** a superuser URL for the same database */
  readonly adminUrl: string;
  /** a superuser URL for the server's maintenance database (to act on this one from outside) */
  readonly serverAdminUrl: string;
  drop(): Promise<void>;
}

let seq = 0;

export async function createTestDatabase(serverAdminUrl: string): Promise<TestDatabase> {
  const name = `t_${process.pid}_${++seq}_${randomBytes(3).toString('hex')}`;
  await withAdmin(serverAdminUrl, (c) => c.query(`CREATE DATABASE ${name} OWNER ${ENGINE_ROLE}`));
  const u = new URL(serverAdminUrl);
  const at = (user: string, password?: string) => {
    const v = new URL(u.href);
    v.username = user;
    v.password = password ?? '';
    v.pathname = `/${name}`;
    return v.href;
  };
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: at(ENGINE_ROLE, ENGINE_URL_PASSWORD),
    adminUrl: at(decodeURIComponent(u.username)),
    serverAdminUrl,
    drop() {
      dropped ??= withAdmin(serverAdminUrl, async (c) => {
        await c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }).catch(() => {
        // the server may already be gone at the end of a run
      });
      return dropped;
    },
  };
}

export async function withAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A pool for a test's own use. Like outdial's (src/store/postgres/postgres-db.ts) it listens for
 * errors: an idle connection the server ends (a database dropped, the server stopped at the end
 * of a run) is reported on the pool, and a pool without a listener would throw it uncaught.
 */
export function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  return pool;
}
