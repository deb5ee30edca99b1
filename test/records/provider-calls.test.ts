import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, invitesReceived, startRoutingHarness, type RoutingHarness } from '../routing/support/routing-harness.ts';
import type { SippRun } from '../support/sipp.ts';
import { ProviderTestCalls } from '../../src/call/provider-test-call.ts';
import { systemClock } from '../../src/sip/clock.ts';

/**
 * Provider test calls (docs/api.md "Provider test calls") against sipp carriers over real UDP:
 * the engine whole (admin API, call app, embedded edge), a 3 s connect timeout (a loaded machine
 * can keep a sipp carrier's 180 from arriving within 1 s), and RFC 3261's T1 of 500 ms: the
 * carrier scenarios take one INVITE, and with the harness's 100 ms T1 a freshly started sipp that
 * reads its socket 100 ms late meets a retransmission of it (Timer A, §17.1.1.2) and aborts.
 */

let h: RoutingHarness;
beforeAll(async () => {
  h = await startRoutingHarness({ routing: { connectTimeoutMs: 3000 }, sip: { t1Ms: 500 } });
});
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  await h.reset();
});

const TRUNK = {
  tech_prefix: '0011',
  tech_postfix: '#',
  tech_headers: { 'X-Trunk-Id': 'trunk-42' },
  codecs: 'PCMA,PCMU',
};

/** A provider pointing at the carrier, with no route to it: a test call does not need one. */
async function providerFor(carrier: SippRun, fields: Record<string, unknown> = TRUNK): Promise<string> {
  const r = await h.t.request('POST', '/v1.0/providers', {
    body: { type: 'sip', hostname: `127.0.0.1:${carrier.port}`, name: 'test trunk', detail: '', ...fields },
  });
  expect(r.status, r.text).toBe(200);
  return r.body.id as string;
}

