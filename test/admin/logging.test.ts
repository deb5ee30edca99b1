import { afterEach, describe, expect, it } from 'vitest';
import { createTelnyxAdapter } from '../../src/carrier/telnyx.ts';
import { startFakeTelnyx, type FakeTelnyx } from '../support/fake-telnyx.ts';
import { ADMIN_PASSWORD, providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { rawHttp } from './support/raw-http.ts';

const KEY = 'KEY_logging_secret_fedcba9876543210';
const JWT_SECRET = 'logging-test-signing-key-0123456789abcdef';
let t: TestEngine | undefined;
let fake: FakeTelnyx | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

/** Every character percent-encoded: a spelling no substring check of the plain value would catch. */
const percentAll = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** The spellings of a secret a log line could carry it in. */
function spellings(secret: string): string[] {
  return [secret, encodeURIComponent(secret), percentAll(secret), percentAll(secret).toLowerCase(), Buffer.from(secret).toString('base64'), JSON.stringify(secret).slice(1, -1)];
}

describe('logs, captured at debug level and below', () => {
  it('never carry a token, an access key, a password or an API key, whatever the spelling, and every request line has the request id', async () => {
    fake = await startFakeTelnyx({ validKey: KEY });
    t = await startTestEngine({
      overrides: { publicSipAddress: '203.0.113.7:5060', auth: { jwtSecret: JWT_SECRET }, log: { level: 'debug' } },
      carriers: new Map([['telnyx', createTelnyxAdapter({ apiUrl: fake.url, timeoutMs: 5000 })]]),
    });
    expect(t.logs.lines.some((l) => l.level === 20)).toBe(true); // debug lines are captured
    const token = await t.login();
    const base = t.base;
    const send = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init).then(async (r) => ({ status: r.status, text: await r.text() }));
    const json = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

    // Passwords: a failed login, an agent's, a change of one, a Basic header.
    await send('/auth/login', json('POST', { username: 'admin', password: 'a wrong password!' }));
    await send('/auth/login', json('POST', { username: 'a wrong password as user name?', password: ADMIN_PASSWORD }));
    const agent = JSON.parse((await send('/v1.0/agents', json('POST', { username: 'logged', password: 'agent password one', permission: 1 }, { authorization: `Bearer ${token}` }))).text) as { id: string };
    const agentToken = await t.login('logged', 'agent password one');
    await send(`/v1.0/agents/${agent.id}/password`, json('PUT', { old_password: 'agent password one', password: 'agent password two' }, { authorization: `Bearer ${agentToken}` }));
    await send(`/v1.0/agents/${agent.id}/password`, json('PUT', { old_password: 'a wrong old password', password: 'agent password three' }, { authorization: `Bearer ${token}` }));
    await send('/v1.0/providers', { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } });

    // An access key, shown once, then used every way it can travel.
    const created = JSON.parse((await send('/v1.0/accesskeys', json('POST', { name: 'k' }, { authorization: `Bearer ${token}` }))).text) as { token: string };
    const accessKey = created.token;
    for (const path of [
      `/v1.0/providers?accesskey=${accessKey}`,
      `/v1.0/providers?%61ccesskey=${accessKey}`,
      `/v1.0/providers?accesskey=${percentAll(accessKey)}`,
      `/v1.0/providers?ACCESSKEY=${accessKey}`,
      `/v1.0/${accessKey}`,
    ]) await send(path);
    await send('/v1.0/providers', { headers: { cookie: `accesskey=${accessKey}` } });

    // The token in every spelling the query parser accepts (and some it does not).
    for (const path of [
      `/v1.0/providers?token=${token}&page_size=5`,
      `/v1.0/providers?%74oken=${token}`,
      `/v1.0/providers?to%6Ben=${token}`,
      `/v1.0/providers?TOKEN=${token}`,
      `/v1.0/providers?token=${percentAll(token)}`,
      `/v1.0/providers?page_token=${token}`,
      `/v1.0/providers?target=${token}`,
      `/v1.0/nowhere?token=${token}`,
      `/v1.0/${token}`,
      `/v1.0/providers/%zz?token=${token}`,
      `/v1.0/providers/${'a'.repeat(120)}?token=${token}`,
      `/v1.0/providers?${token}`,
      `/v1.0/providers?api_key=${KEY}&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
    ]) await send(path);
    await send('/v1.0/providers', { headers: { cookie: `token=${token}` } });
    await send('/v1.0/providers', { headers: { authorization: `Bearer ${token}x` } });
    await rawHttp(t.engine.http.port, [`GET /v1.0/providers?token=${token}&pad=${'p'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    await rawHttp(t.engine.http.port, [`GET /v1.0/providers?token=${token} HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n`]);

    // The Telnyx key: set up, pasted with blanks, pasted with a break inside, refused by Telnyx.
    const setup = (apiKey: string) => json('POST', { carrier: 'telnyx', name: 'n', detail: 'd', credentials: { api_key: apiKey } }, { authorization: `Bearer ${token}` });
    expect((await send('/v1.0/providers/setup', setup(KEY))).status).toBe(200);
    expect((await send('/v1.0/providers/setup', setup(` ${KEY}\n`))).status).toBe(200);
    const inner = await send('/v1.0/providers/setup', setup(`${KEY.slice(0, 12)}\n${KEY.slice(12)}`));
    expect(inner.status).toBe(400);
    expect((await send('/v1.0/providers/setup', setup(`${KEY}x`))).status).toBe(422);
    expect((await send('/v1.0/providers', json('POST', providerBody(), { authorization: `Bearer ${token}` }))).status).toBe(200);

    const text = t.logs.text();
    const connectionPasswords = fake.requests.filter((r) => r.path === '/fqdn_connections').map((r) => (r.body as { password: string }).password);
    expect(connectionPasswords.length).toBeGreaterThan(0);
    const secrets = [
      KEY, `${KEY}x`, KEY.slice(0, 12), KEY.slice(12), JWT_SECRET,
      ADMIN_PASSWORD, 'a wrong password!', 'a wrong password as user name?', 'agent password one', 'agent password two', 'agent password three', 'a wrong old password',
      token, token.split('.')[2]!, agentToken, agentToken.split('.')[2]!, accessKey, accessKey.slice(11),
      `admin:${ADMIN_PASSWORD}`, ...connectionPasswords,
    ];
    for (const secret of secrets) for (const spelling of spellings(secret)) expect(text, `a log line carries ${spelling.slice(0, 12)}…`).not.toContain(spelling);
    // Error bodies do not echo the API key either.
    for (const spelling of [...spellings(KEY.slice(0, 12)), ...spellings(KEY.slice(12))]) expect(inner.text).not.toContain(spelling);

    expect(text).toContain('token=[redacted]');
    const requestLines = t.logs.lines.filter((l) => typeof l.msg === 'string' && /^request /.test(l.msg));
    expect(requestLines.length).toBeGreaterThan(30);
    for (const l of requestLines) expect(l.request_id).toMatch(/^(req_|[A-Za-z0-9._:-]+$)/);
    // the carrier's own lines carry the request id too
    const telnyxLines = t.logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('telnyx'));
    expect(telnyxLines.length).toBeGreaterThan(0);
    for (const l of telnyxLines) expect(l.request_id).toMatch(/^req_/);
  });
});
