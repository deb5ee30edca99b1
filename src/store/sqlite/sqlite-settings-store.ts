import type { SettingsStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly conn: SqliteConnection) {}

  get(key: string): Promise<string | undefined> {
    return this.conn.read(() => this.getNow(key));
  }

  putIfAbsent(key: string, value: string): Promise<string> {
    return this.conn.write(() => {
      const existing = this.getNow(key);
      if (existing !== undefined) return existing;
      this.conn.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(key, value);
      return value;
    });
  }

  /**
   * secure_delete overwrites the deleted row's bytes in its page (https://www.sqlite.org/pragma.html#pragma_secure_delete);
   * the checkpoint then writes that page back into the database file and truncates the WAL, so
   * neither file keeps the old value.
   */
  async remove(key: string): Promise<void> {
    const db = this.conn.db;
    const before = db.pragma('secure_delete', { simple: true }) as number;
    db.pragma('secure_delete = ON');
    try {
      await this.conn.write(() => {
        db.prepare('DELETE FROM settings WHERE key = ?').run(key);
      });
    } finally {
      db.pragma(`secure_delete = ${before}`);
    }
    await this.conn.read(() => db.pragma('wal_checkpoint(TRUNCATE)'));
  }

  private getNow(key: string): string | undefined {
    const row = this.conn.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }
}
