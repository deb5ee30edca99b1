import { formatMicros, parseMicros } from '../clock.ts';
import { pageOf, tokenBound, type Page } from '../page.ts';
import { CALL_COLUMNS, callRecordValues } from '../call-record-row.ts';
import type { CallAttemptRecord, CallListRequest, CallRecordInput, CallRecordRow, CallStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

interface CallRow extends Omit<CallRecordRow, 'attempts'> {
  attempts: string;
}

function rowOf(row: CallRow): CallRecordRow {
  return { ...row, attempts: JSON.parse(row.attempts) as CallAttemptRecord[] };
}

/**
 * The `calls` table (migration 3). Written only by the call record sink, in batches, and never
 * waiting for another writer's lock (the sink runs on the event loop the calls run on).
 */
export class SqliteCallStore implements CallStore {
  constructor(private readonly conn: SqliteConnection) {}

  async insertBatch(records: readonly CallRecordInput[]): Promise<'written' | 'busy'> {
    if (records.length === 0) return 'written';
    const done = await this.conn.writeWithoutWaiting(() => {
      const db = this.conn.db;
      const taken = db.prepare('SELECT 1 FROM calls WHERE tm_create = ?').pluck();
      const insert = db.prepare(`INSERT INTO calls (${CALL_COLUMNS.join(', ')}) VALUES (${CALL_COLUMNS.map(() => '?').join(', ')})`);
      for (const r of records) {
        const start = parseMicros(r.started_at);
        if (start === undefined) throw new TypeError(`call record ${r.call_id}: started_at ${r.started_at} is not an API time`);
        // tm_create is the page token, so it must be unique; calls starting in the same
        // microsecond are set a microsecond apart, which keeps their order.
        let t = start;
        while (taken.get(formatMicros(t)) !== undefined) t++;
        insert.run(...callRecordValues(r, t));
      }
    });
    return done === 'busy' ? 'busy' : 'written';
  }

  get(id: string): Promise<CallRecordRow | undefined> {
    return this.conn.read(() => {
      const row = this.conn.db.prepare('SELECT * FROM calls WHERE id = ?').get(id) as CallRow | undefined;
      return row && rowOf(row);
    });
  }

  list(request: CallListRequest): Promise<Page<CallRecordRow>> {
    return this.conn.read(() => {
      const where = ['tm_create < ?'];
      const params: Array<string | number> = [tokenBound(request.pageToken)];
      if (request.customerId !== undefined) {
        where.push('customer_id = ?');
        params.push(request.customerId);
      }
      if (request.destinationPrefix !== undefined) {
        where.push('substr(destination, 1, ?) = ?');
        params.push(request.destinationPrefix.length, request.destinationPrefix);
      }
      if (request.outcome !== undefined) {
        where.push('outcome = ?');
        params.push(request.outcome);
      }
      if (request.status !== undefined) {
        where.push('status = ?');
        params.push(request.status);
      }
      if (request.since !== undefined) {
        where.push('tm_create >= ?');
        params.push(request.since);
      }
      if (request.until !== undefined) {
        where.push('tm_create < ?');
        params.push(request.until);
      }
      const rows = this.conn.db
        .prepare(`SELECT * FROM calls WHERE ${where.join(' AND ')} ORDER BY tm_create DESC LIMIT ?`)
        .all(...params, request.pageSize) as CallRow[];
      return pageOf(rows.map(rowOf));
    });
  }

  async pruneBefore(before: string, limit: number): Promise<number> {
    const deleted = await this.conn.writeWithoutWaiting(
      () =>
        this.conn.db
          .prepare('DELETE FROM calls WHERE rowid IN (SELECT rowid FROM calls WHERE tm_create < ? ORDER BY tm_create LIMIT ?)')
          .run(before, limit).changes,
    );
    // Another writer holds the lock: nothing now, the next round prunes.
    return deleted === 'busy' ? 0 : deleted;
  }
}
