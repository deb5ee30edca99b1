import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StartupError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

/** How long a writer waits for another connection (or process) holding the write lock. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the database file: WAL so readers never block the writer and a
 * second process can share the file safely, foreign keys enforced, a busy timeout instead of
 * immediate SQLITE_BUSY, then brings the schema up to date. A file that is not an outdial
 * database, or whose schema is newer than this build knows, stops start-up (StartupError naming
 * the file) before anything is written to it.
 */
export function openDatabase(path: string, logger: Logger, options: { busyTimeoutMs?: number } = {}): Db {
  if (path !== ':memory:') createOwnerOnly(path, logger);
  let db: Db;
  try {
    db = new Database(path);
  } catch (err) {
    throw new StartupError(`cannot open the database file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkIsOutdialDatabase(db, path);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, path, logger);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * The database holds carrier settings and sealed secrets: its directory (when outdial creates it)
 * is 0700 and the file 0600. SQLite creates the -wal and -shm files with the database file's
 * permissions (os_unix.c, findCreateFileMode), so they are owner-only too. An existing file keeps
 * its permissions; one that others can read is reported.
 */
function createOwnerOnly(path: string, logger: Logger): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return; // better-sqlite3 reports the real problem
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) logger.warn({ db: path, mode: mode.toString(8) }, 'database file readable by others; chmod 600 it (and its -wal and -shm files)');
}

export function schemaVersion(db: Db): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Reads the header before anything else: SQLite answers SQLITE_NOTADB for a file that is not a
 * database, and an SQLite file with tables but no schema_version belongs to something else.
 */
function checkIsOutdialDatabase(db: Db, path: string): void {
  let tables: string[];
  try {
    tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((r) => r.name);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StartupError(`the database file ${path} is not an SQLite database (${(err as Error).message}); move it away or set OUTDIAL_DB_PATH to another file`, { cause: err });
    }
    throw new StartupError(`cannot read the database file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (tables.length > 0 && !tables.includes('schema_version')) {
    throw new StartupError(`the database file ${path} is an SQLite database of another application (tables: ${tables.slice(0, 5).join(', ')}); set OUTDIAL_DB_PATH to another file`);
  }
}

function migrate(db: Db, path: string, logger: Logger): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT');
  const found = schemaVersion(db);
  if (found > MIGRATIONS.length) {
    throw new StartupError(
      `the database file ${path} has schema version ${found}, newer than this build of outdial knows (${MIGRATIONS.length}); ` +
        'run the newer outdial that wrote it, or restore a backup made before the upgrade',
    );
  }
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
