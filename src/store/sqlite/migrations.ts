/**
 * Schema migrations, applied in order. Each entry moves the schema from version i to i+1 and is
 * never edited once released; a change is a new entry.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: agents, settings, providers, routes
  `
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    permission    INTEGER NOT NULL,
    tm_create     TEXT NOT NULL,
    tm_update     TEXT NOT NULL,
    tm_delete     TEXT NOT NULL
  ) STRICT;

  CREATE TABLE providers (
    id                TEXT PRIMARY KEY,
    type              TEXT NOT NULL CHECK (type = 'sip'),
    hostname          TEXT NOT NULL,
    tech_prefix       TEXT NOT NULL,
    tech_postfix      TEXT NOT NULL,
    tech_headers      TEXT NOT NULL,
    name              TEXT NOT NULL,
    detail            TEXT NOT NULL,
    codecs            TEXT NOT NULL,
    metadata          TEXT NOT NULL,
    health_status     TEXT NOT NULL CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
    health_checked_at TEXT,
    tm_create         TEXT NOT NULL UNIQUE,
    tm_update         TEXT NOT NULL,
    tm_delete         TEXT NOT NULL
  ) STRICT;
  CREATE INDEX providers_live ON providers (tm_delete, tm_create);

  CREATE TABLE routes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    provider_id TEXT NOT NULL REFERENCES providers (id),
    priority    INTEGER NOT NULL,
    target      TEXT NOT NULL,
    tm_create   TEXT NOT NULL UNIQUE,
    tm_update   TEXT NOT NULL,
    tm_delete   TEXT NOT NULL
  ) STRICT;
  CREATE INDEX routes_live ON routes (tm_delete, tm_create);
  CREATE INDEX routes_customer ON routes (customer_id, tm_delete, tm_create);
  CREATE INDEX routes_provider ON routes (provider_id, tm_delete);
  `,
  // 2: agents get name, detail and a password version; a username is unique among live agents
  // only (a deleted agent's name can be taken again); access keys; the health probe's table.
  `
  CREATE TABLE agents_v2 (
    id               TEXT PRIMARY KEY,
    username         TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    detail           TEXT NOT NULL DEFAULT '',
    password_hash    TEXT NOT NULL,
    password_version INTEGER NOT NULL DEFAULT 0,
    permission       INTEGER NOT NULL,
    tm_create        TEXT NOT NULL UNIQUE,
    tm_update        TEXT NOT NULL,
    tm_delete        TEXT NOT NULL
  ) STRICT;
  INSERT INTO agents_v2 (id, username, password_hash, permission, tm_create, tm_update, tm_delete)
    SELECT id, username, password_hash, permission, tm_create, tm_update, tm_delete FROM agents;
  DROP TABLE agents;
  ALTER TABLE agents_v2 RENAME TO agents;
  CREATE UNIQUE INDEX agents_live_username ON agents (username) WHERE tm_delete = '9999-01-01T00:00:00.000000Z';
  CREATE INDEX agents_live ON agents (tm_delete, tm_create);

  CREATE TABLE access_keys (
    id           TEXT PRIMARY KEY,
    agent_id     TEXT NOT NULL REFERENCES agents (id),
    name         TEXT NOT NULL,
    detail       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    tm_expire    TEXT NOT NULL,
    tm_create    TEXT NOT NULL UNIQUE,
    tm_update    TEXT NOT NULL,
    tm_delete    TEXT NOT NULL
  ) STRICT;
  CREATE INDEX access_keys_live ON access_keys (tm_delete, tm_create);
  CREATE INDEX access_keys_agent ON access_keys (agent_id, tm_delete, tm_create);

  CREATE TABLE store_probe (data BLOB) STRICT;
  `,
  // 3: call records and provider test calls (docs/api.md "Call records", "Provider test calls").
  // A record's attempts are one JSON array: they are always read with their call, never queried.
  `
  CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    call_id     TEXT NOT NULL,
    source      TEXT NOT NULL,
    caller      TEXT NOT NULL,
    customer_id TEXT,
    destination TEXT,
    outcome     TEXT NOT NULL CHECK (outcome IN ('connected', 'failed')),
    status      INTEGER,
    reason      TEXT NOT NULL,
    provider_id TEXT,
    hangup_by   TEXT CHECK (hangup_by IN ('platform', 'carrier', 'outdial')),
    talk_ms     INTEGER,
    duration_ms INTEGER NOT NULL,
    attempts    TEXT NOT NULL,
    tm_create   TEXT NOT NULL UNIQUE,
    tm_hangup   TEXT NOT NULL
  ) STRICT;
  CREATE INDEX calls_customer ON calls (customer_id, tm_create);

  CREATE TABLE provider_calls (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES providers (id),
    destination TEXT NOT NULL,
    source      TEXT NOT NULL,
    request_uri TEXT NOT NULL,
    codecs      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('calling', 'answered', 'failed', 'timeout')),
    sip_status  INTEGER,
    sip_reason  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    tm_ringing  TEXT,
    tm_answer   TEXT,
    tm_hangup   TEXT,
    tm_create   TEXT NOT NULL UNIQUE,
    tm_update   TEXT NOT NULL
  ) STRICT;
  CREATE INDEX provider_calls_provider ON provider_calls (provider_id, tm_create);
  CREATE INDEX provider_calls_unfinished ON provider_calls (status, tm_create);
  `,
];
