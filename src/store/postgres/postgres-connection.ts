import pg from 'pg';
import { ApiError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { formatMicros, parseMicros, type MicrosSource } from '../clock.ts';
import type { StoreHealth } from '../store-types.ts';
import { WRITE_LOCK } from './postgres-migrations.ts';

/** What a table store runs statements with, inside a read or a write. */
export interface Sql {
  query<R extends object = Record<string, unknown>>(text: string, values?: readonly unknown[]): Promise<R[]>;
}

/** A write transaction: statements, and timestamps for the rows it writes. */
export interface WriteTx extends Sql {
  /**
   * A row timestamp later than `floor` (a stored value) and than every one this connection
   * issued: from the database's clock, read when the transaction took the write lock, so that
   * instances with skewed clocks still stamp rows in commit order (docs/cluster.md §8.2).
   */
  stamp(floor?: string | null): string;
  /**
   * The tm_create of a new row of the table named to write(): later than every tm_create there
   * (read with the lock, in the same round trip), so tm_create is unique and in commit order.
   */
  stampNew(): string;
}

export interface WriteOptions {
  /** the table this transaction creates a row in (its newest tm_create is read with the lock) */
  readonly creates?: 'providers' | 'routes' | 'agents' | 'access_keys' | 'provider_calls';
}

/** A committed write: its result and where its change-log entries sit (docs/cluster.md §8.3). */
export interface Committed<T> {
  value: T;
  /** the newest change-log entry committed before this transaction took the write lock */
  prevSeq: number;
  /** the newest entry when it committed: > prevSeq when it changed provider or route rows */
  lastSeq: number;
}

/**
 * SQLSTATE classes and codes that say "the database cannot do this now", not "the request is
 * wrong" (https://www.postgresql.org/docs/current/errcodes-appendix.html): connection
 * exceptions (08), insufficient resources such as a full disk (53), operator intervention such
 * as a shutdown or a statement timeout (57), system errors (58), a lock not obtained within
 * lock_timeout (55P03), a read-only transaction (25006), missing privileges (42501), a database
 * that does not exist or refuses connections (3D000, 55000), failed authentication (28).
 */
const FAULT_CLASSES = new Set(['08', '53', '57', '58', '28']);
const FAULT_CODES = new Set(['55P03', '25006', '42501', '3D000', '55000', 'XX001', 'XX002']);
/** Serialization failures and deadlocks (with writers outside outdial): the transaction is retried. */
const RETRY_CODES = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 3;

/** A failure of the transport (pg's own errors, Node's socket errors) rather than of a statement. */
function isTransportError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded|Query read timeout|not queryable|Connection ended|Client was closed|Cannot use a pool after calling end/i.test(err.message);
}

export function isStorageFault(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    return FAULT_CLASSES.has(code.slice(0, 2)) || FAULT_CODES.has(code);
  }
  return isTransportError(err);
}

/** For messages: the server's text and SQLSTATE, or the socket error. */
function describeFault(err: Error, busyTimeoutMs: number): string {
  if (err instanceof pg.DatabaseError) {
    if (err.code === '55P03') return `another writer held the lock past the busy timeout (${busyTimeoutMs} ms) (55P03)`;
    return `${err.message} (${err.code ?? 'no SQLSTATE'})`;
  }
  return err.message;
}

/**
 * The newest change-log entry, pruned or not (docs/cluster.md §8.3). Read under the write lock, it
 * is the last entry committed before this transaction (and, before its commit, its own last).
 */
export const HEAD = `greatest(coalesce((SELECT max(seq) FROM change_log), 0), (SELECT through FROM change_log_pruned))::text`;

/** The health probe waits for the write lock this long at most (it must not stall /healthz). */
const PROBE_LOCK_TIMEOUT_MS = 200;
/** A probe result is reused for this long, so a busy health checker costs one probe a second. */
const PROBE_CACHE_MS = 1000;
/** /healthz answers within this even when the server does not. */
const HEALTH_TIMEOUT_MS = 2000;
/** The tables whose writability the probe checks (a lock or a missing privilege on any of them fails it). */
const PROBED_TABLES = 'providers, routes, agents, access_keys, settings, calls, provider_calls, store_probe';

export interface PostgresConnectionOptions {
  readonly busyTimeoutMs: number;
  /** a test clock instead of the database's (many rows in the same microsecond) */
  readonly micros?: MicrosSource | undefined;
  /** `postgres://user@host:port/db`, for messages (never the password) */
  readonly description: string;
  readonly logger: Logger;
}

