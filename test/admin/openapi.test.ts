import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './support/admin-harness.ts';

let t: TestEngine;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- reading an arbitrary JSON document
let doc: any;
beforeAll(async () => {
  t = await startTestEngine();
  const r = await t.request('GET', '/v1.0/openapi.json', { token: null });
  expect(r.status).toBe(200);
  doc = r.body;
});
afterAll(async () => {
  await t?.close();
});

describe('GET /v1.0/openapi.json', () => {
  it('describes every endpoint', () => {
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, m]) => Object.keys(m).map((k) => `${k.toUpperCase()} ${p}`));
    expect(ops.sort()).toEqual([
      'DELETE /v1.0/providers/{id}', 'DELETE /v1.0/routes/{id}', 'GET /healthz', 'GET /metrics', 'GET /v1.0/dialroutes', 'GET /v1.0/providers', 'GET /v1.0/providers/{id}',
      'GET /v1.0/routes', 'GET /v1.0/routes/{id}', 'POST /auth/login', 'POST /v1.0/auth/login', 'POST /v1.0/providers',
      'POST /v1.0/providers/setup', 'POST /v1.0/routes', 'PUT /v1.0/providers/{id}', 'PUT /v1.0/routes/{id}',
      'GET /v1.0/agents', 'GET /v1.0/agents/{id}', 'POST /v1.0/agents', 'PUT /v1.0/agents/{id}', 'PUT /v1.0/agents/{id}/permission',
      'PUT /v1.0/agents/{id}/password', 'DELETE /v1.0/agents/{id}',
      'GET /v1.0/accesskeys', 'GET /v1.0/accesskeys/{id}', 'POST /v1.0/accesskeys', 'PUT /v1.0/accesskeys/{id}', 'DELETE /v1.0/accesskeys/{id}',
      'GET /v1.0/calls', 'GET /v1.0/calls/{id}', 'POST /v1.0/providercalls', 'GET /v1.0/providercalls', 'GET /v1.0/providercalls/{id}',
    ].sort());
    expect(doc.openapi).toMatch(/^3\./);
  });

  it('uses the validation schemas: strict provider body, codecs limit, route target pattern', () => {
    const body = doc.paths['/v1.0/providers'].post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.required).toEqual(expect.arrayContaining(['type', 'hostname']));
    expect(body.properties.codecs.maxLength).toBe(255);
    expect(body.properties.tech_headers.maxProperties).toBe(32);
    const route = doc.paths['/v1.0/routes'].post.requestBody.content['application/json'].schema;
    expect(route.properties.target.pattern).toBe('^(all|\\+[0-9]{1,15})$');
    expect(route.properties.priority.type).toBe('integer');
    const setup = doc.paths['/v1.0/providers/setup'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(setup.properties).sort()).toEqual(['carrier', 'credentials', 'detail', 'name']);
    expect(setup.required).toEqual(expect.arrayContaining(['carrier', 'name', 'credentials']));
  });

  it('describes the round-trip PUT: read-only fields accepted, still no others', () => {
    const put = doc.paths['/v1.0/providers/{id}'].put.requestBody.content['application/json'].schema;
    expect(put.additionalProperties).toBe(false);
    for (const f of ['id', 'metadata', 'health_status', 'health_checked_at', 'registration_status', 'registration_checked_at', 'auth_password_set', 'tm_create', 'tm_update', 'tm_delete']) {
      expect(put.properties[f]?.description, f).toMatch(/read-only/);
    }
    const route = doc.paths['/v1.0/routes/{id}'].put.requestBody.content['application/json'].schema;
    expect(Object.keys(route.properties)).toEqual(expect.arrayContaining(['customer_id', 'id', 'tm_create']));
  });

  it('uses the same schemas for agents and access keys: write-only password, key shown only on create', () => {
    const create = doc.paths['/v1.0/agents'].post.requestBody.content['application/json'].schema;
    expect(create.required).toEqual(expect.arrayContaining(['username', 'password', 'permission']));
    expect(create.properties.password.minLength).toBe(12);
    const agent = doc.paths['/v1.0/agents/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(agent.properties)).not.toContain('password');
    expect(Object.keys(agent.properties)).not.toContain('password_hash');
    const created = doc.paths['/v1.0/accesskeys'].post.responses['200'].content['application/json'].schema;
    expect(Object.keys(created.properties)).toContain('token');
    const got = doc.paths['/v1.0/accesskeys/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(got.properties)).not.toContain('token');
    expect(Object.keys(got.properties)).toContain('token_prefix');
  });

  it('uses the same schemas for call records and provider test calls: filters, strict body, status values', () => {
    const list = doc.paths['/v1.0/calls'].get.parameters.map((p: { name: string }) => p.name);
    expect(list).toEqual(expect.arrayContaining(['page_size', 'page_token', 'customer_id', 'destination', 'outcome', 'status', 'since', 'until']));
    const call = doc.paths['/v1.0/calls/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(call.properties.attempts.items.properties).sort()).toEqual(['duration_ms', 'provider_id', 'reason', 'request_uri', 'route_id', 'started_ms', 'status']);
    const body = doc.paths['/v1.0/providercalls'].post.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.required).toEqual(expect.arrayContaining(['provider_id', 'destination']));
    expect(body.properties.destination.pattern).toBe('^\\+[0-9]{1,15}$');
    const got = doc.paths['/v1.0/providercalls/{id}'].get.responses['200'].content['application/json'].schema;
    expect(got.properties.status.anyOf.map((s: { const?: string; enum?: string[] }) => s.const ?? s.enum?.[0])).toEqual(['calling', 'answered', 'failed', 'timeout']);
    expect(doc.paths['/v1.0/calls'].get.security.map((s: Record<string, unknown>) => Object.keys(s)[0])).toEqual(Object.keys(doc.components.securitySchemes));
  });

  it('documents the error envelope and the credential carriers in the order they are looked at', () => {
    const err = doc.paths['/v1.0/providers/{id}'].get.responses['4XX'] ?? doc.paths['/v1.0/providers/{id}'].get.responses['4xx'];
    expect(err.content['application/json'].schema.properties.error.required).toEqual(expect.arrayContaining(['status', 'reason', 'message', 'request_id']));
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearerToken', 'queryToken', 'queryAccessKey', 'cookieToken', 'cookieAccessKey']);
    expect(doc.paths['/v1.0/providers'].get.security.map((s: Record<string, unknown>) => Object.keys(s)[0])).toEqual(Object.keys(doc.components.securitySchemes));
  });
});
