import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL, type RouteRecord } from '../../routing/model.ts';
import { pageOf, type Page, type PageRequest } from '../page.ts';
import type { RouteInput, RouteStore, RouteUpdate } from '../store-types.ts';
import type { Committed, PostgresConnection, Sql } from './postgres-connection.ts';
import { insertRow, pageQuery, updateRow } from './postgres-rows.ts';

export class PostgresRouteStore implements RouteStore {
  constructor(
    private readonly conn: PostgresConnection,
    /** told every committed write, in order (the store's change feed orders it among other instances' changes) */
    private readonly committed: (write: Committed<RouteRecord>) => Promise<void>,
  ) {}

  get(id: string): Promise<RouteRecord | undefined> {
    return this.conn.read((sql) => getRoute(sql, id));
  }

  list(page: PageRequest & { customerId?: string | undefined }): Promise<Page<RouteRecord>> {
    return this.conn.read(async (sql) => {
      const { text, values } = pageQuery('routes', page, { customer_id: page.customerId });
      return pageOf(await sql.query<RouteRecord>(text, values));
    });
  }

  async create(input: RouteInput): Promise<RouteRecord> {
    const write = await this.conn.write(async (tx) => {
      await requireLiveProvider(tx, input.provider_id);
      const now = tx.stampNew();
      return insertRow<RouteRecord>(tx, 'routes', {
        id: randomUUID(),
        customer_id: input.customer_id,
        name: input.name,
        detail: input.detail,
        provider_id: input.provider_id,
        priority: input.priority,
        target: input.target,
        tm_create: now,
        tm_update: now,
        tm_delete: LIVE_SENTINEL,
      });
    }, { creates: 'routes' });
    await this.committed(write);
    return write.value;
  }

  async replace(id: string, input: RouteUpdate): Promise<RouteRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await getRoute(tx, id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
      await requireLiveProvider(tx, input.provider_id);
      return updateRow<RouteRecord>(tx, 'routes', id, {
        name: input.name,
        detail: input.detail,
        provider_id: input.provider_id,
        priority: input.priority,
        target: input.target,
        tm_update: tx.stamp(current.tm_update),
      });
    });
    await this.committed(write);
    return write.value;
  }

  async softDelete(id: string): Promise<RouteRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await getRoute(tx, id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
      const now = tx.stamp(current.tm_update);
      return updateRow<RouteRecord>(tx, 'routes', id, { tm_update: now, tm_delete: now });
    });
    await this.committed(write);
    return write.value;
  }
}

export async function getRoute(sql: Sql, id: string): Promise<RouteRecord | undefined> {
  return (await sql.query<RouteRecord>('SELECT * FROM routes WHERE id = $1', [id]))[0];
}

/** A route body naming a missing or deleted provider is the client's mistake: 400, not 404. */
async function requireLiveProvider(sql: Sql, providerId: string): Promise<void> {
  const rows = await sql.query('SELECT 1 FROM providers WHERE id = $1 AND tm_delete = $2', [providerId, LIVE_SENTINEL]);
  if (rows.length === 0) {
    throw new ApiError('PROVIDER_NOT_FOUND', `provider ${providerId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
  }
}
