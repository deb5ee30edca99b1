/**
 * The provider and route records as the admin API and the store know them (snake_case, as in the
 * VoIPBIN v1.0 API). The routing core reads them from a snapshot; it never queries the store.
 */
export const LIVE_SENTINEL = '9999-01-01T00:00:00.000000Z';
export const DEFAULT_CUSTOMER_ID = '00000000-0000-0000-0000-000000000001';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface ProviderRecord {
  id: string;
  type: 'sip';
  hostname: string;
  tech_prefix: string;
  tech_postfix: string;
  tech_headers: Record<string, string>;
  name: string;
  detail: string;
  /** "" or normalized "PCMU,PCMA" */
  codecs: string;
  metadata: Record<string, unknown>;
  health_status: HealthStatus;
  health_checked_at: string | null;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface RouteRecord {
  id: string;
  customer_id: string;
  name: string;
  detail: string;
  provider_id: string;
  priority: number;
  /** "all" or "+" and 1..15 digits */
  target: string;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

/**
 * One committed change, as the store announces it: the row as it now is (a soft-deleted row has
 * its real tm_delete), or `reload` when something changed that the store cannot name (another
 * process wrote to the database file): then the whole snapshot is read again.
 */
export type RoutingChange =
  | { kind: 'route'; row: RouteRecord }
  | { kind: 'provider'; row: ProviderRecord }
  | { kind: 'reload' };

/**
 * What the routing code needs from the store: the live rows, read consistently, and a signal
 * after every committed change so the in-memory snapshot can be brought up to date at once.
 */
export interface RoutingSource {
  readLive(): { providers: ProviderRecord[]; routes: RouteRecord[] };
  onChange(listener: (change: RoutingChange) => void): () => void;
}
