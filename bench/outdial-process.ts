/**
 * `outdial start` as a separate process, exactly as an operator runs it (bin/outdial through tsx,
 * the embedded SIP edge), on loopback ports picked here and a fresh SQLite file, plus a small
 * admin-API client to provision it. One OS process: /proc/<pid> accounts for all its threads.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.ts';
import { spawnTracked, type TrackedChild } from './child-processes.ts';
import { sleep } from './sipp-run.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_ADMIN_PASSWORD = 'bench password not for production';
export const DEFAULT_CUSTOMER_ID = '00000000-0000-0000-0000-000000000001';

export interface OutdialOptions {
  /** working directory of the run (the database goes in a subdirectory) */
  dir: string;
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
  /** an authenticated admin API call; throws on a non-2xx status */
  api(method: string, url: string, body?: unknown): Promise<unknown>;
  readonly token: string;
  /** SIGTERM (outdial closes and exits 0), SIGKILL after the grace period */
  stop(): Promise<void>;
}

export async function startOutdial(opts: OutdialOptions): Promise<OutdialProcess> {
  const [httpPort, sipPort, edgePort] = [await freePort(), await freePort(), await freePort()];
  const dbDir = mkdtempSync(path.join(opts.dir, 'outdial-db-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OUTDIAL_HTTP_HOST: '127.0.0.1',
    OUTDIAL_HTTP_PORT: String(httpPort),
    OUTDIAL_DB_PATH: path.join(dbDir, 'outdial.db'),
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
  const child = spawnTracked('outdial', process.execPath, [...(opts.nodeArgs ?? []), path.join(REPO_ROOT, 'bin/outdial'), 'start'], {
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
      api,
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

async function waitHealthy(base: string, child: TrackedChild, timeoutMs = 20000): Promise<void> {
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

/** One provider pointing at `hostname` (host:port) and a `+1` route to it for the default customer. */
export async function provisionCarrier(outdial: OutdialProcess, hostname: string): Promise<ProvisionedCarrier> {
  const body = (host: string) => ({
    type: 'sip',
    hostname: host,
    tech_prefix: '',
    tech_postfix: '',
    tech_headers: { 'X-Trunk-Id': 'bench' },
    name: 'bench carrier',
    detail: 'sipp UAS on loopback',
  });
  const provider = (await outdial.api('POST', '/v1.0/providers', body(hostname))) as { id: string };
  const route = (await outdial.api('POST', '/v1.0/routes', {
    customer_id: DEFAULT_CUSTOMER_ID,
    name: 'bench route',
    detail: '',
    provider_id: provider.id,
    priority: 1,
    target: '+1',
  })) as { id: string };
  return {
    providerId: provider.id,
    routeId: route.id,
    async pointAt(host) {
      await outdial.api('PUT', `/v1.0/providers/${provider.id}`, body(host));
    },
  };
}
