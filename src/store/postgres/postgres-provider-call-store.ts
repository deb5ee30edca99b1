import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import type { ProviderCallInput, ProviderCallRecord, ProviderCallResult, ProviderCallStore } from '../store-types.ts';
import { CALL_RECORDS_LOCK } from './postgres-migrations.ts';
import type { PostgresConnection, Sql } from './postgres-connection.ts';
import { insertRow, updateRow } from './postgres-rows.ts';

interface ProviderCallRow extends Omit<ProviderCallRecord, 'codecs'> {
  codecs: string;
}

function recordOf(row: ProviderCallRow): ProviderCallRecord {
  return { ...row, codecs: JSON.parse(row.codecs) as string[] };
}

/** The `provider_calls` table (migration 3), as src/store/sqlite/sqlite-provider-call-store.ts keeps it. */
export class PostgresProviderCallStore implements ProviderCallStore {
  constructor(private readonly conn: PostgresConnection) {}

  async create(input: ProviderCallInput): Promise<ProviderCallRecord> {
    const write = await this.conn.write(
      async (tx) => {
        const live = await tx.query('SELECT 1 FROM providers WHERE id = $1 AND tm_delete = $2', [input.provider_id, LIVE_SENTINEL]);
        if (live.length === 0) throw new ApiError('PROVIDER_NOT_FOUND', `provider ${input.provider_id} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
        const now = tx.stampNew();
        const row = await insertRow<ProviderCallRow>(tx, 'provider_calls', {
          id: randomUUID(),
          provider_id: input.provider_id,
          destination: input.destination,
          source: input.source,
          request_uri: input.request_uri,
          codecs: JSON.stringify(input.codecs),
          status: 'calling',
          sip_status: null,
          sip_reason: '',
          reason: '',
          tm_ringing: null,
          tm_answer: null,
          tm_hangup: null,
          tm_create: now,
          tm_update: now,
        });
        return recordOf(row);
      },
      { creates: 'provider_calls' },
    );
    return write.value;
  }

  async finish(id: string, result: ProviderCallResult): Promise<ProviderCallRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await getCall(tx, id);
      if (!current || current.status !== 'calling') throw new ApiError('PROVIDER_CALL_NOT_FOUND', `no provider test call ${id} is in progress`);
      const row = await updateRow<ProviderCallRow>(tx, 'provider_calls', id, {
        status: result.status,
        sip_status: result.sip_status,
        sip_reason: result.sip_reason,
        reason: result.reason,
        tm_ringing: result.tm_ringing,
        tm_answer: result.tm_answer,
        tm_hangup: result.tm_hangup,
        tm_update: tx.stamp(current.tm_update),
      });
      return recordOf(row);
    });
    return write.value;
  }

  get(id: string): Promise<ProviderCallRecord | undefined> {
    return this.conn.read((sql) => getCall(sql, id));
  }

  list(page: PageRequest & { providerId?: string | undefined }): Promise<Page<ProviderCallRecord>> {
    return this.conn.read(async (sql) => {
      const bound = tokenBound(page.pageToken);
      const rows =
        page.providerId === undefined
          ? await sql.query<ProviderCallRow>('SELECT * FROM provider_calls WHERE tm_create < $1 ORDER BY tm_create DESC LIMIT $2', [bound, page.pageSize])
          : await sql.query<ProviderCallRow>('SELECT * FROM provider_calls WHERE provider_id = $1 AND tm_create < $2 ORDER BY tm_create DESC LIMIT $3', [
              page.providerId,
              bound,
              page.pageSize,
            ]);
      return pageOf(rows.map(recordOf));
    });
  }

  async failUnfinished(before: string, reason: string): Promise<number> {
    const write = await this.conn.write(async (tx) => {
      const now = tx.stamp();
      const rows = await tx.query(
        "UPDATE provider_calls SET status = 'failed', reason = $1, tm_hangup = $2, tm_update = $2 WHERE status = 'calling' AND tm_create < $3 RETURNING 1",
        [reason, now, before],
      );
      return rows.length;
    });
    return write.value;
  }

  async pruneBefore(before: string, limit: number): Promise<number> {
    const deleted = await this.conn.writeWithoutWaiting(CALL_RECORDS_LOCK, async (sql) =>
      (
        await sql.query(
          "DELETE FROM provider_calls WHERE id IN (SELECT id FROM provider_calls WHERE tm_create < $1 AND status <> 'calling' ORDER BY tm_create LIMIT $2) RETURNING 1",
          [before, limit],
        )
      ).length,
    );
    return deleted === 'busy' ? 0 : deleted;
  }
}

async function getCall(sql: Sql, id: string): Promise<ProviderCallRecord | undefined> {
  const row = (await sql.query<ProviderCallRow>('SELECT * FROM provider_calls WHERE id = $1', [id]))[0];
  return row && recordOf(row);
}
