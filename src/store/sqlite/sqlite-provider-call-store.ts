import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import type { ProviderCallInput, ProviderCallRecord, ProviderCallResult, ProviderCallStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

interface ProviderCallRow extends Omit<ProviderCallRecord, 'codecs'> {
  codecs: string;
}

function recordOf(row: ProviderCallRow): ProviderCallRecord {
  return { ...row, codecs: JSON.parse(row.codecs) as string[] };
}

/** The `provider_calls` table (migration 3): one row per provider test call. */
export class SqliteProviderCallStore implements ProviderCallStore {
  constructor(private readonly conn: SqliteConnection) {}

  create(input: ProviderCallInput): Promise<ProviderCallRecord> {
    return this.conn.write(() => {
      const db = this.conn.db;
      const live = db.prepare('SELECT 1 FROM providers WHERE id = ? AND tm_delete = ?').get(input.provider_id, LIVE_SENTINEL);
      if (!live) throw new ApiError('PROVIDER_NOT_FOUND', `provider ${input.provider_id} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
      const floor = (db.prepare('SELECT max(tm_create) AS m FROM provider_calls').get() as { m: string | null }).m;
      const now = this.conn.clock.next(floor);
      const id = randomUUID();
      db.prepare(
        `INSERT INTO provider_calls (id, provider_id, destination, source, request_uri, codecs, status, sip_status, sip_reason, reason,
                                     tm_ringing, tm_answer, tm_hangup, tm_create, tm_update)
         VALUES (?, ?, ?, ?, ?, ?, 'calling', NULL, '', '', NULL, NULL, NULL, ?, ?)`,
      ).run(id, input.provider_id, input.destination, input.source, input.request_uri, JSON.stringify(input.codecs), now, now);
      return this.getNow(id)!;
    });
  }

  finish(id: string, result: ProviderCallResult): Promise<ProviderCallRecord> {
    return this.conn.write(() => {
      const current = this.getNow(id);
      if (!current || current.status !== 'calling') throw new ApiError('PROVIDER_CALL_NOT_FOUND', `no provider test call ${id} is in progress`);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db
        .prepare('UPDATE provider_calls SET status = ?, sip_status = ?, sip_reason = ?, reason = ?, tm_ringing = ?, tm_answer = ?, tm_hangup = ?, tm_update = ? WHERE id = ?')
        .run(result.status, result.sip_status, result.sip_reason, result.reason, result.tm_ringing, result.tm_answer, result.tm_hangup, now, id);
      return this.getNow(id)!;
    });
  }

  get(id: string): Promise<ProviderCallRecord | undefined> {
    return this.conn.read(() => this.getNow(id));
  }

  list(page: PageRequest & { providerId?: string | undefined }): Promise<Page<ProviderCallRecord>> {
    return this.conn.read(() => {
      const db = this.conn.db;
      const bound = tokenBound(page.pageToken);
      const rows =
        page.providerId === undefined
          ? db.prepare('SELECT * FROM provider_calls WHERE tm_create < ? ORDER BY tm_create DESC LIMIT ?').all(bound, page.pageSize)
          : db.prepare('SELECT * FROM provider_calls WHERE provider_id = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?').all(page.providerId, bound, page.pageSize);
      return pageOf((rows as ProviderCallRow[]).map(recordOf));
    });
  }

  failUnfinished(before: string, reason: string): Promise<number> {
    return this.conn.write(() => {
      const now = this.conn.clock.next();
      return this.conn.db
        .prepare("UPDATE provider_calls SET status = 'failed', reason = ?, tm_hangup = ?, tm_update = ? WHERE status = 'calling' AND tm_create < ?")
        .run(reason, now, now, before).changes;
    });
  }

  async pruneBefore(before: string, limit: number): Promise<number> {
    const deleted = await this.conn.writeWithoutWaiting(
      () =>
        this.conn.db
          .prepare(
            "DELETE FROM provider_calls WHERE rowid IN (SELECT rowid FROM provider_calls WHERE tm_create < ? AND status <> 'calling' ORDER BY tm_create LIMIT ?)",
          )
          .run(before, limit).changes,
    );
    return deleted === 'busy' ? 0 : deleted;
  }

  private getNow(id: string): ProviderCallRecord | undefined {
    const row = this.conn.db.prepare('SELECT * FROM provider_calls WHERE id = ?').get(id) as ProviderCallRow | undefined;
    return row && recordOf(row);
  }
}
