import { afterEach, describe, expect, it } from 'vitest';
import { createTelnyxAdapter } from '../../src/carrier/telnyx.ts';
import { startFakeTelnyx, type FakeTelnyx } from '../support/fake-telnyx.ts';
import { ADMIN_PASSWORD, providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

const KEY = 'KEY_logging_secret_fedcba9876543210';
let t: TestEngine | undefined;
let fake: FakeTelnyx | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

describe('logs', () => {
  it('never contain the API key, passwords or tokens, and every request line has the request id', async () => {
    fake = await startFakeTelnyx({ validKey: KEY });
    t = await startTestEngine({
      overrides: { publicSipAddress: '203.0.113.7:5060' },
      carriers: new Map([['telnyx', createTelnyxAdapter({ apiUrl: fake.url, timeoutMs: 5000 })]]),
    });
    const token = await t.login();
    await t.login('admin', ADMIN_PASSWORD);
    await fetch(`${t.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'a wrong password!' }) });
    const q = `?token=${token}`;
    expect((await t.request('POST', `/v1.0/providers/setup${q}`, { token: null, body: { carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: KEY } } })).status).toBe(200);
    expect((await t.request('POST', `/v1.0/providers/setup${q}`, { token: null, body: { carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: `${KEY}x` } } })).status).toBe(422);
    expect((await t.request('GET', `/v1.0/providers${q}&page_size=5`, { token: null })).status).toBe(200);
    expect((await t.request('POST', '/v1.0/providers', { token, body: providerBody() })).status).toBe(200);
    await fetch(`${t.base}/v1.0/providers`, { headers: { cookie: `token=${token}` } });
    await t.request('GET', `/v1.0/nowhere${q}`, { token: null });
    await t.request('GET', '/v1.0/providers', { token: 'forged.token.value' });

    const text = t.logs.text();
    for (const secret of [KEY, ADMIN_PASSWORD, 'a wrong password!', token, token.split('.')[2]!]) expect(text).not.toContain(secret);
    expect(text).toContain('token=[redacted]');

    const requestLines = t.logs.lines.filter((l) => typeof l.msg === 'string' && /^request /.test(l.msg));
    expect(requestLines.length).toBeGreaterThan(10);
    for (const l of requestLines) expect(l.request_id).toMatch(/^req_/);
    // the carrier's own lines carry the request id too
    const telnyxLines = t.logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('telnyx'));
    expect(telnyxLines.length).toBeGreaterThan(0);
    for (const l of telnyxLines) expect(l.request_id).toMatch(/^req_/);
  });
});
