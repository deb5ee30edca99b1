/**
 * The PostgreSQL schema, version by version. Version i here is version i of
 * src/store/sqlite/migrations.ts, in PostgreSQL's words: the same tables, columns, defaults,
 * uniqueness and checks, so that both stores answer the admin API alike (docs/cluster.md §8).
 * Entries are never edited once released; a change is a new entry in both files.
 *
 * PostgreSQL differences, on purpose:
 * - Timestamps stay text in the row format of docs/api.md §5 (`2026-04-23T10:00:00.123456Z`),
 *   with the "C" collation: they then sort as bytes, like SQLite's text, whatever the database's
 *   locale (a linguistic collation may ignore punctuation and misorder them).
 * - JSON fields (tech_headers, metadata) stay text as well: jsonb would reorder keys.
 * - Version 1 also brings what only a shared database needs (docs/cluster.md §8.3): the change
 *   log of provider and route rows with its triggers and notification, and the lease table.
 *
 * Every write transaction of the store and every change-log trigger takes the same advisory
 * lock (WRITE_LOCK), so writes are serialized as they are in SQLite, and change-log sequence
 * numbers are handed out in commit order.
 */

/** pg_advisory_xact_lock key serializing writes (any number; fixed forever by migration 1). */
export const WRITE_LOCK = 7_301_998_123_001;
/** pg_advisory_xact_lock key serializing migrations of instances starting together. */
export const MIGRATION_LOCK = 7_301_998_123_002;
/**
 * pg_try_advisory_xact_lock key serializing the writes of call records (insert, prune) among
 * instances: they never wait for it (another instance's batch makes this one `busy`, and the
 * record sink flushes it again later), and never for WRITE_LOCK, so admin writes and call
 * records do not delay each other.
 */
export const CALL_RECORDS_LOCK = 7_301_998_123_003;
/** The channel change-log entries are announced on (payload: the entry's seq). */
export const CHANGE_CHANNEL = 'outdial_changes';

const TS = 'text COLLATE "C" NOT NULL';

