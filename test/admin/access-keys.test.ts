import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_SENTINEL } from '../../src/routing/model.ts';
import { parseMicros } from '../../src/store/clock.ts';
import { Permission } from '../../src/store/store.ts';
import { ADMIN_PASSWORD, providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const KEY_FIELDS = ['id', 'agent_id', 'name', 'detail', 'token_prefix', 'tm_expire', 'tm_create', 'tm_update', 'tm_delete'].sort();

async function get(e: TestEngine, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${e.base}${path}`, { headers });
  return { status: r.status, body: (await r.json()) as { error?: { reason: string; message: string }; result?: unknown[] } };
}

describe('access keys end to end', () => {
  it('shows the key once, stores only its hash, and authenticates with it as ?accesskey= and as a cookie', async () => {
    t = await startTestEngine();
    const admin = (await t.engine.store.agents.findByUsername('admin'))!;
    const created = await t.request('POST', '/v1.0/accesskeys', { body: { name: 'ci', detail: 'for the pipeline' } });
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const key = created.body.token as string;
    expect(key).toMatch(/^od_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ name: 'ci', detail: 'for the pipeline', agent_id: admin.id, token_prefix: key.slice(0, 11), tm_expire: LIVE_SENTINEL });

    // Never again: GET, list and the database show the prefix, not the key.
    const got = await t.request('GET', `/v1.0/accesskeys/${created.body.id}`);
    expect(Object.keys(got.body).sort()).toEqual(KEY_FIELDS);
    expect(got.text).not.toContain(key);
    const list = await t.request('GET', '/v1.0/accesskeys');
    expect(list.body.result.map((k: { id: string }) => k.id)).toEqual([created.body.id]);
    expect(list.text).not.toContain(key);
    const rows = (await t.db.rows('access_keys')) as Array<{ token_hash: string }>;
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(key).digest('hex'));
    // Nowhere in the database's files either (SQLite's file; PostgreSQL's tables and its WAL).
    expect(await t.db.onDisk(Buffer.from(key.slice(3)))).toBe(false);
    expect(await t.db.onDisk(Buffer.from(rows[0]!.token_hash))).toBe(true);

    expect((await get(t, `/v1.0/providers?accesskey=${key}`)).status).toBe(200);
    expect((await get(t, '/v1.0/providers', { cookie: `accesskey=${key}` })).status).toBe(200);
    expect((await t.request('POST', `/v1.0/providers?accesskey=${key}`, { token: null, body: providerBody() })).status).toBe(200);
    // A password change ends the agent's tokens, not its keys.
    const changed = await t.request('PUT', `/v1.0/agents/${admin.id}/password`, { body: { old_password: ADMIN_PASSWORD, password: 'the next admin password' } });
    expect(changed.status).toBe(200);
    expect((await get(t, `/v1.0/providers?accesskey=${key}`)).status).toBe(200);
    const fresh = await t.login('admin', 'the next admin password');

    const renamed = await t.request('PUT', `/v1.0/accesskeys/${created.body.id}`, { token: fresh, body: { ...got.body, name: 'ci (renamed)' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'ci (renamed)', detail: 'for the pipeline', token_prefix: key.slice(0, 11) });

    const deleted = await t.request('DELETE', `/v1.0/accesskeys/${created.body.id}`, { token: fresh });
    expect(deleted.body.tm_delete).not.toBe(LIVE_SENTINEL);
    const after = await get(t, `/v1.0/providers?accesskey=${key}`);
    expect([after.status, after.body.error?.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect((await t.request('GET', '/v1.0/accesskeys', { token: fresh })).body.result).toEqual([]);
  });

  it('carries its agent’s permission: a CustomerAdmin key manages its own keys, gets 403 elsewhere', async () => {
    t = await startTestEngine();
    const ca = (await t.request('POST', '/v1.0/agents', { body: { username: 'ca', password: 'customer admin pw', permission: Permission.CustomerAdmin } })).body;
    // A ProjectSuperAdmin may make a key for another agent.
    const made = await t.request('POST', '/v1.0/accesskeys', { body: { name: 'for ca', agent_id: ca.id } });
    expect(made.body.agent_id).toBe(ca.id);
    const key = made.body.token as string;
    const denied = await get(t, `/v1.0/providers?accesskey=${key}`);
    expect([denied.status, denied.body.error?.reason]).toEqual([403, 'PERMISSION_DENIED']);
    const own = await get(t, `/v1.0/accesskeys?accesskey=${key}`);
    expect(own.status).toBe(200);
    expect((own.body.result as Array<{ id: string }>).map((k) => k.id)).toEqual([made.body.id]);
    // The admin's own key is invisible to the CustomerAdmin.
    const adminKey = (await t.request('POST', '/v1.0/accesskeys', { body: { name: 'admin' } })).body;
    expect((await get(t, `/v1.0/accesskeys/${adminKey.id}?accesskey=${key}`)).body.error?.reason).toBe('ACCESS_KEY_NOT_FOUND');
    expect((await t.request('GET', '/v1.0/accesskeys')).body.result).toHaveLength(2);
    expect((await t.request('GET', `/v1.0/accesskeys?agent_id=${ca.id}`)).body.result).toHaveLength(1);

    // Deleting the agent ends its keys.
    await t.request('DELETE', `/v1.0/agents/${ca.id}`);
    const gone = await get(t, `/v1.0/accesskeys?accesskey=${key}`);
    expect([gone.status, gone.body.error?.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect((await t.request('GET', `/v1.0/accesskeys/${made.body.id}`)).body.tm_delete).not.toBe(LIVE_SENTINEL);
  });

  it('expires after `expire` seconds', async () => {
    t = await startTestEngine();
    const made = await t.request('POST', '/v1.0/accesskeys', { body: { name: 'short', expire: 1 } });
    const lifetime = parseMicros(made.body.tm_expire)! - parseMicros(made.body.tm_create)!;
    expect(lifetime).toBe(1_000_000);
    const key = made.body.token as string;
    expect((await get(t, `/v1.0/providers?accesskey=${key}`)).status).toBe(200);
    const wait = Math.max(0, parseMicros(made.body.tm_expire)! / 1000 - Date.now()) + 50;
    await new Promise((r) => setTimeout(r, wait));
    const expired = await get(t, `/v1.0/providers?accesskey=${key}`);
    expect([expired.status, expired.body.error?.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect(expired.body.error?.message).toMatch(/expired/);
  });

  it('is a credential like any other in the order: a Bearer header or ?token= beats the accesskey cookie', async () => {
    t = await startTestEngine();
    const key = (await t.request('POST', '/v1.0/accesskeys', { body: {} })).body.token as string;
    const token = await t.login();
    expect((await get(t, '/v1.0/providers', { authorization: `Bearer ${token}`, cookie: 'accesskey=od_planted' })).status).toBe(200);
    expect((await get(t, `/v1.0/providers?accesskey=${key}`, { cookie: 'accesskey=od_planted; token=planted' })).status).toBe(200);
    expect((await get(t, `/v1.0/providers?token=${token}&accesskey=od_bad`)).status).toBe(200);
    expect((await get(t, '/v1.0/providers', { authorization: 'Bearer bad', cookie: `accesskey=${key}` })).body.error?.reason).toBe('INVALID_CREDENTIALS');
  });
});
