import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { formatMicros, parseMicros } from '../clock.ts';
import { pageOf, type Page, type PageRequest } from '../page.ts';
import type { AccessKeyInput, AccessKeyRecord, AccessKeyStore } from '../store-types.ts';
import type { PostgresConnection, Sql } from './postgres-connection.ts';
import { insertRow, pageQuery, updateRow } from './postgres-rows.ts';

export class PostgresAccessKeyStore implements AccessKeyStore {
  constructor(private readonly conn: PostgresConnection) {}

  get(id: string): Promise<AccessKeyRecord | undefined> {
    return this.conn.read((sql) => getKey(sql, id));
  }

  list(page: PageRequest & { agentId?: string | undefined }): Promise<Page<AccessKeyRecord>> {
    return this.conn.read(async (sql) => {
      const { text, values } = pageQuery('access_keys', page, { agent_id: page.agentId });
      return pageOf(await sql.query<AccessKeyRecord>(text, values));
    });
  }

  findByTokenHash(tokenHash: string): Promise<AccessKeyRecord | undefined> {
    return this.conn.read(
      async (sql) => (await sql.query<AccessKeyRecord>('SELECT * FROM access_keys WHERE token_hash = $1 AND tm_delete = $2', [tokenHash, LIVE_SENTINEL]))[0],
    );
  }

  async create(input: AccessKeyInput): Promise<AccessKeyRecord> {
    const write = await this.conn.write(async (tx) => {
      const agent = await tx.query('SELECT 1 FROM agents WHERE id = $1 AND tm_delete = $2', [input.agentId, LIVE_SENTINEL]);
      if (agent.length === 0) throw new ApiError('AGENT_NOT_FOUND', `agent ${input.agentId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
      const now = tx.stampNew();
      const expire = input.expiresInSeconds === undefined ? LIVE_SENTINEL : formatMicros(parseMicros(now)! + input.expiresInSeconds * 1_000_000);
      return insertRow<AccessKeyRecord>(tx, 'access_keys', {
        id: randomUUID(),
        agent_id: input.agentId,
        name: input.name,
        detail: input.detail,
        token_hash: input.tokenHash,
        token_prefix: input.tokenPrefix,
        tm_expire: expire,
        tm_create: now,
        tm_update: now,
        tm_delete: LIVE_SENTINEL,
      });
    }, { creates: 'access_keys' });
    return write.value;
  }

  async update(id: string, update: { name: string; detail: string }): Promise<AccessKeyRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await requireLive(tx, id);
      return updateRow<AccessKeyRecord>(tx, 'access_keys', id, { name: update.name, detail: update.detail, tm_update: tx.stamp(current.tm_update) });
    });
    return write.value;
  }

  async softDelete(id: string): Promise<AccessKeyRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await requireLive(tx, id);
      const now = tx.stamp(current.tm_update);
      return updateRow<AccessKeyRecord>(tx, 'access_keys', id, { tm_update: now, tm_delete: now });
    });
    return write.value;
  }
}

async function getKey(sql: Sql, id: string): Promise<AccessKeyRecord | undefined> {
  return (await sql.query<AccessKeyRecord>('SELECT * FROM access_keys WHERE id = $1', [id]))[0];
}

async function requireLive(sql: Sql, id: string): Promise<AccessKeyRecord> {
  const current = await getKey(sql, id);
  if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ACCESS_KEY_NOT_FOUND');
  return current;
}
