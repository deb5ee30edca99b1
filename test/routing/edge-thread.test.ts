import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER, describeRun, finalStatus, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * OUTDIAL_EDGE_THREAD=on (docs/performance.md §3): the SIP edge in a worker thread, the routing
 * app in the main thread, the wire link over the worker's MessagePort. The same calls as in one
 * thread, and the worker's event-loop delay on GET /metrics.
 */
describe('the SIP edge in a worker thread', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    h = await startRoutingHarness({ edge: { thread: 'on' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('places a call hung up by the carrier, fails over from a 503, and reports both threads', async () => {
    const carrier = await h.carrier('carrier-checked-hangs-up.xml', {}, { pauseMs: 200 });
    await h.provision(carrier, { target: '+1555' }, { tech_prefix: '0011', tech_postfix: '#', tech_headers: { 'X-Trunk-Id': 'trunk-42', 'X-Billing-Ref': 'acct=7;zone=eu' }, codecs: 'PCMA,PCMU' });
    const platform = await h.platform('platform-call-carrier-hangs-up.xml', '+15551234567', { customer: CUSTOMER, pauseMs: 200 });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
    await h.reset();

    const c1 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { target: '+1', priority: 1 });
    await h.provision(c2, { target: '+1', priority: 2 });
    const second = await h.platform('platform-call.xml', '+15551234567');
    expect(second.code, describeRun('platform', second)).toBe(0);
    expect(finalStatus(second)).toBe(200);

    const text = await (await fetch(`${h.t.base}/metrics`)).text();
    // docs/performance.md §7: both threads' event-loop delay, as the histogram the bench reads
    for (const thread of ['main', 'edge']) {
      expect(text).toMatch(new RegExp(`outdial_event_loop_delay_seconds_bucket\\{thread="${thread}",le="0.02"\\} [0-9]+`));
      const count = Number(new RegExp(`outdial_event_loop_delay_seconds_count\\{thread="${thread}"\\} ([0-9]+)`).exec(text)?.[1]);
      expect(count, thread).toBeGreaterThan(0);
      expect(text).toContain(`outdial_event_loop_delay_seconds_bucket{thread="${thread}",le="+Inf"} ${count}\n`);
    }
    expect(text).toMatch(/outdial_calls_total\{outcome="connected",status="200"\} 2\b/);
  });
});
