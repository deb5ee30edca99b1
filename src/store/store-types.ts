import type { HealthStatus, ProviderRecord, RegistrationStatus, RouteRecord, RoutingChange, SipTransport } from '../routing/model.ts';
import type { Page, PageRequest } from './page.ts';
import type { LeaseStore } from '../cluster/lease.ts';

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
  // Carrier settings (routing/model.ts CarrierSettings); an omitted one takes CARRIER_DEFAULTS.
  auth_username?: string;
  /**
   * The password sealed by src/secrets (opaque to the store). On `replace`, undefined keeps the
   * stored one and '' clears it; either way a password is kept only with an auth_username.
   */
  auth_password_sealed?: string;
  register?: boolean;
  register_expires?: number;
  leading_plus?: boolean;
  transport?: SipTransport;
  max_calls?: number;
  max_cps?: number;
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
  name: string;
  detail: string;
  /** scrypt hash in the format of admin/auth/password.ts; never leaves the server. */
  password_hash: string;
  /** Raised by every password change; a token carries the version it was issued under. */
  password_version: number;
  permission: number;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface AgentInput {
  username: string;
  name?: string;
  detail?: string;
  passwordHash: string;
  permission: number;
}

export interface AgentUpdate {
  name: string;
  detail: string;
  permission: number;
}

export interface AccessKeyRecord {
  id: string;
  agent_id: string;
  name: string;
  detail: string;
  /** SHA-256 of the key (hex); the key itself is shown once and never stored. */
  token_hash: string;
  /** The key's first characters, so a person can tell keys apart. */
  token_prefix: string;
  /** When the key stops working; LIVE_SENTINEL = never. */
  tm_expire: string;
  tm_create: string;
  tm_update: string;
  tm_delete: string;
}

export interface AccessKeyInput {
  agentId: string;
  name: string;
  detail: string;
  tokenHash: string;
  tokenPrefix: string;
  /** Seconds from now, or undefined for a key that does not expire. */
  expiresInSeconds: number | undefined;
}

export interface ProviderStore {
  /** By id, deleted ones too (a GET by id shows them). */
  get(id: string): Promise<ProviderRecord | undefined>;
  /** Live providers, newest first, one page. */
  list(page: PageRequest): Promise<Page<ProviderRecord>>;
  create(input: ProviderInput): Promise<ProviderRecord>;
  /**
   * Full replace (PUT). Metadata is kept unless given (it holds carrier ids from setup); a
   * hostname or transport change resets the health state, since it described the old target.
   * The registration state becomes `off` without `register`, and `registering` when `register`
   * is on and it, the hostname, transport, credentials or expiry changed (the registrar starts
   * over); otherwise it is kept.
   */
  replace(id: string, input: ProviderInput): Promise<ProviderRecord>;
  /** Soft delete; refused while live routes reference the provider (PROVIDER_IN_USE). */
  softDelete(id: string): Promise<ProviderRecord>;
  /** A probe result; announced as a provider change, so the dial plan orders by health. */
  setHealth(id: string, status: HealthStatus, checkedAt: string): Promise<void>;
  /**
   * A registrar result (src/register); announced as a provider change like health (a failed
   * registration orders the provider last). Not a configuration change: tm_update stays.
   */
  setRegistration(id: string, status: RegistrationStatus, checkedAt: string): Promise<void>;
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
  /** By id, deleted ones too; authentication checks tm_delete. */
  get(id: string): Promise<AgentRecord | undefined>;
  /** The live agent with this username. */
  findByUsername(username: string): Promise<AgentRecord | undefined>;
  list(page: PageRequest): Promise<Page<AgentRecord>>;
  /** AGENT_EXISTS while a live agent has the username. */
  create(input: AgentInput): Promise<AgentRecord>;
  /**
   * First-start bootstrap: creates the agent only while the table is empty, inside one write
   * transaction, so two processes starting together cannot both create one.
   */
  createIfNoAgents(input: AgentInput): Promise<AgentRecord | undefined>;
  /** AGENT_NOT_FOUND; LAST_PROJECT_SUPER_ADMIN when it would leave no live ProjectSuperAdmin. */
  update(id: string, update: AgentUpdate): Promise<AgentRecord>;
  /** A new hash and a higher password_version: tokens issued before stop working. */
  setPassword(id: string, passwordHash: string): Promise<AgentRecord>;
  /** Soft delete, with the agent's access keys; LAST_PROJECT_SUPER_ADMIN for the last one. */
  softDelete(id: string): Promise<AgentRecord>;
}

