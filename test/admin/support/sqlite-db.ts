import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import type { Db } from '../../../src/store/sqlite/sqlite-db.ts';
import type { Store } from '../../../src/store/store.ts';

/** The engine's own SQLite connection, for tests that inspect or sabotage the real file. */
export function sqliteDb(store: Store): Db {
  if (!(store instanceof SqliteStore)) throw new Error('this test needs the SQLite store');
  return store.db;
}

/**
 * Makes the database full for real: the file may not grow by another page (PRAGMA
 * max_page_count), then `write` is repeated until one fails for lack of room (it answers
 * false), so every page the next write could use is taken, as on a full disk. Returns the undo.
 */
export async function fillDatabase(db: Db, write: () => Promise<boolean>): Promise<() => void> {
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
  for (let i = 0; ; i++) {
    if (i === 500) throw new Error('the database did not fill up');
    if (!(await write())) break;
  }
  return () => {
    db.pragma('max_page_count = 1073741823');
  };
}
