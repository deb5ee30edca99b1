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
  });

  it('documents the error envelope and the three credential carriers', () => {
    const err = doc.paths['/v1.0/providers/{id}'].get.responses['4XX'] ?? doc.paths['/v1.0/providers/{id}'].get.responses['4xx'];
    expect(err.content['application/json'].schema.properties.error.required).toEqual(expect.arrayContaining(['status', 'reason', 'message', 'request_id']));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['bearerToken', 'cookieToken', 'queryToken']);
    expect(doc.paths['/v1.0/providers'].get.security).toHaveLength(3);
  });
});
