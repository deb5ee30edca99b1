/**
 * Measurement "admin": admin API throughput with autocannon (in this process) against a separate `outdial start`:
 * GET /healthz (no auth; one trivial `SELECT 1`) as the baseline, an authenticated
 * GET /v1.0/providers, and an authenticated POST /v1.0/routes (a write, which also makes outdial
 * rebuild its in-memory dial plan). Fixed connection count and duration for each.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { round } from './lib/call-load.ts';
import type { GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { DEFAULT_CUSTOMER_ID, provisionCarrier, startOutdial } from './lib/outdial-process.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';

export interface AdminEndpointResult {
  name: string;
  method: string;
  path: string;
  connections: number;
  durationSec: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { median: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  /** CPU seconds outdial used per 1000 requests */
  cpuSecPer1000Requests: number;
}

export interface AdminApiResult {
  endpoints: AdminEndpointResult[];
  /** live routes at the end (each POST added one) */
  routesAtEnd: number;
}

export async function measureAdminApi(runDir: string, opts: { connections: number; durationSec: number }): Promise<AdminApiResult> {
  const dir = mkdtempSync(path.join(runDir, 'admin-'));
  const outdial = await startOutdial({ dir });
  try {
    const { providerId } = await provisionCarrier(outdial, '127.0.0.1:9');
    const auth = { authorization: `Bearer ${outdial.token}` };
    const cases: Array<{ name: string; method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string }> = [
      { name: 'baseline', method: 'GET', path: '/healthz' },
      { name: 'list providers', method: 'GET', path: '/v1.0/providers', headers: auth },
      {
        name: 'create route',
        method: 'POST',
        path: '/v1.0/routes',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          customer_id: DEFAULT_CUSTOMER_ID,
          name: 'bench route [<id>]',
          detail: 'created by the admin API bench',
          provider_id: providerId,
          priority: 5,
          target: '+4420',
        }),
      },
    ];
    const endpoints: AdminEndpointResult[] = [];
    for (const c of cases) {
      const cpuBefore = cpuSeconds(outdial.pid);
      const r = await autocannon({
        url: `${outdial.base}${c.path}`,
        method: c.method,
        connections: opts.connections,
        duration: opts.durationSec,
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.body !== undefined ? { body: c.body, idReplacement: true } : {}),
      });
      const cpu = cpuSeconds(outdial.pid) - cpuBefore;
      const requests = r.requests.total;
      endpoints.push({
        name: c.name,
        method: c.method,
        path: c.path,
        connections: opts.connections,
        durationSec: opts.durationSec,
        requests,
        requestsPerSec: round(requests / r.duration, 1),
        latencyMs: { median: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
        non2xx: r.non2xx,
        errors: r.errors,
        cpuSecPer1000Requests: requests > 0 ? round((cpu / requests) * 1000, 3) : NaN,
      });
    }
    return { endpoints, routesAtEnd: await countRoutes(outdial.api) };
  } finally {
    await outdial.stop();
  }
}

/** Pages through /v1.0/routes (VoIPBIN pagination: page_token = the last tm_create). */
async function countRoutes(api: (m: string, u: string) => Promise<unknown>): Promise<number> {
  let count = 0;
  let token = '';
  for (let i = 0; i < 10000; i++) {
    const page = (await api('GET', `/v1.0/routes?page_size=100${token ? `&page_token=${encodeURIComponent(token)}` : ''}`)) as {
      result: unknown[];
      next_page_token?: string;
    };
    count += page.result.length;
    if (!page.next_page_token || page.result.length === 0) break;
    token = page.next_page_token;
  }
  return count;
}

export const adminApiMeasurement = measurement<AdminApiResult>({
  name: 'admin',
  title: 'Admin API (autocannon, in the bench process)',
  byDefault: true,
  run: (ctx) => measureAdminApi(ctx.runDir, ctx.plan.admin),
  render(r) {
    return `${table(
      ['endpoint', 'connections', 'duration', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'outdial CPU s / 1000 req'],
      r.endpoints.map((e) => [`${e.name}: ${e.method} ${e.path}`, e.connections, `${e.durationSec} s`, e.requests, fmt(e.requestsPerSec), e.latencyMs.median, e.latencyMs.p99, e.non2xx, e.errors, fmt(e.cpuSecPer1000Requests, 3)]),
    )}\n\nRoutes in the table after the POST run: ${r.routesAtEnd}`;
  },
  goals(): GoalRow[] {
    return [];
  },
});
