import { afterEach, describe, expect, it } from 'vitest';
import { startCallApp, type CallApp } from '../../src/call/call-app.ts';
import { DialPlanCache } from '../../src/call/dial-plan-cache.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startEdge, type RunningEdge } from '../../src/edge/edge.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import type { RoutingSource } from '../../src/store/store-types.ts';
import { describeRun, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * The call app against a SIP server it does not own (`OUTDIAL_DRACHTIO`): here the edge started
 * on its own, as `outdial edge` runs it. The app must survive that server going away and find
 * it again when it comes back on the same address.
 */
const SECRET = 'external-wire-secret';
const edgeLog = createCapturingLogger('info');

async function edgeOn(sipPort = 0, wirePort = 0, secret = SECRET): Promise<RunningEdge> {
  return startEdge({
    sip: { host: '127.0.0.1', port: sipPort, t1Ms: 100, t2Ms: 4000, t4Ms: 5000, maxMessageBytes: 65535 },
    wire: { host: '127.0.0.1', port: wirePort, secret },
    logger: edgeLog.logger,
  });
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('external drachtio server', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup.length = 0;
  });

  it('places calls through an external server, and again after it restarts on the same ports', async () => {
    let edge = await edgeOn();
    cleanup.push(() => edge.close());
    const { sipAddress, wireAddress } = edge;
    const h: RoutingHarness = await startRoutingHarness(
      { drachtio: { address: `${wireAddress.host}:${wireAddress.port}`, secret: SECRET } },
      { sip: sipAddress },
    );
    cleanup.push(() => h.close());
    expect(h.t.engine.sip).toBeUndefined();
    expect(h.t.engine.calls.connected()).toBe(true);

    const first = await h.carrier('carrier-answer.xml');
    await h.provision(first, { target: '+1' });
    let platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    expect((await first.done).code).toBe(0);

    await edge.close();
    await until('the app saw the server go', () => !h.t.engine.calls.connected());
    edge = await edgeOn(sipAddress.port, wireAddress.port);
    await until('the app reconnected', () => h.t.engine.calls.connected());
    expect(h.t.logs.lines.some((l) => l.msg === 'drachtio connection lost; reconnecting')).toBe(true);

    await h.reset();
    const second = await h.carrier('carrier-answer.xml');
    await h.provision(second, { target: '+1' });
    platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform after restart', platform)).toBe(0);
    expect((await second.done).code).toBe(0);
  });

  it('logs a refused secret as an error, keeps retrying, and stops retrying once closed', async () => {
    const edge = await edgeOn();
    cleanup.push(() => edge.close());
    const log = createCapturingLogger('info');
    const source: RoutingSource = { readLive: async () => ({ providers: [], routes: [] }), readLiveInto: async (consume) => consume([], []), onChange: () => () => undefined };
    const dialPlan = await DialPlanCache.load(source, log.logger);
    cleanup.push(async () => dialPlan.close());
    const refusals = () => edgeLog.lines.filter((l) => l.msg === 'app authentication failed').length;
    const before = refusals();
    const app: CallApp = await startCallApp({
      routing: loadConfig({}, {}).routing,
      drachtio: { ...edge.wireAddress, secret: 'not-the-secret' },
      dialPlan,
      logger: log.logger,
      connectWaitMs: 200,
    });
    cleanup.push(() => app.close());
    await until('the edge refused the app twice', () => refusals() >= before + 2);
    expect(app.connected()).toBe(false);
    const errors = log.lines.filter((l) => l.level === 50 && l.msg === 'drachtio refused the secret; retrying');
    expect(errors).toHaveLength(1);
    expect(log.lines.some((l) => l.msg === 'connected to drachtio')).toBe(false);

    await app.close();
    // A connection already on its way at close may still be refused once; after that, silence
    // (while retrying, refusals come about every 255 ms).
    await new Promise((r) => setTimeout(r, 300));
    const settled = refusals();
    await new Promise((r) => setTimeout(r, 800));
    expect(refusals()).toBe(settled);
  });

  it('closes cleanly while the server is unreachable', async () => {
    const edge = await edgeOn();
    const wire = edge.wireAddress;
    await edge.close();
    const log = createCapturingLogger('info');
    const source: RoutingSource = { readLive: async () => ({ providers: [], routes: [] }), readLiveInto: async (consume) => consume([], []), onChange: () => () => undefined };
    const dialPlan = await DialPlanCache.load(source, log.logger);
    cleanup.push(async () => dialPlan.close());
    const app = await startCallApp({
      routing: loadConfig({}, {}).routing,
      drachtio: { ...wire, secret: SECRET },
      dialPlan,
      logger: log.logger,
      connectWaitMs: 100,
    });
    expect(app.connected()).toBe(false);
    await app.close();
    // A server appearing on that address after close must not be connected to.
    const connections = () => edgeLog.lines.filter((l) => l.msg === 'app connected').length;
    const before = connections();
    const late = await edgeOn(0, wire.port);
    cleanup.push(() => late.close());
    await new Promise((r) => setTimeout(r, 1200));
    expect(app.connected()).toBe(false);
    expect(connections()).toBe(before);
    expect(log.lines.some((l) => l.msg === 'connected to drachtio')).toBe(false);
  });
});
