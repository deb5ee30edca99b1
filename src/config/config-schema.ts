import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Millis = Type.Integer({ minimum: 1, maximum: 600_000 });
const LogLevel = Type.Union(
  ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
);

/** The whole configuration, validated once at start-up (every problem reported together). */
export const ConfigSchema = Type.Object(
  {
    http: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        /** the headers and the whole body of a request must arrive within this; else 408 and the connection is closed. */
        requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
      },
      { additionalProperties: false },
    ),
    db: Type.Object(
      {
        path: Type.String({ minLength: 1 }),
        /** how long a write waits for another connection's lock before it answers 503 STORAGE_UNAVAILABLE. */
        busyTimeoutMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
        /** postgres://user:password@host:port/database selects PostgreSQL instead of the SQLite file; checked in load-config.ts. */
        url: Type.String(),
        /** connections one instance keeps to PostgreSQL at most (besides the one that listens for changes). */
        poolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
      },
      { additionalProperties: false },
    ),
    admin: Type.Object(
      { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ maxLength: 256 }) },
      { additionalProperties: false },
    ),
    auth: Type.Object(
      {
        jwtSecret: Type.String(),
        tokenTtlSeconds: Type.Integer({ minimum: 60 }),
        loginRatePerSecond: Type.Integer({ minimum: 1 }),
        loginBurst: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    /** The key that seals secrets at rest (docs/api.md §20): given, or kept in a key file. */
    secrets: Type.Object(
      {
        /** 32 bytes as 64 hex digits or base64; '' = the key file */
        key: Type.String(),
        /** '' = `<db.path>.key` */
        keyFile: Type.String(),
      },
      { additionalProperties: false },
    ),
    /** Provider registration (docs/routing.md §9): the back-off after a failed REGISTER. */
    register: Type.Object(
      {
        /** the first retry after a failure; each further failure doubles it */
        retryMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        /** the longest wait between retries */
        retryMaxMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }),
      },
      { additionalProperties: false },
    ),
    telnyx: Type.Object(
      { apiUrl: Type.String({ pattern: '^https?://' }), timeoutMs: Millis },
      { additionalProperties: false },
    ),
    /** host:port a carrier should send calls to (used by provider setup); empty = not configured. */
    publicSipAddress: Type.String(),
    log: Type.Object({ level: LogLevel }, { additionalProperties: false }),
    /** V8's old-generation growth after each full GC, in percent (docs/performance.md §9); 0 = V8's own heuristics */
    heap: Type.Object({ growthPercent: Type.Integer({ minimum: 0, maximum: 1000 }) }, { additionalProperties: false }),
    sip: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        t1Ms: Millis,
        t2Ms: Millis,
        t4Ms: Millis,
        maxMessageBytes: Type.Integer({ minimum: 1024, maximum: 1_048_576 }),
        /** TLS listener port (only with tlsCert and tlsKey); 0 = any free port */
        tlsPort: Port,
        /** PEM files: the listener's certificate chain and key; a CA added to the trusted roots */
        tlsCert: Type.String(),
        tlsKey: Type.String(),
        tlsCa: Type.String(),
        /** ip[:port] name servers for RFC 3263 lookups; empty = the system's */
        dnsServers: Type.Array(Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]:[0-9]{1,5}|[0-9A-Fa-f:.]+)$|^[0-9.]+:[0-9]{1,5}$' })),
        /** a new INVITE from outside the trusted sources: one stateless 403, or nothing */
        untrustedAction: Type.Union([Type.Literal('reject'), Type.Literal('drop')]),
      },
      { additionalProperties: false },
    ),
    edge: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Port,
        secret: Type.String(),
        /** `outdial edge` alone: sources allowed to send new INVITEs (empty = all) */
        trustedSources: Type.Array(Type.String({ minLength: 1 })),
        /** `outdial start`: the embedded edge in a worker thread, the app in the main one (docs/performance.md §3) */
        thread: Type.Union([Type.Literal('on'), Type.Literal('off')]),
      },
      { additionalProperties: false },
    ),
    /** Redis for cluster-wide call limits and leases (docs/cluster.md); empty = every limit per instance. Checked in load-config.ts. */
    redis: Type.Object({ url: Type.String() }, { additionalProperties: false }),
    /** An external drachtio-server (host:port); empty = start the embedded edge. */
    drachtio: Type.Object(
      { address: Type.String({ pattern: '^$|^[^:]+:[0-9]{1,5}$' }), secret: Type.String() },
      { additionalProperties: false },
    ),
    routing: Type.Object(
      {
        trustedSources: Type.Array(Type.String({ minLength: 1 })),
        customerHeader: Type.String({ pattern: "^[A-Za-z0-9!%'*+\\-.^_`|~]+$" }),
        maxConcurrentCalls: Type.Integer({ minimum: 1 }),
        connectTimeoutMs: Millis,
        failoverCodes: Type.String({ pattern: '^[0-9,\\- ]*$' }),
        noFailoverCodes: Type.String({ pattern: '^[0-9,\\- ]*$' }),
        passHeaders: Type.Array(Type.String({ minLength: 1 })),
        /** OPTIONS probe of every live provider this often; 0 = no probing (health stays as stored). */
        healthCheckIntervalMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
        /** no answer to a probe within this counts as a failure. */
        healthCheckTimeoutMs: Millis,
        /** consecutive failed probes before a provider is marked unhealthy. */
        unhealthyAfter: Type.Integer({ minimum: 1, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    /** The stored call records (docs/api.md "Call records"). */
    callRecords: Type.Object(
      {
        /** records (and provider test calls) older than this many days are pruned. */
        retentionDays: Type.Integer({ minimum: 1, maximum: 36_500 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

type Kind = 'string' | 'int' | 'list';
/**
 * Every environment variable the engine accepts, and where it lands in the config.
 * This table is the single source for the README's list and for the docker-compose check.
 */
export const ENV_VARS: ReadonlyArray<{ name: string; path: string; kind: Kind; doc: string }> = [
  { name: 'OUTDIAL_HTTP_HOST', path: 'http.host', kind: 'string', doc: 'admin API listen address' },
  { name: 'OUTDIAL_HTTP_PORT', path: 'http.port', kind: 'int', doc: 'admin API port (0 = any free port)' },
  { name: 'OUTDIAL_HTTP_REQUEST_TIMEOUT_MS', path: 'http.requestTimeoutMs', kind: 'int', doc: 'a request whose headers and body have not arrived within this gets 408 and is closed' },
  { name: 'OUTDIAL_DB_PATH', path: 'db.path', kind: 'string', doc: 'SQLite database file' },
  { name: 'OUTDIAL_DB_BUSY_TIMEOUT_MS', path: 'db.busyTimeoutMs', kind: 'int', doc: 'a write waits this long for another writer\'s lock, then answers 503 STORAGE_UNAVAILABLE' },
  { name: 'OUTDIAL_DB_URL', path: 'db.url', kind: 'string', doc: 'postgres://user:password@host:port/database: keep everything in PostgreSQL, shared by every instance (empty = the SQLite file)' },
  { name: 'OUTDIAL_DB_POOL_SIZE', path: 'db.poolSize', kind: 'int', doc: 'PostgreSQL connections per instance at most (plus one listening for changes)' },
  { name: 'OUTDIAL_REDIS_URL', path: 'redis.url', kind: 'string', doc: 'redis://[:password@]host:port: cluster-wide call limits and leases (empty = limits per instance)' },
  { name: 'OUTDIAL_ADMIN_USERNAME', path: 'admin.username', kind: 'string', doc: 'first-start admin user name' },
  { name: 'OUTDIAL_ADMIN_PASSWORD', path: 'admin.password', kind: 'string', doc: 'first-start admin password, at least 12 characters (random and printed once when empty)' },
  { name: 'OUTDIAL_JWT_SECRET', path: 'auth.jwtSecret', kind: 'string', doc: 'token signing key, at least 32 bytes (generated once and stored when empty)' },
  { name: 'OUTDIAL_SECRET_KEY', path: 'secrets.key', kind: 'string', doc: 'key sealing carrier passwords and the stored token signing key: 32 bytes as 64 hex digits or base64 (empty = the key file)' },
  { name: 'OUTDIAL_SECRET_KEY_FILE', path: 'secrets.keyFile', kind: 'string', doc: 'file holding that key, created with mode 0600 on the first start when missing (empty = `<OUTDIAL_DB_PATH>.key`)' },
  { name: 'OUTDIAL_TOKEN_TTL_SECONDS', path: 'auth.tokenTtlSeconds', kind: 'int', doc: 'token lifetime' },
  { name: 'OUTDIAL_LOGIN_RATE', path: 'auth.loginRatePerSecond', kind: 'int', doc: 'login attempts per second per client IP' },
  { name: 'OUTDIAL_LOGIN_BURST', path: 'auth.loginBurst', kind: 'int', doc: 'login burst per client IP' },
  { name: 'OUTDIAL_TELNYX_API_URL', path: 'telnyx.apiUrl', kind: 'string', doc: 'Telnyx v2 API base URL' },
  { name: 'OUTDIAL_TELNYX_TIMEOUT_MS', path: 'telnyx.timeoutMs', kind: 'int', doc: 'timeout of one Telnyx API call' },
  { name: 'OUTDIAL_PUBLIC_SIP_ADDRESS', path: 'publicSipAddress', kind: 'string', doc: 'host:port carriers send calls to (provider setup)' },
  { name: 'OUTDIAL_LOG_LEVEL', path: 'log.level', kind: 'string', doc: 'pino level' },
  { name: 'OUTDIAL_HEAP_GROWTH_PERCENT', path: 'heap.growthPercent', kind: 'int', doc: 'after each full garbage collection the JavaScript heap may grow this many percent before the next one (V8 --heap-growing-percent); keeps memory flat under steady load; 0 = V8 decides (up to 4×)' },
  { name: 'OUTDIAL_SIP_HOST', path: 'sip.host', kind: 'string', doc: 'embedded edge SIP address (UDP and TCP)' },
  { name: 'OUTDIAL_SIP_PORT', path: 'sip.port', kind: 'int', doc: 'embedded edge SIP port (UDP and TCP)' },
  { name: 'OUTDIAL_SIP_T1_MS', path: 'sip.t1Ms', kind: 'int', doc: 'RFC 3261 T1' },
  { name: 'OUTDIAL_SIP_T2_MS', path: 'sip.t2Ms', kind: 'int', doc: 'RFC 3261 T2' },
  { name: 'OUTDIAL_SIP_T4_MS', path: 'sip.t4Ms', kind: 'int', doc: 'RFC 3261 T4' },
  { name: 'OUTDIAL_SIP_MAX_MESSAGE_BYTES', path: 'sip.maxMessageBytes', kind: 'int', doc: 'largest SIP message accepted' },
  { name: 'OUTDIAL_SIP_TLS_PORT', path: 'sip.tlsPort', kind: 'int', doc: 'embedded edge SIP-over-TLS port (listens only when the certificate and key are set)' },
  { name: 'OUTDIAL_SIP_TLS_CERT', path: 'sip.tlsCert', kind: 'string', doc: 'PEM certificate chain of the TLS listener' },
  { name: 'OUTDIAL_SIP_TLS_KEY', path: 'sip.tlsKey', kind: 'string', doc: 'PEM private key of the TLS listener' },
  { name: 'OUTDIAL_SIP_TLS_CA', path: 'sip.tlsCa', kind: 'string', doc: 'PEM file of CAs trusted for outgoing TLS, besides the system ones' },
  { name: 'OUTDIAL_DNS_SERVERS', path: 'sip.dnsServers', kind: 'list', doc: 'comma-separated ip[:port] name servers for SIP DNS lookups (NAPTR/SRV/A; empty = the system resolver)' },
  { name: 'OUTDIAL_UNTRUSTED_ACTION', path: 'sip.untrustedAction', kind: 'string', doc: 'a new INVITE from outside the trusted sources: `reject` (one stateless 403, no 100 Trying, no retransmission) or `drop`' },
  { name: 'OUTDIAL_EDGE_HOST', path: 'edge.host', kind: 'string', doc: 'embedded edge wire-protocol listen address' },
  { name: 'OUTDIAL_EDGE_PORT', path: 'edge.port', kind: 'int', doc: 'embedded edge wire-protocol port' },
  { name: 'OUTDIAL_EDGE_SECRET', path: 'edge.secret', kind: 'string', doc: 'wire-protocol secret (required by `outdial edge`; generated when `outdial start` embeds the edge)' },
  { name: 'OUTDIAL_EDGE_THREAD', path: 'edge.thread', kind: 'string', doc: '`on`: `outdial start` runs the embedded SIP edge in a worker thread (a second core), the routing app and admin API in the main thread; `off`: one thread' },
  { name: 'OUTDIAL_EDGE_TRUSTED_SOURCES', path: 'edge.trustedSources', kind: 'list', doc: '`outdial edge` only: comma-separated CIDRs allowed to send new INVITEs (empty = all; `outdial start` uses OUTDIAL_TRUSTED_SOURCES)' },
  { name: 'OUTDIAL_DRACHTIO', path: 'drachtio.address', kind: 'string', doc: 'external drachtio-server host:port (empty = embedded edge)' },
  { name: 'OUTDIAL_DRACHTIO_SECRET', path: 'drachtio.secret', kind: 'string', doc: 'external drachtio-server secret' },
  { name: 'OUTDIAL_TRUSTED_SOURCES', path: 'routing.trustedSources', kind: 'list', doc: 'comma-separated CIDRs allowed to place calls' },
  { name: 'OUTDIAL_CUSTOMER_HEADER', path: 'routing.customerHeader', kind: 'string', doc: 'header carrying the customer UUID' },
  { name: 'OUTDIAL_MAX_CALLS', path: 'routing.maxConcurrentCalls', kind: 'int', doc: 'concurrent-call limit (503 above it); with OUTDIAL_REDIS_URL, of all instances together' },
  { name: 'OUTDIAL_CONNECT_TIMEOUT_MS', path: 'routing.connectTimeoutMs', kind: 'int', doc: 'no response from a carrier within this → CANCEL and fail over' },
  { name: 'OUTDIAL_FAILOVER_CODES', path: 'routing.failoverCodes', kind: 'string', doc: 'statuses that fail over (codes and ranges)' },
  { name: 'OUTDIAL_NO_FAILOVER_CODES', path: 'routing.noFailoverCodes', kind: 'string', doc: 'statuses passed to the platform (wins over failover codes)' },
  { name: 'OUTDIAL_PASS_HEADERS', path: 'routing.passHeaders', kind: 'list', doc: 'comma-separated platform headers passed to the carrier' },
  { name: 'OUTDIAL_HEALTH_CHECK_INTERVAL_MS', path: 'routing.healthCheckIntervalMs', kind: 'int', doc: 'SIP OPTIONS probe of every provider this often (0 = off)' },
  { name: 'OUTDIAL_HEALTH_CHECK_TIMEOUT_MS', path: 'routing.healthCheckTimeoutMs', kind: 'int', doc: 'no answer to a probe within this counts as a failure' },
  { name: 'OUTDIAL_HEALTH_UNHEALTHY_AFTER', path: 'routing.unhealthyAfter', kind: 'int', doc: 'consecutive failed probes before a provider is unhealthy (one success makes it healthy)' },
  { name: 'OUTDIAL_REGISTER_RETRY_MS', path: 'register.retryMs', kind: 'int', doc: 'first retry of a failed provider REGISTER; doubles after each further failure' },
  { name: 'OUTDIAL_REGISTER_RETRY_MAX_MS', path: 'register.retryMaxMs', kind: 'int', doc: 'longest wait between REGISTER retries' },
  { name: 'OUTDIAL_CALL_RECORD_DAYS', path: 'callRecords.retentionDays', kind: 'int', doc: 'call records and provider test calls are kept this many days, then pruned' },
];
