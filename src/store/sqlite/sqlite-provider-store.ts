import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL, type HealthStatus, type ProviderRecord } from '../../routing/model.ts';
import { pageOf, tokenBound, type Page, type PageRequest } from '../page.ts';
import type { ProviderInput, ProviderStore } from '../store-types.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

interface ProviderRow {
  id: string;
  type: string;
  hostname: string;
  tech_prefix: string;
  tech_postfix: string;
  tech_headers: string;
  name: string;
  detail: string;
  codecs: string;
  metadata: string;
  health_status: string;
  health_checked_at: string | null;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export function providerFromRow(r: ProviderRow): ProviderRecord {
  return {
    id: r.id,
    type: 'sip',
    hostname: r.hostname,
    tech_prefix: r.tech_prefix,
    tech_postfix: r.tech_postfix,
    tech_headers: JSON.parse(r.tech_headers) as Record<string, string>,
    name: r.name,
    detail: r.detail,
    codecs: r.codecs,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
    health_status: r.health_status as HealthStatus,
    health_checked_at: r.health_checked_at,
    tm_create: r.tm_create,
    tm_update: r.tm_update,
    tm_delete: r.tm_delete,
  };
}

export class SqliteProviderStore implements ProviderStore {
  constructor(
    private readonly conn: SqliteConnection,
    /** told the committed row after every change (the routing snapshot follows it). */
    private readonly changed: (row: ProviderRecord) => void,
  ) {}

  get(id: string): Promise<ProviderRecord | undefined> {
    return this.conn.read(() => this.getNow(id));
  }

  list(page: PageRequest): Promise<Page<ProviderRecord>> {
    return this.conn.read(() => {
      const rows = this.conn.db
        .prepare('SELECT * FROM providers WHERE tm_delete = ? AND tm_create < ? ORDER BY tm_create DESC LIMIT ?')
        .all(LIVE_SENTINEL, tokenBound(page.pageToken), page.pageSize) as ProviderRow[];
      return pageOf(rows.map(providerFromRow));
    });
  }

  /** Inside a read or write already under way (readLive's one snapshot). */
  listLiveNow(): ProviderRecord[] {
    const rows = this.conn.db.prepare('SELECT * FROM providers WHERE tm_delete = ? ORDER BY tm_create').all(LIVE_SENTINEL) as ProviderRow[];
    return rows.map(providerFromRow);
  }

  async create(input: ProviderInput): Promise<ProviderRecord> {
    const created = await this.conn.write(() => {
      const db = this.conn.db;
      const floor = (db.prepare('SELECT max(tm_create) AS m FROM providers').get() as { m: string | null }).m;
      const now = this.conn.clock.next(floor);
      const id = randomUUID();
      db.prepare(
        `INSERT INTO providers (id, type, hostname, tech_prefix, tech_postfix, tech_headers, name, detail, codecs,
           metadata, health_status, health_checked_at, tm_create, tm_update, tm_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', NULL, ?, ?, ?)`,
      ).run(
        id,
        input.type,
        input.hostname,
        input.tech_prefix,
        input.tech_postfix,
        JSON.stringify(input.tech_headers),
        input.name,
        input.detail,
        input.codecs,
        JSON.stringify(input.metadata ?? {}),
        now,
        now,
        LIVE_SENTINEL,
      );
      return this.getNow(id)!;
    });
    this.changed(created);
    return created;
  }

  async replace(id: string, input: ProviderInput): Promise<ProviderRecord> {
    const updated = await this.conn.write(() => {
      const current = this.getNow(id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('PROVIDER_NOT_FOUND');
      const now = this.conn.clock.next(current.tm_update);
      const hostChanged = current.hostname !== input.hostname;
      this.conn.db
        .prepare(
          `UPDATE providers SET type = ?, hostname = ?, tech_prefix = ?, tech_postfix = ?, tech_headers = ?, name = ?,
             detail = ?, codecs = ?, metadata = ?, health_status = ?, health_checked_at = ?, tm_update = ?
           WHERE id = ?`,
        )
        .run(
          input.type,
          input.hostname,
          input.tech_prefix,
          input.tech_postfix,
          JSON.stringify(input.tech_headers),
          input.name,
          input.detail,
          input.codecs,
          JSON.stringify(input.metadata ?? current.metadata),
          hostChanged ? 'unknown' : current.health_status,
          hostChanged ? null : current.health_checked_at,
          now,
          id,
        );
      return this.getNow(id)!;
    });
    this.changed(updated);
    return updated;
  }

  async softDelete(id: string): Promise<ProviderRecord> {
    const deleted = await this.conn.write(() => {
      const db = this.conn.db;
      const current = this.getNow(id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('PROVIDER_NOT_FOUND');
      const routeIds = (
        db.prepare('SELECT id FROM routes WHERE provider_id = ? AND tm_delete = ? ORDER BY tm_create').all(id, LIVE_SENTINEL) as Array<{ id: string }>
      ).map((r) => r.id);
      if (routeIds.length > 0) {
        throw new ApiError('PROVIDER_IN_USE', `the provider is still used by live routes: ${routeIds.join(', ')}`, {
          details: { route_ids: routeIds },
        });
      }
      const now = this.conn.clock.next(current.tm_update);
      db.prepare('UPDATE providers SET tm_update = ?, tm_delete = ? WHERE id = ?').run(now, now, id);
      return this.getNow(id)!;
    });
    this.changed(deleted);
    return deleted;
  }

  /** Health results are not a configuration change: tm_update stays. */
  async setHealth(id: string, status: HealthStatus, checkedAt: string): Promise<void> {
    const row = await this.conn.write(() => {
      this.conn.db.prepare('UPDATE providers SET health_status = ?, health_checked_at = ? WHERE id = ?').run(status, checkedAt, id);
      return this.getNow(id);
    });
    if (row) this.changed(row);
  }

  private getNow(id: string): ProviderRecord | undefined {
    const row = this.conn.db.prepare('SELECT * FROM providers WHERE id = ?').get(id) as ProviderRow | undefined;
    return row && providerFromRow(row);
  }
}
