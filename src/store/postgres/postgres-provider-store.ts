import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL, type HealthStatus, type ProviderRecord, type RegistrationStatus } from '../../routing/model.ts';
import { pageOf, type Page, type PageRequest } from '../page.ts';
import { carrierColumns, carrierSettingsOf, providerFromRow, registrationAfterReplace } from '../sqlite/sqlite-provider-store.ts';
import type { ProviderInput, ProviderStore } from '../store-types.ts';
import type { Committed, PostgresConnection, Sql } from './postgres-connection.ts';
import { insertRow, pageQuery, updateRow } from './postgres-rows.ts';

/** Rows are stored as the SQLite store stores them (JSON fields as text), so both read them alike. */
type ProviderRow = Parameters<typeof providerFromRow>[0];

export class PostgresProviderStore implements ProviderStore {
  constructor(
    private readonly conn: PostgresConnection,
    /** told every committed write, in order (the store's change feed orders it among other instances' changes) */
    private readonly committed: (write: Committed<ProviderRecord>) => Promise<void>,
  ) {}

  get(id: string): Promise<ProviderRecord | undefined> {
    return this.conn.read((sql) => getProvider(sql, id));
  }

  list(page: PageRequest): Promise<Page<ProviderRecord>> {
    return this.conn.read(async (sql) => {
      const { text, values } = pageQuery('providers', page, {});
      return pageOf((await sql.query<ProviderRow>(text, values)).map(providerFromRow));
    });
  }

  async create(input: ProviderInput): Promise<ProviderRecord> {
    const write = await this.conn.write(async (tx) => {
      const now = tx.stampNew();
      const carrier = carrierSettingsOf(input, '');
      const row = await insertRow<ProviderRow>(tx, 'providers', {
        id: randomUUID(),
        type: input.type,
        hostname: input.hostname,
        tech_prefix: input.tech_prefix,
        tech_postfix: input.tech_postfix,
        tech_headers: JSON.stringify(input.tech_headers),
        name: input.name,
        detail: input.detail,
        codecs: input.codecs,
        metadata: JSON.stringify(input.metadata ?? {}),
        health_status: 'unknown',
        health_checked_at: null,
        ...carrierColumns(carrier),
        registration_status: carrier.register ? 'registering' : 'off',
        tm_create: now,
        tm_update: now,
        tm_delete: LIVE_SENTINEL,
      });
      return providerFromRow(row);
    }, { creates: 'providers' });
    await this.committed(write);
    return write.value;
  }

  async replace(id: string, input: ProviderInput): Promise<ProviderRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await getProvider(tx, id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('PROVIDER_NOT_FOUND');
      const carrier = carrierSettingsOf(input, current.auth_password_sealed);
      // Health and registration described the old target (see ProviderStore.replace).
      const targetChanged = current.hostname !== input.hostname || current.transport !== carrier.transport;
      const [registrationStatus, registrationCheckedAt] = registrationAfterReplace(current, carrier, input.hostname);
      const row = await updateRow<ProviderRow>(tx, 'providers', id, {
        type: input.type,
        hostname: input.hostname,
        tech_prefix: input.tech_prefix,
        tech_postfix: input.tech_postfix,
        tech_headers: JSON.stringify(input.tech_headers),
        name: input.name,
        detail: input.detail,
        codecs: input.codecs,
        metadata: JSON.stringify(input.metadata ?? current.metadata),
        health_status: targetChanged ? 'unknown' : current.health_status,
        health_checked_at: targetChanged ? null : current.health_checked_at,
        ...carrierColumns(carrier),
        registration_status: registrationStatus,
        registration_checked_at: registrationCheckedAt,
        tm_update: tx.stamp(current.tm_update),
      });
      return providerFromRow(row);
    });
    await this.committed(write);
    return write.value;
  }

  async softDelete(id: string): Promise<ProviderRecord> {
    const write = await this.conn.write(async (tx) => {
      const current = await getProvider(tx, id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('PROVIDER_NOT_FOUND');
      const routeIds = (
        await tx.query<{ id: string }>('SELECT id FROM routes WHERE provider_id = $1 AND tm_delete = $2 ORDER BY tm_create', [id, LIVE_SENTINEL])
      ).map((r) => r.id);
      if (routeIds.length > 0) {
        throw new ApiError('PROVIDER_IN_USE', `the provider is still used by live routes: ${routeIds.join(', ')}`, {
          details: { route_ids: routeIds },
        });
      }
      const now = tx.stamp(current.tm_update);
      return providerFromRow(await updateRow<ProviderRow>(tx, 'providers', id, { tm_update: now, tm_delete: now }));
    });
    await this.committed(write);
    return write.value;
  }

  /** Health results are not a configuration change: tm_update stays. */
  async setHealth(id: string, status: HealthStatus, checkedAt: string): Promise<void> {
    const write = await this.conn.write(async (tx) => {
      const rows = await tx.query<ProviderRow>('UPDATE providers SET health_status = $1, health_checked_at = $2 WHERE id = $3 RETURNING *', [status, checkedAt, id]);
      return rows[0] ? providerFromRow(rows[0]) : undefined;
    });
    if (write.value) await this.committed({ ...write, value: write.value });
  }

  /** Registrar results are not a configuration change: tm_update stays. */
  async setRegistration(id: string, status: RegistrationStatus, checkedAt: string): Promise<void> {
    const write = await this.conn.write(async (tx) => {
      const rows = await tx.query<ProviderRow>('UPDATE providers SET registration_status = $1, registration_checked_at = $2 WHERE id = $3 RETURNING *', [
        status,
        checkedAt,
        id,
      ]);
      return rows[0] ? providerFromRow(rows[0]) : undefined;
    });
    if (write.value) await this.committed({ ...write, value: write.value });
  }
}

export async function getProvider(sql: Sql, id: string): Promise<ProviderRecord | undefined> {
  const row = (await sql.query<ProviderRow>('SELECT * FROM providers WHERE id = $1', [id]))[0];
  return row && providerFromRow(row);
}
