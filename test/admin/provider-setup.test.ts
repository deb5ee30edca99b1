import { afterEach, describe, expect, it } from 'vitest';
import { createTelnyxAdapter } from '../../src/carrier/telnyx.ts';
import type { DeepPartial } from '../../src/config/load-config.ts';
import type { Config } from '../../src/config/config-schema.ts';
import { startFakeTelnyx, type FakeTelnyx, type FakeTelnyxStep } from '../support/fake-telnyx.ts';
import { providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

const KEY = 'KEY_setup_test_0123456789abcdef';
const PUBLIC = { host: '203.0.113.7', port: 5080 };

let t: TestEngine | undefined;
let fake: FakeTelnyx | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

async function start(over: DeepPartial<Config> = {}, timeoutMs = 5000): Promise<{ t: TestEngine; fake: FakeTelnyx }> {
  fake = await startFakeTelnyx({ validKey: KEY });
  t = await startTestEngine({
    overrides: { publicSipAddress: `${PUBLIC.host}:${PUBLIC.port}`, ...over },
    carriers: new Map([['telnyx', createTelnyxAdapter({ apiUrl: fake.url, timeoutMs, rollbackTimeoutMs: 5000 })]]),
  });
  return { t, fake };
}

const setupBody = (over: Record<string, unknown> = {}) => ({
  carrier: 'telnyx',
  name: 'My Telnyx Trunk',
  detail: 'Primary outbound Telnyx SIP trunk',
  credentials: { api_key: KEY },
  ...over,
});

const calls = (f: FakeTelnyx) => f.requests.map((r) => `${r.method} ${r.path.replace(/\/\d+$/, '/:id')}`);
const providerCount = (e: TestEngine) => e.db.count('providers');

describe('POST /v1.0/providers/setup against a Telnyx-like server', () => {
  it('creates profile, connection and fqdn, then stores the provider with their ids', async () => {
    const { t, fake } = await start();
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody() });
    expect(r.status).toBe(200);
    expect(calls(fake)).toEqual(['GET /whoami', 'POST /outbound_voice_profiles', 'POST /fqdn_connections', 'POST /fqdns']);
    for (const req of fake.requests) expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    const [, profileReq, connReq, fqdnReq] = fake.requests;
    expect(profileReq!.body).toMatchObject({ name: 'My Telnyx Trunk', traffic_type: 'conversational', service_plan: 'global' });
    expect((profileReq!.body as { whitelisted_destinations: string[] }).whitelisted_destinations).toContain('US');
    const objects = fake.objects();
    expect(connReq!.body).toMatchObject({
      connection_name: 'My Telnyx Trunk',
      inbound: { ani_number_format: '+E.164', dnis_number_format: '+e164' },
      outbound: { outbound_voice_profile_id: objects.profiles[0]!.id },
    });
    expect(fqdnReq!.body).toEqual({ connection_id: objects.connections[0]!.id, fqdn: PUBLIC.host, port: PUBLIC.port, dns_record_type: 'a' });

    expect(r.body).toMatchObject({
      type: 'sip', hostname: 'sip.telnyx.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, codecs: '',
      name: 'My Telnyx Trunk', detail: 'Primary outbound Telnyx SIP trunk', health_status: 'unknown',
    });
    expect(r.body.metadata).toEqual({
      carrier: 'telnyx',
      telnyx_profile_id: objects.profiles[0]!.id,
      telnyx_connection_id: objects.connections[0]!.id,
      telnyx_fqdn_id: objects.fqdns[0]!.id,
      telnyx_fqdn: `${PUBLIC.host}:${PUBLIC.port}`,
    });
    const stored = await t.request('GET', `/v1.0/providers/${r.body.id}`);
    expect(stored.body).toEqual(r.body);
    expect(JSON.stringify(await t.db.rows('providers'))).not.toContain(KEY);
    expect(t.logs.text()).not.toContain(KEY);
  });

  it('keeps dropping the countries a 422 "... following countries: XX, YY" names until Telnyx accepts the profile', async () => {
    const { t, fake } = await start();
    fake.refuseCountries(['CU', 'IR', 'KP', 'SY'], { wording: 'following-countries', perAnswer: 1 });
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody() });
    expect(r.status).toBe(200);
    const posts = fake.requests.filter((q) => q.path === '/outbound_voice_profiles');
    expect(posts).toHaveLength(5);
    const whitelist = fake.objects().profiles[0]!.whitelisted_destinations as string[];
    for (const c of ['CU', 'IR', 'KP', 'SY']) expect(whitelist).not.toContain(c);
    expect(whitelist).toContain('US');
    expect(r.body.metadata.telnyx_profile_id).toBe(fake.objects().profiles[0]!.id);
  });

  it.each([401, 403])('an API key refused with %i → 422 CARRIER_CREDENTIALS_REJECTED, nothing created', async (status) => {
    const { t, fake } = await start();
    if (status === 403) fake.failNext('whoami', 403);
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody(status === 401 ? { credentials: { api_key: 'KEY_wrong' } } : {}) });
    expect([r.status, r.body.error.reason, r.body.error.status]).toEqual([422, 'CARRIER_CREDENTIALS_REJECTED', 'UNPROCESSABLE']);
    expect(calls(fake)).toEqual(['GET /whoami']);
    expect(await providerCount(t)).toBe(0);
    expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
  });

  const STEP_FAILURES: Array<[FakeTelnyxStep, number, number, string, string[]]> = [
    ['profile', 400, 422, 'CARRIER_REQUEST_FAILED', []],
    ['profile', 500, 503, 'CARRIER_UNAVAILABLE', []],
    ['connection', 422, 422, 'CARRIER_REQUEST_FAILED', ['DELETE /outbound_voice_profiles/:id']],
    ['connection', 503, 503, 'CARRIER_UNAVAILABLE', ['DELETE /outbound_voice_profiles/:id']],
    ['fqdn', 422, 422, 'CARRIER_REQUEST_FAILED', ['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']],
    ['fqdn', 500, 503, 'CARRIER_UNAVAILABLE', ['DELETE /fqdn_connections/:id', 'DELETE /outbound_voice_profiles/:id']],
  ];
  it.each(STEP_FAILURES)('%s answering %i → %i %s, rolled back, no provider stored', async (step, telnyxStatus, status, reason, rollback) => {
    const { t, fake } = await start();
    fake.failNext(step, telnyxStatus);
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody() });
    expect([r.status, r.body.error.reason]).toEqual([status, reason]);
    const deletes = calls(fake).filter((c) => c.startsWith('DELETE'));
    expect(deletes).toEqual(rollback);
    expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
    expect(await providerCount(t)).toBe(0);
  });

  it('a Telnyx that never answers → 503 CARRIER_UNAVAILABLE within the configured timeout, rolled back', async () => {
    const { t, fake } = await start({}, 400);
    fake.failNext('connection', 'hang');
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody(), headers: {} });
    expect([r.status, r.body.error.reason]).toEqual([503, 'CARRIER_UNAVAILABLE']);
    expect(calls(fake).filter((c) => c.startsWith('DELETE'))).toEqual(['DELETE /outbound_voice_profiles/:id']);
    expect(fake.objects().profiles).toEqual([]);
    expect(await providerCount(t)).toBe(0);
  }, 15_000);

  it('without a public SIP address → 409 SETUP_NOT_CONFIGURED, Telnyx not called', async () => {
    const { t, fake } = await start({ publicSipAddress: '' });
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody() });
    expect([r.status, r.body.error.status, r.body.error.reason]).toEqual([409, 'FAILED_PRECONDITION', 'SETUP_NOT_CONFIGURED']);
    expect(r.body.error.message).toContain('OUTDIAL_PUBLIC_SIP_ADDRESS');
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ['another carrier', setupBody({ carrier: 'twilio' }), 400, 'UNSUPPORTED_CARRIER'],
    ['codecs (not accepted by setup)', setupBody({ codecs: 'PCMU' }), 400, 'INVALID_ARGUMENT'],
    ['no credentials', { carrier: 'telnyx', name: 'x', detail: 'x' }, 400, 'INVALID_ARGUMENT'],
    ['unknown credential field', setupBody({ credentials: { api_key: KEY, secret: 'x' } }), 400, 'INVALID_ARGUMENT'],
    ['no name (required, as in VoIPBIN)', { carrier: 'telnyx', detail: 'x', credentials: { api_key: KEY } }, 400, 'INVALID_ARGUMENT'],
    ['an empty name', setupBody({ name: '' }), 400, 'INVALID_ARGUMENT'],
    ['a line break inside the key', setupBody({ credentials: { api_key: `${KEY.slice(0, 10)}\n${KEY.slice(10)}` } }), 400, 'INVALID_API_KEY'],
    ['a space inside the key', setupBody({ credentials: { api_key: `${KEY.slice(0, 10)} ${KEY.slice(10)}` } }), 400, 'INVALID_API_KEY'],
    ['a key of blanks only', setupBody({ credentials: { api_key: ' \n\t ' } }), 400, 'INVALID_API_KEY'],
  ])('%s → %i %s, Telnyx not called', async (_label, body, status, reason) => {
    const { t, fake } = await start();
    const r = await t.request('POST', '/v1.0/providers/setup', { body });
    expect([r.status, r.body.error.reason]).toEqual([status, reason]);
    expect(fake.requests).toEqual([]);
    expect(await providerCount(t)).toBe(0);
  });

  it('storing the provider failing after Telnyx succeeded → 500 INTERNAL, and the Telnyx objects are deleted again', async () => {
    const { t, fake } = await start();
    await t.db.refuseInserts('providers');
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody() });
    expect([r.status, r.body.error.reason]).toEqual([500, 'INTERNAL']);
    expect(r.body.error.message).toContain('deleted again');
    const line = t.logs.lines.find((l) => l.msg === 'carrier setup succeeded but storing the provider failed');
    const created = line?.metadata as Record<string, string>;
    expect(created).toMatchObject({ carrier: 'telnyx', telnyx_connection_id: expect.any(String) });
    expect(line?.request_id).toBe(r.body.error.request_id);
    // The rollback rule: the fake recorded the DELETEs of exactly what setup created, newest first.
    expect(fake.requests.filter((q) => q.method === 'DELETE').map((q) => q.path)).toEqual([
      `/fqdns/${created.telnyx_fqdn_id}`,
      `/fqdn_connections/${created.telnyx_connection_id}`,
      `/outbound_voice_profiles/${created.telnyx_profile_id}`,
    ]);
    expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
    expect(await providerCount(t)).toBe(0);
    expect(t.logs.text()).not.toContain(KEY);
  });

  it('the database refusing writes while storing (SQLite: a full disk; PostgreSQL: a read-only database) → 503 STORAGE_UNAVAILABLE, the Telnyx objects deleted again; setup works once writes do', async () => {
    const { t, fake } = await start();
    const big = { detail: 'x'.repeat(1024) };
    const restoreWrites = await t.db.makeUnwritable(async () => {
      const w = await t.request('POST', '/v1.0/providers', { body: providerBody(big) });
      if (w.status === 200) return true;
      expect([w.status, w.body.error.reason]).toEqual([503, 'STORAGE_UNAVAILABLE']);
      return false;
    });
    const before = await providerCount(t);
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody(big) });
    expect([r.status, r.body.error.reason]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(r.body.error.message).toContain('deleted again');
    expect(fake.requests.filter((q) => q.method === 'DELETE')).toHaveLength(3);
    expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
    expect(await providerCount(t)).toBe(before);

    await restoreWrites();
    const again = await t.request('POST', '/v1.0/providers/setup', { body: setupBody(big) });
    expect(again.status).toBe(200);
    expect(fake.objects().fqdns).toHaveLength(1);
  });

  it('an API key pasted with blanks and a line break around it is trimmed; no spelling of it is logged or echoed', async () => {
    const { t, fake } = await start();
    const pasted = `  ${KEY}\r\n`;
    const r = await t.request('POST', '/v1.0/providers/setup', { body: setupBody({ credentials: { api_key: pasted } }) });
    expect(r.status).toBe(200);
    for (const req of fake.requests) expect(req.headers.authorization).toBe(`Bearer ${KEY}`);
    const bad = await t.request('POST', '/v1.0/providers/setup', { body: setupBody({ credentials: { api_key: `${KEY.slice(0, 8)}\n${KEY.slice(8)}` } }) });
    expect([bad.status, bad.body.error.reason]).toEqual([400, 'INVALID_API_KEY']);
    expect(bad.body.error.message).toContain('credentials.api_key');
    const everything = `${t.logs.text()}\n${bad.text}`;
    for (const piece of [KEY, KEY.slice(0, 8), KEY.slice(8), JSON.stringify(pasted).slice(1, -1)]) expect(everything).not.toContain(piece);
  });
});
