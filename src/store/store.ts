import type { Logger } from '../log/logger.ts';
import type { MicrosSource } from './clock.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store-types.ts';

export type * from './store-types.ts';
export { Permission } from './store-types.ts';

export interface StoreOptions {
  /** The SQLite database file (config db.path). */
  path: string;
  logger: Logger;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
  /** How long a write waits for another writer's lock (config db.busyTimeoutMs). */
  busyTimeoutMs?: number;
}

/**
 * Opens the configured store. SQLite is the only backend so far; callers see only the `Store`
 * interface (store-types.ts), so another backend can sit behind this function.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  return openSqliteStore(options);
}
