import type { HealthStatus, ProviderRecord, RouteRecord, RoutingChange } from '../routing/model.ts';
import type { Page, PageRequest } from './page.ts';

/**
 * The store as the rest of outdial sees it: every operation returns a Promise, so the
 * implementation behind it may run SQLite on the main thread (today), in a worker thread, or
 * talk to PostgreSQL. Implementations keep the semantics written here; the admin API contract
 * (docs/api.md) is what they serve.
 *
 * Errors: client mistakes are thrown as ApiError with their registry reason (PROVIDER_NOT_FOUND,
 * PROVIDER_IN_USE, ...); a storage fault (disk full, locked past the busy timeout, read-only) is
 * ApiError STORAGE_UNAVAILABLE. A failed write changes nothing.
 */

/** The client-settable provider fields; validated and normalized by the admin layer before they get here. */
export interface ProviderInput {
  type: 'sip';
  hostname: string;
  tech_prefix: string;
  tech_postfix: string;
  tech_headers: Record<string, string>;
  name: string;
  detail: string;
  codecs: string;
  metadata?: Record<string, unknown>;
}

/** Fields a route PUT replaces; customer_id is fixed at creation (docs/api.md, "Routes"). */
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

/** Permission bit flags (VoIPBIN agent permissions, docs/api.md "Agents"). */
export const Permission = {
  ProjectSuperAdmin: 0x0001,
  ProjectAll: 0x000f,
  CustomerAgent: 0x0010,
  CustomerAdmin: 0x0020,
  CustomerManager: 0x0040,
  CustomerAll: 0x00f0,
  All: 0xffff,
} as const;

export interface AgentRecord {
  id: string;
  username: string;
  /** scrypt hash in the format of admin/auth/password.ts; never leaves the server. */
  password_hash: string;
  permission: number;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface AgentInput {
  username: string;
  passwordHash: string;
  permission: number;
}

export interface ProviderStore {
  /** By id, deleted ones too (a GET by id shows them). */
  get(id: string): Promise<ProviderRecord | undefined>;
  /** Live providers, newest first, one page. */
  list(page: PageRequest): Promise<Page<ProviderRecord>>;
  create(input: ProviderInput): Promise<ProviderRecord>;
  /**
   * Full replace (PUT). Metadata is kept unless given (it holds carrier ids from setup); a
   * hostname change resets the health state, since it described the old host.
   */
  replace(id: string, input: ProviderInput): Promise<ProviderRecord>;
  /** Soft delete; refused while live routes reference the provider (PROVIDER_IN_USE). */
  softDelete(id: string): Promise<ProviderRecord>;
  /** A probe result; announced as a provider change, so the dial plan orders by health. */
  setHealth(id: string, status: HealthStatus, checkedAt: string): Promise<void>;
}

export interface RouteStore {
  get(id: string): Promise<RouteRecord | undefined>;
  list(page: PageRequest & { customerId?: string | undefined }): Promise<Page<RouteRecord>>;
  /** A provider_id naming a missing or deleted provider is PROVIDER_NOT_FOUND with status INVALID_ARGUMENT. */
  create(input: RouteInput): Promise<RouteRecord>;
  replace(id: string, input: RouteUpdate): Promise<RouteRecord>;
  softDelete(id: string): Promise<RouteRecord>;
}

export interface AgentStore {
  /** Every row ever created, deleted ones too (first-start bootstrap runs on an empty table only). */
  count(): Promise<number>;
  /** A live agent by id. */
  get(id: string): Promise<AgentRecord | undefined>;
  findByUsername(username: string): Promise<AgentRecord | undefined>;
  create(input: AgentInput): Promise<AgentRecord>;
  /**
   * First-start bootstrap: creates the agent only while the table is empty, inside one write
   * transaction, so two processes starting together cannot both create one.
   */
  createIfNoAgents(input: AgentInput): Promise<AgentRecord | undefined>;
}

export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  /** The token signing key: generated on first use and kept, so tokens stay valid across restarts. */
  jwtSecret(): Promise<string>;
}

/**
 * What the routing side needs from the store: the live rows, and a feed of committed changes.
 *
 * `readLive()` resolves with one consistent view that includes every change announced before it
 * was called. `onChange` listeners are called after each commit with the row as committed (a
 * soft-deleted row carries its real tm_delete), in commit order, or with `reload` when something
 * changed that the store cannot name (another process wrote the file). A change announced while
 * a `readLive()` is pending may or may not be in its result; applying it again is harmless,
 * since it carries the whole row.
 */
export interface RoutingSource {
  readLive(): Promise<{ providers: ProviderRecord[]; routes: RouteRecord[] }>;
  onChange(listener: (change: RoutingChange) => void): () => void;
}

export interface Store extends RoutingSource {
  readonly providers: ProviderStore;
  readonly routes: RouteStore;
  readonly agents: AgentStore;
  readonly settings: SettingsStore;
  /** True when the database answers a query (GET /healthz). */
  healthy(): Promise<boolean>;
  /** Also announce commits made by other processes on the same database (as `reload`). */
  watchExternalChanges(intervalMs?: number): void;
  close(): Promise<void>;
}
