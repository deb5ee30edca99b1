import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerBody, startTestEngine, type TestEngine } from './support/admin-harness.ts';
import { rawHttp } from './support/raw-http.ts';

let t: TestEngine;
let token: string;
beforeAll(async () => {
  t = await startTestEngine({ overrides: { http: { requestTimeoutMs: 500 } } });
  token = await t.login();
});
afterAll(async () => {
  await t?.close();
});

const providerCount = () => t.db.count('providers');
const port = () => t.engine.http.port;

function expectEnvelope(body: { error?: { request_id?: string } } | undefined, requestId: string | null | undefined, reason: string): void {
  expect(body?.error).toMatchObject({ reason, message: expect.any(String), request_id: expect.stringMatching(/^req_/) });
  expect(body!.error!.request_id).toBe(requestId);
}

function logLineOf(requestId: string): Record<string, unknown> | undefined {
  return t.logs.lines.find((l) => l.request_id === requestId && l.msg === 'request refused');
}

describe('the CSRF case: a cross-site form post carrying the cookie', () => {
  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain; charset=utf-8'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['no content type at all', undefined],
  ])('%s → 415 UNSUPPORTED_MEDIA_TYPE, nothing written', async (_label, type) => {
    const before = await providerCount();
    const body = JSON.stringify(providerBody({ name: 'planted' }));
    const headers: Record<string, string> = { cookie: `token=${token}`, 'content-length': String(Buffer.byteLength(body)) };
    if (type) headers['content-type'] = type;
    const res = await fetch(`${t.base}/v1.0/providers`, { method: 'POST', headers, body: Buffer.from(body) });
    const json = (await res.json()) as { error?: { reason: string } };
    expect([res.status, json.error?.reason]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(await providerCount()).toBe(before);
  });

  it('the same request as application/json is what a real client sends, and works', async () => {
    const res = await fetch(`${t.base}/v1.0/providers`, { method: 'POST', headers: { cookie: `token=${token}`, 'content-type': 'application/json; charset=UTF-8' }, body: JSON.stringify(providerBody()) });
    expect(res.status).toBe(200);
  });
});

