import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { pageOf, type Page, type PageRequest } from '../page.ts';
import { Permission, type AgentInput, type AgentRecord, type AgentStore, type AgentUpdate } from '../store-types.ts';
import type { PostgresConnection, Sql, WriteTx } from './postgres-connection.ts';
import { insertRow, pageQuery, updateRow } from './postgres-rows.ts';

export class PostgresAgentStore implements AgentStore {
  constructor(private readonly conn: PostgresConnection) {}

  count(): Promise<number> {
    return this.conn.read(countAgents);
  }

  get(id: string): Promise<AgentRecord | undefined> {
    return this.conn.read((sql) => getAgent(sql, id));
  }

  findByUsername(username: string): Promise<AgentRecord | undefined> {
    return this.conn.read(async (sql) => (await sql.query<AgentRecord>('SELECT * FROM agents WHERE username = $1 AND tm_delete = $2', [username, LIVE_SENTINEL]))[0]);
  }

  list(page: PageRequest): Promise<Page<AgentRecord>> {
    return this.conn.read(async (sql) => {
      const { text, values } = pageQuery('agents', page, {});
      return pageOf(await sql.query<AgentRecord>(text, values));
    });
  }

  async create(input: AgentInput): Promise<AgentRecord> {
    return (await this.conn.write((tx) => insertAgent(tx, input), { creates: 'agents' })).value;
  }

  async createIfNoAgents(input: AgentInput): Promise<AgentRecord | undefined> {
    // Under the write lock: two instances starting together cannot both see an empty table.
    return (await this.conn.write(async (tx) => ((await countAgents(tx)) === 0 ? insertAgent(tx, input) : undefined), { creates: 'agents' })).value;
  }

  async update(id: string, update: AgentUpdate): Promise<AgentRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await requireLive(tx, id);
      if (isSuperAdmin(current.permission) && !isSuperAdmin(update.permission)) await requireAnotherSuperAdmin(tx, id);
      return updateRow<AgentRecord>(tx, 'agents', id, { name: update.name, detail: update.detail, permission: update.permission, tm_update: tx.stamp(current.tm_update) });
    });
    return write.value;
  }

  async setPassword(id: string, passwordHash: string): Promise<AgentRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await requireLive(tx, id);
      const rows = await tx.query<AgentRecord>(
        'UPDATE agents SET password_hash = $1, password_version = password_version + 1, tm_update = $2 WHERE id = $3 RETURNING *',
        [passwordHash, tx.stamp(current.tm_update), id],
      );
      return rows[0]!;
    });
    return write.value;
  }

  async softDelete(id: string): Promise<AgentRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await requireLive(tx, id);
      if (isSuperAdmin(current.permission)) await requireAnotherSuperAdmin(tx, id);
      const now = tx.stamp(current.tm_update);
      const row = await updateRow<AgentRecord>(tx, 'agents', id, { tm_update: now, tm_delete: now });
      // An agent's access keys go with it: a key must never outlive the permission it lends.
      await tx.query('UPDATE access_keys SET tm_update = $1, tm_delete = $1 WHERE agent_id = $2 AND tm_delete = $3', [now, id, LIVE_SENTINEL]);
      return row;
    });
    return write.value;
  }
}

async function countAgents(sql: Sql): Promise<number> {
  return (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM agents'))[0]!.n;
}

async function getAgent(sql: Sql, id: string): Promise<AgentRecord | undefined> {
  return (await sql.query<AgentRecord>('SELECT * FROM agents WHERE id = $1', [id]))[0];
}

async function requireLive(sql: Sql, id: string): Promise<AgentRecord> {
  const current = await getAgent(sql, id);
  if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('AGENT_NOT_FOUND');
  return current;
}

/** Inside the write transaction (under the write lock), so two admins demoting each other cannot both succeed. */
async function requireAnotherSuperAdmin(sql: Sql, id: string): Promise<void> {
  const rows = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM agents WHERE tm_delete = $1 AND (permission & $2) != 0 AND id != $3', [
    LIVE_SENTINEL,
    Permission.ProjectSuperAdmin,
    id,
  ]);
  if (rows[0]!.n === 0) throw new ApiError('LAST_PROJECT_SUPER_ADMIN');
}

async function insertAgent(tx: WriteTx, input: AgentInput): Promise<AgentRecord> {
  const taken = await tx.query('SELECT 1 FROM agents WHERE username = $1 AND tm_delete = $2', [input.username, LIVE_SENTINEL]);
  const exists = () => new ApiError('AGENT_EXISTS', `a live agent already has the username ${JSON.stringify(input.username)}`);
  if (taken.length > 0) throw exists();
  const now = tx.stampNew();
  try {
    return await insertRow<AgentRecord>(tx, 'agents', {
      id: randomUUID(),
      username: input.username,
      name: input.name ?? '',
      detail: input.detail ?? '',
      password_hash: input.passwordHash,
      password_version: 0,
      permission: input.permission,
      tm_create: now,
      tm_update: now,
      tm_delete: LIVE_SENTINEL,
    });
  } catch (err) {
    // Only a writer outside outdial can get here first (outdial's writes are serialized).
    if (err instanceof pg.DatabaseError && err.code === '23505' && err.constraint === 'agents_live_username') throw exists();
    throw err;
  }
}

function isSuperAdmin(permission: number): boolean {
  return (permission & Permission.ProjectSuperAdmin) !== 0;
}
