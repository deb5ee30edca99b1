import type { MonotonicClock } from '../clock.ts';
import type { Db } from './sqlite-db.ts';

/**
 * The one better-sqlite3 connection and the row clock, shared by the table stores. Every store
 * operation goes through `read` or `write`, so this is the seam where the work can move off
 * the main thread later; today both run synchronously and hand back a settled Promise.
 */
export class SqliteConnection {
  constructor(
    readonly db: Db,
    readonly clock: MonotonicClock,
  ) {}

  /** A read; WAL gives it one consistent snapshot. */
  async read<T>(fn: () => T): Promise<T> {
    return fn();
  }

  /**
   * One write transaction. IMMEDIATE takes the write lock up front (waiting up to the busy
   * timeout), so a transaction never fails half-way on a lock; a throw rolls everything back.
   */
  async write<T>(fn: () => T): Promise<T> {
    return this.db.transaction(fn).immediate();
  }
}
