import type { Logger } from '../../log/logger.ts';
import type { ProviderRecord, RouteRecord, RoutingChange } from '../../routing/model.ts';
import { createMonotonicClock, type MicrosSource } from '../clock.ts';
import type { Store, StoreHealth } from '../store-types.ts';
import { SqliteAccessKeyStore } from './sqlite-access-key-store.ts';
import { SqliteAgentStore } from './sqlite-agent-store.ts';
import { SqliteCallStore } from './sqlite-call-store.ts';
import { SqliteCheckpointer } from './sqlite-checkpointer.ts';
import { PRUNE_BATCH, SqliteChangeLog, type SqliteChangeLogOptions } from './sqlite-change-log.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase, type Db } from './sqlite-db.ts';
import { SqliteProviderCallStore } from './sqlite-provider-call-store.ts';
import { SqliteProviderStore } from './sqlite-provider-store.ts';
import { SqliteRouteStore } from './sqlite-route-store.ts';
import { SqliteSettingsStore } from './sqlite-settings-store.ts';

/** The pause between two prunes of a backlog of change-log entries. */
const PRUNE_AGAIN_MS = 200;

export interface SqliteStoreOptions {
  path: string;
  logger: Logger;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
  /** How long a write waits for another writer's lock (config db.busyTimeoutMs). */
  busyTimeoutMs?: number;
  /** Retention and limits of the change log (tests make it tiny). */
  changeLog?: SqliteChangeLogOptions;
  /** How often this process prunes the change log while it watches; default 1 minute. */
  pruneEveryMs?: number;
}

/**
 * The SQLite store (one file, WAL). As the routing side's `RoutingSource`, `readLive()` reads
 * providers and routes in one read transaction (one consistent WAL snapshot), and listeners are
 * told after every committed provider or route change; the per-call path never queries it.
 */
export class SqliteStore implements Store {
  readonly providers: SqliteProviderStore;
  readonly routes: SqliteRouteStore;
  readonly agents: SqliteAgentStore;
  readonly accessKeys: SqliteAccessKeyStore;
  readonly settings: SqliteSettingsStore;
  readonly calls: SqliteCallStore;
  readonly providerCalls: SqliteProviderCallStore;
  private readonly conn: SqliteConnection;
  private readonly listeners = new Set<(change: RoutingChange) => void>();
  /** Follows what other connections commit (docs/performance.md §8). */
  readonly changeLog: SqliteChangeLog;
  private watchTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruneSoon: NodeJS.Timeout | undefined;
  private readonly pruneEveryMs: number;
  /** WAL checkpoints off the event loop while the store runs in an engine (docs/performance.md §8.2) */
  readonly checkpointer: SqliteCheckpointer;

