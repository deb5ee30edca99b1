import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeSipp, startSipp, type SippRun } from '../support/sipp.ts';
import { startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

const ROW_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * Provider health from real OPTIONS probes through the engine's drachtio-srf app and embedded
 * edge (docs/routing.md §2, docs/api.md `health_status`): a sipp carrier that answers, a port
 * where nothing listens, and the dial plan reordering as their health changes.
 */
describe('provider health probing (SIP OPTIONS)', () => {
  let h: RoutingHarness;
  const runs: SippRun[] = [];
  let silent: dgram.Socket | undefined;

  beforeAll(async () => {
    h = await startRoutingHarness({
      routing: { healthCheckIntervalMs: 200, healthCheckTimeoutMs: 300, unhealthyAfter: 2 },
      // Short T2/T4 so transactions the test leaves behind end within seconds (RFC 3261 §17.1.2.2).
      sip: { t2Ms: 1000, t4Ms: 500 },
    });
  });
  afterAll(async () => {
    for (const r of runs) await r.stop();
    if (silent) await new Promise<void>((r) => silent!.close(() => r()));
    await h?.close();
  });

  /** A sipp carrier answering every OPTIONS with 200, on `port` (default: a free one). */
  const optionsResponder = async (port?: number): Promise<SippRun> => {
    const run = await startSipp({
      scenario: 'routing/carrier-options.xml',
      transport: 'udp',
      calls: 100_000,
      timeoutSec: 60,
      ...(port !== undefined ? { port } : {}),
    });
    runs.push(run);
    return run;
  };

  const provider = async (id: string): Promise<{ health_status: string; health_checked_at: string | null }> => {
    const r = await h.t.request('GET', `/v1.0/providers/${id}`);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };
  const order = async (): Promise<string[]> => {
    const r = await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567');
    expect(r.status, r.text).toBe(200);
    return (r.body.result as Array<{ provider: { id: string } }>).map((p) => p.provider.id);
  };
  const waitForHealth = async (id: string, status: string, ms = 10_000): Promise<void> => {
    const until = Date.now() + ms;
    let last = await provider(id);
    while (last.health_status !== status) {
      if (Date.now() > until) throw new Error(`provider ${id} not ${status} within ${ms} ms: ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 100));
      last = await provider(id);
    }
  };

  it('marks a silent provider unhealthy and moves it last; it comes back when it answers', async () => {
    const a = await optionsResponder();
    // B's port is held by a socket that reads and never answers (a host gone silent); holding
    // it keeps other tests from taking the port before B's responder starts there.
    const quiet = dgram.createSocket('udp4');
    silent = quiet;
    let received = 0;
    quiet.on('message', () => received++);
    await new Promise<void>((r) => quiet.bind(0, '127.0.0.1', () => r()));
    const bPort = quiet.address().port;
    const idA = await h.provision(a, { target: '+1', priority: 2 });
    // B has the better priority, but nothing listens on its port yet.
    const idB = await h.provision(`127.0.0.1:${bPort}`, { target: '+1', priority: 1 });

    await waitForHealth(idB, 'unhealthy');
    await waitForHealth(idA, 'healthy');
    const bDown = await provider(idB);
    expect(bDown.health_checked_at).toMatch(ROW_TIME);
    expect((await provider(idA)).health_checked_at).toMatch(ROW_TIME);
    expect(await order()).toEqual([idA, idB]);
    const changed = h.t.logs.lines.filter((l) => l.msg === 'provider health changed' && l.provider_id === idB);
    expect(changed[0]).toMatchObject({ level: 30, hostname: `127.0.0.1:${bPort}`, from: 'unknown', to: 'unhealthy', outcome: 'timeout' });

    expect(received).toBeGreaterThanOrEqual(2); // the probes did reach B

    // B starts answering: one successful probe makes it healthy, back in priority order.
    await new Promise<void>((r) => quiet.close(() => r()));
    silent = undefined;
    const b = await optionsResponder(bPort);
    await waitForHealth(idB, 'healthy');
    const bUp = await provider(idB);
    expect(bUp.health_checked_at! > bDown.health_checked_at!).toBe(true);
    expect(await order()).toEqual([idB, idA]);

    // No more providers, no more probes: every transaction the probes opened ends (those B
    // never answered by Timer F or by B's late answers to retransmissions).
    await h.reset();
    const until = Date.now() + 15_000;
    for (;;) {
      const stats = h.t.engine.edgeStats()!;
      if (stats.clientTransactions === 0 && stats.outbound === 0) break;
      if (Date.now() > until) throw new Error(`edge transactions left: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const ra = await a.stop();
    const rb = await b.stop();
    expect(ra.messages, describeSipp(ra)).toMatch(new RegExp(`^OPTIONS sip:127\\.0\\.0\\.1:${a.port} SIP/2\\.0`, 'm'));
    expect(rb.messages, describeSipp(rb)).toMatch(/^SIP\/2\.0 200 OK/m);
    expect(ra.errors, describeSipp(ra)).toBe('');
  }, 45_000);
});
