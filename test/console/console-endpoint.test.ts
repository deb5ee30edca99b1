import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_INFO_FILE, isConsoleStale, type BuildInfo } from '../../console/build.ts';
import { consoleEndpoint } from '../../src/admin/console-endpoint.ts';
import { createCapturingLogger } from '../../src/log/logger.ts';
import { startTestEngine, type TestEngine } from '../admin/support/admin-harness.ts';

/** GET /console and its assets, and POST /console/logout, on a real engine over a real socket. */

let t: TestEngine;
let html: string;
beforeAll(async () => {
  t = await startTestEngine();
  const r = await fetch(`${t.base}/console`);
  expect(r.status).toBe(200);
  html = await r.text();
});
afterAll(async () => {
  await t?.close();
});

const assetPaths = () => [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);

describe('the console page', () => {
  it('is served at /console and /console/ with a strict policy and revalidation', async () => {
    for (const path of ['/console', '/console/']) {
      const r = await fetch(`${t.base}${path}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('content-security-policy')).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(await r.text()).toBe(html);
    }
    expect(html).not.toMatch(/<script>|<style>|style=/); // nothing inline: the policy would refuse it
    expect(assetPaths().map((p) => p.replace(/-[A-Z0-9]{8}\./, '-HASH.'))).toEqual(['/console/console-HASH.css', '/console/console-HASH.js']);
  });

  it('serves the content-hashed script and stylesheet for a year, and answers 304 to a matching ETag', async () => {
    for (const path of assetPaths()) {
      const r = await fetch(`${t.base}${path}`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe(path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const again = await fetch(`${t.base}${path}`, { headers: { 'if-none-match': r.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    const head = await fetch(`${t.base}/console`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves nothing else: unknown names, the build record and path tricks are 404 in the API envelope', async () => {
    for (const path of ['/console/nope.js', `/console/${BUILD_INFO_FILE}`, '/console/..%2Fbuild.ts', '/console/%2e%2e', '/console/src/main.tsx']) {
      const r = await fetch(`${t.base}${path}`);
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { error: { reason: string } }).error.reason).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('is not part of the API document', async () => {
    const doc = (await t.request('GET', '/v1.0/openapi.json', { token: null })).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });
});

describe('POST /console/logout', () => {
  it('clears the HttpOnly token cookie', async () => {
    const r = await fetch(`${t.base}/console/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(204);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^token=;/);
    expect(cookie).toMatch(/Expires=Thu, 01 Jan 1970 00:00:00 GMT|Max-Age=0/);
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
  });

  it('refuses a request that a cross-site form could send (no JSON), and clears nothing', async () => {
    for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, {} as Record<string, string>]) {
      // a JSON text, so it is the content type alone that is refused
      const r = await fetch(`${t.base}/console/logout`, { method: 'POST', headers, body: '{}' });
      expect(r.status).toBe(415);
      expect(((await r.json()) as { error: { reason: string } }).error.reason).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(r.headers.get('set-cookie')).toBeNull();
    }
  });
});

describe('a missing or stale build', () => {
  it('is built in memory on the first request and written back for the next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outdial-console-'));
    const logs = createCapturingLogger('info');
    const app = Fastify();
    try {
      await app.register(fastifyCookie);
      await app.register(consoleEndpoint({ logger: logs.logger, dir }));
      expect(isConsoleStale(dir)).toBe(true);
      writeFileSync(join(dir, 'console-OLDBUILD.js'), 'an earlier build');
      const page = await app.inject({ method: 'GET', url: '/console' });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<div id="app"></div>');
      expect(logs.lines.some((l) => l.msg === 'console built')).toBe(true);
      expect(existsSync(join(dir, 'index.html'))).toBe(true);
      expect(readFileSync(join(dir, 'index.html'), 'utf8')).toBe(page.body);
      expect(isConsoleStale(dir)).toBe(false);
      expect(existsSync(join(dir, 'console-OLDBUILD.js'))).toBe(false); // an earlier build's files are removed
      const script = /src="\/console\/([^"]+)"/.exec(page.body)![1]!;
      expect((await app.inject({ method: 'GET', url: `/console/${script}` })).statusCode).toBe(200);

      // a source newer than the build, or one that vanished, makes it stale again
      const info = JSON.parse(readFileSync(join(dir, BUILD_INFO_FILE), 'utf8')) as BuildInfo;
      expect(info.inputs).toContain('console/src/main.tsx');
      writeFileSync(join(dir, BUILD_INFO_FILE), JSON.stringify({ ...info, built_at_ms: 0 }));
      expect(isConsoleStale(dir)).toBe(true);
      writeFileSync(join(dir, BUILD_INFO_FILE), JSON.stringify({ ...info, inputs: [...info.inputs, 'console/src/gone.tsx'] }));
      expect(isConsoleStale(dir)).toBe(true);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
