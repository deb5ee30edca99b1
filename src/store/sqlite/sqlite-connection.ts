import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
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
 * While another connection holds the write lock, a write tries again after this long, doubling
 * up to LOCK_RETRY_MAX_MS: the wait is on a timer, not in SQLite's busy handler, so the event
 * loop (SIP, /healthz) runs meanwhile (docs/performance.md §8).
 */
const LOCK_RETRY_FIRST_MS = 2;
const LOCK_RETRY_MAX_MS = 50;

const BUSY = Symbol('busy');

function isLockBusy(err: unknown): boolean {
  const cause = err instanceof ApiError ? err.cause : err;
  return cause instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(cause.code);
}

/**
 * The one better-sqlite3 connection and the row clock, shared by the table stores. Every store
 * operation goes through `read` or `write`. Both run synchronously when they can; a write that
 * finds the write lock held by another connection waits for it on a timer, never in SQLite's
 * busy handler, so a lock held elsewhere never stalls the event loop (docs/performance.md §8).
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

  /** Writes waiting for another connection's write lock, in arrival order. */
  private lockQueue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private probing: Promise<boolean> | undefined;

  /**
   * One write transaction. IMMEDIATE takes the write lock up front, so a transaction never fails
   * half-way on a lock; a throw rolls everything back. When another connection holds the lock,
   * the write waits for it up to the busy timeout, asynchronously and behind the writes already
   * waiting (their order is kept), one per event-loop turn once the lock is free; past the
   * timeout it fails as STORAGE_UNAVAILABLE.
   */
  async write<T>(fn: () => T): Promise<T> {
    if (this.waiting === 0) {
      const now = this.attempt(fn);
      if (now !== BUSY) return now;
    }
    const deadline = performance.now() + this.busyTimeoutMs;
    this.waiting++;
    const turn = this.lockQueue.then(() => this.waitForLock(fn, deadline));
    this.lockQueue = turn.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await turn;
    } finally {
      this.waiting--;
    }
  }

  private async waitForLock<T>(fn: () => T, deadline: number): Promise<T> {
    // Each queued write first lets the event loop turn: when the lock frees, the writes that
    // waited for it run one per turn, not all in one go with SIP and HTTP held behind them.
    await nextTurn();
    for (let delay = LOCK_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS)) {
      const left = deadline - performance.now();
      // the last try fails as any storage fault does (marks the store, STORAGE_UNAVAILABLE)
      if (left <= 0) return this.withoutBusyWait(() => this.writeNow(fn));
      const r = this.attempt(fn);
      if (r !== BUSY) return r;
      await sleep(Math.min(delay, Math.max(1, left)));
    }
  }

  /** One try that does not wait for the lock: BUSY when another connection holds it. */
  private attempt<T>(fn: () => T): T | typeof BUSY {
    const faultBefore = this.fault;
    try {
      return this.withoutBusyWait(() => this.writeNow(fn));
    } catch (err) {
      if (!isLockBusy(err)) throw err;
      // Another writer's lock is no fault of the storage: health stays as it was before.
      this.fault = faultBefore;
      return BUSY;
    }
  }

  /** Runs `fn` with SQLite's busy handler off; set and restored synchronously, nothing runs in between. */
  private withoutBusyWait<T>(fn: () => T): T {
    if (this.db.open) this.db.pragma('busy_timeout = 0');
    try {
      return fn();
    } finally {
      if (this.db.open) this.db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
    }
  }

  /**
   * One write transaction that does not wait for the write lock: when another connection holds
   * it, nothing is written and 'busy' comes back at once (the caller retries later). For writes
   * made off a latency-sensitive path (the call record sink), which must never stall the event
   * loop for the busy timeout. Other storage faults are STORAGE_UNAVAILABLE, as in write().
   */
  async writeWithoutWaiting<T>(fn: () => T): Promise<T | 'busy'> {
    const r = this.attempt(fn);
    return r === BUSY ? 'busy' : r;
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
  async health(): Promise<StoreHealth> {
    try {
      this.db.prepare('SELECT count(*) FROM schema_version').get();
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      this.noteFault(err);
      return { readable: false, writable: false, problem: this.fault! };
    }
    const now = Date.now();
    if (!this.probed || now - this.probed.at >= PROBE_CACHE_MS || this.fault !== undefined) {
      // concurrent health checks share one probe
      this.probing ??= this.probeWrite().finally(() => (this.probing = undefined));
      this.probed = { at: now, writable: await this.probing };
    }
    return { readable: true, writable: this.probed.writable, ...(this.fault !== undefined ? { problem: this.fault } : {}) };
  }

  /** Asks for the write lock for at most PROBE_BUSY_TIMEOUT_MS, on a timer like write(). */
  private async probeWrite(): Promise<boolean> {
    const deadline = performance.now() + Math.min(this.busyTimeoutMs, PROBE_BUSY_TIMEOUT_MS);
    for (let delay = LOCK_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS)) {
      const last = performance.now() >= deadline;
      try {
        return this.withoutBusyWait(() => this.probeOnce());
      } catch (err) {
        if (!isStorageFault(err)) throw err;
        if (last || !isLockBusy(err)) {
          this.noteFault(err);
          return false;
        }
      }
      await sleep(Math.min(delay, Math.max(1, deadline - performance.now())));
    }
  }

  private probeOnce(): boolean {
    const commit = this.fault !== undefined;
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
  }

  private noteFault(err: Error): void {
    this.fault = describeFault(err);
    this.probed = undefined;
  }
}
