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
  // 4: carrier settings of a provider (docs/api.md §9): digest credentials (the password sealed
  // above the store, opaque here), registration and its state, number format, transport, limits.
  `
  ALTER TABLE providers ADD COLUMN auth_username TEXT NOT NULL DEFAULT '';
  ALTER TABLE providers ADD COLUMN auth_password_sealed TEXT NOT NULL DEFAULT '';
  ALTER TABLE providers ADD COLUMN register INTEGER NOT NULL DEFAULT 0 CHECK (register IN (0, 1));
  ALTER TABLE providers ADD COLUMN register_expires INTEGER NOT NULL DEFAULT 3600 CHECK (register_expires BETWEEN 60 AND 86400);
  ALTER TABLE providers ADD COLUMN registration_status TEXT NOT NULL DEFAULT 'off'
    CHECK (registration_status IN ('off', 'registering', 'registered', 'failed'));
  ALTER TABLE providers ADD COLUMN registration_checked_at TEXT;
  ALTER TABLE providers ADD COLUMN leading_plus INTEGER NOT NULL DEFAULT 1 CHECK (leading_plus IN (0, 1));
  ALTER TABLE providers ADD COLUMN transport TEXT NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls'));
  ALTER TABLE providers ADD COLUMN max_calls INTEGER NOT NULL DEFAULT 0 CHECK (max_calls >= 0);
  ALTER TABLE providers ADD COLUMN max_cps REAL NOT NULL DEFAULT 0 CHECK (max_cps >= 0);
  `,
  // 5: the change log of provider and route rows (docs/performance.md §8), so that a process
  // follows the commits of other processes on the same file row by row instead of reading the
  // whole dial plan again. Triggers write it, so every writer is logged: another outdial, a
  // script, an operator's sqlite3 shell. AUTOINCREMENT: a number is never handed out twice,
  // even after the newest entries are pruned. A DELETE is logged too (outdial only soft-deletes;
  // a plain SQL DELETE makes the reader reload, as the row it names is gone). tm is the UTC time
  // of the entry (prune by age); strftime rather than unixepoch(), which older sqlite3 shells lack.
  `
  CREATE TABLE change_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    row_id TEXT NOT NULL,
    tm     TEXT NOT NULL
  ) STRICT;
  -- Entries up to and including "through" have been pruned.
  CREATE TABLE change_log_pruned (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    through INTEGER NOT NULL
  ) STRICT;
  INSERT INTO change_log_pruned (one, through) VALUES (1, 0);

  CREATE TRIGGER providers_change_log_insert AFTER INSERT ON providers BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('provider', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER providers_change_log_update AFTER UPDATE ON providers BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('provider', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER providers_change_log_delete AFTER DELETE ON providers BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('provider', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER routes_change_log_insert AFTER INSERT ON routes BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('route', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER routes_change_log_update AFTER UPDATE ON routes BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('route', NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  CREATE TRIGGER routes_change_log_delete AFTER DELETE ON routes BEGIN
    INSERT INTO change_log (kind, row_id, tm) VALUES ('route', OLD.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  END;
  `,
];
