/**
 * `outdial start` as a separate process, exactly as an operator runs it (bin/outdial, the
 * embedded SIP edge), on loopback ports picked here and a fresh SQLite file (or one given, or
 * OUTDIAL_DB_URL in `env`), plus a small admin-API client to provision it and read /metrics.
 * /proc/<pid> accounts for all of the process's threads; worker processes it may fork one day
 * are in its process group (see groupCpuSeconds).
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/support/free-port.ts';
import { spawnTracked, type TrackedChild } from './child-processes.ts';
import { sleep } from './sipp-run.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_ADMIN_PASSWORD = 'bench password not for production';
export const DEFAULT_CUSTOMER_ID = '00000000-0000-0000-0000-000000000001';

export interface OutdialOptions {
  /** working directory of the run (the database goes in a subdirectory) */
  dir: string;
  /** an existing SQLite file to open instead of a fresh one (a second instance, a prepared table) */
  dbPath?: string;
  /** what runs instead of `bin/outdial start` (arguments to node), e.g. a built entry point */
  entry?: string[];
  /** extra OUTDIAL_* variables (override the bench defaults) */
  env?: Record<string, string>;
  /** node flags before bin/outdial, e.g. --cpu-prof */
  nodeArgs?: string[];
}

export interface OutdialProcess {
  readonly child: TrackedChild;
  readonly pid: number;
  readonly sip: { host: string; port: number };
  readonly base: string;
  /** the SQLite file it uses */
  readonly dbPath: string;
  /** an authenticated admin API call; throws on a non-2xx status */
  api(method: string, url: string, body?: unknown): Promise<unknown>;
  /** GET /metrics as text (Prometheus exposition format) */
  metrics(): Promise<string>;
  readonly token: string;
  /** SIGTERM (outdial closes and exits 0), SIGKILL after the grace period */
  stop(): Promise<void>;
}

export async function startOutdial(opts: OutdialOptions): Promise<OutdialProcess> {
  const [httpPort, sipPort, edgePort] = [await freePort(), await freePort(), await freePort()];
  const dbPath = opts.dbPath ?? path.join(mkdtempSync(path.join(opts.dir, 'outdial-db-')), 'outdial.db');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OUTDIAL_HTTP_HOST: '127.0.0.1',
    OUTDIAL_HTTP_PORT: String(httpPort),
    OUTDIAL_DB_PATH: dbPath,
    OUTDIAL_SIP_HOST: '127.0.0.1',
    OUTDIAL_SIP_PORT: String(sipPort),
    OUTDIAL_EDGE_HOST: '127.0.0.1',
    OUTDIAL_EDGE_PORT: String(edgePort),
    OUTDIAL_LOG_LEVEL: 'warn',
    // the sipp carriers answer INVITEs only: no OPTIONS health probes during the bench
    OUTDIAL_HEALTH_CHECK_INTERVAL_MS: '0',
    OUTDIAL_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    OUTDIAL_MAX_CALLS: '100000',
    OUTDIAL_PASS_HEADERS: 'X-Bench-Seq',
    ...opts.env,
  };
  const child = spawnTracked('outdial', process.execPath, [...(opts.nodeArgs ?? []), ...(opts.entry ?? [path.join(REPO_ROOT, 'bin/outdial'), 'start'])], {
    cwd: REPO_ROOT,
    env,
  });
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitHealthy(base, child);
    const token = await login(base);
    const api = async (method: string, url: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return text === '' ? undefined : JSON.parse(text);
    };
    return {
      child,
      pid: child.pid,
      sip: { host: '127.0.0.1', port: sipPort },
      base,
      dbPath,
      api,
      async metrics() {
        const res = await fetch(`${base}/metrics`);
        const text = await res.text();
        if (!res.ok) throw new Error(`GET /metrics: ${res.status} ${text.slice(0, 200)}`);
        return text;
      },
      token,
      async stop() {
        await child.stop(5000);
      },
    };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}

async function waitHealthy(base: string, child: TrackedChild, timeoutMs = 60000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.hasExited()) throw new Error(`outdial exited during start:\n${child.outputTail()}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(50);
  }
  throw new Error(`outdial did not answer /healthz within ${timeoutMs} ms:\n${child.outputTail()}`);
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: BENCH_ADMIN_PASSWORD }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || !body.token) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

export interface ProvisionedCarrier {
  providerId: string;
  routeId: string;
  /** repoints the provider at another carrier address (PUT /v1.0/providers/:id) */
  pointAt(hostname: string): Promise<void>;
}

export interface CarrierOptions {
  /** the route's target; default `+1` */
  target?: string;
  /** more provider fields, e.g. credentials */
  extra?: Record<string, unknown>;
  name?: string;
}

/** The provider body the bench writes (POST and the full-replace PUT). */
export function carrierProviderBody(hostname: string, opts: CarrierOptions = {}): Record<string, unknown> {
  return {
    type: 'sip',
    hostname,
    tech_prefix: '',
    tech_postfix: '',
    tech_headers: { 'X-Trunk-Id': 'bench' },
    name: opts.name ?? 'bench carrier',
    detail: 'sipp UAS on loopback',
    ...opts.extra,
  };
}

/** One provider pointing at `hostname` (host:port) and a route to it for the default customer. */
export async function provisionCarrier(outdial: OutdialProcess, hostname: string, opts: CarrierOptions = {}): Promise<ProvisionedCarrier> {
  const provider = (await outdial.api('POST', '/v1.0/providers', carrierProviderBody(hostname, opts))) as { id: string };
  const route = (await outdial.api('POST', '/v1.0/routes', {
    customer_id: DEFAULT_CUSTOMER_ID,
    name: `${opts.name ?? 'bench'} route`,
    detail: '',
    provider_id: provider.id,
    priority: 1,
    target: opts.target ?? '+1',
  })) as { id: string };
  return carrierLink(outdial, provider.id, route.id, opts);
}

/** The repointing handle of a provider already there (e.g. in a database made by an earlier process). */
export function carrierLink(outdial: OutdialProcess, providerId: string, routeId: string, opts: CarrierOptions = {}): ProvisionedCarrier {
  return {
    providerId,
    routeId,
    async pointAt(host) {
      await outdial.api('PUT', `/v1.0/providers/${providerId}`, carrierProviderBody(host, opts));
    },
  };
}
