import type { CarrierAdapter } from '../../../src/carrier/carrier.ts';
import type { Config } from '../../../src/config/config-schema.ts';
import { loadConfig, type DeepPartial } from '../../../src/config/load-config.ts';
import { createCapturingLogger } from '../../../src/log/logger.ts';
import type { MicrosSource } from '../../../src/store/clock.ts';
import { startEngine, type Engine, type EngineOptions } from '../../../src/engine.ts';
import { createTestStorage, testDbOf, type StoreChoice, type TestDb, type TestStorage } from './test-storage.ts';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  text: string;
}

export interface TestEngine {
  engine: Engine;
  base: string;
  /** a temp dir of the test's (the SQLite file's directory) */
  dir: string;
  /** the SQLite file (with PostgreSQL: a path nothing uses) */
  dbPath: string;
  /** where the engine keeps its data: pass it to another startTestEngine to share it (a restart, a second instance) */
  storage: TestStorage;
  /** the storage, looked at and interfered with the same way on both stores */
  db: TestDb;
  config: Readonly<Config>;
  logs: ReturnType<typeof createCapturingLogger>;
  printed: string[];
  request(method: string, path: string, opts?: { body?: unknown; raw?: string | Buffer; token?: string | null; headers?: Record<string, string> }): Promise<Reply>;
  login(username?: string, password?: string): Promise<string>;
  /** Stops the engine and removes its storage unless `keepDir` (keep it for a restart). */
  close(keepDir?: boolean): Promise<void>;
}

export interface StartOptions {
  overrides?: DeepPartial<Config>;
  /** a SQLite test: the directory of the database file (kept on close) */
  dir?: string;
  /** the storage of an earlier engine (a restart, or a second instance on the same database) */
  storage?: TestStorage;
  /** which store when no storage is given; default OUTDIAL_TEST_STORE (test-storage.ts) */
  store?: StoreChoice;
  /** engine test hooks (PostgreSQL change-feed timings, cluster names and timings) */
  engineOptions?: Pick<EngineOptions, 'feed' | 'cluster'>;
  carriers?: ReadonlyMap<string, CarrierAdapter>;
  micros?: MicrosSource;
  extraEndpoints?: EngineOptions['extraEndpoints'];
}

/**
 * A real engine on 127.0.0.1:0 with real storage of its own: a SQLite file in a temp dir, or a
 * fresh database on a real PostgreSQL server (test-storage.ts).
 */
export async function startTestEngine(opts: StartOptions = {}): Promise<TestEngine> {
  const storage = opts.storage ?? (await createTestStorage(opts.dir !== undefined ? 'sqlite' : opts.store, opts.dir));
  const dir = storage.dir;
  const dbPath = storage.kind === 'sqlite' ? storage.path : `${dir}/unused.db`;
  const config = loadConfig({}, {
    ...opts.overrides,
    http: { ...opts.overrides?.http, host: '127.0.0.1', port: 0 },
    // Many engines share one test PostgreSQL (max_connections 50): a few connections each.
    db: { poolSize: 4, ...opts.overrides?.db, path: dbPath, url: storage.kind === 'postgres' ? storage.database.url : '' },
    admin: { username: ADMIN_USER, password: ADMIN_PASSWORD, ...opts.overrides?.admin },
    // The engine also starts the embedded SIP edge: keep it on loopback and free ports.
    sip: { host: '127.0.0.1', port: 0, ...opts.overrides?.sip },
    edge: { host: '127.0.0.1', port: 0, ...opts.overrides?.edge },
    // No OPTIONS probes unless a test asks: sipp carriers would take one for an unexpected call.
    routing: { healthCheckIntervalMs: 0, ...opts.overrides?.routing },
  });
  const logs = createCapturingLogger('trace');
  const printed: string[] = [];
  let engine: Engine;
  try {
    engine = await startEngine(config, logs.logger, {
      print: (t) => printed.push(t),
      carriers: opts.carriers ?? new Map(),
      ...(opts.micros ? { micros: opts.micros } : {}),
      ...(opts.extraEndpoints ? { extraEndpoints: opts.extraEndpoints } : {}),
      ...opts.engineOptions,
    });
  } catch (err) {
    if (!opts.storage && opts.dir === undefined) await storage.remove();
    throw err;
  }
  const db = testDbOf(storage, engine.store);
  const base = `http://127.0.0.1:${engine.http.port}`;
  let cachedToken: string | undefined;

  const t: TestEngine = {
    engine,
    base,
    dir,
    dbPath,
    storage,
    db,
    config,
    logs,
    printed,
    async request(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      let body: string | Buffer | undefined;
      if (o.raw !== undefined) body = o.raw;
      else if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      if (o.token === undefined) {
        cachedToken ??= await t.login();
        headers.authorization = `Bearer ${cachedToken}`;
      } else if (o.token !== null) {
        headers.authorization = `Bearer ${o.token}`;
      }
      // A Buffer body goes as a plain Uint8Array copy: fetch's DOM typing (pulled in by the console's
      // preact types) does not take a Node Buffer.
      const payload = body === undefined || typeof body === 'string' ? body : Uint8Array.from(body);
      const res = await fetch(`${base}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async login(username = ADMIN_USER, password = ADMIN_PASSWORD) {
      const r = await fetch(`${base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      const j = (await r.json()) as { token?: string };
      if (r.status !== 200 || !j.token) throw new Error(`login failed: ${r.status} ${JSON.stringify(j)}`);
      return j.token;
    },
    async close(keepDir = false) {
      await db.close();
      await engine.close();
      if (!keepDir) await storage.remove();
    },
  };
  return t;
}

export const providerBody = (over: Record<string, unknown> = {}) => ({
  type: 'sip',
  hostname: 'sip.example.com',
  tech_prefix: '',
  tech_postfix: '',
  tech_headers: {},
  name: 'example',
  detail: 'example provider',
  ...over,
});

export const routeBody = (providerId: string, over: Record<string, unknown> = {}) => ({
  customer_id: '00000000-0000-0000-0000-000000000001',
  name: 'default',
  detail: 'default route',
  provider_id: providerId,
  priority: 1,
  target: 'all',
  ...over,
});