export interface AccessKeyStore {
  /** By id, deleted ones too. */
  get(id: string): Promise<AccessKeyRecord | undefined>;
  /** Live keys, newest first; only one agent's when agentId is given. */
  list(page: PageRequest & { agentId?: string | undefined }): Promise<Page<AccessKeyRecord>>;
  /** AGENT_NOT_FOUND when the agent is not live. */
  create(input: AccessKeyInput): Promise<AccessKeyRecord>;
  update(id: string, update: { name: string; detail: string }): Promise<AccessKeyRecord>;
  softDelete(id: string): Promise<AccessKeyRecord>;
  /** The live key with this hash (expired ones too: the caller tells expired from unknown). */
  findByTokenHash(tokenHash: string): Promise<AccessKeyRecord | undefined>;
}

// --- call records (docs/api.md "Call records") ------------------------------------------------

export type CallOutcome = 'connected' | 'failed';
export type CallHangupBy = 'platform' | 'carrier' | 'outdial';

/** One carrier attempt of a call, as stored and served. */
export interface CallAttemptRecord {
  route_id: string;
  provider_id: string;
  request_uri: string;
  /** the status that ended the attempt (488: skipped, no common codec; 408: connect timeout) */
  status: number;
  /** the carrier's reason phrase, or why outdial ended the attempt; '' when none */
  reason: string;
  /** from the platform's INVITE to this attempt's INVITE */
  started_ms: number;
  duration_ms: number;
}

/** One ended call, as the record sink hands it to the store. Never holds credentials or header values. */
export interface CallRecordInput {
  /** the Call-ID of the platform's INVITE */
  call_id: string;
  /** when the platform's INVITE arrived (UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ) */
  started_at: string;
  /** when the call ended (same format) */
  ended_at: string;
  /** the platform's address, ip:port */
  source: string;
  /** the user part of the platform's From; '' when it has none */
  caller: string;
  /** null when the call was refused before its customer was read */
  customer_id: string | null;
  /** the normalized number; null when the Request-URI held none */
  destination: string | null;
  outcome: CallOutcome;
  /** the final status the platform got (200 when connected, 487 when it cancelled); null when none was recorded */
  status: number | null;
  reason: string;
  /** the provider that answered */
  provider_id: string | null;
  hangup_by: CallHangupBy | null;
  talk_ms: number | null;
  duration_ms: number;
  attempts: CallAttemptRecord[];
}

/** A stored call record. */
export interface CallRecordRow extends Omit<CallRecordInput, 'started_at' | 'ended_at'> {
  id: string;
  /** the call's start (its started_at), moved on by a microsecond or two where needed to be unique in the table */
  tm_create: string;
  /** when the call ended */
  tm_hangup: string;
}

export interface CallListRequest extends PageRequest {
  customerId?: string | undefined;
  /** '+' and digits: destinations starting with it */
  destinationPrefix?: string | undefined;
  outcome?: CallOutcome | undefined;
  status?: number | undefined;
  /** tm_create at or after this (inclusive), API time format */
  since?: string | undefined;
  /** tm_create before this (exclusive), API time format */
  until?: string | undefined;
}

export interface CallStore {
  /**
   * Stores ended calls in one transaction: all of them or none. Each gets an id and a tm_create
   * unique within the table, at or just after its started_at. Never waits for another writer's
   * lock: resolves 'busy', having written nothing, while another connection holds it (the record
   * sink tries again on its next flush). A storage fault rejects with STORAGE_UNAVAILABLE.
   */
  insertBatch(records: readonly CallRecordInput[]): Promise<'written' | 'busy'>;
  get(id: string): Promise<CallRecordRow | undefined>;
  /** Newest first (tm_create), every given filter applied (AND); paginated like every list. */
  list(request: CallListRequest): Promise<Page<CallRecordRow>>;
  /**
   * Deletes at most `limit` records whose tm_create is before `before`, oldest first; resolves
   * how many. Like insertBatch it never waits for another writer's lock (it resolves 0 then).
   */
  pruneBefore(before: string, limit: number): Promise<number>;
}

// --- provider test calls (docs/api.md "Provider test calls") ---------------------------------

/** `calling` until the carrier answered (and was hung up), refused, or stayed silent. */
export type ProviderCallStatus = 'calling' | 'answered' | 'failed' | 'timeout';

export interface ProviderCallInput {
  provider_id: string;
  destination: string;
  /** the From user part sent; '' = the SIP stack's default */
  source: string;
  request_uri: string;
  /** the codec filter applied to the test offer ([] = offer unchanged) */
  codecs: string[];
}

