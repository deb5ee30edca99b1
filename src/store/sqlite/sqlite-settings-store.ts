import { randomBytes } from 'node:crypto';
import type { SettingsStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

const JWT_SECRET_KEY = 'jwt_secret';

export class SqliteSettingsStore implements SettingsStore {
  constructor(private readonly conn: SqliteConnection) {}

  get(key: string): Promise<string | undefined> {
    return this.conn.read(() => this.getNow(key));
  }

  jwtSecret(): Promise<string> {
    return this.conn.write(() => {
      const existing = this.getNow(JWT_SECRET_KEY);
      if (existing !== undefined) return existing;
      const secret = randomBytes(32).toString('base64url');
      this.conn.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(JWT_SECRET_KEY, secret);
      return secret;
    });
  }

  private getNow(key: string): string | undefined {
    const row = this.conn.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }
}