/** Polls GET /v1.0/providercalls/{id} until the call is no longer `calling` (as the console does). */
async function settled(id: string, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await h.t.request('GET', `/v1.0/providercalls/${id}`);
    expect(r.status, r.text).toBe(200);
    if (r.body.status !== 'calling') return r.body;
    if (Date.now() > until) throw new Error(`test call ${id} still calling after ${timeoutMs} ms: ${r.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('POST /v1.0/providercalls against sipp carriers', () => {
  it('200: answered, hung up at once (ACK then BYE), with the Request-URI, headers and codecs of a call through that provider', async () => {
    const carrier = await h.carrier('carrier-answer.xml');
    const providerId = await providerFor(carrier);
    const r = await h.t.request('POST', '/v1.0/providercalls', { body: { provider_id: providerId, destination: '+15551234567', source: '+15550001111' } });
    expect(r.status, r.text).toBe(200);
    // POST answers at once: the call is still being placed
    expect(r.body).toMatchObject({
      provider_id: providerId,
      destination: '+15551234567',
      source: '+15550001111',
      request_uri: `sip:0011+15551234567%23@127.0.0.1:${carrier.port}`,
      codecs: ['PCMA', 'PCMU'],
      status: 'calling',
      sip_status: null,
      tm_hangup: null,
    });
    const done = await settled(r.body.id);
    expect(done).toMatchObject({ status: 'answered', sip_status: 200, request_uri: r.body.request_uri });
    expect(done.reason).toMatch(/BYE/);
    expect(done.tm_ringing).not.toBeNull();
    expect(done.tm_answer).not.toBeNull();
    expect(done.tm_create <= done.tm_ringing && done.tm_ringing <= done.tm_answer && done.tm_answer <= done.tm_hangup).toBe(true);

    // the carrier's scenario ends only after the ACK and the BYE it expects
    const result = await carrier.done;
    expect(result.code, describeRun('carrier', result)).toBe(0);
    const [invite] = invitesReceived(result);
    expect(invite).toMatch(new RegExp(`^INVITE sip:0011\\+15551234567%23@127\\.0\\.0\\.1:${carrier.port} SIP/2\\.0`, 'm'));
    expect(invite).toMatch(/^X-Trunk-Id: trunk-42/m);
    expect(invite).toMatch(/^From: <?sip:\+15550001111@/im);
    // the minimal offer, filtered to the provider's codecs in its order, telephone-event kept at 8 kHz
    expect(invite).toMatch(/^m=audio 9 RTP\/AVP 8 0 101\r?$/m);
    expect(invite).not.toMatch(/G729|opus|G722/);
    expect(result.messages).toMatch(/^ACK /m);
    expect(result.messages).toMatch(/^BYE /m);

    // stored: the same answer after the call is over, and in the list
    expect((await h.t.request('GET', `/v1.0/providercalls/${r.body.id}`)).body).toEqual(done);
    const list = await h.t.request('GET', `/v1.0/providercalls?provider_id=${providerId}`);
    expect(list.body.result).toEqual([done]);
  });

  it('486: failed with the carrier\'s status and reason phrase, nothing retried', async () => {
    const carrier = await h.carrier('carrier-reject.xml', { status: '486 Busy Here' });
    const providerId = await providerFor(carrier, { codecs: '' });
    const r = await h.t.request('POST', '/v1.0/providercalls', { body: { provider_id: providerId, destination: '+442071234567' } });
    expect(r.status, r.text).toBe(200);
    const done = await settled(r.body.id);
    expect(done).toMatchObject({ status: 'failed', sip_status: 486, sip_reason: 'Busy Here', tm_answer: null, source: '', codecs: [] });
    expect(done.reason).toContain('486 Busy Here');
    const result = await carrier.done;
    expect(result.code, describeRun('carrier', result)).toBe(0);
    const invites = invitesReceived(result);
    expect(invites).toHaveLength(1);
    // no codec filter: the whole test offer goes out
    expect(invites[0]).toMatch(/^m=audio 9 RTP\/AVP 0 8 9 18 111 101 110\r?$/m);
  });

  it('nothing at all: timeout after the connect timeout, no CANCEL before a provisional (RFC 3261 §9.1)', async () => {
    const carrier = await h.carrier('carrier-silent.xml');
    const providerId = await providerFor(carrier);
    const r = await h.t.request('POST', '/v1.0/providercalls', { body: { provider_id: providerId, destination: '+15551234567' } });
    const done = await settled(r.body.id);
    expect(done).toMatchObject({ status: 'timeout', sip_status: null, sip_reason: '', tm_ringing: null, tm_answer: null });
    expect(done.reason).toMatch(/connect timeout \(3000 ms\)/);
    const result = await carrier.stop();
    expect(invitesReceived(result).length).toBeGreaterThanOrEqual(1);
    expect(result.messages).not.toMatch(/^CANCEL /m);
  });

  it('a carrier that rings without answering: CANCEL when the cap is reached', async () => {
    const carrier = await h.carrier('carrier-no-answer.xml', { provisional: '180 Ringing' });
    const providerId = await providerFor(carrier);
    // The cap is 30 s in the engine; the same class with a short cap, on the engine's own SIP connection and store.
    const tests = new ProviderTestCalls({
      store: h.t.engine.store,
      inviter: h.t.engine.calls.inviter,
      logger: h.t.logs.logger,
      clock: systemClock,
      connectTimeoutMs: 1000,
      mediaAddress: '127.0.0.1',
      capMs: 1500,
    });
    const started = await tests.start({ providerId, destination: '+15551234567', source: '' });
    expect(started.status).toBe('calling');
    await expect.poll(async () => (await tests.get(started.id))?.tm_ringing, { timeout: 5000 }).not.toBeNull();
    const done = await settled(started.id);
    expect(done).toMatchObject({ status: 'timeout', sip_status: null });
    expect(done.tm_ringing).not.toBeNull();
    expect(done.reason).toMatch(/no answer within 1\.5 s/);
    await tests.close();
    const result = await carrier.done;
    expect(result.code, describeRun('carrier', result)).toBe(0);
    expect(result.messages).toMatch(/^CANCEL /m);
  });

  it('a provider sharing no codec with the test offer: failed at once, nothing sent', async () => {
    const carrier = await h.carrier('carrier-answer.xml');
    const providerId = await providerFor(carrier, { codecs: 'AMR-WB' });
    const r = await h.t.request('POST', '/v1.0/providercalls', { body: { provider_id: providerId, destination: '+15551234567' } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ status: 'failed', sip_status: null, codecs: ['AMR-WB'] });
    expect(r.body.reason).toMatch(/no common codec/);
    expect(invitesReceived(await carrier.stop())).toHaveLength(0);
  });

  it('refuses what it cannot place: unknown or deleted provider, bad number, unknown fields, unknown id', async () => {
    const unknown = '11111111-1111-4111-8111-111111111111';
    const before = (await h.t.request('GET', '/v1.0/providercalls')).body.result;
    const refuse = async (body: unknown) => {
      const r = await h.t.request('POST', '/v1.0/providercalls', { body });
      return [r.status, r.body.error.reason, r.body.error.message];
    };
    expect(await refuse({ provider_id: unknown, destination: '+15551234567' })).toEqual([400, 'PROVIDER_NOT_FOUND', `provider ${unknown} does not exist or is deleted`]);
    const p = (await h.t.request('POST', '/v1.0/providers', { body: { type: 'sip', hostname: '127.0.0.1:9' } })).body;
    await h.t.request('DELETE', `/v1.0/providers/${p.id}`);
    expect((await refuse({ provider_id: p.id, destination: '+15551234567' })).slice(0, 2)).toEqual([400, 'PROVIDER_NOT_FOUND']);
    expect(await refuse({ provider_id: 'nope', destination: '+15551234567' })).toEqual([400, 'INVALID_ID', expect.stringContaining('body.provider_id')]);
    expect(await refuse({ provider_id: unknown, destination: '15551234567' })).toEqual([400, 'INVALID_ARGUMENT', expect.stringContaining('body.destination')]);
    expect(await refuse({ provider_id: unknown, destination: '+15551234567', source: 'alice' })).toEqual([400, 'INVALID_ARGUMENT', expect.stringContaining('body.source')]);
    expect(await refuse({ provider_id: unknown, destination: '+15551234567', route_id: unknown })).toEqual([400, 'INVALID_ARGUMENT', 'unknown field route_id in the body']);
    expect(await refuse({ destination: '+15551234567' })).toEqual([400, 'INVALID_ARGUMENT', 'body.provider_id is required']);
    const missing = await h.t.request('GET', `/v1.0/providercalls/${unknown}`);
    expect([missing.status, missing.body.error.reason]).toEqual([404, 'PROVIDER_CALL_NOT_FOUND']);
    expect((await h.t.request('GET', '/v1.0/providercalls?provider_id=x')).body.error.reason).toBe('INVALID_ID');
    // nothing half-made: no test call was stored by any of these
    expect((await h.t.request('GET', '/v1.0/providercalls')).body.result).toEqual(before);
  });

  it('needs ProjectSuperAdmin', async () => {
    await h.t.request('POST', '/v1.0/agents', { body: { username: 'viewer', password: 'viewer password 1', permission: 0x0010 } });
    const token = await h.t.login('viewer', 'viewer password 1');
    for (const [method, path] of [['POST', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls'], ['GET', '/v1.0/providercalls/11111111-1111-4111-8111-111111111111']] as const) {
      const r = await h.t.request(method, path, { token, ...(method === 'POST' ? { body: {} } : {}) });
      expect([method, path, r.status, r.body.error.reason]).toEqual([method, path, 403, 'PERMISSION_DENIED']);
    }
    const agents = (await h.t.request('GET', '/v1.0/agents')).body.result as Array<{ id: string; username: string }>;
    await h.t.request('DELETE', `/v1.0/agents/${agents.find((a) => a.username === 'viewer')!.id}`);
  });
});
