import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import type { Db } from '../../../src/store/sqlite/sqlite-db.ts';
import type { Store } from '../../../src/store/store.ts';

/** The engine's own SQLite connection, for tests that inspect or sabotage the real file. */
export function sqliteDb(store: Store): Db {
  if (!(store instanceof SqliteStore)) throw new Error('this test needs the SQLite store');
  return store.db;
}
