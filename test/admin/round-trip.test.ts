import { afterEach, describe, expect, it } from 'vitest';
import { providerBody, routeBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const CUSTOMER = '6f1c1a52-4a3f-4c1e-9d7a-1b2c3d4e5f60';

describe('GET → edit → PUT round trip (as VoIPBIN scripts do)', () => {
  it('a provider: the read-only fields a GET returns are accepted and ignored', async () => {
    t = await startTestEngine();
    const created = (await t.request('POST', '/v1.0/providers', { body: providerBody({ codecs: 'PCMU', tech_headers: { 'X-Trunk': '42' } }) })).body;
    await t.engine.store.providers.setHealth(created.id, 'healthy', '2026-01-01T00:00:00.000000Z');
    const got = (await t.request('GET', `/v1.0/providers/${created.id}`)).body;
    expect(got.health_status).toBe('healthy');
    // The fields the carrier-credentials work adds to a GET are read-only too.
    const edited = {
      ...got,
      registration_status: 'off',
      registration_checked_at: null,
      auth_password_set: false,
      name: 'renamed',
      codecs: 'PCMA,PCMU',
      // attempts to write read-only fields: all ignored
      id: '11111111-2222-4333-8444-555555555555',
      metadata: { carrier: 'forged' },
      health_status: 'unhealthy',
      tm_create: '2000-01-01T00:00:00.000000Z',
      tm_delete: '2000-01-01T00:00:00.000000Z',
    };
    const put = await t.request('PUT', `/v1.0/providers/${created.id}`, { body: edited });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id: created.id,
      name: 'renamed',
      codecs: 'PCMA,PCMU',
      tech_headers: { 'X-Trunk': '42' },
      metadata: {},
      health_status: 'healthy',
      health_checked_at: '2026-01-01T00:00:00.000000Z',
      tm_create: created.tm_create,
      tm_delete: created.tm_delete,
    });
    expect(put.body.tm_update > got.tm_update).toBe(true);
    expect((await t.request('GET', `/v1.0/providers/${created.id}`)).body).toEqual(put.body);
    // A plain round trip, unchanged, works too.
    expect((await t.request('PUT', `/v1.0/providers/${created.id}`, { body: put.body })).status).toBe(200);
  });

  it('a provider: any field a GET does not return is still refused, and nothing changes', async () => {
    t = await startTestEngine();
    const got = (await t.request('POST', '/v1.0/providers', { body: providerBody() })).body;
    for (const extra of [{ colour: 'blue' }, { registration: 'x' }, { password: 'x' }, { Name: 'x' }]) {
      const r = await t.request('PUT', `/v1.0/providers/${got.id}`, { body: { ...got, ...extra } });
      expect([r.status, r.body.error.reason]).toEqual([400, 'INVALID_ARGUMENT']);
      expect(r.body.error.message).toContain(Object.keys(extra)[0]);
    }
    expect((await t.request('GET', `/v1.0/providers/${got.id}`)).body).toEqual(got);
  });

  it('a route: the read-only fields and its own customer_id are accepted; another customer_id is refused', async () => {
    t = await startTestEngine();
    const p1 = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'one' }) })).body;
    const p2 = (await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'two' }) })).body;
    const created = (await t.request('POST', '/v1.0/routes', { body: routeBody(p1.id, { customer_id: CUSTOMER, target: '+1' }) })).body;
    const got = (await t.request('GET', `/v1.0/routes/${created.id}`)).body;
    const put = await t.request('PUT', `/v1.0/routes/${created.id}`, {
      body: { ...got, provider_id: p2.id, priority: 7, target: '+1212', customer_id: CUSTOMER.toUpperCase(), tm_create: '2000-01-01T00:00:00.000000Z' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: created.id, customer_id: CUSTOMER, provider_id: p2.id, priority: 7, target: '+1212', tm_create: created.tm_create });
    // The dial plan follows the round trip.
    const plan = await t.request('GET', `/v1.0/dialroutes?target=%2B12125550100&customer_id=${CUSTOMER}`);
    expect(plan.body.result.map((a: { provider: { id: string } }) => a.provider.id)).toEqual([p2.id]);

    const moved = await t.request('PUT', `/v1.0/routes/${created.id}`, { body: { ...put.body, customer_id: '00000000-0000-0000-0000-000000000001' } });
    expect([moved.status, moved.body.error.reason]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(moved.body.error.message).toContain('customer_id');
    const unknown = await t.request('PUT', `/v1.0/routes/${created.id}`, { body: { ...put.body, weight: 3 } });
    expect([unknown.status, unknown.body.error.reason]).toEqual([400, 'INVALID_ARGUMENT']);
    expect((await t.request('GET', `/v1.0/routes/${created.id}`)).body).toEqual(put.body);
  });
});
