import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelnyxAdapter } from '../../src/carrier/telnyx.ts';
import { LIVE_SENTINEL } from '../../src/routing/model.ts';
import { startFakeTelnyx, type FakeTelnyx } from '../support/fake-telnyx.ts';
import { startTestEngine, type TestEngine } from './support/admin-harness.ts';

const run = promisify(execFile);
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const PROVIDER_FIELDS = [
  'id', 'type', 'hostname', 'tech_prefix', 'tech_postfix', 'tech_headers', 'name', 'detail', 'codecs', 'metadata',
  'health_status', 'health_checked_at', 'tm_create', 'tm_update', 'tm_delete',
  // carrier settings (docs/api.md §9): a seed body gets their defaults
  'auth_username', 'auth_password_set', 'register', 'register_expires', 'registration_status', 'registration_checked_at',
  'leading_plus', 'transport', 'max_calls', 'max_cps',
].sort();

let t: TestEngine | undefined;
let fake: FakeTelnyx | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
  t = undefined;
  fake = undefined;
});

describe('the seed tutorial flow over a real socket', () => {
  it('login → create (with and without codecs) → list → get → update codecs → clear codecs → delete', async () => {
    t = await startTestEngine();
    const login = await fetch(`${t.base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(200);
    const { token, username } = (await login.json()) as { token: string; username: string };
    expect(username).toBe('admin');
    expect(login.headers.get('set-cookie')).toMatch(/^token=[^;]+;.*HttpOnly.*SameSite=Strict/i);
    const q = `?token=${encodeURIComponent(token)}`;

    const plain = await t.request('POST', `/v1.0/providers${q}`, {
      token: null,
      body: { type: 'sip', hostname: 'test.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'test domain', detail: 'test domain creation' },
    });
    expect(plain.status).toBe(200);
    expect(Object.keys(plain.body).sort()).toEqual(PROVIDER_FIELDS);
    expect(plain.body).toMatchObject({ type: 'sip', hostname: 'test.com', codecs: '', tech_headers: {}, metadata: {}, health_status: 'unknown', health_checked_at: null, tm_delete: LIVE_SENTINEL });
    // A provider created with the seed's body behaves as before the carrier settings existed.
    expect(plain.body).toMatchObject({ auth_username: '', auth_password_set: false, register: false, register_expires: 3600, registration_status: 'off', registration_checked_at: null, leading_plus: true, transport: 'udp', max_calls: 0, max_cps: 0 });
    expect(plain.body.tm_create).toMatch(TIME);
    expect(plain.body.tm_update).toBe(plain.body.tm_create);

    const withCodecs = await t.request('POST', `/v1.0/providers${q}`, {
      token: null,
      body: { type: 'sip', hostname: 'sip.example.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'example carrier', detail: 'carrier with G.711 codec restriction', codecs: 'PCMU,PCMA' },
    });
    expect(withCodecs.status).toBe(200);
    expect(withCodecs.body.codecs).toBe('PCMU,PCMA');

    const list = await t.request('GET', `/v1.0/providers${q}`, { token: null });
    expect(list.status).toBe(200);
    expect(list.body.result.map((p: { id: string }) => p.id)).toEqual([withCodecs.body.id, plain.body.id]);
    expect(list.body.next_page_token).toBe(plain.body.tm_create);

    const get = await t.request('GET', `/v1.0/providers/${plain.body.id}${q}`, { token: null });
    expect(get.body).toEqual(plain.body);

    const update = { type: 'sip', hostname: 'test.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'telnyx basic', detail: 'telnyx basic' };
    const restricted = await t.request('PUT', `/v1.0/providers/${plain.body.id}${q}`, { token: null, body: { ...update, codecs: 'PCMU,PCMA' } });
    expect(restricted.status).toBe(200);
    expect(restricted.body).toMatchObject({ codecs: 'PCMU,PCMA', name: 'telnyx basic', tm_create: plain.body.tm_create });
    expect(restricted.body.tm_update > plain.body.tm_update).toBe(true);

    const cleared = await t.request('PUT', `/v1.0/providers/${plain.body.id}${q}`, { token: null, body: { ...update, codecs: '' } });
    expect(cleared.body.codecs).toBe('');
    const restricted2 = await t.request('PUT', `/v1.0/providers/${plain.body.id}${q}`, { token: null, body: { ...update, codecs: 'G729' } });
    expect(restricted2.body.codecs).toBe('G729');
    const omitted = await t.request('PUT', `/v1.0/providers/${plain.body.id}${q}`, { token: null, body: update });
    expect(omitted.body.codecs).toBe('');

    const del = await t.request('DELETE', `/v1.0/providers/${plain.body.id}${q}`, { token: null });
    expect(del.status).toBe(200);
    expect(del.body.id).toBe(plain.body.id);
    expect(del.body.tm_delete).toMatch(TIME);
    expect(del.body.tm_delete).not.toBe(LIVE_SENTINEL);
    expect(del.body.tm_update).toBe(del.body.tm_delete);

    const after = await t.request('GET', `/v1.0/providers${q}`, { token: null });
    expect(after.body.result.map((p: { id: string }) => p.id)).toEqual([withCodecs.body.id]);
    const stillThere = await t.request('GET', `/v1.0/providers/${plain.body.id}${q}`, { token: null });
    expect(stillThere.status).toBe(200);
    expect(stillThere.body.tm_delete).toBe(del.body.tm_delete);
  });

  it("runs the seed's own curl commands (host replaced, -k kept)", async () => {
    fake = await startFakeTelnyx({ validKey: 'KEY_01234567890abcdef' });
    t = await startTestEngine({
      overrides: { publicSipAddress: '203.0.113.7:5060', telnyx: { apiUrl: fake.url, timeoutMs: 5000 } },
      carriers: new Map([['telnyx', createTelnyxAdapter({ apiUrl: fake.url, timeoutMs: 5000 })]]),
    });
    const token = await t.login();
    const curl = async (seedCommand: string, id?: string) => {
      let cmd = seedCommand.replaceAll('https://api.voipbin.net', t!.base).replaceAll('<YOUR_AUTH_TOKEN>', token);
      if (id) cmd = cmd.replace(/4dbeabd6-f397-4375-95d2-a38411e07ed1|7efc9379-2d3e-4e54-9d36-23cff676a83e/, id);
      const { stdout } = await run('bash', ['-c', `${cmd} --silent --show-error --write-out '\\n%{http_code}'`], { timeout: 20_000 });
      const lines = stdout.trimEnd().split('\n');
      const status = Number(lines.pop());
      return { status, body: JSON.parse(lines.join('\n')) };
    };

    const setup = await curl(SEED.setup);
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ type: 'sip', hostname: 'sip.telnyx.com', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'My Telnyx Trunk', detail: 'Primary outbound Telnyx SIP trunk', codecs: '' });

    const created = await curl(SEED.create);
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ hostname: 'test.com', codecs: '' });
    const createdCodecs = await curl(SEED.createWithCodecs);
    expect(createdCodecs.body.codecs).toBe('PCMU,PCMA');

    const list = await curl(SEED.list);
    expect(list.status).toBe(200);
    expect(list.body.result).toHaveLength(3);
    const detail = await curl(SEED.detail, created.body.id);
    expect(detail.body.id).toBe(created.body.id);

    expect((await curl(SEED.update, created.body.id)).body).toMatchObject({ hostname: 'sip.telnyx.com', name: 'telnyx basic', codecs: '' });
    expect((await curl(SEED.restrict, created.body.id)).body.codecs).toBe('PCMU,PCMA');
    expect((await curl(SEED.unrestrict, created.body.id)).body.codecs).toBe('');

    const del = await curl(SEED.delete, created.body.id);
    expect(del.status).toBe(200);
    expect(del.body.tm_delete).not.toBe(LIVE_SENTINEL);
    expect((await curl(SEED.list)).body.result).toHaveLength(2);
    expect((await curl(SEED.detail, created.body.id)).body.tm_delete).toBe(del.body.tm_delete);
  });
});

/** Verbatim from the seed's provider-tutorial.txt. */
const SEED = {
  setup: `curl --location --request POST 'https://api.voipbin.net/v1.0/providers/setup?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "carrier": "telnyx",
        "name": "My Telnyx Trunk",
        "detail": "Primary outbound Telnyx SIP trunk",
        "credentials": {
            "api_key": "KEY_01234567890abcdef"
        }
    }'`,
  list: `curl -k --location --request GET 'https://api.voipbin.net/v1.0/providers?token=<YOUR_AUTH_TOKEN>'`,
  detail: `curl -k --location --request GET 'https://api.voipbin.net/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1?token=<YOUR_AUTH_TOKEN>'`,
  create: `curl --location --request POST 'https://api.voipbin.net/v1.0/providers?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "type": "sip",
        "hostname": "test.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "test domain",
        "detail": "test domain creation"
    }'`,
  createWithCodecs: `curl --location --request POST 'https://api.voipbin.net/v1.0/providers?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "type": "sip",
        "hostname": "sip.example.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "example carrier",
        "detail": "carrier with G.711 codec restriction",
        "codecs": "PCMU,PCMA"
    }'`,
  update: `curl --location --request PUT 'https://api.voipbin.net/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "telnyx basic",
        "detail": "telnyx basic"
    }'`,
  restrict: `curl --location --request PUT 'https://api.voipbin.net/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "telnyx basic",
        "detail": "telnyx basic",
        "codecs": "PCMU,PCMA"
    }'`,
  unrestrict: `curl --location --request PUT 'https://api.voipbin.net/v1.0/providers/4dbeabd6-f397-4375-95d2-a38411e07ed1?token=<YOUR_AUTH_TOKEN>' \\
    --header 'Content-Type: application/json' \\
    --data-raw '{
        "type": "sip",
        "hostname": "sip.telnyx.com",
        "tech_prefix": "",
        "tech_postfix": "",
        "tech_headers": {},
        "name": "telnyx basic",
        "detail": "telnyx basic",
        "codecs": ""
    }'`,
  delete: `curl --location --request DELETE 'https://api.voipbin.net/v1.0/providers/7efc9379-2d3e-4e54-9d36-23cff676a83e?token=<YOUR_AUTH_TOKEN>'`,
};
