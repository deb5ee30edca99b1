import { randomBytes } from 'node:crypto';
import type { SettingsStore } from '../store-types.ts';
import type { PostgresConnection } from './postgres-connection.ts';

const JWT_SECRET_KEY = 'jwt_secret';

/** Settings shared by every instance on the database: the token signing key is one key for all. */
export class PostgresSettingsStore implements SettingsStore {
  constructor(private readonly conn: PostgresConnection) {}

  get(key: string): Promise<string | undefined> {
    return this.conn.read(async (sql) => (await sql.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]))[0]?.value);
  }

  async jwtSecret(): Promise<string> {
    // Under the write lock: instances starting together on a fresh database agree on one key.
    const write = await this.conn.write(async (tx) => {
      const existing = (await tx.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [JWT_SECRET_KEY]))[0];
      if (existing) return existing.value;
      const secret = randomBytes(32).toString('base64url');
      await tx.query('INSERT INTO settings (key, value) VALUES ($1, $2)', [JWT_SECRET_KEY, secret]);
      return secret;
    });
    return write.value;
  }
}
