import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestEngine, type TestEngine } from './support/admin-harness.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function get(e: TestEngine, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${e.base}${path}`, { headers });
  return { status: r.status, body: (await r.json()) as { error?: { reason: string } } };
}

describe('credentials', () => {
  it('accepts the token from the cookie, the query and the Bearer header', async () => {
    t = await startTestEngine();
    const token = await t.login();
    expect((await get(t, '/v1.0/providers', { cookie: `token=${token}` })).status).toBe(200);
    expect((await get(t, `/v1.0/providers?token=${token}`)).status).toBe(200);
    expect((await get(t, '/v1.0/providers', { authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('takes the first credential present: Bearer header, then ?token=, then the cookie', async () => {
    t = await startTestEngine();
    const token = await t.login();
    // A planted or stale cookie never overrides what the client sent on purpose.
    expect((await get(t, '/v1.0/providers', { cookie: 'token=planted', authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await get(t, `/v1.0/providers?token=${token}`, { cookie: 'token=planted' })).status).toBe(200);
    // The header is looked at first: a bad one fails even with a good query token and cookie.
    expect((await get(t, `/v1.0/providers?token=${token}`, { cookie: `token=${token}`, authorization: 'Bearer bad' })).body.error?.reason).toBe('INVALID_CREDENTIALS');
    expect((await get(t, `/v1.0/providers?token=${token}`, { authorization: 'Basic YWRtaW46eA==' })).body.error?.reason).toBe('INVALID_CREDENTIALS');
    // Then the query: a bad ?token= fails even with a good cookie.
    expect((await get(t, '/v1.0/providers?token=bad', { cookie: `token=${token}` })).body.error?.reason).toBe('INVALID_CREDENTIALS');
    // A repeated ?token= is not a credential to pick from.
    expect((await get(t, `/v1.0/providers?token=${token}&token=${token}`)).body.error?.reason).toBe('INVALID_CREDENTIALS');
  });

  it('refuses a correctly signed token without an expiry', async () => {
    t = await startTestEngine({ overrides: { auth: { jwtSecret: 'a-32-byte-signing-key-for-tests!!' } } });
    const agent = (await t.engine.store.agents.findByUsername('admin'))!;
    const key = new TextEncoder().encode('a-32-byte-signing-key-for-tests!!');
    const sign = (withExp: boolean) => {
      const jwt = new SignJWT({ username: 'admin', pwv: 0 }).setProtectedHeader({ alg: 'HS256' }).setSubject(agent.id).setIssuer('outdial').setIssuedAt();
      return (withExp ? jwt.setExpirationTime('1h') : jwt).sign(key);
    };
    expect((await get(t, '/v1.0/providers', { authorization: `Bearer ${await sign(true)}` })).status).toBe(200);
    const r = await get(t, '/v1.0/providers', { authorization: `Bearer ${await sign(false)}` });
    expect([r.status, r.body.error?.reason]).toEqual([401, 'INVALID_CREDENTIALS']);
  });

  it('logs in at /auth/login and /v1.0/auth/login, setting an HttpOnly SameSite=Strict cookie', async () => {
    t = await startTestEngine();
    for (const path of ['/auth/login', '/v1.0/auth/login']) {
      const r = await fetch(`${t.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { username: string; token: string };
      expect(body.username).toBe('admin');
      expect(body.token.split('.')).toHaveLength(3);
      const cookie = r.headers.get('set-cookie') ?? '';
      expect(cookie).toContain(`token=${body.token}`);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).toMatch(/Max-Age=604800/);
      // A token must not sit in a browser or proxy cache.
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('signs HS256 tokens that expire after the configured lifetime', async () => {
    t = await startTestEngine({ overrides: { auth: { tokenTtlSeconds: 3600 } } });
    const token = await t.login();
    const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, number | string>);
    expect(header!.alg).toBe('HS256');
    expect(Number(payload!.exp) - Number(payload!.iat)).toBe(3600);
    expect(payload).not.toHaveProperty('password');
  });

  it('stores only a scrypt hash of the password', async () => {
    t = await startTestEngine();
    const agent = (await t.engine.store.agents.findByUsername('admin'))!;
    expect(agent.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(agent.password_hash).not.toContain(ADMIN_PASSWORD);
  });
});

describe('login rate limit', () => {
  it('counts /auth/login and /v1.0/auth/login in one bucket per client', async () => {
    t = await startTestEngine({ overrides: { auth: { loginRatePerSecond: 1, loginBurst: 4 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const path = i % 2 === 0 ? '/auth/login' : '/v1.0/auth/login';
      const r = await fetch(`${t.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'wrong password' }) });
      statuses.push(r.status);
      await r.body?.cancel();
    }
    // Alternating paths buys no extra attempts: the fifth, on either path, is refused.
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it('answers 429 RATE_LIMIT_EXCEEDED per client IP beyond the burst', async () => {
    t = await startTestEngine({ overrides: { auth: { loginRatePerSecond: 1, loginBurst: 3 } } });
    const statuses: number[] = [];
    let last: { error?: { reason: string; status: string } } = {};
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${t.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'wrong' }) });
      statuses.push(r.status);
      last = (await r.json()) as typeof last;
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(last.error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', reason: 'RATE_LIMIT_EXCEEDED' });
    // other endpoints are not limited by it
    expect((await t.request('GET', '/healthz', { token: null })).status).toBe(200);
  });
});

describe('health', () => {
  it('GET /healthz answers 200 without auth while the database works, 503 STORAGE_UNAVAILABLE when it does not', async () => {
    t = await startTestEngine();
    expect((await t.request('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok', store: { readable: true, writable: true } });
    await t.db.cutOff();
    const r = await t.request('GET', '/healthz', { token: null });
    expect([r.status, r.body.error.reason]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect(r.body.error.details).toEqual({ store: { readable: false, writable: false } });
  });
});

describe('extra endpoints', () => {
  it('sit under /v1.0 behind the same ProjectSuperAdmin check and error envelope', async () => {
    t = await startTestEngine({
      extraEndpoints: [
        async (app) => {
          app.get('/ping', async () => ({ pong: true }));
        },
      ],
    });
    expect((await t.request('GET', '/v1.0/ping')).body).toEqual({ pong: true });
    expect((await t.request('GET', '/v1.0/ping', { token: null })).body.error.reason).toBe('AUTHENTICATION_REQUIRED');
  });
});
