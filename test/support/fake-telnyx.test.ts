import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTelnyx, type FakeTelnyx } from './fake-telnyx.ts';

let fake: FakeTelnyx;

beforeEach(async () => {
  fake = await startFakeTelnyx();
});

afterEach(async () => {
  await fake.close();
});

async function api(method: string, path: string, body?: unknown, key = fake.validKey): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const firstError = (json: Record<string, unknown>) => (json.errors as Array<Record<string, unknown>>)[0]!;

describe('fake Telnyx', () => {
  it('answers a wrong key with a Telnyx-style 401 and records the request', async () => {
    const { status, json } = await api('GET', '/whoami', undefined, 'KEY_nope');
    expect(status).toBe(401);
    expect(firstError(json)).toMatchObject({ code: '10009', title: 'Authentication failed' });
    expect(fake.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/whoami' })]);
  });

  it.each([
    ['/outbound_voice_profiles', {}, '/name'],
    ['/fqdn_connections', {}, '/connection_name'],
    ['/fqdns', { fqdn: 'a.example', dns_record_type: 'a' }, '/connection_id'],
    ['/fqdns', { connection_id: '1', fqdn: 'a.example', dns_record_type: 'a' }, '/connection_id'],
    ['/fqdn_connections', { connection_name: 'x', outbound: { outbound_voice_profile_id: '42' } }, '/outbound/outbound_voice_profile_id'],
  ])('POST %s %j → 422 pointing at %s', async (path, body, pointer) => {
    const { status, json } = await api('POST', path, body);
    expect(status).toBe(422);
    expect(firstError(json).source).toEqual({ pointer });
  });

  it('creates linked objects and refuses to delete one still in use', async () => {
    const profile = await api('POST', '/outbound_voice_profiles', { name: 'p', whitelisted_destinations: ['US'] });
    expect(profile.status).toBe(200);
    const profileId = (profile.json.data as { id: string }).id;
    expect(profileId).toMatch(/^\d{19}$/);
    const conn = await api('POST', '/fqdn_connections', { connection_name: 'c', outbound: { outbound_voice_profile_id: profileId } });
    expect(conn.status).toBe(201);
    const connId = (conn.json.data as { id: string }).id;

    const inUse = await api('DELETE', `/outbound_voice_profiles/${profileId}`);
    expect(inUse.status).toBe(422);
    expect(firstError(inUse.json).code).toBe('10021');

    expect((await api('DELETE', `/fqdn_connections/${connId}`)).status).toBe(200);
    expect((await api('DELETE', `/outbound_voice_profiles/${profileId}`)).status).toBe(200);
    expect((await api('DELETE', `/outbound_voice_profiles/${profileId}`)).status).toBe(404);
    expect(fake.objects()).toEqual({ profiles: [], connections: [], fqdns: [] });
  });

  it('refuses configured countries with one pointer per country', async () => {
    fake.refuseCountries(['AC', 'TA']);
    const { status, json } = await api('POST', '/outbound_voice_profiles', { name: 'p', whitelisted_destinations: ['US', 'AC', 'TA'] });
    expect(status).toBe(422);
    expect((json.errors as Array<{ source: unknown }>).map((e) => e.source)).toEqual([{ pointer: '/whitelisted_destinations/1' }, { pointer: '/whitelisted_destinations/2' }]);
  });

  it('fails the next call to a step once, then behaves again', async () => {
    fake.failNext('whoami', 503);
    expect((await api('GET', '/whoami')).status).toBe(503);
    expect((await api('GET', '/whoami')).status).toBe(200);
  });

  it('closes even while a request hangs', async () => {
    fake.failNext('whoami', 'hang');
    const pending = fetch(`${fake.url}/whoami`, { headers: { authorization: `Bearer ${fake.validKey}` } }).then(
      () => 'answered',
      () => 'aborted',
    );
    await expect.poll(() => fake.requests.length).toBe(1);
    await fake.close();
    expect(await pending).toBe('aborted');
    fake = await startFakeTelnyx(); // afterEach closes this one
  });
});
