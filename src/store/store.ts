import type { LeaseStore } from '../cluster/lease.ts';
import type { Logger } from '../log/logger.ts';
import type { MicrosSource } from './clock.ts';
import type { PostgresStoreOptions } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store-types.ts';

export type * from './store-types.ts';
export { Permission } from './store-types.ts';

export interface StoreOptions {
  /** The SQLite database file (config db.path); not used when `url` is set. */
  path: string;
  /** postgres://… (config db.url): PostgreSQL instead of the SQLite file; "" or absent = SQLite. */
  url?: string;
  /** PostgreSQL connections at most (config db.poolSize). */
  poolSize?: number;
  logger: Logger;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
  /** How long a write waits for another writer's lock (config db.busyTimeoutMs). */
  busyTimeoutMs?: number;
  /** PostgreSQL change-feed timings (tests shorten them). */
  feed?: PostgresStoreOptions['feed'];
}

/**
 * Opens the configured store: PostgreSQL when a URL is given (docs/cluster.md §8), else the
 * SQLite file. Callers see only the `Store` interface (store-types.ts). The PostgreSQL modules
 * (pg with them) are loaded only for a PostgreSQL URL (docs/performance.md §13).
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.url) {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    return openPostgresStore({
      url: options.url,
      logger: options.logger,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
      ...(options.micros ? { micros: options.micros } : {}),
      ...(options.feed ? { feed: options.feed } : {}),
    });
  }
  return openSqliteStore(options);
}

/** Where a store can keep leases for the cluster (docs/cluster.md §4.2): PostgreSQL can, a SQLite file is one machine's. */
export function leaseStoreOf(store: Store): LeaseStore | undefined {
  return store.leases?.();
}

/** The database as log lines name it: the SQLite path, or the PostgreSQL URL without its password. */
export function describeStore(store: Store, path: string): string {
  return store.description ?? path;
}