  constructor(
    readonly db: Db,
    private readonly logger: Logger,
    options: {
      micros?: MicrosSource | undefined;
      busyTimeoutMs?: number | undefined;
      changeLog?: SqliteChangeLogOptions | undefined;
      pruneEveryMs?: number | undefined;
    } = {},
  ) {
    this.conn = new SqliteConnection(db, createMonotonicClock(options.micros), options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    // The watermark is taken now, before the first readLive: nothing committed from here on is missed.
    this.changeLog = new SqliteChangeLog(this.conn, logger, options.changeLog);
    this.pruneEveryMs = options.pruneEveryMs ?? 60_000;
    this.checkpointer = new SqliteCheckpointer(db, logger);
    this.providers = new SqliteProviderStore(this.conn, (row) => this.emitChange({ kind: 'provider', row }));
    this.routes = new SqliteRouteStore(this.conn, (row) => this.emitChange({ kind: 'route', row }));
    this.agents = new SqliteAgentStore(this.conn);
    this.accessKeys = new SqliteAccessKeyStore(this.conn);
    this.settings = new SqliteSettingsStore(this.conn);
    this.calls = new SqliteCallStore(this.conn);
    this.providerCalls = new SqliteProviderCallStore(this.conn);
  }

  readLive(): Promise<{ providers: ProviderRecord[]; routes: RouteRecord[] }> {
    return this.conn.read(() => {
      const live = this.db.transaction(() => ({ providers: this.providers.listLiveNow(), routes: this.routes.listLiveNow() })).deferred();
      this.changeLog.noteFullRead(live.providers.length + live.routes.length);
      return live;
    });
  }

  readLiveInto<T>(consume: (providers: ProviderRecord[], routes: Iterable<RouteRecord>) => T): Promise<T> {
    return this.conn.read(() =>
      this.db
        .transaction(() => {
          const providers = this.providers.listLiveNow();
          // Rows come off the statement as `consume` asks for them; none is kept here.
          const rows = this.routes.iterateLiveNow();
          let count = 0;
          const routes: Iterable<RouteRecord> = {
            *[Symbol.iterator]() {
              for (const row of rows) {
                count++;
                yield row;
              }
            },
          };
          let result: T;
          try {
            result = consume(providers, routes);
          } finally {
            // A consumer that stopped early (or threw) leaves the statement open: close it, so
            // the connection is free for the next statement.
            rows.return?.();
          }
          this.changeLog.noteFullRead(providers.length + count);
          return result;
        })
        .deferred(),
    );
  }

  onChange(listener: (change: RoutingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async health(): Promise<StoreHealth> {
    return this.conn.health();
  }

  /**
   * Also announce commits made by other connections (another process on the same file, e.g. a
   * second engine or a maintenance script), row by row from the change log, checked every
   * `intervalMs` (docs/performance.md §8). Our own commits are announced directly as they commit.
   * While watching, this process also prunes the log now and then, and checkpoints the WAL from a
   * worker thread (docs/performance.md §8.2).
   */
  watchExternalChanges(intervalMs = 1000): void {
    if (this.watchTimer) return;
    this.checkpointer.start();
    this.watchTimer = setInterval(() => this.checkExternalChanges(), intervalMs);
    this.watchTimer.unref();
    this.pruneTimer = setInterval(() => void this.pruneChangeLog(), this.pruneEveryMs);
    this.pruneTimer.unref();
    void this.pruneChangeLog();
  }

  /** One check of the change log now, its result announced (the watch timer's job). */
  checkExternalChanges(): void {
    if (!this.db.open) return;
    const found = this.changeLog.check();
    if (found.kind === 'none') return;
    if (found.kind === 'reload') {
      this.logger.info({ why: found.why, seq: this.changeLog.position }, 'external database change; reloading the dial plan');
      this.emitChange({ kind: 'reload' });
      return;
    }
    this.logger.debug({ changes: found.changes.length, seq: this.changeLog.position }, 'external database change');
    for (const change of found.changes) this.emitChange(change);
  }

  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    clearTimeout(this.pruneSoon);
    this.watchTimer = undefined;
    this.pruneTimer = undefined;
    this.listeners.clear();
    await this.checkpointer.stop();
    if (this.db.open) this.db.close();
  }

  /** One batch, and another soon after while batches come back full (a backlog, e.g. after a bulk import). */
  private async pruneChangeLog(): Promise<void> {
    if (!this.db.open) return;
    let removed: number;
    try {
      removed = await this.changeLog.prune();
    } catch (err) {
      this.logger.debug({ err }, 'change log not pruned');
      return;
    }
    if (removed < PRUNE_BATCH || !this.pruneTimer) return;
    clearTimeout(this.pruneSoon);
    this.pruneSoon = setTimeout(() => void this.pruneChangeLog(), PRUNE_AGAIN_MS);
    this.pruneSoon.unref();
  }

  private emitChange(change: RoutingChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.logger.error({ err }, 'store change listener failed');
      }
    }
  }
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = openDatabase(options.path, options.logger, { busyTimeoutMs: options.busyTimeoutMs });
  return new SqliteStore(db, options.logger, {
    micros: options.micros,
    busyTimeoutMs: options.busyTimeoutMs,
    changeLog: options.changeLog,
    pruneEveryMs: options.pruneEveryMs,
  });
}
