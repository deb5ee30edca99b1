/**
 * The provider and route records as the admin API and the store know them (snake_case, as in the
 * VoIPBIN v1.0 API). The routing core reads them from a snapshot; it never queries the store.
 */
export const LIVE_SENTINEL = '9999-01-01T00:00:00.000000Z';
export const DEFAULT_CUSTOMER_ID = '00000000-0000-0000-0000-000000000001';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

/** The REGISTER state of a provider (docs/routing.md §9): `off` unless `register` is on. */
export type RegistrationStatus = 'off' | 'registering' | 'registered' | 'failed';

/** How attempts reach a provider: the Request-URI's `transport` parameter (none for UDP). */
export type SipTransport = 'udp' | 'tcp' | 'tls';

/**
 * A provider's credentials, registration, number format, transport and limits (docs/api.md §9).
 * A provider created without them behaves as providers did before they existed.
 */
export interface CarrierSettings {
  /** digest user name; '' = no credentials */
  auth_username: string;
  /**
   * The password, sealed by src/secrets/secret-box.ts ('' = none). Opaque to stores and the
   * routing code; it never leaves the server (the API shows `auth_password_set`).
   */
  auth_password_sealed: string;
  register: boolean;
  /** seconds, 60..86400 */
  register_expires: number;
  /** false: the number without its `+` in the Request-URI, To, and a +E.164 caller in From / P-Asserted-Identity */
  leading_plus: boolean;
  transport: SipTransport;
  /** concurrent calls through the provider; 0 = unlimited */
  max_calls: number;
  /** new attempts per second; 0 = unlimited */
  max_cps: number;
}

export const CARRIER_DEFAULTS: Readonly<CarrierSettings> = Object.freeze({
  auth_username: '',
  auth_password_sealed: '',
  register: false,
  register_expires: 3600,
  leading_plus: true,
  transport: 'udp',
  max_calls: 0,
  max_cps: 0,
});

export interface ProviderRecord extends CarrierSettings {
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
  registration_status: RegistrationStatus;
  registration_checked_at: string | null;
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
