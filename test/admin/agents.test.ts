import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_SENTINEL } from '../../src/routing/model.ts';
import { Permission } from '../../src/store/store.ts';
import { ADMIN_PASSWORD, providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

let t: TestEngine | undefined;
let second: TestEngine | undefined;
afterEach(async () => {
  await second?.close(true);
  await t?.close();
  t = undefined;
  second = undefined;
});

const AGENT_FIELDS = ['id', 'username', 'name', 'detail', 'permission', 'tm_create', 'tm_update', 'tm_delete'].sort();
const UNKNOWN = '11111111-2222-4333-8444-555555555555';

async function bearer(e: TestEngine, method: string, path: string, token: string, body?: unknown) {
  return e.request(method, path, { token, ...(body === undefined ? {} : { body }) });
}

describe('agents end to end', () => {
  it('create → log in → list → get → update → permission → delete, the password never shown', async () => {
    t = await startTestEngine();
    const created = await t.request('POST', '/v1.0/agents', {
      body: { username: 'alice', password: 'alice secret password', name: 'Alice', detail: 'ops', permission: Permission.ProjectSuperAdmin },
    });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(AGENT_FIELDS);
    expect(created.body).toMatchObject({ username: 'alice', name: 'Alice', detail: 'ops', permission: 1, tm_delete: LIVE_SENTINEL });
    expect(created.text).not.toContain('alice secret password');
    expect(created.text).not.toContain('scrypt');

    const alice = await t.login('alice', 'alice secret password');
    expect((await bearer(t, 'GET', '/v1.0/providers', alice)).status).toBe(200);

    const list = await t.request('GET', '/v1.0/agents');
    expect(list.body.result.map((a: { username: string }) => a.username)).toEqual(['alice', 'admin']);
    for (const a of list.body.result) expect(Object.keys(a).sort()).toEqual(AGENT_FIELDS);
    expect((await t.request('GET', `/v1.0/agents/${created.body.id}`)).body).toEqual(created.body);

    const updated = await t.request('PUT', `/v1.0/agents/${created.body.id}`, { body: { name: 'Alice A.', detail: '' } });
    expect(updated.body).toMatchObject({ name: 'Alice A.', detail: '', permission: 1 });
    expect(updated.body.tm_update > created.body.tm_update).toBe(true);
    const demoted = await t.request('PUT', `/v1.0/agents/${created.body.id}/permission`, { body: { permission: Permission.CustomerAdmin } });
    expect(demoted.body.permission).toBe(Permission.CustomerAdmin);
    expect((await bearer(t, 'GET', '/v1.0/providers', alice)).body.error.reason).toBe('PERMISSION_DENIED');

    const deleted = await t.request('DELETE', `/v1.0/agents/${created.body.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.tm_delete).not.toBe(LIVE_SENTINEL);
    expect((await t.request('GET', '/v1.0/agents')).body.result.map((a: { username: string }) => a.username)).toEqual(['admin']);
    // Deleted agents stay readable by id, as providers do.
    expect((await t.request('GET', `/v1.0/agents/${created.body.id}`)).body.tm_delete).toBe(deleted.body.tm_delete);
    // The hash is all the database holds.
    expect(JSON.stringify(await t.db.rows('agents'))).not.toContain('alice secret password');
  });

  it('a GET → edit → PUT round trip of an agent works; the username cannot change', async () => {
    t = await startTestEngine();
    const a = (await t.request('POST', '/v1.0/agents', { body: { username: 'bob', password: 'bob secret password', permission: 0 } })).body;
    const got = (await t.request('GET', `/v1.0/agents/${a.id}`)).body;
    const put = await t.request('PUT', `/v1.0/agents/${a.id}`, { body: { ...got, name: 'Bob' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: a.id, username: 'bob', name: 'Bob', permission: 0, tm_create: a.tm_create });
    const renamed = await t.request('PUT', `/v1.0/agents/${a.id}`, { body: { ...got, username: 'robert' } });
    expect([renamed.status, renamed.body.error.reason]).toEqual([400, 'INVALID_ARGUMENT']);
  });

  it('a deleted username can be taken again; a live one cannot', async () => {
    t = await startTestEngine();
    const first = (await t.request('POST', '/v1.0/agents', { body: { username: 'carol', password: 'carol secret password', permission: 0 } })).body;
    const twice = await t.request('POST', '/v1.0/agents', { body: { username: 'carol', password: 'carol secret password', permission: 0 } });
    expect([twice.status, twice.body.error.reason]).toEqual([409, 'AGENT_EXISTS']);
    await t.request('DELETE', `/v1.0/agents/${first.id}`);
    const again = await t.request('POST', '/v1.0/agents', { body: { username: 'carol', password: 'another carol password', permission: 0 } });
    expect(again.status).toBe(200);
    expect(again.body.id).not.toBe(first.id);
    await t.login('carol', 'another carol password');
  });

  it('refuses to delete or demote the last ProjectSuperAdmin, allows it once there is another', async () => {
    t = await startTestEngine();
    const admin = (await t.engine.store.agents.findByUsername('admin'))!;
    const del = await t.request('DELETE', `/v1.0/agents/${admin.id}`);
    expect([del.status, del.body.error.status, del.body.error.reason]).toEqual([409, 'FAILED_PRECONDITION', 'LAST_PROJECT_SUPER_ADMIN']);
    const demote = await t.request('PUT', `/v1.0/agents/${admin.id}/permission`, { body: { permission: Permission.CustomerAll } });
    expect(demote.body.error.reason).toBe('LAST_PROJECT_SUPER_ADMIN');
    // A ProjectAll agent (0x000F) carries the ProjectSuperAdmin bit too.
    const second = (await t.request('POST', '/v1.0/agents', { body: { username: 'dave', password: 'dave secret password', permission: Permission.ProjectAll } })).body;
    expect((await t.request('PUT', `/v1.0/agents/${admin.id}/permission`, { body: { permission: Permission.CustomerAll } })).status).toBe(200);
    const dave = await t.login('dave', 'dave secret password');
    expect((await bearer(t, 'DELETE', `/v1.0/agents/${second.id}`, dave)).body.error.reason).toBe('LAST_PROJECT_SUPER_ADMIN');
  });

  it("refuses the token of a deleted agent, and tokens issued before the agent's password changed", async () => {
    t = await startTestEngine();
    const erin = (await t.request('POST', '/v1.0/agents', { body: { username: 'erin', password: 'erin secret password', permission: 1 } })).body;
    const before = await t.login('erin', 'erin secret password');
    const cookieBefore = `token=${before}`;
    expect((await t.request('GET', '/v1.0/providers', { token: null, headers: { cookie: cookieBefore } })).status).toBe(200);

    // Her own change, with the old password.
    const changed = await bearer(t, 'PUT', `/v1.0/agents/${erin.id}/password`, before, { old_password: 'erin secret password', password: 'erin new password!' });
    expect(changed.status).toBe(200);
    expect(Object.keys(changed.body).sort()).toEqual(AGENT_FIELDS);
    for (const r of [await bearer(t, 'GET', '/v1.0/providers', before), await t.request('GET', '/v1.0/providers', { token: null, headers: { cookie: cookieBefore } })]) {
      expect([r.status, r.body.error.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
      expect(r.body.error.message).toMatch(/password was changed/);
    }
    await expect(t.login('erin', 'erin secret password')).rejects.toThrow(/401/);
    const after = await t.login('erin', 'erin new password!');
    expect((await bearer(t, 'GET', '/v1.0/providers', after)).status).toBe(200);

    // An admin resetting it (no old password needed) ends her sessions too.
    expect((await t.request('PUT', `/v1.0/agents/${erin.id}/password`, { body: { password: 'reset by the admin' } })).status).toBe(200);
    expect((await bearer(t, 'GET', '/v1.0/providers', after)).status).toBe(401);
    const reset = await t.login('erin', 'reset by the admin');

    await t.request('DELETE', `/v1.0/agents/${erin.id}`);
    const gone = await bearer(t, 'GET', '/v1.0/providers', reset);
    expect([gone.status, gone.body.error.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(gone.body.error.message).toMatch(/no longer exists/);
    await expect(t.login('erin', 'reset by the admin')).rejects.toThrow(/401/);
  });

  it('lets a CustomerAdmin change its own password (with the old one), nothing else', async () => {
    t = await startTestEngine();
    const frank = (await t.request('POST', '/v1.0/agents', { body: { username: 'frank', password: 'frank secret password', permission: Permission.CustomerAdmin } })).body;
    const token = await t.login('frank', 'frank secret password');
    const wrong = await bearer(t, 'PUT', `/v1.0/agents/${frank.id}/password`, token, { old_password: 'not it', password: 'frank new password' });
    expect([wrong.status, wrong.body.error.reason]).toEqual([400, 'INVALID_OLD_PASSWORD']);
    const ok = await bearer(t, 'PUT', `/v1.0/agents/${frank.id}/password`, token, { old_password: 'frank secret password', password: 'frank new password' });
    expect(ok.status).toBe(200);
    await t.login('frank', 'frank new password');
  });
});

describe('two instances on one database at once', () => {
  it('one username, one winner; two ProjectSuperAdmins demoting each other leave one', async () => {
    t = await startTestEngine();
    second = await startTestEngine({ storage: t.storage });
    const token = await t.login();
    const body = { username: 'grace', password: 'grace secret password', permission: 0 };
    const made = await Promise.all([t.request('POST', '/v1.0/agents', { token, body }), second.request('POST', '/v1.0/agents', { token, body })]);
    expect(made.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(made.find((r) => r.status === 409)!.body.error.reason).toBe('AGENT_EXISTS');

    const admin = (await t.engine.store.agents.findByUsername('admin'))!;
    const heidi = (await t.request('POST', '/v1.0/agents', { token, body: { username: 'heidi', password: 'heidi secret password', permission: Permission.ProjectSuperAdmin } })).body;
    const heidiToken = await second.login('heidi', 'heidi secret password');
    const demotions = await Promise.all([
      t.request('PUT', `/v1.0/agents/${heidi.id}/permission`, { token, body: { permission: Permission.CustomerAll } }),
      second.request('PUT', `/v1.0/agents/${admin.id}/permission`, { token: heidiToken, body: { permission: Permission.CustomerAll } }),
    ]);
    // The second to reach the store finds the other demoted already (409), or, if it arrives
    // after that demotion took effect, is no longer allowed to ask (403).
    const [won, lost] = demotions[0].status === 200 ? demotions : [demotions[1], demotions[0]];
    expect(won.status).toBe(200);
    expect([[409, 'LAST_PROJECT_SUPER_ADMIN'], [403, 'PERMISSION_DENIED']]).toContainEqual([lost.status, lost.body.error.reason]);
    const live = (await t.request('GET', '/v1.0/agents', { token: won === demotions[0] ? token : heidiToken })).body.result as Array<{ permission: number }>;
    expect(live.filter((a) => (a.permission & Permission.ProjectSuperAdmin) !== 0)).toHaveLength(1);
  });
});

describe('a CustomerAdmin agent', () => {
  it('gets 403 PERMISSION_DENIED on every provider, route, dialroute and agent endpoint, and nothing changes', async () => {
    t = await startTestEngine();
    const p = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    const r = (await t.request('POST', '/v1.0/routes', { body: routeBody(p.id) })).body;
    const admin = (await t.engine.store.agents.findByUsername('admin'))!;
    const ca = (await t.request('POST', '/v1.0/agents', { body: { username: 'customer-admin', password: 'customer admin pw', permission: Permission.CustomerAdmin } })).body;
    const token = await t.login('customer-admin', 'customer admin pw');
    const key = (await bearer(t, 'POST', '/v1.0/accesskeys', token, { name: 'ca key' })).body.token as string;
    const setup = { carrier: 'telnyx', name: 'n', credentials: { api_key: 'KEY' } };

    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', '/v1.0/providers'],
      ['POST', '/v1.0/providers', providerBody()],
      ['GET', `/v1.0/providers/${p.id}`],
      ['PUT', `/v1.0/providers/${p.id}`, providerBody({ name: 'taken over' })],
      ['DELETE', `/v1.0/providers/${p.id}`],
      ['POST', '/v1.0/providers/setup', setup],
      ['GET', '/v1.0/routes'],
      ['POST', '/v1.0/routes', routeBody(p.id)],
      ['GET', `/v1.0/routes/${r.id}`],
      ['PUT', `/v1.0/routes/${r.id}`, { provider_id: p.id, priority: 9, target: 'all' }],
      ['DELETE', `/v1.0/routes/${r.id}`],
      ['GET', '/v1.0/dialroutes?target=%2B15551234567'],
      ['GET', '/v1.0/agents'],
      ['POST', '/v1.0/agents', { username: 'mine', password: 'a long password!', permission: 0xffff }],
      ['GET', `/v1.0/agents/${admin.id}`],
      ['GET', `/v1.0/agents/${ca.id}`],
      ['PUT', `/v1.0/agents/${ca.id}`, { name: 'x', permission: 1 }],
      ['PUT', `/v1.0/agents/${ca.id}/permission`, { permission: 1 }],
      ['PUT', `/v1.0/agents/${admin.id}/password`, { password: 'taken over password' }],
      ['DELETE', `/v1.0/agents/${admin.id}`],
      ['GET', `/v1.0/agents/${UNKNOWN}`],
    ];
    const fingerprint = async () => JSON.stringify(await Promise.all(['providers', 'routes', 'agents'].map((table) => t!.db.rows(table))));
    const before = await fingerprint();
    for (const [method, path, body] of endpoints) {
      for (const credential of [{ token }, { token: null, query: `accesskey=${key}` }]) {
        const url = credential.query ? `${path}${path.includes('?') ? '&' : '?'}${credential.query}` : path;
        const res = await t.request(method, url, { token: credential.token, ...(body === undefined ? {} : { body }) });
        expect([`${method} ${path}`, res.status, res.body?.error?.reason]).toEqual([`${method} ${path}`, 403, 'PERMISSION_DENIED']);
      }
    }
    expect(await fingerprint()).toBe(before);
    await t.login('admin', ADMIN_PASSWORD);
  });
});
