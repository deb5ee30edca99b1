import type { Logger } from '../../log/logger.ts';
import type { SettingsStore } from '../store-types.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/**
 * Settings shared by every instance on the database: the secret key's id and the sealed token
 * signing key (src/secrets/signing-key.ts), one for all. Values are opaque here, as in SQLite.
 */
export class PostgresSettingsStore implements SettingsStore {
  constructor(
    private readonly conn: PostgresConnection,
    private readonly logger: Logger,
  ) {}

  get(key: string): Promise<string | undefined> {
    return this.conn.read(async (sql) => (await sql.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))[0]?.value);
  }

  async putIfAbsent(key: string, value: string): Promise<string> {
    // Under the write lock: instances starting together on a fresh database agree on one value.
    const write = await this.conn.write(async (tx) => {
      const existing = (await tx.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))[0];
      if (existing) return existing.value;
      await tx.query('INSERT INTO settings (key, value) VALUES ($1, $2)', [key, value]);
      return value;
    });
    return write.value;
  }

  /**
   * A deleted row stays in the table's file until VACUUM reclaims it; VACUUM FULL rewrites the
   * (tiny) table into a new file without it (https://www.postgresql.org/docs/15/sql-vacuum.html).
   * The write-ahead log keeps the old row until its segments are recycled, which the store cannot
   * force without superuser rights.
   */
  async remove(key: string): Promise<void> {
    await this.conn.write(async (tx) => {
      await tx.query('DELETE FROM settings WHERE key = $1', [key]);
    });
    try {
      await this.conn.read(async (sql) => sql.query('VACUUM FULL settings'));
    } catch (err) {
      // The value is deleted; only its bytes may linger until autovacuum reuses the page.
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'settings table not vacuumed');
    }
  }
}
