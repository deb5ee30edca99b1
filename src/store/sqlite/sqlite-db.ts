import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** How long a writer waits for another connection (or process) holding the write lock. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the database file: WAL so readers never block the writer and a
 * second process can share the file safely, foreign keys enforced, a busy timeout instead of
 * immediate SQLITE_BUSY, then brings the schema up to date.
 */
export function openDatabase(path: string, logger: Logger): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, logger);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

function migrate(db: Db, logger: Logger): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT');
  for (let i = 0; i < MIGRATIONS.length; i++) {
    const target = i + 1;
    // IMMEDIATE takes the write lock before reading the version, so two processes starting on
    // the same file cannot both apply the same migration.
    const applied = db
      .transaction(() => {
        if (schemaVersion(db) >= target) return false;
        db.exec(MIGRATIONS[i]!);
        db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(target, new Date().toISOString());
        return true;
      })
      .immediate();
    if (applied) logger.info({ schema_version: target }, 'schema migrated');
  }
}
