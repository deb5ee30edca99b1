import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, finalStatus, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** docs/routing.md §3: the carrier INVITE carries the platform's Max-Forwards minus one (RFC 7332 §3). */
describe('Max-Forwards across outdial', () => {
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

  it('70 from the platform → 69 to the carrier, on the INVITE and on the BYE', async () => {
    const carrier = await h.carrier('carrier-checks-hops.xml', { hops: '69' });
    await h.provision(carrier, { target: '+1' });
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const c = await carrier.done;
    expect(c.code, describeRun('carrier', c)).toBe(0);
  });
});

describe('a loop through outdial', () => {
  let h: RoutingHarness;

  beforeAll(async () => {
    // Each turn of the loop is a carrier attempt with its own connect timer; the outermost one
    // waits for all 70 turns, which on a loaded machine may take longer than the usual 1 s.
    h = await startRoutingHarness({ routing: { connectTimeoutMs: 20_000 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a provider that routes the number back to outdial loops 70 hops, then 483 reaches the platform and every call ends', async () => {
    // The provider is outdial's own SIP address: each carrier INVITE comes back as a new call.
    await h.provision(`${h.sip.host}:${h.sip.port}`, { target: '+1' });
    const before = h.t.logs.lines.length;
    const platform = await h.platform('platform-call-fails.xml', '+15551234567', { timeoutSec: 30 });
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect(finalStatus(platform)).toBe(483);
    expect(platform.messages).toMatch(/^SIP\/2\.0 483 Too Many Hops\r?$/m);
    // The platform's INVITE (70) and each turn of the loop (69 … 0) are one call each: 71 in all,
    // the last refused by the routing app itself at Max-Forwards 0 (the edge, like a UAS, lets
    // such a request through: docs/edge-transport.md), none left.
    await until('every looped call ended', () => h.t.engine.calls.activeCalls() === 0);
    const ended = h.t.logs.lines.slice(before).filter((l) => l.msg === 'call ended') as Array<{ status: number }>;
    expect(ended).toHaveLength(71);
    expect(new Set(ended.map((r) => r.status))).toEqual(new Set([483]));
  });
});
