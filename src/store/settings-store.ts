import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

const JWT_SECRET_KEY = 'jwt_secret';

export class SettingsStore {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  /** Generated on first use and kept, so tokens stay valid across restarts. */
  jwtSecret(): string {
    return this.db
      .transaction(() => {
        const existing = this.get(JWT_SECRET_KEY);
        if (existing !== undefined) return existing;
        const secret = randomBytes(32).toString('base64url');
        this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(JWT_SECRET_KEY, secret);
        return secret;
      })
      .immediate();
  }
}
