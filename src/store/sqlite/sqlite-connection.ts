import Database from 'better-sqlite3';
import { ApiError } from '../../errors.ts';
import type { MonotonicClock } from '../clock.ts';
import type { StoreHealth } from '../store-types.ts';
import type { Db } from './sqlite-db.ts';

/**
 * SQLite result codes that say "the storage cannot do this now", not "the request is wrong":
 * disk full, the lock held past the busy timeout, a read-only file or directory, I/O errors
 * (https://www.sqlite.org/rescode.html). Extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED,
 * ...) count with their primary code.
 */
const STORAGE_FAULT_CODE = /^SQLITE_(FULL|BUSY|LOCKED|READONLY|IOERR|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)(_|$)/;

export function isStorageFault(err: unknown): err is Error {
  if (err instanceof Database.SqliteError) return STORAGE_FAULT_CODE.test(err.code);
  // better-sqlite3 refuses every call on a closed connection with this TypeError.
  return err instanceof TypeError && /database connection is not open/.test(err.message);
}

function describeFault(err: Error): string {
  const code = err instanceof Database.SqliteError ? ` (${err.code})` : '';
  return `${err.message}${code}`;
}

/** The health probe asks for the write lock for at most this long (it must not stall /healthz). */
const PROBE_BUSY_TIMEOUT_MS = 200;
/** A probe result is reused for this long, so a busy health checker costs one probe a second. */
const PROBE_CACHE_MS = 1000;
/** The probe allocates this much, so a database that cannot grow (disk full) fails it. */
const PROBE_BYTES = 8192;

/**
 * The one better-sqlite3 connection and the row clock, shared by the table stores. Every store
 * operation goes through `read` or `write`, so this is the seam where the work can move off
 * the main thread later; today both run synchronously and hand back a settled Promise.
 *
 * A storage fault becomes ApiError STORAGE_UNAVAILABLE (503) and marks the store not writable
 * until a write commits again; nothing needs restarting, the next write simply tries again.
 */
export class SqliteConnection {
  private fault: string | undefined;
  private probed: { at: number; writable: boolean } | undefined;

  constructor(
    readonly db: Db,
    readonly clock: MonotonicClock,
    private readonly busyTimeoutMs: number,
  ) {}

  /** A read; WAL gives it one consistent snapshot. */
  async read<T>(fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (err) {
      if (isStorageFault(err)) throw new ApiError('STORAGE_UNAVAILABLE', `the database could not be read: ${describeFault(err)}`, { cause: err });
      throw err;
    }
  }

  /**
   * One write transaction. IMMEDIATE takes the write lock up front (waiting up to the busy
   * timeout), so a transaction never fails half-way on a lock; a throw rolls everything back.
   */
  async write<T>(fn: () => T): Promise<T> {
    return this.writeNow(fn);
  }

  /**
   * One write transaction that does not wait for the write lock: when another connection holds
   * it, nothing is written and 'busy' comes back at once (the caller retries later). For writes
   * made off a latency-sensitive path (the call record sink), which must never stall the event
   * loop for the busy timeout. Other storage faults are STORAGE_UNAVAILABLE, as in write().
   */
  async writeWithoutWaiting<T>(fn: () => T): Promise<T | 'busy'> {
    const faultBefore = this.fault;
    // Set and restored synchronously: no other write on this connection can run in between.
    if (this.db.open) this.db.pragma('busy_timeout = 0');
    try {
      return this.writeNow(fn);
    } catch (err) {
      const code = err instanceof ApiError && err.cause instanceof Database.SqliteError ? err.cause.code : '';
      if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) {
        // Another writer's lock is no fault of the storage: health stays as it was before.
        this.fault = faultBefore;
        return 'busy';
      }
      throw err;
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private writeNow<T>(fn: () => T): T {
    let result: T;
    try {
      result = this.db.transaction(fn).immediate();
    } catch (err) {
      if (isStorageFault(err)) {
        this.noteFault(err);
        throw new ApiError('STORAGE_UNAVAILABLE', `the database could not be written: ${describeFault(err)}; nothing was changed`, { cause: err });
      }
      throw err;
    }
    if (this.fault !== undefined) {
      this.fault = undefined;
      this.probed = undefined;
    }
    return result;
  }

  /**
   * Readable: a query answers. Writable: the write lock can be taken within a short wait and
   * the file can grow. Without a recent fault the probe rolls back (no commit, so other
   * processes watching the file see no change); after a fault it commits, so "writable"
   * means a write really went through.
   */
  health(): StoreHealth {
    try {
      this.db.prepare('SELECT count(*) FROM schema_version').get();
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      this.noteFault(err);
      return { readable: false, writable: false, problem: this.fault! };
    }
    const now = Date.now();
    if (!this.probed || now - this.probed.at >= PROBE_CACHE_MS || this.fault !== undefined) {
      this.probed = { at: now, writable: this.probeWrite() };
    }
    return { readable: true, writable: this.probed.writable, ...(this.fault !== undefined ? { problem: this.fault } : {}) };
  }

  private probeWrite(): boolean {
    const commit = this.fault !== undefined;
    this.db.pragma(`busy_timeout = ${Math.min(this.busyTimeoutMs, PROBE_BUSY_TIMEOUT_MS)}`);
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.db.prepare('INSERT INTO store_probe (data) VALUES (zeroblob(?))').run(PROBE_BYTES);
        this.db.prepare('DELETE FROM store_probe').run();
        this.db.exec(commit ? 'COMMIT' : 'ROLLBACK');
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
      this.fault = undefined;
      return true;
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      this.noteFault(err);
      return false;
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  private noteFault(err: Error): void {
    this.fault = describeFault(err);
    this.probed = undefined;
  }
}
