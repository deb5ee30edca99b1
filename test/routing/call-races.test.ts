import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, invitesReceived, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/** Messages that cross each other on the wire (docs/routing.md §4–§5 with RFC 3261 §9.1 and §15). */
describe('crossing messages', () => {
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

  it('ACKs and BYEs a carrier whose 200 crossed the connect-timeout CANCEL, and connects the next', async () => {
    const c1 = await h.carrier('carrier-answers-across-cancel.xml');
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const r1 = await c1.done;
    expect(r1.code, describeRun('carrier 1', r1)).toBe(0);
    const r2 = await c2.done;
    expect(r2.code, describeRun('carrier 2', r2)).toBe(0);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1) as { attempts: Array<{ status: number }>; outcome: string };
    expect(record.attempts.map((a) => a.status)).toEqual([408, 200]);
    expect(record.outcome).toBe('connected');
  });

  it('holds the BYE toward the platform until its late ACK when the carrier hangs up at once', async () => {
    const carrier = await h.carrier('carrier-answer-hangs-up.xml', {}, { pauseMs: 1 });
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call-late-ack.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const r = await carrier.done;
    expect(r.code, describeRun('carrier', r)).toBe(0);
    const ack = platform.messages.search(/^ACK /m);
    const bye = platform.messages.search(/^BYE /m);
    expect(ack).toBeGreaterThan(0);
    expect(bye).toBeGreaterThan(ack);
  });
});

describe('configured failover codes', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    // The reverse of the defaults for two codes: 486 fails over, 503 is passed to the platform.
    h = await startRoutingHarness({ routing: { failoverCodes: '408,486', noFailoverCodes: '503' } });
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    await h.reset();
  });

  it.each([
    ['486 fails over to the next carrier', '486 Busy Here', 'platform-call.xml', 200, 1],
    ['503 is passed to the platform', '503 Service Unavailable', 'platform-call-fails.xml', 503, 0],
  ])('%s', async (_name, status, platformScenario, finalCode, secondInvites) => {
    const c1 = await h.carrier('carrier-reject.xml', { status });
    const c2 = await h.carrier('carrier-answer.xml');
    await h.provision(c1, { priority: 1 });
    await h.provision(c2, { priority: 2 });
    const platform = await h.platform(platformScenario, '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await c1.done).code).toBe(0);
    const r2 = secondInvites === 1 ? await c2.done : await c2.stop();
    expect(invitesReceived(r2)).toHaveLength(secondInvites);
    const record = h.t.logs.lines.filter((l) => l.msg === 'call ended').at(-1) as { status: number };
    expect(record.status).toBe(finalCode);
  });
});
