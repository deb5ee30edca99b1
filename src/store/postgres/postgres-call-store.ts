import { formatMicros, parseMicros } from '../clock.ts';
import { pageOf, tokenBound, type Page } from '../page.ts';
import { CALL_COLUMNS, callRecordValues } from '../call-record-row.ts';
import type { CallAttemptRecord, CallListRequest, CallRecordInput, CallRecordRow, CallStore } from '../store-types.ts';
import { CALL_RECORDS_LOCK } from './postgres-migrations.ts';
import type { PostgresConnection } from './postgres-connection.ts';

interface CallRow extends Omit<CallRecordRow, 'attempts' | 'talk_ms' | 'duration_ms'> {
  attempts: string;
  // bigint columns arrive as strings from pg
  talk_ms: string | null;
  duration_ms: string;
}

function rowOf(row: CallRow): CallRecordRow {
  return {
    ...row,
    talk_ms: row.talk_ms === null ? null : Number(row.talk_ms),
    duration_ms: Number(row.duration_ms),
    attempts: JSON.parse(row.attempts) as CallAttemptRecord[],
  };
}

/** The stamps in order, each moved past those before it that it would repeat (same length). */
function uniqueWithin(stamps: readonly number[]): number[] {
  const used = new Set<number>();
  return stamps.map((start) => {
    let t = start;
    while (used.has(t)) t++;
    used.add(t);
    return t;
  });
}


/**
 * The `calls` table (migration 3), as src/store/sqlite/sqlite-call-store.ts keeps it. Written
 * only by the call record sinks of every instance, in batches, under CALL_RECORDS_LOCK taken
 * without waiting (a batch meeting another instance's is `busy` and flushed again later).
 */
export class PostgresCallStore implements CallStore {
  constructor(private readonly conn: PostgresConnection) {}

  async insertBatch(records: readonly CallRecordInput[]): Promise<'written' | 'busy'> {
    if (records.length === 0) return 'written';
    const starts = records.map((r) => {
      const start = parseMicros(r.started_at);
      if (start === undefined) throw new TypeError(`call record ${r.call_id}: started_at ${r.started_at} is not an API time`);
      return start;
    });
    const done = await this.conn.writeWithoutWaiting(CALL_RECORDS_LOCK, async (sql) => {
      // tm_create is the page token, so it must be unique; calls starting in the same
      // microsecond are set a microsecond apart, which keeps their order. The lock makes the
      // check of taken stamps and the inserts one step among all instances.
      const stamps = uniqueWithin(starts);
      for (;;) {
        const taken = new Set(
          (await sql.query<{ tm_create: string }>('SELECT tm_create FROM calls WHERE tm_create = ANY($1::text[])', [stamps.map(formatMicros)])).map((r) => r.tm_create),
        );
        if (taken.size === 0) break;
        stamps.forEach((t, i) => {
          if (taken.has(formatMicros(t))) stamps[i] = t + 1;
        });
        stamps.splice(0, stamps.length, ...uniqueWithin(stamps));
      }
      // A bind message holds at most 65,535 parameters: 1,000 rows (16 each) per statement.
      for (let from = 0; from < records.length; from += 1000) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let i = from; i < Math.min(records.length, from + 1000); i++) {
          const r = records[i]!;
          const t = stamps[i]!;
          const row = callRecordValues(r, t);
          tuples.push(`(${row.map((_, k) => `$${values.length + k + 1}`).join(', ')})`);
          values.push(...row);
        }
        await sql.query(`INSERT INTO calls (${CALL_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
      }
    });
    return done === 'busy' ? 'busy' : 'written';
  }

  get(id: string): Promise<CallRecordRow | undefined> {
    return this.conn.read(async (sql) => {
      const row = (await sql.query<CallRow>('SELECT * FROM calls WHERE id = $1', [id]))[0];
      return row && rowOf(row);
    });
  }

  list(request: CallListRequest): Promise<Page<CallRecordRow>> {
    return this.conn.read(async (sql) => {
      const values: unknown[] = [tokenBound(request.pageToken)];
      const where = ['tm_create < $1'];
      const add = (condition: (n: string) => string, value: unknown): void => {
        values.push(value);
        where.push(condition(`$${values.length}`));
      };
      if (request.customerId !== undefined) add((n) => `customer_id = ${n}`, request.customerId);
      // starts_with on the "C" collation: byte-wise, as SQLite's substr comparison
      if (request.destinationPrefix !== undefined) add((n) => `starts_with(destination, ${n})`, request.destinationPrefix);
      if (request.outcome !== undefined) add((n) => `outcome = ${n}`, request.outcome);
      if (request.status !== undefined) add((n) => `status = ${n}`, request.status);
      if (request.since !== undefined) add((n) => `tm_create >= ${n}`, request.since);
      if (request.until !== undefined) add((n) => `tm_create < ${n}`, request.until);
      values.push(request.pageSize);
      const rows = await sql.query<CallRow>(`SELECT * FROM calls WHERE ${where.join(' AND ')} ORDER BY tm_create DESC LIMIT $${values.length}`, values);
      return pageOf(rows.map(rowOf));
    });
  }

  async pruneBefore(before: string, limit: number): Promise<number> {
    const deleted = await this.conn.writeWithoutWaiting(CALL_RECORDS_LOCK, async (sql) =>
      (await sql.query('DELETE FROM calls WHERE id IN (SELECT id FROM calls WHERE tm_create < $1 ORDER BY tm_create LIMIT $2) RETURNING 1', [before, limit])).length,
    );
    // Another instance is writing records: nothing now, the next round prunes.
    return deleted === 'busy' ? 0 : deleted;
  }
}
