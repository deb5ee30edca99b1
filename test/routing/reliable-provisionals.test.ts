import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * Messages of a sipp message trace (-trace_msg) sent or received, whose start line matches. A
 * block is a dashed line with the time, "UDP message received [n] bytes :", then the message.
 */
function traced(messages: string, direction: 'sent' | 'received', startLine: RegExp): string[] {
  const heading = new RegExp(`^\\S+ message ${direction} `, 'im');
  return messages.split(/\n(?=-{10,})/).filter((block) => heading.test(block) && startLine.test(block));
}

/**
 * RFC 3262 through outdial (docs/routing.md §4): a platform that supports 100rel gets a carrier's
 * reliable early media reliably, one that requires it gets every provisional reliably, and each
 * leg PRACKs its own; sipp is the platform and the carrier, outdial runs whole.
 */
describe('reliable provisional responses through outdial', () => {
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

  it("relays a carrier's reliable 183 with SDP reliably to a platform that supports 100rel; both legs PRACK", async () => {
    const carrier = await h.carrier('carrier-reliable-early-media.xml');
    await h.provision(carrier, {});
    const platform = await h.platform('platform-reliable-early-media.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const c = await carrier.done;
    expect(c.code, describeRun('carrier', c)).toBe(0);

    // The platform's 183: reliable with outdial's own RSeq, the carrier's SDP; its PRACK got 200.
    const [p183] = traced(platform.messages, 'received', /^SIP\/2\.0 183 /m);
    expect(p183).toMatch(/^Require: *100rel\r?$/im);
    expect(p183).toMatch(/^RSeq: *\d+\r?$/im);
    expect(p183).toMatch(/m=audio \d+ RTP\/AVP 8 101/);
    // The carrier's INVITE offered 100rel (checked in the scenario) and its 183 was PRACKed by outdial.
    const [prack] = traced(c.messages, 'received', /^PRACK /m);
    expect(prack).toMatch(/^RAck: *1 1 INVITE\r?$/im);
  });

  it('makes early media reliable for a platform that requires 100rel, although the carrier sent it unreliably', async () => {
    const carrier = await h.carrier('carrier-early-media-answers.xml');
    await h.provision(carrier, {});
    const platform = await h.platform('platform-requires-100rel.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const c = await carrier.done;
    expect(c.code, describeRun('carrier', c)).toBe(0);
    const [p183] = traced(platform.messages, 'received', /^SIP\/2\.0 183 /m);
    expect(p183).toMatch(/^Require: *100rel\r?$/im);
    // RFC 3262 §3: a Require toward the carrier is not needed, outdial satisfies it itself.
    const [invite] = traced(c.messages, 'received', /^INVITE /m);
    expect(invite).toMatch(/^Supported:[^\r\n]*100rel/im);
    expect(invite).not.toMatch(/^Require:[^\r\n]*100rel/im);
  });

  it("sends no 100rel to a carrier when the platform did not offer it, and the platform's 183 stays unreliable", async () => {
    const carrier = await h.carrier('carrier-early-media-fails.xml', { status: '486 Busy Here' }, { pauseMs: 100 });
    await h.provision(carrier, {});
    const platform = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const c = await carrier.done;
    const [invite] = traced(c.messages, 'received', /^INVITE /m);
    expect(invite).toBeDefined();
    expect(invite).not.toMatch(/100rel/i);
    const [p183] = traced(platform.messages, 'received', /^SIP\/2\.0 183 /m);
    expect(p183).toBeDefined();
    expect(p183).not.toMatch(/^(Require|RSeq):/im);
  });
});
