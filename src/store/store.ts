import type { Logger } from '../log/logger.ts';
import type { ProviderRecord, RouteRecord, RoutingChange, RoutingSource } from '../routing/model.ts';
import { AgentStore } from './agent-store.ts';
import { createMonotonicClock, type MicrosSource } from './clock.ts';
import { openDatabase, type Db } from './db.ts';
import { ProviderStore } from './provider-store.ts';
import { RouteStore } from './route-store.ts';
import { SettingsStore } from './settings-store.ts';

export interface StoreOptions {
  path: string;
  logger: Logger;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
}

/**
 * The SQLite store. It is the routing code's `RoutingSource`: `readLive()` reads providers and
 * routes in one read transaction (one consistent WAL snapshot), and listeners are told after
 * every committed provider or route change so the routing snapshot is rebuilt at once; the
 * per-call path never queries the database.
 */
export class Store implements RoutingSource {
  readonly providers: ProviderStore;
  readonly routes: RouteStore;
  readonly agents: AgentStore;
  readonly settings: SettingsStore;
  private readonly listeners = new Set<(change: RoutingChange) => void>();
  private watchTimer: NodeJS.Timeout | undefined;
  private dataVersion = 0;

  constructor(
    readonly db: Db,
    private readonly logger: Logger,
    micros?: MicrosSource,
  ) {
    const clock = createMonotonicClock(micros);
    this.providers = new ProviderStore(db, clock, (row) => this.emitChange({ kind: 'provider', row }));
    this.routes = new RouteStore(db, clock, (row) => this.emitChange({ kind: 'route', row }));
    this.agents = new AgentStore(db, clock);
    this.settings = new SettingsStore(db);
  }

  readLive(): { providers: ProviderRecord[]; routes: RouteRecord[] } {
    return this.db.transaction(() => ({ providers: this.providers.listLive(), routes: this.routes.listLive() })).deferred();
  }

  onChange(listener: (change: RoutingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True when the database answers a query (GET /healthz). */
  healthy(): boolean {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
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
      const v = this.readDataVersion();
      if (v === this.dataVersion) return;
      this.dataVersion = v;
      this.logger.debug({ data_version: v }, 'external database change');
      this.emitChange({ kind: 'reload' });
    }, intervalMs);
    this.watchTimer.unref();
  }

  close(): void {
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

export function openStore(options: StoreOptions): Store {
  return new Store(openDatabase(options.path, options.logger), options.logger, options.micros);
}
