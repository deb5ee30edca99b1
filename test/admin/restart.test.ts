import { afterEach, describe, expect, it } from 'vitest';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { createTestStorage, type TestStorage } from './support/test-storage.ts';

const storages: TestStorage[] = [];
const engines: TestEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close(true);
  for (const s of storages.splice(0)) await s.remove();
});

async function start(storage: TestStorage, admin?: { password: string }): Promise<TestEngine> {
  const e = await startTestEngine({ storage, ...(admin ? { overrides: { admin } } : {}) });
  engines.push(e);
  return e;
}

async function newStorage(): Promise<TestStorage> {
  const s = await createTestStorage();
  storages.push(s);
  return s;
}

describe('restart on the same database', () => {
  it('keeps providers, routes, and tokens (the generated signing key is stored)', async () => {
    const storage = await newStorage();
    const first = await start(storage);
    const token = await first.login();
    const p = (await first.request('POST', '/v1.0/providers', { token, body: providerBody({ codecs: 'PCMU' }) })).body;
    const r = (await first.request('POST', '/v1.0/routes', { token, body: routeBody(p.id, { target: '+1212' }) })).body;
    await first.close(true);
    engines.splice(engines.indexOf(first), 1);

    const second = await start(storage);
    expect(second.engine.http.port).toBeGreaterThan(0);
    const got = await second.request('GET', `/v1.0/providers/${p.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(p);
    expect((await second.request('GET', `/v1.0/routes/${r.id}`, { token })).body).toEqual(r);
    expect((await second.request('GET', '/v1.0/routes', { token })).body.result).toHaveLength(1);
  });

  it('prints a generated admin password once, on the first start only', async () => {
    const storage = await newStorage();
    const first = await start(storage, { password: '' });
    const printed = first.printed.join('');
    const password = /password: (\S+)/.exec(printed)?.[1];
    expect(password).toBeDefined();
    expect(first.logs.text()).not.toContain(password!);
    const token = await first.login('admin', password!);
    await first.close(true);
    engines.splice(engines.indexOf(first), 1);

    const second = await start(storage, { password: '' });
    expect(second.printed).toEqual([]);
    expect((await second.request('GET', '/v1.0/providers', { token })).status).toBe(200);
    await second.login('admin', password!);
  });
});
