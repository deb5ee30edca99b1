import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CarrierAdapter } from '../../../src/carrier/carrier.ts';
import type { Config } from '../../../src/config/config-schema.ts';
import { loadConfig, type DeepPartial } from '../../../src/config/load-config.ts';
import { createCapturingLogger } from '../../../src/log/logger.ts';
import type { MicrosSource } from '../../../src/store/clock.ts';
import { startEngine, type Engine, type EngineOptions } from '../../../src/engine.ts';

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
  dir: string;
  dbPath: string;
  config: Readonly<Config>;
  logs: ReturnType<typeof createCapturingLogger>;
  printed: string[];
  request(method: string, path: string, opts?: { body?: unknown; raw?: string | Buffer; token?: string | null; headers?: Record<string, string> }): Promise<Reply>;
  login(username?: string, password?: string): Promise<string>;
  /** Stops the engine and removes the temp dir unless `keepDir`. */
  close(keepDir?: boolean): Promise<void>;
}

export interface StartOptions {
  overrides?: DeepPartial<Config>;
  dir?: string;
  carriers?: ReadonlyMap<string, CarrierAdapter>;
  micros?: MicrosSource;
  extraEndpoints?: EngineOptions['extraEndpoints'];
}

/** A real engine on 127.0.0.1:0 with a real SQLite file in a temp dir. */
export async function startTestEngine(opts: StartOptions = {}): Promise<TestEngine> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'outdial-admin-'));
  const dbPath = join(dir, 'outdial.db');
  const config = loadConfig({}, {
    ...opts.overrides,
    http: { ...opts.overrides?.http, host: '127.0.0.1', port: 0 },
    db: { ...opts.overrides?.db, path: dbPath },
    admin: { username: ADMIN_USER, password: ADMIN_PASSWORD, ...opts.overrides?.admin },
    // The engine also starts the embedded SIP edge: keep it on loopback and free ports.
    sip: { host: '127.0.0.1', port: 0, ...opts.overrides?.sip },
    edge: { host: '127.0.0.1', port: 0, ...opts.overrides?.edge },
    // No OPTIONS probes unless a test asks: sipp carriers would take one for an unexpected call.
    routing: { healthCheckIntervalMs: 0, ...opts.overrides?.routing },
  });
  const logs = createCapturingLogger('trace');
  const printed: string[] = [];
  const engine = await startEngine(config, logs.logger, {
    print: (t) => printed.push(t),
    carriers: opts.carriers ?? new Map(),
    ...(opts.micros ? { micros: opts.micros } : {}),
    ...(opts.extraEndpoints ? { extraEndpoints: opts.extraEndpoints } : {}),
  });
  const base = `http://127.0.0.1:${engine.http.port}`;
  let cachedToken: string | undefined;

  const t: TestEngine = {
    engine,
    base,
    dir,
    dbPath,
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
      await engine.close();
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
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
