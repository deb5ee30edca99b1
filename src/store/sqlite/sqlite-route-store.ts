import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL, type RouteRecord } from '../../routing/model.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import type { RouteInput, RouteStore, RouteUpdate } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

export class SqliteRouteStore implements RouteStore {
  constructor(
    private readonly conn: SqliteConnection,
    /** told the committed row after every change (the routing snapshot follows it). */
    private readonly changed: (row: RouteRecord) => void,
  ) {}

  get(id: string): Promise<RouteRecord | undefined> {
    return this.conn.read(() => this.getNow(id));
  }

  list(page: PageRequest & { customerId?: string | undefined }): Promise<Page<RouteRecord>> {
    return this.conn.read(() => {
      const db = this.conn.db;
      const bound = tokenBound(page.pageToken);
      const rows =
        page.customerId === undefined
          ? db.prepare('SELECT * FROM routes WHERE tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?').all(LIVE_SENTINEL, bound, page.pageSize)
          : db
              .prepare('SELECT * FROM routes WHERE customer_id = ? AND tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
              .all(page.customerId, LIVE_SENTINEL, bound, page.pageSize);
      return pageOf(rows as RouteRecord[]);
    });
  }

  /** Inside a read or write already under way (readLive's one snapshot). */
  listLiveNow(): RouteRecord[] {
    return this.conn.db.prepare('SELECT * FROM routes WHERE tm_delete = ? ORDER BY tm_create').all(LIVE_SENTINEL) as RouteRecord[];
  }

  /** The same rows one at a time, inside a read already under way (readLiveInto's one snapshot). */
  iterateLiveNow(): IterableIterator<RouteRecord> {
    return this.conn.db.prepare('SELECT * FROM routes WHERE tm_delete = ? ORDER BY tm_create').iterate(LIVE_SENTINEL) as IterableIterator<RouteRecord>;
  }

  async create(input: RouteInput): Promise<RouteRecord> {
    const created = await this.conn.write(() => {
      const db = this.conn.db;
      this.requireLiveProvider(input.provider_id);
      const floor = (db.prepare('SELECT max(tm_create) AS m FROM routes').get() as { m: string | null }).m;
      const now = this.conn.clock.next(floor);
      const id = randomUUID();
      db.prepare(
        `INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(id, input.customer_id, input.name, input.detail, input.provider_id, input.priority, input.target, now, now, LIVE_SENTINEL);
      return this.getNow(id)!;
    });
    this.changed(created);
    return created;
  }

  async replace(id: string, input: RouteUpdate): Promise<RouteRecord> {
    const updated = await this.conn.write(() => {
      const current = this.getNow(id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
      this.requireLiveProvider(input.provider_id);
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db
        .prepare('UPDATE routes SET name = ?, detail = ?, provider_id = ?, priority = ?, target = ?, tm_update = ? WHERE id = ?')
        .run(input.name, input.detail, input.provider_id, input.priority, input.target, now, id);
      return this.getNow(id)!;
    });
    this.changed(updated);
    return updated;
  }

  async softDelete(id: string): Promise<RouteRecord> {
    const deleted = await this.conn.write(() => {
      const current = this.getNow(id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
      const now = this.conn.clock.next(current.tm_update);
      this.conn.db.prepare('UPDATE routes SET tm_update = ?, tm_delete = ? WHERE id = ?').run(now, now, id);
      return this.getNow(id)!;
    });
    this.changed(deleted);
    return deleted;
  }

  private getNow(id: string): RouteRecord | undefined {
    return this.conn.db.prepare('SELECT * FROM routes WHERE id = ?').get(id) as RouteRecord | undefined;
  }

  /** A route body naming a missing or deleted provider is the client's mistake: 400, not 404. */
  private requireLiveProvider(providerId: string): void {
    const row = this.conn.db.prepare('SELECT 1 FROM providers WHERE id = ? AND tm_delete = ?').get(providerId, LIVE_SENTINEL);
    if (!row) {
      throw new ApiError('PROVIDER_NOT_FOUND', `provider ${providerId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
    }
  }
}
