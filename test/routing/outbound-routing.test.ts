import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CUSTOMER,
  describeRun,
  finalStatus,
  invitesReceived,
  startRoutingHarness,
  type RoutingHarness,
} from './support/routing-harness.ts';

/**
 * docs/routing.md end to end at the SIP level: sipp is the media platform and every carrier, outdial
 * runs whole (admin API + call routing + embedded edge) with a 1 s connect timeout.
 */
describe('outbound call routing over SIP', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  const checkedProvider = {
    tech_prefix: '0011',
    tech_postfix: '#',
    tech_headers: { 'X-Trunk-Id': 'trunk-42', 'X-Billing-Ref': 'acct=7;zone=eu' },
    codecs: 'PCMA,PCMU',
  };

  it.each([
    ['the platform', 'carrier-checked.xml', 'platform-call.xml'],
    ['the carrier', 'carrier-checked-hangs-up.xml', 'platform-call-carrier-hangs-up.xml'],
  ])(
    'places a call with prefix, postfix, port, tech headers and codecs; hung up by %s',
    async (_who, carrierScenario, platformScenario) => {
      const carrier = await h.carrier(carrierScenario, {}, { pauseMs: 300 });
      await h.provision(carrier, { target: '+1555' }, checkedProvider);
      const platform = await h.platform(platformScenario, '+15551234567', { customer: CUSTOMER, pauseMs: 300 });
      const carrierResult = await carrier.done;
      expect(carrierResult.code, describeRun('carrier', carrierResult)).toBe(0);
      expect(platform.code, describeRun('platform', platform)).toBe(0);
    },
  );

  it('accepts the platform over TCP and dials the carrier over UDP', async () => {
    const carrier = await h.carrier('carrier-answer.xml');
    await h.provision(carrier, { target: '+44' });
    const platform = await h.platform('platform-call.xml', '+442071234567', { transport: 'tcp' });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await carrier.done).code).toBe(0);
  });

  it('fails over from a 503 to the next carrier', async () => {
    const c1 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await c1.done).code).toBe(0);
    expect((await c2.done).code).toBe(0);
  });

  it('CANCELs a carrier that does not answer within the connect timeout and connects the next', async () => {
    const c1 = await h.carrier('carrier-no-answer.xml', { provisional: '100 Trying' });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const r1 = await c1.done;
    expect(r1.code, describeRun('carrier 1', r1)).toBe(0);
    expect(r1.messages).toMatch(/^CANCEL /m);
    expect((await c2.done).code).toBe(0);
  });

  it('passes a 486 to the platform without trying the next carrier', async () => {
    const c1 = await h.carrier('carrier-reject.xml', { status: '486 Busy Here' });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(486);
    expect((await c1.done).code).toBe(0);
    expect(invitesReceived(await c2.stop())).toHaveLength(0);
  });

  it('gives the platform the last status when every carrier fails', async () => {
    const c1 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c2 = await h.carrier('carrier-reject.xml', { status: '502 Bad Gateway' });
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(502);
  });

  it('skips a provider that shares no codec with the offer as a 488 and tries the next', async () => {
    const c1 = await h.carrier('carrier-answer.xml');
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 }, { codecs: 'G722,opus' });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(invitesReceived(await c1.stop())).toHaveLength(0);
    expect((await c2.done).code).toBe(0);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1) as { attempts: Array<{ status: number }> };
    expect(record.attempts.map((a) => a.status)).toEqual([488, 200]);
  });

  it('does not fail over once early media reached the platform', async () => {
    const c1 = await h.carrier('carrier-early-media-fails.xml', { status: '503 Service Unavailable' }, { pauseMs: 200 });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(platform.messages).toMatch(/SIP\/2\.0 183/);
    expect(finalStatus(platform)).toBe(503);
    expect(invitesReceived(await c2.stop())).toHaveLength(0);
  });

  it('tries customer routes before default routes, and a route added through the API is used by the next call', async () => {
    const defaultCarrier = await h.carrier('carrier-answer.xml');
    const customerCarrier = await h.carrier('carrier-answer.xml');
    await h.provision(defaultCarrier, { target: '+1555' });
    await h.provision(customerCarrier, { target: '+1', customer_id: CUSTOMER });
    let platform = await h.platform('platform-call.xml', '+15551234567', { customer: CUSTOMER });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await customerCarrier.done).code).toBe(0);
    expect(invitesReceived(await defaultCarrier.stop())).toHaveLength(0);

    // A longer prefix for the same customer, added now, wins on the very next call.
    const longer = await h.carrier('carrier-answer.xml');
    await h.provision(longer, { target: '+155512', customer_id: CUSTOMER });
    platform = await h.platform('platform-call.xml', '+15551234567', { customer: CUSTOMER });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await longer.done).code).toBe(0);
  });

  it('CANCELs the ringing carrier when the platform CANCELs, and tries no other', async () => {
    const c1 = await h.carrier('carrier-no-answer.xml', { provisional: '180 Ringing' });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-cancel.xml', '+15551234567', { pauseMs: 300 });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const r1 = await c1.done;
    expect(r1.code, describeRun('carrier 1', r1)).toBe(0);
    expect(invitesReceived(await c2.stop())).toHaveLength(0);
  });

  it.each([
    ['a malformed number', 'not-a-number', {}, 484],
    ['a national number without +', '5551234567', {}, 484],
    ['no route for the number', '+81312345678', {}, 404],
    ['a malformed customer header', '+15551234567', { customer: 'not-a-uuid' }, 400],
  ])('answers %s with its status', async (_name, number, opts, status) => {
    const carrier = await h.carrier('carrier-answer.xml');
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call-fails.xml', number, opts);
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(status);
    expect(invitesReceived(await carrier.stop())).toHaveLength(0);
  });

  it('relays a delayed offer: no SDP to the carrier, its offer to the platform, the answer back in the ACK', async () => {
    const carrier = await h.carrier('carrier-delayed-offer.xml');
    await h.provision(carrier, { target: '+1' }, { codecs: 'PCMA,PCMU' });
    const platform = await h.platform('platform-delayed-offer.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const c = await carrier.done;
    expect(c.code, describeRun('carrier', c)).toBe(0);
  });

  it('writes one structured record per call with every attempt', async () => {
    const c1 = await h.carrier('carrier-reject.xml', { status: '503 Service Unavailable' });
    const c2 = await h.carrier('carrier-answer.xml');
    const p1 = await h.provision(c1, { priority: 1 });
    const p2 = await h.provision(c2, { priority: 2 });
    const before = h.t.logs.lines.length;
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code).toBe(0);
    await c2.done;
    const records = h.t.logs.lines.slice(before).filter((l) => l.msg === 'call ended');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      destination: '+15551234567',
      customer_id: '00000000-0000-0000-0000-000000000001',
      outcome: 'connected',
      provider_id: p2,
      hangup_by: 'platform',
      attempts: [
        { provider_id: p1, status: 503 },
        { provider_id: p2, status: 200 },
      ],
    });

    // The same record feeds the Prometheus metrics served at GET /metrics.
    const metrics = await fetch(`${h.t.base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(new RegExp(`outdial_call_attempts_total\\{provider_id="${p1}",status="503"\\} 1\\b`));
    expect(text).toMatch(new RegExp(`outdial_call_attempts_total\\{provider_id="${p2}",status="200"\\} 1\\b`));
    expect(text).toMatch(/outdial_calls_total\{outcome="connected",status="200"\} [1-9]/);
    expect(text).toMatch(/outdial_active_calls 0\b/);
    // docs/performance.md §7: the event-loop delay the bench reads
    expect(text).toContain('# TYPE outdial_event_loop_delay_seconds histogram');
    expect(text).toMatch(/outdial_event_loop_delay_seconds_bucket\{thread="main",le="0.02"\} [0-9]+/);
  });
});

describe('call acceptance limits', () => {
  it('refuses an untrusted source with 403', async () => {
    const h = await startRoutingHarness({ routing: { trustedSources: ['192.0.2.0/24'] } });
    try {
      const carrier = await h.carrier('carrier-answer.xml');
      await h.provision(carrier, { target: '+1' });
      const platform = await h.platform('platform-call-fails.xml', '+15551234567');
      expect(finalStatus(platform)).toBe(403);
      expect(invitesReceived(await carrier.stop())).toHaveLength(0);
    } finally {
      await h.close();
    }
  });

  it('answers 503 over the concurrent-call limit', async () => {
    const h = await startRoutingHarness({ routing: { maxConcurrentCalls: 1 } });
    try {
      const carrier = await h.carrier('carrier-no-answer.xml', { provisional: '180 Ringing' });
      await h.provision(carrier, { target: '+1' });
      // The first call rings for 2 s, then the platform CANCELs it; the second arrives meanwhile.
      const first = h.platform('platform-cancel.xml', '+15551234567', { pauseMs: 2000 });
      await new Promise((r) => setTimeout(r, 700));
      const second = await h.platform('platform-call-fails.xml', '+15557654321');
      expect(finalStatus(second), describeRun('second', second)).toBe(503);
      expect((await first).code).toBe(0);
    } finally {
      await h.close();
    }
  });
});
