import pg from 'pg';
import { StartupError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { FOREIGN_TABLES_ALLOWED, MIGRATION_LOCK, POSTGRES_MIGRATIONS } from './postgres-migrations.ts';

export interface PoolOptions {
  readonly url: string;
  readonly poolSize: number;
  readonly busyTimeoutMs: number;
  /** the server cancels a statement after this; default busyTimeoutMs + 5 s */
  readonly statementTimeoutMs?: number;
  /** a connection attempt (or a wait for a free pooled connection) gives up after this; default 5 s */
  readonly connectTimeoutMs?: number;
}

/**
 * The bounds on every statement (docs/cluster.md §8.4). A write waits for the write lock up to
 * the busy timeout (lock_timeout, set per transaction); any statement is cancelled by the server
 * after `statementTimeoutMs`, and abandoned by the client a little later if the server does not
 * answer at all (a hung network); a session idle inside a transaction (its client stalled or cut
 * off) is ended by the server, so the write lock is never held for long by a lost instance.
 */
export function timeoutsFor(options: Pick<PoolOptions, 'busyTimeoutMs' | 'statementTimeoutMs'>): { statementTimeoutMs: number; queryTimeoutMs: number; idleInTransactionMs: number } {
  const statementTimeoutMs = options.statementTimeoutMs ?? options.busyTimeoutMs + 5000;
  return { statementTimeoutMs, queryTimeoutMs: statementTimeoutMs + 3000, idleInTransactionMs: statementTimeoutMs + 5000 };
}

export function clientConfig(options: PoolOptions): pg.ClientConfig {
  const t = timeoutsFor(options);
  return {
    connectionString: options.url,
    application_name: 'outdial',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: t.statementTimeoutMs,
    query_timeout: t.queryTimeoutMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

export function createPool(options: PoolOptions, logger: Logger, description: string): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize, idleTimeoutMillis: 30_000 });
  // An idle pooled connection that the server ends (restart, pg_terminate_backend) is reported
  // here and dropped by the pool; without a listener the process would crash.
  pool.on('error', (err) => logger.debug({ db: description, err: err.message }, 'idle database connection lost'));
  return pool;
}

/** Every query of the checks and migrations: run on one connection that start-up holds. */
interface Conn {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/**
 * Connects and brings the schema up to date, one version per transaction under an advisory lock,
 * so instances starting together apply each migration once. A database that is not outdial's
 * (tables, but no schema_version), or whose schema is newer than this build knows, stops
 * start-up (StartupError naming the database, never its password) before anything is written.
 */
export async function prepareDatabase(pool: pg.Pool, description: string, logger: Logger): Promise<number> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw new StartupError(`cannot connect to the database ${description}: ${(err as Error).message}`, { cause: err });
  }
  // checked out, the connection has no error listener of the pool's: a server that ends it
  // fails the statement in progress (a StartupError below), not the process
  let lost: Error | undefined;
  const onLost = (err: Error) => (lost ??= err);
  client.on('error', onLost);
  try {
    for (let i = 0; i < POSTGRES_MIGRATIONS.length; i++) {
      const target = i + 1;
      await client.query(`BEGIN; SET LOCAL statement_timeout = 0; SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      try {
        if (i === 0) await checkIsOutdialDatabase(client, description);
        const found = await schemaVersion(client);
        if (found > POSTGRES_MIGRATIONS.length) {
          throw new StartupError(
            `the database ${description} has schema version ${found}, newer than this build of outdial knows (${POSTGRES_MIGRATIONS.length}); ` +
              'run the newer outdial that wrote it, or restore a backup made before the upgrade',
          );
        }
        if (found >= target) {
          await client.query('COMMIT');
          continue;
        }
        await client.query(POSTGRES_MIGRATIONS[i]!);
        await client.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [target, new Date().toISOString()]);
        await client.query('COMMIT');
        logger.info({ schema_version: target, db: description }, 'schema migrated');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
    return POSTGRES_MIGRATIONS.length;
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(`cannot prepare the database ${description}: ${(err as Error).message}`, { cause: err });
  } finally {
    client.removeListener('error', onLost);
    client.release(lost ?? false);
  }
}

export async function schemaVersion(conn: Conn): Promise<number> {
  const { rows } = await conn.query('SELECT coalesce(max(version), 0) AS v FROM schema_version');
  return Number((rows[0] as { v: number }).v);
}

/** Tables in the connection's schema but no schema_version: another application's database. */
async function checkIsOutdialDatabase(conn: Conn, description: string): Promise<void> {
  const { rows } = await conn.query('SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
  const tables = rows.map((r) => (r as { tablename: string }).tablename).filter((t) => !FOREIGN_TABLES_ALLOWED.includes(t));
  if (tables.length > 0 && !tables.includes('schema_version')) {
    throw new StartupError(`the database ${description} belongs to another application (tables: ${tables.slice(0, 5).join(', ')}); set OUTDIAL_DB_URL to another database`);
  }
  await conn.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at text NOT NULL)');
}
