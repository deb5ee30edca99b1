import type { Logger } from '../../log/logger.ts';
import type { ProviderRecord, RouteRecord, RoutingChange } from '../../routing/model.ts';
import { createMonotonicClock, type MicrosSource } from '../clock.ts';
import type { Store, StoreHealth } from '../store-types.ts';
import { SqliteAccessKeyStore } from './sqlite-access-key-store.ts';
import { SqliteAgentStore } from './sqlite-agent-store.ts';
import { SqliteCallStore } from './sqlite-call-store.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { DEFAULT_BUSY_TIMEOUT_MS, openDatabase, type Db } from './sqlite-db.ts';
import { SqliteProviderCallStore } from './sqlite-provider-call-store.ts';
import { SqliteProviderStore } from './sqlite-provider-store.ts';
import { SqliteRouteStore } from './sqlite-route-store.ts';
import { SqliteSettingsStore } from './sqlite-settings-store.ts';

export interface SqliteStoreOptions {
  path: string;
  logger: Logger;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
  /** How long a write waits for another writer's lock (config db.busyTimeoutMs). */
  busyTimeoutMs?: number;
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
  private watchTimer: NodeJS.Timeout | undefined;
  private dataVersion = 0;

  constructor(
    readonly db: Db,
    private readonly logger: Logger,
    options: { micros?: MicrosSource | undefined; busyTimeoutMs?: number | undefined } = {},
  ) {
    this.conn = new SqliteConnection(db, createMonotonicClock(options.micros), options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    this.providers = new SqliteProviderStore(this.conn, (row) => this.emitChange({ kind: 'provider', row }));
    this.routes = new SqliteRouteStore(this.conn, (row) => this.emitChange({ kind: 'route', row }));
    this.agents = new SqliteAgentStore(this.conn);
    this.accessKeys = new SqliteAccessKeyStore(this.conn);
    this.settings = new SqliteSettingsStore(this.conn);
    this.calls = new SqliteCallStore(this.conn);
    this.providerCalls = new SqliteProviderCallStore(this.conn);
  }

  readLive(): Promise<{ providers: ProviderRecord[]; routes: RouteRecord[] }> {
    return this.conn.read(() =>
      this.db.transaction(() => ({ providers: this.providers.listLiveNow(), routes: this.routes.listLiveNow() })).deferred(),
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
   * Also notice commits made by other connections (another process on the same file, e.g. a
   * second engine or a maintenance script): `PRAGMA data_version` changes exactly then. Our own
   * commits are announced directly and do not change it for this connection.
   */
  watchExternalChanges(intervalMs = 1000): void {
    if (this.watchTimer) return;
    this.dataVersion = this.readDataVersion();
    this.watchTimer = setInterval(() => {
      if (!this.db.open) return;
      let v: number;
      try {
        v = this.readDataVersion();
      } catch (err) {
        this.logger.warn({ err }, 'external change check failed');
        return;
      }
      if (v === this.dataVersion) return;
      this.dataVersion = v;
      this.logger.debug({ data_version: v }, 'external database change');
      this.emitChange({ kind: 'reload' });
    }, intervalMs);
    this.watchTimer.unref();
  }

  async close(): Promise<void> {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }

  private readDataVersion(): number {
    return Number(this.db.pragma('data_version', { simple: true }));
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
  return new SqliteStore(db, options.logger, { micros: options.micros, busyTimeoutMs: options.busyTimeoutMs });
}
