/**
 * Leases in PostgreSQL (docs/cluster.md §4.2): one row per lease with its holder and expiry,
 * taken or renewed by one INSERT … ON CONFLICT DO UPDATE that only succeeds for the holder or
 * over an expired row, all on the database's clock. A row, not an advisory lock: an advisory
 * lock lives as long as the holder's session, and a holder cut off from the database by the
 * network keeps its session (and the lock) until TCP gives up, while a row simply expires.
 */
import type { LeaseClaim, LeaseStore } from './lease.ts';

/** What the store needs from a connection pool (pg.Pool and pg.Client have it). */
export interface PgQueryable {
  query<R extends Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export const LEASE_TABLE = 'outdial_leases';

/**
 * The table, created once. The advisory lock serializes instances starting together (two
 * concurrent CREATE TABLE IF NOT EXISTS can both pass the check and one then fails).
 */
const SCHEMA = `
DO $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('${LEASE_TABLE}'));
  CREATE TABLE IF NOT EXISTS ${LEASE_TABLE} (
    name text PRIMARY KEY,
    owner text NOT NULL,
    expires_at timestamptz NOT NULL
  );
END
$$`;

/**
 * The data-modifying CTE takes or renews; the outer query sees the row as it was before, which
 * tells a non-holder how long the holder's lease has left.
 */
const CLAIM = `
WITH claim AS (
  INSERT INTO ${LEASE_TABLE} AS l (name, owner, expires_at)
  VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
  ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
    WHERE l.owner = EXCLUDED.owner OR l.expires_at <= clock_timestamp()
  RETURNING 1
)
SELECT (SELECT count(*) FROM claim)::int AS held,
       (SELECT ceil(extract(epoch FROM expires_at - clock_timestamp()) * 1000) FROM ${LEASE_TABLE} WHERE name = $1)::float8 AS left_ms`;

const RELEASE = `DELETE FROM ${LEASE_TABLE} WHERE name = $1 AND owner = $2`;

const HELD: LeaseClaim = Object.freeze({ held: true });

export class PostgresLeaseStore implements LeaseStore {
  private schemaReady: Promise<void> | undefined;

  constructor(
    private readonly db: PgQueryable,
    readonly description = 'postgresql',
  ) {}

  /** Creates the lease table if it is not there; claim() calls it once on its own. */
  ensureSchema(): Promise<void> {
    this.schemaReady ??= this.db.query(SCHEMA).then(
      () => undefined,
      (err: unknown) => {
        this.schemaReady = undefined;
        throw err;
      },
    );
    return this.schemaReady;
  }

  async claim(name: string, owner: string, ttlMs: number): Promise<LeaseClaim> {
    await this.ensureSchema();
    const { rows } = await this.db.query<{ held: number; left_ms: number | null }>(CLAIM, [name, owner, Math.ceil(ttlMs)]);
    const row = rows[0];
    if (row && row.held === 1) return HELD;
    const left = row?.left_ms ?? ttlMs;
    return { held: false, retryInMs: Math.max(1, Math.ceil(left)) };
  }

  async release(name: string, owner: string): Promise<void> {
    await this.ensureSchema();
    await this.db.query(RELEASE, [name, owner]);
  }
}
