import { randomUUID } from 'node:crypto';
import { ApiError } from '../errors.ts';
import { LIVE_SENTINEL, type RouteRecord } from '../routing/model.ts';
import type { Db } from './db.ts';
import type { MonotonicClock } from './clock.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from './page.ts';

/** Fields a PUT replaces; customer_id is fixed at creation (admin API contract, "Routes"). */
export interface RouteUpdate {
  name: string;
  detail: string;
  provider_id: string;
  priority: number;
  target: string;
}

export interface RouteInput extends RouteUpdate {
  customer_id: string;
}

export class RouteStore {
  constructor(
    private readonly db: Db,
    private readonly clock: MonotonicClock,
    /** told the committed row after every change (the routing snapshot follows it). */
    private readonly changed: (row: RouteRecord) => void,
  ) {}

  get(id: string): RouteRecord | undefined {
    return this.db.prepare('SELECT * FROM routes WHERE id = ?').get(id) as RouteRecord | undefined;
  }

  list(page: PageRequest & { customerId?: string | undefined }): Page<RouteRecord> {
    const bound = tokenBound(page.pageToken);
    const rows =
      page.customerId === undefined
        ? this.db
            .prepare('SELECT * FROM routes WHERE tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
            .all(LIVE_SENTINEL, bound, page.pageSize)
        : this.db
            .prepare('SELECT * FROM routes WHERE customer_id = ? AND tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
            .all(page.customerId, LIVE_SENTINEL, bound, page.pageSize);
    return pageOf(rows as RouteRecord[]);
  }

  listLive(): RouteRecord[] {
    return this.db.prepare('SELECT * FROM routes WHERE tm_delete = ? ORDER BY tm_create').all(LIVE_SENTINEL) as RouteRecord[];
  }

  create(input: RouteInput): RouteRecord {
    const created = this.db
      .transaction(() => {
        this.requireLiveProvider(input.provider_id);
        const floor = (this.db.prepare('SELECT max(tm_create) AS m FROM routes').get() as { m: string | null }).m;
        const now = this.clock.next(floor);
        const id = randomUUID();
        this.db
          .prepare(
            `INSERT INTO routes (id, customer_id, name, detail, provider_id, priority, target, tm_create, tm_update, tm_delete)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(id, input.customer_id, input.name, input.detail, input.provider_id, input.priority, input.target, now, now, LIVE_SENTINEL);
        return this.get(id)!;
      })
      .immediate();
    this.changed(created);
    return created;
  }

  replace(id: string, input: RouteUpdate): RouteRecord {
    const updated = this.db
      .transaction(() => {
        const current = this.get(id);
        if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
        this.requireLiveProvider(input.provider_id);
        const now = this.clock.next(current.tm_update);
        this.db
          .prepare('UPDATE routes SET name = ?, detail = ?, provider_id = ?, priority = ?, target = ?, tm_update = ? WHERE id = ?')
          .run(input.name, input.detail, input.provider_id, input.priority, input.target, now, id);
        return this.get(id)!;
      })
      .immediate();
    this.changed(updated);
    return updated;
  }

  softDelete(id: string): RouteRecord {
    const deleted = this.db
      .transaction(() => {
        const current = this.get(id);
        if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('ROUTE_NOT_FOUND');
        const now = this.clock.next(current.tm_update);
        this.db.prepare('UPDATE routes SET tm_update = ?, tm_delete = ? WHERE id = ?').run(now, now, id);
        return this.get(id)!;
      })
      .immediate();
    this.changed(deleted);
    return deleted;
  }

  /** A route body naming a missing or deleted provider is the client's mistake: 400, not 404. */
  private requireLiveProvider(providerId: string): void {
    const row = this.db.prepare('SELECT 1 FROM providers WHERE id = ? AND tm_delete = ?').get(providerId, LIVE_SENTINEL);
    if (!row) {
      throw new ApiError('PROVIDER_NOT_FOUND', `provider ${providerId} does not exist or is deleted`, { status: 'INVALID_ARGUMENT' });
    }
  }
}
