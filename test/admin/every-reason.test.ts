import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_TEST_CALLS } from '../../src/call/provider-test-call.ts';
import { CarrierError, type CarrierAdapter } from '../../src/carrier/carrier.ts';
import { ERRORS } from '../../src/errors.ts';
import { SPEC_REASONS } from './support/spec-reasons.ts';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { rawHttp } from './support/raw-http.ts';
import { sqliteDb } from './support/sqlite-db.ts';

/** A carrier whose outcome is chosen by the API key, for provoking each carrier reason. */
const scripted: CarrierAdapter = {
  carrier: 'telnyx',
  async setup(input) {
    if (input.apiKey === 'reject') throw new CarrierError('credentials_rejected', 'whoami 401');
    if (input.apiKey === 'down') throw new CarrierError('unavailable', 'timeout');
    if (input.apiKey === 'refuse') throw new CarrierError('request_failed', 'fqdn 422');
    return { hostname: 'sip.telnyx.com', metadata: { telnyx_connection_id: '1' }, rollback: async () => [] };
  },
};

const engines: TestEngine[] = [];
const sockets: dgram.Socket[] = [];
afterAll(async () => {
  for (const e of engines) await e.close();
  for (const s of sockets) s.close();
});

const UNKNOWN = '11111111-1111-4111-8111-111111111111';

