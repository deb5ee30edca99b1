import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

const dirs: string[] = [];
const engines: TestEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close(true);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, admin?: { password: string }): Promise<TestEngine> {
  const e = await startTestEngine({ dir, ...(admin ? { overrides: { admin } } : {}) });
  engines.push(e);
  return e;
}

describe('restart on the same database file', () => {
  it('keeps providers, routes, and tokens (the generated signing key is stored)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outdial-restart-'));
    dirs.push(dir);
    const first = await start(dir);
    const token = await first.login();
    const p = (await first.request('POST', '/v1.0/providers', { token, body: providerBody({ codecs: 'PCMU' }) })).body;
    const r = (await first.request('POST', '/v1.0/routes', { token, body: routeBody(p.id, { target: '+1212' }) })).body;
    await first.close(true);
    engines.splice(engines.indexOf(first), 1);

    const second = await start(dir);
    expect(second.engine.http.port).toBeGreaterThan(0);
    const got = await second.request('GET', `/v1.0/providers/${p.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(p);
    expect((await second.request('GET', `/v1.0/routes/${r.id}`, { token })).body).toEqual(r);
    expect((await second.request('GET', '/v1.0/routes', { token })).body.result).toHaveLength(1);
  });

  it('prints a generated admin password once, on the first start only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outdial-restart-'));
    dirs.push(dir);
    const first = await start(dir, { password: '' });
    const printed = first.printed.join('');
    const password = /password: (\S+)/.exec(printed)?.[1];
    expect(password).toBeDefined();
    expect(first.logs.text()).not.toContain(password!);
    const token = await first.login('admin', password!);
    await first.close(true);
    engines.splice(engines.indexOf(first), 1);

    const second = await start(dir, { password: '' });
    expect(second.printed).toEqual([]);
    expect((await second.request('GET', '/v1.0/providers', { token })).status).toBe(200);
    await second.login('admin', password!);
  });
});