describe('strings: lone surrogates, invalid UTF-8 and control characters → 400 naming the field', () => {
  it.each([
    ['a tech header value with a lone surrogate', '{"type":"sip","hostname":"a.com","tech_headers":{"X-Trunk":"\\ud83d"}}', 'INVALID_TECH_HEADERS', 'body.tech_headers.X-Trunk'],
    ['a name with a lone surrogate', '{"type":"sip","hostname":"a.com","name":"\\udfff"}', 'INVALID_ARGUMENT', 'body.name'],
    ['a detail with a control character', '{"type":"sip","hostname":"a.com","detail":"bell\\u0007"}', 'INVALID_ARGUMENT', 'body.detail'],
    ['a name with DEL', '{"type":"sip","hostname":"a.com","name":"x\\u007f"}', 'INVALID_ARGUMENT', 'body.name'],
    ['a tech header value with ESC', '{"type":"sip","hostname":"a.com","tech_headers":{"X-A":"\\u001b[31m"}}', 'INVALID_TECH_HEADERS', 'body.tech_headers.X-A'],
  ])('%s', async (_label, raw, reason, field) => {
    const before = await providerCount();
    const r = await t.request('POST', '/v1.0/providers', { raw, token });
    expect([r.status, r.body.error.reason]).toEqual([400, reason]);
    expect(r.body.error.message).toContain(field);
    expect(await providerCount()).toBe(before);
  });

  it('invalid UTF-8 bytes in a name and in a header value', async () => {
    for (const [bytes, field, reason] of [
      [Buffer.concat([Buffer.from('{"type":"sip","hostname":"a.com","name":"ab'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'body.name', 'INVALID_ARGUMENT'],
      [Buffer.concat([Buffer.from('{"type":"sip","hostname":"a.com","tech_headers":{"X-A":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}}')]), 'body.tech_headers.X-A', 'INVALID_TECH_HEADERS'],
    ] as const) {
      const r = await t.request('POST', '/v1.0/providers', { raw: bytes, token });
      expect([r.status, r.body.error.reason]).toEqual([400, reason]);
      expect(r.body.error.message).toContain(field);
      expect(r.body.error.message).toMatch(/UTF-8/);
    }
  });

  it('well-formed text beyond ASCII is fine: emoji (a surrogate pair), accents, CJK', async () => {
    const r = await t.request('POST', '/v1.0/providers', { body: providerBody({ name: 'Zürich 東京 📞', detail: 'çà' }), token });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe('Zürich 東京 📞');
  });
});

describe('time limits on headers and bodies', () => {
  it('a request whose body never finishes is answered 408 and closed', async () => {
    const before = await providerCount();
    const r = await rawHttp(port(), [
      `POST /v1.0/providers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`,
      '{"type":"sip",',
    ], { pauseMs: 50, waitMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.status).toBe(408);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expectEnvelope(r.body, r.headers['x-request-id'], 'REQUEST_TIMEOUT');
    expect(r.body.error.status).toBe('DEADLINE_EXCEEDED');
    expect(await providerCount()).toBe(before);
  });

  it('headers that never end are answered 408 and closed (slowloris)', async () => {
    const r = await rawHttp(port(), ['GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n'], { pauseMs: 100, waitMs: 5000 });
    expect(r.closed).toBe(true);
    expect(r.status).toBe(408);
    expectEnvelope(r.body, r.headers['x-request-id'], 'REQUEST_TIMEOUT');
    expect(logLineOf(r.body.error.request_id)).toMatchObject({ reason: 'REQUEST_TIMEOUT', status: 408 });
  });
});

describe("fastify's early errors leave in the envelope, with a request id and a log line", () => {
  it('bad percent-encoding in the path → 400 INVALID_URL; the token in the query is not logged', async () => {
    const res = await fetch(`${t.base}/v1.0/providers/%E0%A4%A?token=${token}`);
    const body = (await res.json()) as { error: { request_id: string } };
    expect(res.status).toBe(400);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expectEnvelope(body, res.headers.get('x-request-id'), 'INVALID_URL');
    const line = logLineOf(body.error.request_id);
    expect(line).toMatchObject({ reason: 'INVALID_URL', status: 400, method: 'GET' });
    expect(String(line!.url)).toContain('token=[redacted]');
    expect(JSON.stringify(body)).not.toContain(token);
    expect(t.logs.text()).not.toContain(token);
  });

  it('a path segment over the router limit → 414 URL_TOO_LONG', async () => {
    const res = await fetch(`${t.base}/v1.0/providers/${'a'.repeat(150)}`, { headers: { 'x-request-id': 'long-path-1' } });
    const body = (await res.json()) as { error: { request_id: string } };
    expect(res.status).toBe(414);
    expect(body.error).toMatchObject({ reason: 'URL_TOO_LONG', request_id: 'long-path-1' });
    expect(logLineOf('long-path-1')).toMatchObject({ reason: 'URL_TOO_LONG', status: 414 });
  });

  it('a URL longer than the header limit → 431 HEADERS_TOO_LARGE', async () => {
    const r = await rawHttp(port(), [`GET /v1.0/providers?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(r.status).toBe(431);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expectEnvelope(r.body, r.headers['x-request-id'], 'HEADERS_TOO_LARGE');
    expect(logLineOf(r.body.error.request_id)).toMatchObject({ reason: 'HEADERS_TOO_LARGE', status: 431 });
  });

  it('bytes that are not HTTP → 400 MALFORMED_REQUEST', async () => {
    const r = await rawHttp(port(), ['\x16\x03\x01\x02\x00 TLS hello to a plain port\r\n\r\n']);
    expect(r.status).toBe(400);
    expectEnvelope(r.body, r.headers['x-request-id'], 'MALFORMED_REQUEST');
    expect(logLineOf(r.body.error.request_id)).toMatchObject({ reason: 'MALFORMED_REQUEST' });
  });
});

describe('X-Content-Type-Options: nosniff on every response', () => {
  it.each([
    ['GET', '/healthz', undefined, 200],
    ['GET', '/v1.0/openapi.json', undefined, 200],
    ['GET', '/metrics', undefined, 200],
    ['GET', '/v1.0/providers', 'auth', 200],
    ['GET', '/v1.0/providers', undefined, 401],
    ['GET', '/v1.0/nowhere', undefined, 404],
    ['POST', '/auth/login', 'bad-login', 401],
    ['POST', '/v1.0/providers', 'text', 415],
  ])('%s %s → %s', async (method, path, mode, status) => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (mode === 'auth' || mode === 'text') headers.authorization = `Bearer ${token}`;
    if (mode === 'text') {
      headers['content-type'] = 'text/plain';
      body = '{}';
    }
    if (mode === 'bad-login') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ username: 'admin', password: 'not the password' });
    }
    const res = await fetch(`${t.base}${path}`, { method, headers, ...(body ? { body } : {}) });
    await res.arrayBuffer();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