/** How a test call ended. */
export interface ProviderCallResult {
  status: Exclude<ProviderCallStatus, 'calling'>;
  /** the carrier's final status; null when it sent none (timeout, not sent) */
  sip_status: number | null;
  /** the carrier's reason phrase; '' when none */
  sip_reason: string;
  /** what happened, in words ('' while calling) */
  reason: string;
  /** the first provisional above 100, the 2xx, the end (API time format) */
  tm_ringing: string | null;
  tm_answer: string | null;
  tm_hangup: string;
}

export interface ProviderCallRecord extends ProviderCallInput {
  id: string;
  status: ProviderCallStatus;
  sip_status: number | null;
  sip_reason: string;
  reason: string;
  tm_ringing: string | null;
  tm_answer: string | null;
  tm_hangup: string | null;
  tm_create: string;
  tm_update: string;
}

export interface ProviderCallStore {
  /** A test call in status `calling`; PROVIDER_NOT_FOUND (status INVALID_ARGUMENT) unless the provider is live. */
  create(input: ProviderCallInput): Promise<ProviderCallRecord>;
  /** Records the result of a `calling` test call; PROVIDER_CALL_NOT_FOUND when there is none. */
  finish(id: string, result: ProviderCallResult): Promise<ProviderCallRecord>;
  get(id: string): Promise<ProviderCallRecord | undefined>;
  /** Newest first; only one provider's when providerId is given. */
  list(page: PageRequest & { providerId?: string | undefined }): Promise<Page<ProviderCallRecord>>;
  /**
   * Test calls still `calling` that were created before `before` (their process stopped during
   * the call) become `failed` with this reason; resolves how many.
   */
  failUnfinished(before: string, reason: string): Promise<number>;
  /** As CallStore.pruneBefore, for test calls (never one still `calling`). */
  pruneBefore(before: string, limit: number): Promise<number>;
}

/**
 * Named values the engine keeps (the secret key's id, the sealed token signing key). Values are
 * opaque here: secrets arrive sealed by src/secrets and are never decrypted by a store.
 */
export interface SettingsStore {
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `value` under `key` unless a value is there already, in one write transaction, and
   * resolves with the value now stored (the existing one, if any): two processes starting on
   * one database agree on the first value written.
   */
  putIfAbsent(key: string, value: string): Promise<string>;
  /**
   * Removes the key, and its old value from the database's files as far as the store can (a
   * clear secret from before encryption must not linger in free pages or a write-ahead log).
   */
  remove(key: string): Promise<void>;
}

/**
 * What the routing side needs from the store: the live rows, and a feed of committed changes.
 *
 * `readLive()` resolves with one consistent view that includes every change announced before it
 * was called. `onChange` listeners are called after each commit with the row as committed (a
 * soft-deleted row carries its real tm_delete), in commit order, or with `reload` when something
 * changed that the store cannot name (e.g. another process's changes were pruned from the change
 * log before this one read them, docs/performance.md §8). A change announced while
 * a `readLive()` is pending may or may not be in its result; applying it again is harmless,
 * since it carries the whole row.
 */
export interface RoutingSource {
  readLive(): Promise<{ providers: ProviderRecord[]; routes: RouteRecord[] }>;
  /**
   * The same view as `readLive()`, handed to `consume` while it is read: the live providers, then
   * the live routes one at a time where the store can stream them (SQLite), so a full reload of
   * the dial plan need not hold every route row at once (docs/performance.md §4). `consume` runs
   * synchronously inside the read and reads `routes` once; the promise resolves with its result.
   */
  readLiveInto<T>(consume: (providers: ProviderRecord[], routes: Iterable<RouteRecord>) => T): Promise<T>;
  onChange(listener: (change: RoutingChange) => void): () => void;
}

/** What GET /healthz reports about the store. */
export interface StoreHealth {
  /** A query is answered. */
  readable: boolean;
  /** A write would commit now (checked without changing data, or by a real write after a fault). */
  writable: boolean;
  /** The last storage fault, while it lasts (e.g. "database or disk is full"). */
  problem?: string;
}

export interface Store extends RoutingSource {
  readonly providers: ProviderStore;
  readonly routes: RouteStore;
  readonly agents: AgentStore;
  readonly accessKeys: AccessKeyStore;
  readonly settings: SettingsStore;
  readonly calls: CallStore;
  readonly providerCalls: ProviderCallStore;
  health(): Promise<StoreHealth>;
  /** Also announce commits made by other processes on the same database (row by row from the change log). */
  watchExternalChanges(intervalMs?: number): void;
  /** Leases for the cluster's jobs, where the database can keep them (PostgreSQL: docs/cluster.md §4.2). */
  leases?(): LeaseStore;
  /** The database as log lines name it, where that is not the SQLite path (PostgreSQL: its URL without the password). */
  readonly description?: string;
  close(): Promise<void>;
}
