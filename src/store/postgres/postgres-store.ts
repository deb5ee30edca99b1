import type pg from 'pg';
import { describeServiceUrl } from '../../config/service-url.ts';
import type { LeaseStore } from '../../cluster/lease.ts';
import { PostgresLeaseStore } from '../../cluster/postgres-lease-store.ts';
import type { Logger } from '../../log/logger.ts';
import { LIVE_SENTINEL, type ProviderRecord, type RouteRecord, type RoutingChange } from '../../routing/model.ts';
import { providerFromRow } from '../sqlite/sqlite-provider-store.ts';
import type { MicrosSource } from '../clock.ts';
import type { Store, StoreHealth } from '../store-types.ts';
import { PostgresAccessKeyStore } from './postgres-access-key-store.ts';
import { PostgresAgentStore } from './postgres-agent-store.ts';
import { PostgresCallStore } from './postgres-call-store.ts';
import { ChangeFeed, HEAD_SEQ, type ChangeFeedOptions } from './postgres-change-feed.ts';
import { PostgresConnection } from './postgres-connection.ts';
import { clientConfig, createPool, prepareDatabase, type PoolOptions } from './postgres-db.ts';
import { PostgresProviderCallStore } from './postgres-provider-call-store.ts';
import { PostgresProviderStore } from './postgres-provider-store.ts';
import { PostgresRouteStore } from './postgres-route-store.ts';
import { PostgresSettingsStore } from './postgres-settings-store.ts';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database (config db.url) */
  url: string;
  logger: Logger;
  /** connections at most (config db.poolSize); default 10 */
  poolSize?: number;
  /** how long a write waits for another writer's lock (config db.busyTimeoutMs); default 5 s */
  busyTimeoutMs?: number;
  /** a connection attempt gives up after this; default 5 s */
  connectTimeoutMs?: number;
  /** the server cancels a statement after this (the client gives up 3 s later); default busyTimeoutMs + 5 s */
  statementTimeoutMs?: number;
  /** Injected in tests to create many rows in the same microsecond. */
  micros?: MicrosSource;
  /** The change feed's timings (tests shorten them). */
  feed?: Pick<ChangeFeedOptions, 'pollMs' | 'pollDownMs' | 'retentionMs' | 'pruneEveryMs' | 'minReconnectDelayMs' | 'maxReconnectDelayMs'>;
}

/** readLive reads every provider and route: allowed far longer than one admin statement. */
const LIVE_READ_TIMEOUT_MS = 300_000;

/**
 * The PostgreSQL store: the same tables and semantics as the SQLite store, shared by every
 * instance on the database (docs/cluster.md §8). As the routing side's `RoutingSource`,
 * `readLive()` reads providers and routes in one snapshot, and listeners are told every
 * committed provider or route change, this instance's and every other's, in commit order
 * (the change feed).
 */
export class PostgresStore implements Store {
  readonly providers: PostgresProviderStore;
  readonly routes: PostgresRouteStore;
  readonly agents: PostgresAgentStore;
  readonly accessKeys: PostgresAccessKeyStore;
  readonly settings: PostgresSettingsStore;
  readonly calls: PostgresCallStore;
  readonly providerCalls: PostgresProviderCallStore;
  readonly feed: ChangeFeed;
  private readonly conn: PostgresConnection;
  private readonly listeners = new Set<(change: RoutingChange) => void>();
  private closed = false;
  private leaseStore: PostgresLeaseStore | undefined;

  constructor(
    /** the pool, shared with the PostgreSQL lease store (src/cluster/postgres-lease-store.ts) */
    readonly pool: pg.Pool,
    /** `postgres://user@host:port/db`: the database, for log lines (never the password) */
    readonly description: string,
    options: PostgresStoreOptions,
    listenConfig: pg.ClientConfig,
  ) {
    this.conn = new PostgresConnection(pool, { busyTimeoutMs: options.busyTimeoutMs ?? 5000, micros: options.micros, description, logger: options.logger });
    this.feed = new ChangeFeed({ ...options.feed, pool, clientConfig: listenConfig, logger: options.logger, description, emit: (change) => this.emitChange(change, options.logger) });
    this.providers = new PostgresProviderStore(this.conn, (write) => this.feed.ownCommit(write, { kind: 'provider', row: write.value }));
    this.routes = new PostgresRouteStore(this.conn, (write) => this.feed.ownCommit(write, { kind: 'route', row: write.value }));
    this.agents = new PostgresAgentStore(this.conn);
    this.accessKeys = new PostgresAccessKeyStore(this.conn);
    this.settings = new PostgresSettingsStore(this.conn, options.logger);
    this.calls = new PostgresCallStore(this.conn);
    this.providerCalls = new PostgresProviderCallStore(this.conn);
  }

  readLive(): Promise<{ providers: ProviderRecord[]; routes: RouteRecord[] }> {
    return this.conn.readConsistent(async (sql) => {
      const providers = (await sql.query<Parameters<typeof providerFromRow>[0]>('SELECT * FROM providers WHERE tm_delete = $1 ORDER BY tm_create', [LIVE_SENTINEL])).map(providerFromRow);
      const routes = await sql.query<RouteRecord>('SELECT * FROM routes WHERE tm_delete = $1 ORDER BY tm_create', [LIVE_SENTINEL]);
      return { providers, routes };
    }, LIVE_READ_TIMEOUT_MS);
  }

  /** node-postgres hands a query's rows over all at once: here the routes are one array (docs/performance.md §4). */
  async readLiveInto<T>(consume: (providers: ProviderRecord[], routes: Iterable<RouteRecord>) => T): Promise<T> {
    const { providers, routes } = await this.readLive();
    return consume(providers, routes);
  }

  onChange(listener: (change: RoutingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): Promise<StoreHealth> {
    return this.conn.health();
  }

  /** Nothing to start: the change feed already follows every commit, whoever made it. */
  watchExternalChanges(): void {}

  /** Leases in this database, on the same pool (docs/cluster.md §4.2). */
  leases(): LeaseStore {
    return (this.leaseStore ??= new PostgresLeaseStore(this.pool));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await this.feed.close();
    await this.pool.end();
  }

  private emitChange(change: RoutingChange, logger: Logger): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        logger.error({ err }, 'store change listener failed');
      }
    }
  }
}

/** Connects, migrates (StartupError when the database is not usable) and starts following changes. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const description = describeServiceUrl(options.url);
  const poolOptions: PoolOptions = {
    url: options.url,
    poolSize: options.poolSize ?? 10,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.statementTimeoutMs !== undefined ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
  };
  const pool = createPool(poolOptions, options.logger, description);
  try {
    await prepareDatabase(pool, description, options.logger);
    const store = new PostgresStore(pool, description, options, clientConfig(poolOptions));
    const head = Number(((await pool.query<{ head: string }>(HEAD_SEQ)).rows[0]!).head);
    await store.feed.start(head);
    return store;
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
