import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { formatMicros, parseMicros } from '../clock.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import type { AccessKeyInput, AccessKeyRecord, AccessKeyStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

export class SqliteAccessKeyStore implements AccessKeyStore {
  constructor(private readonly conn: SqliteConnection) {}

  get(id: string): Promise<AccessKeyRecord | undefined> {
    return this.conn.read(() => this.getNow(id));
  }

  list(page: PageRequest & { agentId?: string | undefined }): Promise<Page<AccessKeyRecord>> {
    return this.conn.read(() => {
      const db = this.conn.db;
      const bound = tokenBound(page.pageToken);
      const rows =
        page.agentId === undefined
          ? db.prepare('SELECT * FROM access_keys WHERE tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?').all(LIVE_SENTINEL, bound, page.pageSize)
          : db
              .prepare('SELECT * FROM access_keys WHERE agent_id = ? AND tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
              .all(page.agentId, LIVE_SENTINEL, bound, page.pageSize);
      return pageOf(rows as AccessKeyRecord[]);
    });
  }

  findByTokenHash(tokenHash: string): Promise<AccessKeyRecord | undefined> {
    return this.conn.read(
      () => this.conn.db.prepare('SELECT * FROM access_keys WHERE token_hash = ? AND tm_delete = ?').get(tokenHash, LIVE_SENTINEL) as AccessKeyRecord | undefined,
    );
  }

  create(input: AccessKeyInput): Promise<AccessKeyRecord> {
    return this.conn.write(() => {
      const db = this.conn.db;
      const agent = db.prepare('SELECT 1 FROM agents WHERE id = ? AND tm_delete = ?').get(input.agentId, LIVE_SENTINEL);
      if (!agent) throw new ApiError('AGENT_NOT_FOUND', `agent ${input.agentId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
      const floor = (db.prepare('SELECT max(tm_create) AS m FROM access_keys').get() as { m: string | null }).m;
      const now = this.conn.clock.next(floor);
      const expire = input.expiresInSeconds === undefined ? LIVE_SENTINEL : formatMicros(parseMicros(now)! + input.expiresInSeconds * 1_000_000);
      const id = randomUUID();
      db.prepare(
        `INSERT INTO access_keys (id, agent_id, name, detail, token_hash, token_prefix, tm_expire, tm_create, tm_update, tm_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, input.agentId, input.name, input.detail, input.tokenHash, input.tokenPrefix, expire, now, now, LIVE_SENTINEL);
      return this.getNow(id)!;
    });
  }

  update(id: string, update: { name: string; detail: string }): Promise<AccessKeyRecord> {
    return this.conn.write(() => {
      const current = this.requireLive(id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db.prepare('UPDATE access_keys SET name = ?, detail = ?, tm_update = ? WHERE id = ?').run(update.name, update.detail, now, id);
      return this.getNow(id)!;
    });
  }

  softDelete(id: string): Promise<AccessKeyRecord> {
    return this.conn.write(() => {
      const current = this.requireLive(id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db.prepare('UPDATE access_keys SET tm_update = ?, tm_delete = ? WHERE id = ?').run(now, now, id);
      return this.getNow(id)!;
    });
  }

  private getNow(id: string): AccessKeyRecord | undefined {
    return this.conn.db.prepare('SELECT * FROM access_keys WHERE id = ?').get(id) as AccessKeyRecord | undefined;
  }

  private requireLive(id: string): AccessKeyRecord {
    const current = this.getNow(id);
    if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ACCESS_KEY_NOT_FOUND');
    return current;
  }
}
