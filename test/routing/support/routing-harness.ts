import type { Config } from '../../../src/config/config-schema.ts';
import type { DeepPartial } from '../../../src/config/load-config.ts';
import { startTestEngine, type TestEngine } from '../../admin/support/admin-harness.ts';
import { renderScenario } from '../../support/scenario-template.ts';
import { startSipp, type SippResult, type SippRun, type SippTransport } from '../../support/sipp.ts';

export const CUSTOMER = '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60';
export const DEFAULT_CUSTOMER = '00000000-0000-0000-0000-000000000001';

/**
 * The whole engine (admin API, call routing, embedded SIP edge) on loopback with short timers,
 * plus helpers to provision providers/routes through the real admin API and to run sipp as the
 * platform and as carriers.
 */
export interface RoutingHarness {
  readonly t: TestEngine;
  readonly sip: { host: string; port: number };
  /** A sipp carrier (UAS) on its own port; `scenario` is a file under test/sipp/routing/. */
  carrier(scenario: string, values?: Record<string, string>, extra?: { pauseMs?: number }): Promise<SippRun>;
  /** A provider pointing at a carrier, then a route to it; returns the provider id. */
  provision(carrier: SippRun | string, route: { target?: string; priority?: number; customer_id?: string }, provider?: Record<string, unknown>): Promise<string>;
  /** The platform (UAC) placing one call to `number` through outdial. */
  platform(
    scenario: string,
    number: string,
    opts?: { customer?: string; transport?: SippTransport; pauseMs?: number; timeoutSec?: number },
  ): Promise<SippResult>;
  /** Deletes every route and provider, so each test starts from an empty dial plan. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * @param external where SIP peers reach the engine when it runs against an external SIP server
 *   (config `drachtio.address`): the engine then has no embedded edge of its own.
 */
export async function startRoutingHarness(
  overrides: DeepPartial<Config> = {},
  external: { sip: { host: string; port: number } } | undefined = undefined,
): Promise<RoutingHarness> {
  const t = await startTestEngine({
    overrides: {
      log: { level: 'info' },
      ...overrides,
      sip: { host: '127.0.0.1', port: 0, t1Ms: 100, ...overrides.sip },
      edge: { host: '127.0.0.1', port: 0, ...overrides.edge },
      routing: { connectTimeoutMs: 1000, ...overrides.routing },
    },
  });
  const sip = external?.sip ?? t.engine.sip;
  if (!sip) {
    await t.close();
    throw new Error('engine started without the embedded SIP edge');
  }
  const runs = new Set<SippRun>();
  const track = (r: SippRun) => {
    runs.add(r);
    return r;
  };

  const h: RoutingHarness = {
    t,
    sip,
    async carrier(scenario, values = {}, extra = {}) {
      const file = Object.keys(values).length > 0 ? renderScenario(`routing/${scenario}`, values) : `routing/${scenario}`;
      return track(
        await startSipp({
          scenario: file,
          transport: 'udp',
          timeoutSec: 15,
          extraArgs: extra.pauseMs !== undefined ? ['-d', String(extra.pauseMs)] : [],
        }),
      );
    },
    async provision(carrier, route, provider = {}) {
      const hostname = typeof carrier === 'string' ? carrier : `127.0.0.1:${carrier.port}`;
      const p = await t.request('POST', '/v1.0/providers', {
        body: { type: 'sip', hostname, tech_prefix: '', tech_postfix: '', tech_headers: {}, name: `carrier ${hostname}`, detail: '', ...provider },
      });
      if (p.status !== 200) throw new Error(`provider create failed: ${p.status} ${p.text}`);
      const r = await t.request('POST', '/v1.0/routes', {
        body: {
          customer_id: route.customer_id ?? DEFAULT_CUSTOMER,
          name: `route to ${hostname}`,
          detail: '',
          provider_id: p.body.id,
          priority: route.priority ?? 1,
          target: route.target ?? '+1',
        },
      });
      if (r.status !== 200) throw new Error(`route create failed: ${r.status} ${r.text}`);
      return p.body.id as string;
    },
    async platform(scenario, number, opts = {}) {
      const run = track(
        await startSipp({
          scenario: `routing/${scenario}`,
          transport: opts.transport ?? 'udp',
          remote: sip,
          service: number,
          timeoutSec: opts.timeoutSec ?? 15,
          keys: { customer_header: opts.customer ? `X-Customer-Id: ${opts.customer}` : 'X-Platform-Leg: a' },
          extraArgs: ['-d', String(opts.pauseMs ?? 200)],
        }),
      );
      return run.done;
    },
    async reset() {
      for (const r of runs) await r.stop();
      runs.clear();
      const routes = await t.request('GET', '/v1.0/routes?page_size=100');
      for (const r of routes.body.result as Array<{ id: string }>) await t.request('DELETE', `/v1.0/routes/${r.id}`);
      const providers = await t.request('GET', '/v1.0/providers?page_size=100');
      for (const p of providers.body.result as Array<{ id: string }>) await t.request('DELETE', `/v1.0/providers/${p.id}`);
    },
    async close() {
      for (const r of runs) await r.stop();
      await t.close();
    },
  };
  return h;
}

/** The final status the platform received for its INVITE, read from sipp's message trace. */
export function finalStatus(result: SippResult): number | undefined {
  const statuses = [...result.messages.matchAll(/^SIP\/2\.0 (\d{3}) [^\r\n]*[\r\n]+(?:[^\r\n]+[\r\n]+)*?CSeq:\s*\d+ INVITE/gim)]
    .map((m) => Number(m[1]))
    .filter((s) => s >= 200);
  return statuses[0];
}

/** The INVITEs a sipp carrier received (from its message trace). */
export function invitesReceived(result: SippResult): string[] {
  return result.messages.split(/\n(?=-{10,})/).filter((block) => /received/i.test(block) && /^INVITE /m.test(block));
}

export function describeRun(name: string, r: SippResult): string {
  return `${name}: exit ${r.code}\n--- stderr\n${r.stderr.slice(-1500)}\n--- errors\n${r.errors.slice(-3000)}\n--- messages\n${r.messages.slice(-4000)}`;
}
