import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSipp, type SippRun } from '../support/sipp.ts';
import { createTestPki, type TestPki } from '../support/test-certs.ts';
import { TlsSipCarrier } from '../support/tls-sip-peer.ts';
import { describeRun, invitesReceived, startRoutingHarness, type RoutingHarness } from './support/routing-harness.ts';

/**
 * Per-provider limits, number format and transport (docs/routing.md §3, §4) at the SIP level:
 * max_calls and max_cps move attempts to the next route as a local 503 "provider limit",
 * leading_plus and transport are what the carrier sees on its wire.
 */
type CallRecord = { attempts: Array<{ provider_id: string; status: number; note?: string; limit?: string }>; outcome: string; provider_id?: string };

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('provider limits, number format and transport', () => {
  let h: RoutingHarness;
  const extra: SippRun[] = [];

  beforeAll(async () => {
    h = await startRoutingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  afterEach(async () => {
    for (const r of extra.splice(0)) await r.stop();
    await h.reset();
  });

  const records = () => h.t.logs.lines.filter((l) => l.msg === 'call ended') as unknown as CallRecord[];
  const currentCalls = async (providerId: string) => {
    const r = await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567');
    return (r.body.result as Array<{ provider: { id: string }; current_calls: number }>).find((x) => x.provider.id === providerId)?.current_calls;
  };

  it('max_calls 1 with two calls at once: the second goes to provider B; dialroutes shows the current calls', async () => {
    const a = await h.carrier('carrier-answer.xml');
    const b = await h.carrier('carrier-answer.xml');
    const pa = await h.provision(a, { priority: 1 }, { max_calls: 1 });
    const pb = await h.provision(b, { priority: 2 });
    expect(await currentCalls(pa)).toBe(0);
    const first = h.platform('platform-call.xml', '+15551234567', { pauseMs: 2500 });
    await until('the first call to hold provider A', async () => ((await currentCalls(pa)) === 1 ? true : undefined));
    const second = await h.platform('platform-call.xml', '+15551234567', { pauseMs: 200 });
    expect(second.code, describeRun('second platform', second)).toBe(0);
    const firstDone = await first;
    expect(firstDone.code, describeRun('first platform', firstDone)).toBe(0);
    expect(invitesReceived(await a.done)).toHaveLength(1);
    expect((await b.done).code).toBe(0);
    const [r1, r2] = records().slice(-2).sort((x, y) => x.attempts.length - y.attempts.length);
    expect(r1).toMatchObject({ outcome: 'connected', provider_id: pa });
    expect(r2!.attempts.map((x) => [x.provider_id, x.status, x.note, x.limit])).toEqual([
      [pa, 503, 'provider limit', 'max_calls'],
      [pb, 200, undefined, undefined],
    ]);
    expect(r2).toMatchObject({ outcome: 'connected', provider_id: pb });
    await until('the slots to be released', async () => ((await currentCalls(pa)) === 0 && (await currentCalls(pb)) === 0 ? true : undefined));
    const metrics = await (await fetch(`${h.t.base}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`outdial_provider_limit_refusals_total\\{provider_id="${pa}",limit="max_calls"\\} 1`));
  });

  it('max_cps: an attempt over the rate is skipped (local 503), the next route takes it', async () => {
    const a = await h.carrier('carrier-answer.xml');
    const b = await h.carrier('carrier-answer.xml');
    // 0.2 per second: one attempt in any 5 s
    const pa = await h.provision(a, { priority: 1 }, { max_cps: 0.2 });
    const pb = await h.provision(b, { priority: 2 });
    const one = await h.platform('platform-call.xml', '+15551234567', { pauseMs: 50 });
    expect(one.code, describeRun('first', one)).toBe(0);
    const two = await h.platform('platform-call.xml', '+15551234567', { pauseMs: 50 });
    expect(two.code, describeRun('second', two)).toBe(0);
    expect(invitesReceived(await a.done)).toHaveLength(1);
    expect(invitesReceived(await b.done)).toHaveLength(1);
    expect(records().at(-1)!.attempts.map((x) => [x.provider_id, x.status, x.note, x.limit])).toEqual([
      [pa, 503, 'provider limit', 'max_cps'],
      [pb, 200, undefined, undefined],
    ]);
  });

  it('every route at its limit: the platform gets the local 503', async () => {
    const a = await h.carrier('carrier-answer.xml');
    await h.provision(a, {}, { max_cps: 0.2 });
    expect((await h.platform('platform-call.xml', '+15551234567', { pauseMs: 50 })).code).toBe(0);
    const refused = await h.platform('platform-call-fails.xml', '+15551234567');
    expect(refused.code, describeRun('platform', refused)).toBe(0);
    expect(refused.messages).toMatch(/^SIP\/2\.0 503 /m);
    expect(records().at(-1)).toMatchObject({ outcome: 'failed', status: 503, reason: 'provider limit' });
  });

  it('leading_plus false and transport tcp are what the carrier sees on its wire', async () => {
    const carrier = await startSipp({ scenario: 'routing/carrier-answer.xml', transport: 'tcp', timeoutSec: 15 });
    extra.push(carrier);
    const created = await h.t.request('POST', '/v1.0/providers', {
      body: { type: 'sip', hostname: `127.0.0.1:${carrier.port}`, tech_prefix: '9', leading_plus: false, transport: 'tcp', name: 'tcp trunk' },
    });
    expect(created.status, created.text).toBe(200);
    await h.t.request('POST', '/v1.0/routes', { body: { customer_id: '00000000-0000-0000-0000-000000000001', provider_id: created.body.id, priority: 1, target: '+1' } });
    const preview = (await h.t.request('GET', '/v1.0/dialroutes?target=%2B15551234567')).body.result[0];
    expect(preview.request_uri).toBe(`sip:915551234567@127.0.0.1:${carrier.port};transport=tcp`);
    const platform = await h.platform('platform-call.xml', '+15551234567');
    expect(platform.code, describeRun('platform', platform)).toBe(0);
    const run = await carrier.done;
    expect(run.code, describeRun('carrier', run)).toBe(0);
    const [invite] = invitesReceived(run);
    expect(invite).toMatch(/TCP message received/);
    expect(invite).toMatch(new RegExp(`^INVITE sip:915551234567@127\\.0\\.0\\.1:${carrier.port};transport=tcp SIP/2\\.0`, 'm'));
    expect(invite).toMatch(new RegExp(`^To: <sip:915551234567@127\\.0\\.0\\.1:${carrier.port}>`, 'm'));
    expect(invite).toMatch(/^Via: SIP\/2\.0\/TCP /m);
    expect(invite).toMatch(/^From: [^\r\n]*sip:15550001111@/m);
    expect(invite).toMatch(/^P-Asserted-Identity: <sip:15550001111@platform\.example>/m);
    expect(invite).not.toMatch(/\+1555/);
  });
});

describe('transport tls through the embedded edge', () => {
  let pki: TestPki;
  let h: RoutingHarness;

  beforeAll(async () => {
    pki = createTestPki();
    h = await startRoutingHarness({ sip: { tlsCa: pki.caFile } });
  });
  afterAll(async () => {
    await h?.close();
    pki?.cleanup();
  });

  it('reaches a TLS carrier (certificate checked) with ;transport=tls, and the call completes', async () => {
    const files = pki.issue('carrier', ['127.0.0.1']);
    const carrier = await TlsSipCarrier.start({ cert: pki.read(files.cert), key: pki.read(files.key) });
    try {
      await h.provision(`127.0.0.1:${carrier.port}`, {}, { transport: 'tls' });
      const platform = await h.platform('platform-call-any-answer.xml', '+15551234567');
      expect(platform.code, describeRun('platform', platform)).toBe(0);
      const [invite] = carrier.requests('INVITE');
      expect(invite?.uri).toBe(`sip:+15551234567@127.0.0.1:${carrier.port};transport=tls`);
      expect(carrier.connections).toBe(1);
      await until('the BYE over TLS', async () => (carrier.requests('BYE').length === 1 ? true : undefined));
    } finally {
      await carrier.close();
    }
  });
});
