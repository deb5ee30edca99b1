import { afterAll, describe, expect, it } from 'vitest';
import { CarrierError, type CarrierAdapter } from '../../src/carrier/carrier.ts';
import { ERRORS } from '../../src/errors.ts';
import { SPEC_REASONS } from './support/spec-reasons.ts';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { sqliteDb } from './support/sqlite-db.ts';

/** A carrier whose outcome is chosen by the API key, for provoking each carrier reason. */
const scripted: CarrierAdapter = {
  carrier: 'telnyx',
  async setup(input) {
    if (input.apiKey === 'reject') throw new CarrierError('credentials_rejected', 'whoami 401');
    if (input.apiKey === 'down') throw new CarrierError('unavailable', 'timeout');
    if (input.apiKey === 'refuse') throw new CarrierError('request_failed', 'fqdn 422');
    return { hostname: 'sip.telnyx.com', metadata: { connection_id: '1' } };
  },
};

const engines: TestEngine[] = [];
afterAll(async () => {
  for (const e of engines) await e.close();
});

describe('every reason in the registry is reachable over HTTP', () => {
  it('provokes each one', async () => {
    const t = await startTestEngine({
      overrides: { publicSipAddress: '198.51.100.1:5060', auth: { loginRatePerSecond: 1, loginBurst: 2 } },
      carriers: new Map([['telnyx', scripted]]),
    });
    engines.push(t);
    const unconfigured = await startTestEngine({ carriers: new Map([['telnyx', scripted]]) });
    engines.push(unconfigured);
    const seen = new Map<string, number>();
    const note = (r: { status: number; body: { error?: { reason: string } } }) => {
      if (r.body.error) seen.set(r.body.error.reason, r.status);
    };
    const setup = (key: string) => ({ carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: key } });

    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    await t.request('POST', '/v1.0/routes', { body: routeBody(p.id) });
    const noSuper = await t.engine.store.agents.create({ username: 'agent', passwordHash: (await t.engine.store.agents.findByUsername('admin'))!.password_hash, permission: 0x0010 });
    expect(noSuper.permission).toBe(0x0010);
    const agentToken = await t.login('agent');

    note(await t.request('POST', '/v1.0/providers', { raw: '{' }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ extra: 1 }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'x'.repeat(100_000) }) }));
    note(await t.request('GET', '/v1.0/providers/abc'));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ codecs: 'a,,b' }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ tech_headers: { Via: 'x' } }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: 'not a host' }) }));
    note(await t.request('GET', '/v1.0/providers/11111111-1111-4111-8111-111111111111'));
    note(await t.request('GET', '/v1.0/routes/11111111-1111-4111-8111-111111111111'));
    note(await t.request('DELETE', `/v1.0/providers/${p.id}`));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('reject') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('down') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('refuse') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: { ...setup('ok'), carrier: 'bandwidth' } }));
    note(await unconfigured.request('POST', '/v1.0/providers/setup', { body: setup('ok') }));
    note(await t.request('GET', '/v1.0/providers', { token: null }));
    note(await t.request('GET', '/v1.0/providers', { token: 'x.y.z' }));
    note(await t.request('GET', '/v1.0/providers', { token: agentToken }));
    for (let i = 0; i < 3; i++) note(await t.request('POST', '/auth/login', { token: null, body: { username: 'admin', password: 'nope' } }));
    sqliteDb(t.engine.store).close();
    note(await t.request('GET', '/healthz', { token: null }));

    expect([...seen.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const reason of SPEC_REASONS) expect(seen.has(reason), reason).toBe(true);
    expect(Object.fromEntries(seen)).toMatchObject({
      PROVIDER_IN_USE: 409, CARRIER_CREDENTIALS_REJECTED: 422, CARRIER_UNAVAILABLE: 503, CARRIER_REQUEST_FAILED: 422,
      UNSUPPORTED_CARRIER: 400, SETUP_NOT_CONFIGURED: 409, RATE_LIMIT_EXCEEDED: 429, INTERNAL: 500, PERMISSION_DENIED: 403,
    });
  });
});