/**
 * The pool of connections to PostgreSQL, shared by the table stores: every store operation goes
 * through `read`, `readConsistent` or `write`, the same seam as SqliteConnection.
 *
 * Writes are serialized across every instance by one advisory lock held to the commit (waiting
 * at most the busy timeout), as SQLite serializes them with its file lock: the admin API's rules
 * that read before they write (the last ProjectSuperAdmin, a username taken, a provider in use)
 * hold across instances, row timestamps are handed out in commit order, and so are the
 * change-log entries other instances follow.
 *
 * A storage fault (the server unreachable or gone, a timeout, the lock not obtained in time,
 * a read-only database) becomes ApiError STORAGE_UNAVAILABLE (503) and marks the store not
 * writable until a write commits again; the pool reconnects by itself.
 */
export class PostgresConnection {
  private fault: string | undefined;
  private probed: { at: number; writable: boolean } | undefined;
  private lastStamp = 0;

  constructor(
    readonly pool: pg.Pool,
    private readonly opts: PostgresConnectionOptions,
  ) {}

  /** Statements outside a transaction (each sees the latest commits). */
  async read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.withClient('read', async (client) => fn(sqlOf(client)));
  }

  /** Several statements that must see one snapshot (readLive's providers and routes). */
  async readConsistent<T>(fn: (sql: Sql) => Promise<T>, timeoutMs: number): Promise<T> {
    return this.withClient('read', async (client) => {
      try {
        // jit off: a read of every row is costed high, and compiling it only delays it.
        await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, timeoutMs)}; SET LOCAL jit = off`);
        const value = await fn(sqlOf(client, timeoutMs + 1000));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await rollbackQuietly(client);
        throw err;
      }
    });
  }

  /**
   * One write transaction under the write lock; a throw rolls everything back. Retried (up to
   * three times) when PostgreSQL aborts it as a serialization failure or a deadlock, which only
   * a writer outside outdial can cause.
   */
  async write<T>(fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<Committed<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await this.withClient('write', (client) => this.transaction(client, fn, options));
        if (this.fault !== undefined) {
          this.fault = undefined;
          this.probed = undefined;
        }
        return committed;
      } catch (err) {
        const code = err instanceof pg.DatabaseError ? err.code : undefined;
        if (code !== undefined && RETRY_CODES.has(code) && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /**
   * One transaction under the advisory lock `lockKey`, only if it is free now: resolves 'busy',
   * having run nothing, while another connection (of any instance) holds it. For writers that
   * must never wait (the call record sink: docs/api.md "Call records").
   */
  async writeWithoutWaiting<T>(lockKey: number, fn: (sql: Sql) => Promise<T>): Promise<T | 'busy'> {
    return this.withClient('write', async (client) => {
      try {
        const begun = (await client.query(`BEGIN; SELECT pg_try_advisory_xact_lock(${lockKey}) AS got`)) as unknown as pg.QueryResult[];
        if ((begun[1]!.rows[0] as { got: boolean }).got !== true) {
          await client.query('ROLLBACK');
          return 'busy' as const;
        }
        const value = await fn(sqlOf(client));
        await client.query('COMMIT');
        return value;
      } catch (err) {
        await rollbackQuietly(client);
        throw err;
      }
    });
  }

  private async transaction<T>(client: pg.PoolClient, fn: (tx: WriteTx) => Promise<T>, options: WriteOptions): Promise<Committed<T>> {
    // One round trip: each statement of a simple query takes its own snapshot, so the change-log
    // position, the clock and the newest tm_create are read after the lock was granted.
    let head: { prev: string; now: string; floor: string | null };
    const floor = options.creates ? `(SELECT max(tm_create) FROM ${options.creates})` : 'NULL::text';
    let value: T;
    let last: string;
    try {
      const begun = (await client.query(
        `BEGIN; SET LOCAL lock_timeout = ${Math.max(1, this.opts.busyTimeoutMs)}; SELECT pg_advisory_xact_lock(${WRITE_LOCK}); ` +
          `SELECT ${HEAD} AS prev, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text AS now, ${floor} AS floor`,
      )) as unknown as pg.QueryResult[];
      head = begun[3]!.rows[0] as { prev: string; now: string; floor: string | null };
      const dbMicros = Number(head.now);
      const newest = head.floor;
      const tx: WriteTx = {
        ...sqlOf(client),
        stamp: (f) => this.stamp(dbMicros, f),
        stampNew: () => {
          if (!options.creates) throw new Error('stampNew() needs write(fn, { creates })');
          return this.stamp(dbMicros, newest);
        },
      };
      value = await fn(tx);
      const ended = (await client.query(`SELECT ${HEAD} AS last; COMMIT`)) as unknown as pg.QueryResult[];
      last = (ended[0]!.rows[0] as { last: string }).last;
    } catch (err) {
      await rollbackQuietly(client);
      throw err;
    }
    return { value, prevSeq: Number(head.prev), lastSeq: Number(last) };
  }

  private stamp(dbMicros: number, floor: string | null | undefined): string {
    let t = this.opts.micros ? this.opts.micros() : dbMicros;
    if (t <= this.lastStamp) t = this.lastStamp + 1;
    const f = floor ? parseMicros(floor) : undefined;
    if (f !== undefined && t <= f) t = f + 1;
    this.lastStamp = t;
    return formatMicros(t);
  }

  /**
   * Readable: a query answers. Writable: the write lock and row locks on every table can be
   * taken within a short wait, in a transaction that may write. Without a recent fault the probe
   * rolls back; after one it commits, so "writable" then means a write really went through.
   */
  async health(): Promise<StoreHealth> {
    try {
      await withTimeout(this.read((sql) => sql.query('SELECT 1 FROM schema_version LIMIT 1')), HEALTH_TIMEOUT_MS);
    } catch (err) {
      const fault = err instanceof ApiError ? ((err.cause as Error | undefined) ?? err) : err;
      if (!(err instanceof ApiError) && !isStorageFault(fault)) throw err;
      this.noteFault(fault as Error);
      return { readable: false, writable: false, problem: this.fault! };
    }
    const now = Date.now();
    if (!this.probed || now - this.probed.at >= PROBE_CACHE_MS || this.fault !== undefined) {
      this.probed = { at: now, writable: await this.probeWrite() };
    }
    return { readable: true, writable: this.probed.writable, ...(this.fault !== undefined ? { problem: this.fault } : {}) };
  }

  private async probeWrite(): Promise<boolean> {
    const commit = this.fault !== undefined;
    try {
      await withTimeout(
        this.withClient('write', async (client) => {
          try {
            await client.query(
              `BEGIN; SET LOCAL lock_timeout = ${Math.min(Math.max(1, this.opts.busyTimeoutMs), PROBE_LOCK_TIMEOUT_MS)}; ` +
                `SET LOCAL statement_timeout = ${HEALTH_TIMEOUT_MS}; SELECT pg_advisory_xact_lock(${WRITE_LOCK}); ` +
                `LOCK TABLE ${PROBED_TABLES} IN ROW EXCLUSIVE MODE; INSERT INTO store_probe (data) VALUES ('\\x00'); DELETE FROM store_probe`,
            );
            await client.query(commit ? 'COMMIT' : 'ROLLBACK');
          } catch (err) {
            await rollbackQuietly(client);
            throw err;
          }
        }),
        HEALTH_TIMEOUT_MS,
      );
      this.fault = undefined;
      return true;
    } catch (err) {
      if (err instanceof ApiError) return false; // withClient noted the fault
      if (!isStorageFault(err)) throw err;
      this.noteFault(err);
      return false;
    }
  }

  /**
   * A pooled connection for `fn`; faults become STORAGE_UNAVAILABLE. A connection that failed
   * below SQL (socket, timeout) is destroyed rather than returned to the pool.
   */
  private async withClient<T>(mode: 'read' | 'write', fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.unavailable(mode, err instanceof Error ? err : new Error(String(err)), true);
    }
    let broken: Error | undefined;
    // pg-pool listens for errors only on idle connections: one the server ends while it is
    // checked out (between two statements of a transaction, say) would otherwise emit an
    // unhandled 'error' and take the process down. Noted, it is destroyed at release.
    const onLost = (err: Error) => (broken ??= err);
    client.on('error', onLost);
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof Error && !(err instanceof pg.DatabaseError) && isTransportError(err)) broken ??= err;
      if (isStorageFault(err)) throw this.unavailable(mode, err, false);
      throw err;
    } finally {
      client.removeListener('error', onLost);
      client.release(broken ?? false);
    }
  }

  private unavailable(mode: 'read' | 'write', err: Error, connecting: boolean): ApiError {
    if (mode === 'write' || connecting) this.noteFault(err);
    const what = connecting ? `the database at ${this.opts.description} is unreachable: ${describeFault(err, this.opts.busyTimeoutMs)}` : describeFault(err, this.opts.busyTimeoutMs);
    const message = mode === 'write' ? `the database could not be written: ${what}; nothing was changed` : `the database could not be read: ${what}`;
    return new ApiError('STORAGE_UNAVAILABLE', message, { cause: err });
  }

  private noteFault(err: Error): void {
    const problem = describeFault(err, this.opts.busyTimeoutMs);
    if (this.fault !== problem) this.opts.logger.warn({ db: this.opts.description, problem }, 'database fault');
    this.fault = problem;
    this.probed = undefined;
  }
}

function sqlOf(client: pg.PoolClient, queryTimeoutMs?: number): Sql {
  return {
    async query<R extends object>(text: string, values?: readonly unknown[]): Promise<R[]> {
      const config: pg.QueryConfig = { text, values: values as unknown[] | undefined };
      const result = await client.query<R & pg.QueryResultRow>(queryTimeoutMs === undefined ? config : { ...config, query_timeout: queryTimeoutMs } as pg.QueryConfig);
      return result.rows;
    },
  };
}

async function rollbackQuietly(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    // the connection is gone; the server rolls the transaction back itself
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (connection timeout)`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
