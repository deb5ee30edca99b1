import { randomUUID } from 'node:crypto';
import { ApiError } from '../../errors.ts';
import { CARRIER_DEFAULTS, LIVE_SENTINEL, type CarrierSettings, type HealthStatus, type ProviderRecord, type RegistrationStatus, type SipTransport } from '../../routing/model.ts';
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
  auth_username: string;
  auth_password_sealed: string;
  register: number;
  register_expires: number;
  registration_status: string;
  registration_checked_at: string | null;
  leading_plus: number;
  transport: string;
  max_calls: number;
  max_cps: number;
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
    auth_username: r.auth_username,
    auth_password_sealed: r.auth_password_sealed,
    register: r.register === 1,
    register_expires: r.register_expires,
    registration_status: r.registration_status as RegistrationStatus,
    registration_checked_at: r.registration_checked_at,
    leading_plus: r.leading_plus === 1,
    transport: r.transport as SipTransport,
    max_calls: r.max_calls,
    max_cps: r.max_cps,
    tm_create: r.tm_create,
    tm_update: r.tm_update,
    tm_delete: r.tm_delete,
  };
}

/** The carrier settings an input sets, defaults for the omitted ones; `keptPassword` for an omitted password. */
export function carrierSettingsOf(input: ProviderInput, keptPassword: string): CarrierSettings {
  const username = input.auth_username ?? CARRIER_DEFAULTS.auth_username;
  return {
    auth_username: username,
    // A password belongs to its user name (docs/api.md §9): none is kept without one.
    auth_password_sealed: username === '' ? '' : (input.auth_password_sealed ?? keptPassword),
    register: input.register ?? CARRIER_DEFAULTS.register,
    register_expires: input.register_expires ?? CARRIER_DEFAULTS.register_expires,
    leading_plus: input.leading_plus ?? CARRIER_DEFAULTS.leading_plus,
    transport: input.transport ?? CARRIER_DEFAULTS.transport,
    max_calls: input.max_calls ?? CARRIER_DEFAULTS.max_calls,
    max_cps: input.max_cps ?? CARRIER_DEFAULTS.max_cps,
  };
}

/** The columns of the carrier settings, in the order carrierValues writes them. */
const CARRIER_COLUMNS = ['auth_username', 'auth_password_sealed', 'register', 'register_expires', 'leading_plus', 'transport', 'max_calls', 'max_cps'] as const;

function carrierValues(c: CarrierSettings): Array<string | number> {
  return [c.auth_username, c.auth_password_sealed, c.register ? 1 : 0, c.register_expires, c.leading_plus ? 1 : 0, c.transport, c.max_calls, c.max_cps];
}

/** The carrier settings as columns (the PostgreSQL store writes the same row shape). */
export function carrierColumns(c: CarrierSettings): Record<(typeof CARRIER_COLUMNS)[number], string | number> {
  const values = carrierValues(c);
  return Object.fromEntries(CARRIER_COLUMNS.map((name, i) => [name, values[i]!])) as Record<(typeof CARRIER_COLUMNS)[number], string | number>;
}

/**
 * The registration state a replaced provider keeps (see ProviderStore.replace): none without
 * `register`, a fresh start when what the registrar's state describes changed.
 */
export function registrationAfterReplace(current: ProviderRecord, carrier: CarrierSettings, hostname: string): [RegistrationStatus, string | null] {
  if (!carrier.register) return ['off', null];
  if (registrationKey(current) !== registrationKey({ ...carrier, hostname })) return ['registering', null];
  return [current.registration_status, current.registration_checked_at];
}

/** What the registrar's state describes: a change to any of these starts registration over. */
function registrationKey(p: Pick<ProviderRecord, 'register' | 'hostname' | 'transport' | 'auth_username' | 'auth_password_sealed' | 'register_expires'>): string {
  return JSON.stringify([p.register, p.hostname, p.transport, p.auth_username, p.auth_password_sealed, p.register_expires]);
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
      const carrier = carrierSettingsOf(input, '');
      db.prepare(
        `INSERT INTO providers (id, type, hostname, tech_prefix, tech_postfix, tech_headers, name, detail, codecs,
           metadata, health_status, health_checked_at, ${CARRIER_COLUMNS.join(', ')}, registration_status, tm_create, tm_update, tm_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', NULL, ${CARRIER_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?, ?)`,
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
        ...carrierValues(carrier),
        carrier.register ? 'registering' : 'off',
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
      const carrier = carrierSettingsOf(input, current.auth_password_sealed);
      // Health and registration described the old target (see ProviderStore.replace).
      const targetChanged = current.hostname !== input.hostname || current.transport !== carrier.transport;
      const registration = registrationAfterReplace(current, carrier, input.hostname);
      this.conn.db
        .prepare(
          `UPDATE providers SET type = ?, hostname = ?, tech_prefix = ?, tech_postfix = ?, tech_headers = ?, name = ?,
             detail = ?, codecs = ?, metadata = ?, health_status = ?, health_checked_at = ?,
             ${CARRIER_COLUMNS.map((c) => `${c} = ?`).join(', ')}, registration_status = ?, registration_checked_at = ?, tm_update = ?
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
          targetChanged ? 'unknown' : current.health_status,
          targetChanged ? null : current.health_checked_at,
          ...carrierValues(carrier),
          ...registration,
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

  /** Registrar results are not a configuration change: tm_update stays. */
  async setRegistration(id: string, status: RegistrationStatus, checkedAt: string): Promise<void> {
    const row = await this.conn.write(() => {
      this.conn.db.prepare('UPDATE providers SET registration_status = ?, registration_checked_at = ? WHERE id = ?').run(status, checkedAt, id);
      return this.getNow(id);
    });
    if (row) this.changed(row);
  }

  private getNow(id: string): ProviderRecord | undefined {
    const row = this.conn.db.prepare('SELECT * FROM providers WHERE id = ?').get(id) as ProviderRow | undefined;
    return row && providerFromRow(row);
  }
}