describe('every reason in the registry is reachable over HTTP', () => {
  it('provokes each one', async () => {
    const t = await startTestEngine({
      overrides: { publicSipAddress: '198.51.100.1:5060', auth: { loginRatePerSecond: 1, loginBurst: 6 }, http: { requestTimeoutMs: 400 } },
      carriers: new Map([['telnyx', scripted]]),
    });
    engines.push(t);
    const unconfigured = await startTestEngine({ carriers: new Map([['telnyx', scripted]]) });
    engines.push(unconfigured);
    const seen = new Map<string, number>();
    const note = (r: { status: number | undefined; body: { error?: { reason: string } } | undefined }) => {
      if (r.body?.error) seen.set(r.body.error.reason, r.status!);
    };
    const setup = (key: string) => ({ carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: key } });

    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    await t.request('POST', '/v1.0/routes', { body: routeBody(p.id) });
    const admin = (await t.engine.store.agents.findByUsername('admin'))!;
    const agent = (await t.request('POST', '/v1.0/agents', { body: { username: 'agent', password: 'agent password 1', permission: 0x0010 } })).body;
    expect(agent.permission).toBe(0x0010);
    const agentToken = await t.login('agent', 'agent password 1');
    const tokenOfAdmin = await t.login();

    note(await t.request('POST', '/v1.0/providers', { raw: '{' }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ extra: 1 }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ detail: 'x'.repeat(100_000) }) }));
    note(await t.request('POST', '/v1.0/providers', { raw: '{}', headers: { 'content-type': 'text/plain' } }));
    note(await t.request('GET', '/v1.0/providers/abc'));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ codecs: 'a,,b' }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ tech_headers: { Via: 'x' } }) }));
    note(await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: 'not a host' }) }));
    note(await t.request('GET', `/v1.0/providers/${UNKNOWN}`));
    note(await t.request('GET', `/v1.0/routes/${UNKNOWN}`));
    note(await t.request('GET', `/v1.0/agents/${UNKNOWN}`));
    note(await t.request('GET', `/v1.0/accesskeys/${UNKNOWN}`));
    note(await t.request('GET', `/v1.0/calls/${UNKNOWN}`));
    note(await t.request('GET', `/v1.0/providercalls/${UNKNOWN}`));
    // Test calls to a carrier that never answers stay in progress (the connect timeout), until
    // one more than the limit is refused.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    sockets.push(silent);
    const quiet = (await t.request('POST', '/v1.0/providers', { body: providerBody({ hostname: `127.0.0.1:${silent.address().port}` }) })).body;
    for (let i = 0; i <= MAX_TEST_CALLS; i++) note(await t.request('POST', '/v1.0/providercalls', { body: { provider_id: quiet.id, destination: '+15551234567' } }));
    note(await t.request('DELETE', `/v1.0/providers/${p.id}`));
    note(await t.request('POST', '/v1.0/agents', { body: { username: 'agent', password: 'agent password 2', permission: 0 } }));
    note(await t.request('POST', '/v1.0/agents', { body: { username: 'short', password: 'short', permission: 0 } }));
    note(await t.request('DELETE', `/v1.0/agents/${admin.id}`));
    note(await t.request('PUT', `/v1.0/agents/${admin.id}/password`, { body: { password: 'a new long password', old_password: 'wrong' } }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('KEY with a space') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('reject') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('down') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: setup('refuse') }));
    note(await t.request('POST', '/v1.0/providers/setup', { body: { ...setup('ok'), carrier: 'bandwidth' } }));
    note(await unconfigured.request('POST', '/v1.0/providers/setup', { body: setup('ok') }));
    note(await t.request('GET', '/v1.0/providers', { token: null }));
    note(await t.request('GET', '/v1.0/providers', { token: 'x.y.z' }));
    note(await t.request('GET', '/v1.0/providers', { token: agentToken }));
    // All at once, so they fall in one rate-limit window however slow the password hashing is.
    const logins = await Promise.all(Array.from({ length: 7 }, () => t.request('POST', '/auth/login', { token: null, body: { username: 'admin', password: 'nope' } })));
    for (const r of logins) note(r);
    // Refusals before a route: the router, the HTTP parser, the clock.
    note(await t.request('GET', '/v1.0/providers/%zz', { token: null }));
    note(await t.request('GET', `/v1.0/providers/${'a'.repeat(200)}`, { token: null }));
    note(await t.request('GET', '/v1.0/providers', { token: null, headers: { 'x-padding': 'p'.repeat(20_000) } }));
    note(await rawHttp(t.engine.http.port, ['NOT HTTP AT ALL\r\n\r\n']));
    const slow = await rawHttp(t.engine.http.port, [`POST /v1.0/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tokenOfAdmin}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"user`], { waitMs: 5000 });
    note(slow);
    sqliteDb(t.engine.store).exec("CREATE TRIGGER refuse_providers BEFORE INSERT ON providers BEGIN SELECT RAISE(ABORT, 'refused'); END");
    note(await t.request('POST', '/v1.0/providers', { body: providerBody() }));
    sqliteDb(t.engine.store).close();
    note(await t.request('GET', '/healthz', { token: null }));

    expect([...seen.keys()].sort()).toEqual(Object.keys(ERRORS).sort());
    for (const reason of SPEC_REASONS) expect(seen.has(reason), reason).toBe(true);
    expect(Object.fromEntries(seen)).toMatchObject({
      PROVIDER_IN_USE: 409, CARRIER_CREDENTIALS_REJECTED: 422, CARRIER_UNAVAILABLE: 503, CARRIER_REQUEST_FAILED: 422,
      UNSUPPORTED_CARRIER: 400, SETUP_NOT_CONFIGURED: 409, RATE_LIMIT_EXCEEDED: 429, INTERNAL: 500, PERMISSION_DENIED: 403,
      UNSUPPORTED_MEDIA_TYPE: 415, URL_TOO_LONG: 414, HEADERS_TOO_LARGE: 431, REQUEST_TIMEOUT: 408, MALFORMED_REQUEST: 400,
      INVALID_URL: 400, STORAGE_UNAVAILABLE: 503, AGENT_EXISTS: 409, LAST_PROJECT_SUPER_ADMIN: 409, AGENT_NOT_FOUND: 404,
      ACCESS_KEY_NOT_FOUND: 404, CALL_NOT_FOUND: 404, PROVIDER_CALL_NOT_FOUND: 404, PROVIDER_CALL_LIMIT: 429, INVALID_PASSWORD: 400, INVALID_OLD_PASSWORD: 400, INVALID_API_KEY: 400,
    });
  });
});