export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: agents, settings, providers, routes; the change log and leases.
  `
  CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
  );

  CREATE TABLE agents (
    id            text PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    permission    integer NOT NULL,
    tm_create     ${TS},
    tm_update     ${TS},
    tm_delete     ${TS}
  );

  CREATE TABLE providers (
    id                text PRIMARY KEY,
    type              text NOT NULL CHECK (type = 'sip'),
    hostname          text NOT NULL,
    tech_prefix       text NOT NULL,
    tech_postfix      text NOT NULL,
    tech_headers      text NOT NULL,
    name              text NOT NULL,
    detail            text NOT NULL,
    codecs            text NOT NULL,
    metadata          text NOT NULL,
    health_status     text NOT NULL CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
    health_checked_at text COLLATE "C",
    tm_create         ${TS} UNIQUE,
    tm_update         ${TS},
    tm_delete         ${TS}
  );
  CREATE INDEX providers_live ON providers (tm_delete, tm_create);

  CREATE TABLE routes (
    id          text PRIMARY KEY,
    customer_id text NOT NULL,
    name        text NOT NULL,
    detail      text NOT NULL,
    provider_id text NOT NULL REFERENCES providers (id),
    priority    integer NOT NULL,
    target      text NOT NULL,
    tm_create   ${TS} UNIQUE,
    tm_update   ${TS},
    tm_delete   ${TS}
  );
  CREATE INDEX routes_live ON routes (tm_delete, tm_create);
  CREATE INDEX routes_customer ON routes (customer_id, tm_delete, tm_create);
  CREATE INDEX routes_provider ON routes (provider_id, tm_delete);

  -- One entry per committed provider or route row change, whoever made it (the triggers below),
  -- numbered in commit order (the triggers take the write lock before numbering).
  CREATE TABLE change_log (
    seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind   text NOT NULL,
    row_id text NOT NULL,
    tm     timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  -- Entries up to and including "through" have been pruned.
  CREATE TABLE change_log_pruned (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    through bigint NOT NULL
  );
  INSERT INTO change_log_pruned (through) VALUES (0);

  CREATE FUNCTION outdial_log_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
  DECLARE
    s bigint;
  BEGIN
    PERFORM pg_advisory_xact_lock(${WRITE_LOCK});
    INSERT INTO change_log (kind, row_id) VALUES (TG_ARGV[0], NEW.id) RETURNING seq INTO s;
    PERFORM pg_notify('${CHANGE_CHANNEL}', s::text);
    RETURN NULL;
  END
  $fn$;
  CREATE TRIGGER providers_change_log AFTER INSERT OR UPDATE ON providers
    FOR EACH ROW EXECUTE FUNCTION outdial_log_change('provider');
  CREATE TRIGGER routes_change_log AFTER INSERT OR UPDATE ON routes
    FOR EACH ROW EXECUTE FUNCTION outdial_log_change('route');

  -- src/cluster/postgres-lease-store.ts creates it on its own too (IF NOT EXISTS).
  CREATE TABLE IF NOT EXISTS outdial_leases (
    name       text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at timestamptz NOT NULL
  );
  `,
  // 2: agents get name, detail and a password version; a username is unique among live agents
  // only; access keys; the health probe's table.
  `
  ALTER TABLE agents ADD COLUMN name text NOT NULL DEFAULT '';
  ALTER TABLE agents ADD COLUMN detail text NOT NULL DEFAULT '';
  ALTER TABLE agents ADD COLUMN password_version integer NOT NULL DEFAULT 0;
  ALTER TABLE agents DROP CONSTRAINT agents_username_key;
  ALTER TABLE agents ADD CONSTRAINT agents_tm_create_key UNIQUE (tm_create);
  CREATE UNIQUE INDEX agents_live_username ON agents (username) WHERE tm_delete = '9999-01-01T00:00:00.000000Z';
  CREATE INDEX agents_live ON agents (tm_delete, tm_create);

  CREATE TABLE access_keys (
    id           text PRIMARY KEY,
    agent_id     text NOT NULL REFERENCES agents (id),
    name         text NOT NULL,
    detail       text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    token_prefix text NOT NULL,
    tm_expire    ${TS},
    tm_create    ${TS} UNIQUE,
    tm_update    ${TS},
    tm_delete    ${TS}
  );
  CREATE INDEX access_keys_live ON access_keys (tm_delete, tm_create);
  CREATE INDEX access_keys_agent ON access_keys (agent_id, tm_delete, tm_create);

  CREATE TABLE store_probe (data bytea);
  `,
  // 3: call records and provider test calls (docs/api.md "Call records", "Provider test calls").
  // Durations are bigint here (a call held for weeks must still be recorded); the store reads
  // them back as numbers.
  `
  CREATE TABLE calls (
    id          text PRIMARY KEY,
    call_id     text NOT NULL,
    source      text NOT NULL,
    caller      text NOT NULL,
    customer_id text,
    destination text COLLATE "C",
    outcome     text NOT NULL CHECK (outcome IN ('connected', 'failed')),
    status      integer,
    reason      text NOT NULL,
    provider_id text,
    hangup_by   text CHECK (hangup_by IN ('platform', 'carrier', 'outdial')),
    talk_ms     bigint,
    duration_ms bigint NOT NULL,
    attempts    text NOT NULL,
    tm_create   ${TS} UNIQUE,
    tm_hangup   ${TS}
  );
  CREATE INDEX calls_customer ON calls (customer_id, tm_create);

  CREATE TABLE provider_calls (
    id          text PRIMARY KEY,
    provider_id text NOT NULL REFERENCES providers (id),
    destination text NOT NULL,
    source      text NOT NULL,
    request_uri text NOT NULL,
    codecs      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('calling', 'answered', 'failed', 'timeout')),
    sip_status  integer,
    sip_reason  text NOT NULL,
    reason      text NOT NULL,
    tm_ringing  text COLLATE "C",
    tm_answer   text COLLATE "C",
    tm_hangup   text COLLATE "C",
    tm_create   ${TS} UNIQUE,
    tm_update   ${TS}
  );
  CREATE INDEX provider_calls_provider ON provider_calls (provider_id, tm_create);
  CREATE INDEX provider_calls_unfinished ON provider_calls (status, tm_create);
  `,
  // 4: carrier settings of a provider (docs/api.md §9): digest credentials (the password sealed
  // above the store, opaque here), registration and its state, number format, transport, limits.
  // The flags are 0/1 integers as in SQLite, so both stores read a row with providerFromRow.
  `
  ALTER TABLE providers ADD COLUMN auth_username text NOT NULL DEFAULT '';
  ALTER TABLE providers ADD COLUMN auth_password_sealed text NOT NULL DEFAULT '';
  ALTER TABLE providers ADD COLUMN register integer NOT NULL DEFAULT 0 CHECK (register IN (0, 1));
  ALTER TABLE providers ADD COLUMN register_expires integer NOT NULL DEFAULT 3600 CHECK (register_expires BETWEEN 60 AND 86400);
  ALTER TABLE providers ADD COLUMN registration_status text NOT NULL DEFAULT 'off'
    CHECK (registration_status IN ('off', 'registering', 'registered', 'failed'));
  ALTER TABLE providers ADD COLUMN registration_checked_at text COLLATE "C";
  ALTER TABLE providers ADD COLUMN leading_plus integer NOT NULL DEFAULT 1 CHECK (leading_plus IN (0, 1));
  ALTER TABLE providers ADD COLUMN transport text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls'));
  ALTER TABLE providers ADD COLUMN max_calls integer NOT NULL DEFAULT 0 CHECK (max_calls >= 0);
  ALTER TABLE providers ADD COLUMN max_cps double precision NOT NULL DEFAULT 0 CHECK (max_cps >= 0);
  `,
  // 5: nothing. SQLite's version 5 brings the change log of provider and route rows
  // (docs/performance.md §8); PostgreSQL has had it, with its triggers and pruning mark, since
  // version 1 (docs/cluster.md §8.3). The entry keeps the two version numbers the same.
  `
  SELECT 1;
  `,
];

/** Tables a database may hold before outdial's first migration without being another application's. */
export const FOREIGN_TABLES_ALLOWED: readonly string[] = ['outdial_leases'];
