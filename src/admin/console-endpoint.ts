import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BUILD_INFO_FILE, CONSOLE_DIST_DIR, buildConsole, isConsoleStale, writeConsole, type BuildInfo, type BuiltFile } from '../../console/build.ts';
import { ApiError } from '../errors.ts';
import type { Logger } from '../log/logger.ts';

/**
 * The admin console at /console (docs/console.md): the built single-page app, served from memory
 * with strict security headers, and POST /console/logout, which clears the HttpOnly `token`
 * cookie that a script cannot clear. Everything else the console does goes through the public
 * admin API; none of these routes is part of it (they are left out of the OpenAPI document).
 */

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** content-hashed names never change: cached for a year; index.html is revalidated */
  immutable: boolean;
}

type Assets = ReadonlyMap<string, Asset>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Only this origin's script and style; no inline script, no framing, no plugins. The API and the
 * console share the origin, so `connect-src 'self'` is all fetch needs.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function assetsOf(files: readonly BuiltFile[]): Assets {
  const assets = new Map<string, Asset>();
  for (const f of files) {
    if (f.name === BUILD_INFO_FILE) continue;
    const ext = f.name.slice(f.name.lastIndexOf('.'));
    const body = Buffer.from(f.contents);
    assets.set(f.name, {
      body,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: f.name !== 'index.html',
    });
  }
  return assets;
}

function readBuilt(dir: string): BuiltFile[] {
  const info = JSON.parse(readFileSync(join(dir, BUILD_INFO_FILE), 'utf8')) as BuildInfo;
  return info.files.map((name) => ({ name, contents: readFileSync(join(dir, name)) }));
}

/**
 * The built console: `npm run build:console` (run by `npm ci` through `prepare`, and by
 * `npm run build`) leaves it in console/dist. When that output is missing or older than its
 * sources, the console is built here in memory, and written back for the next start when the
 * folder is writable.
 */
async function loadAssets(dir: string, logger: Logger): Promise<Assets> {
  if (!isConsoleStale(dir)) return assetsOf(readBuilt(dir));
  const files = await buildConsole();
  try {
    writeConsole(files, dir);
  } catch (err) {
    logger.warn({ err, dir }, 'console output not written');
  }
  logger.info({ dir, files: files.length }, 'console built');
  return assetsOf(files);
}

export interface ConsoleEndpointOptions {
  logger: Logger;
  /** the built console; default console/dist */
  dir?: string;
}

export function consoleEndpoint(options: ConsoleEndpointOptions): FastifyPluginAsync {
  const dir = options.dir ?? CONSOLE_DIST_DIR;
  let loading: Promise<Assets> | undefined;
  const assets = (): Promise<Assets> => {
    loading ??= loadAssets(dir, options.logger).catch((err: unknown) => {
      loading = undefined; // try again on the next request (e.g. after `npm run build:console`)
      options.logger.error({ err, dir }, 'console build failed');
      throw new ApiError('INTERNAL', 'the console is not built; run `npm run build:console`');
    });
    return loading;
  };

  const send = async (request: FastifyRequest, reply: FastifyReply, name: string) => {
    const asset = (await assets()).get(name);
    if (!asset) return reply.callNotFound();
    reply
      .header('X-Content-Type-Options', 'nosniff')
      .header('ETag', asset.etag)
      .header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (name === 'index.html') {
      reply
        .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
        .header('X-Frame-Options', 'DENY')
        .header('Referrer-Policy', 'no-referrer')
        .header('Cross-Origin-Opener-Policy', 'same-origin');
    }
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  return async (app) => {
    // `/console/` is the same route (the app ignores trailing slashes); asset URLs are absolute.
    app.get('/console', { schema: { hide: true } }, (request, reply) => send(request, reply, 'index.html'));
    app.get<{ Params: { asset: string } }>('/console/:asset', { schema: { hide: true } }, (request, reply) => send(request, reply, request.params.asset));

    // A JSON body is required, so a cross-site form (which cannot send one) cannot log the admin out.
    app.post('/console/logout', { schema: { hide: true } }, async (request, reply) => {
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'logout takes a JSON request body (Content-Type: application/json)');
      }
      reply.clearCookie('token', { path: '/', httpOnly: true, sameSite: 'strict' }).header('Cache-Control', 'no-store');
      request.log.info('logout succeeded');
      return reply.code(204).send();
    });
  };
}
