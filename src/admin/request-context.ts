import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.ts';
import { fieldReason } from './error-handler.ts';
import { redactUrl } from './log-redaction.ts';
import { findBadString, trimAt } from './string-checks.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Body strings (dotted paths) trimmed before they are checked: pasted keys carry blanks and line breaks. */
    trimStrings?: readonly string[];
  }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echo a sane client X-Request-Id, else make one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && CLIENT_REQUEST_ID.test(given)) return given;
  return newRequestId();
}

export function newRequestId(): string {
  return `req_${randomUUID()}`;
}

/** Sent with every response, errors and early refusals included (docs/api.md, "Transport"). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'X-Content-Type-Options': 'nosniff' };

function parseJsonBody(text: string): unknown {
  return JSON.parse(text, (key, value: unknown) => {
    // Prototype-poisoning guard (as fastify's secure-json-parse does).
    if (key === '__proto__') throw new SyntaxError(`forbidden key ${key}`);
    return value;
  });
}

/** `application/json` with no charset or UTF-8 (RFC 8259 §8.1: JSON text is UTF-8). */
function charsetIsUtf8(request: FastifyRequest): boolean {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(request.headers['content-type'] ?? '');
  return !m || /^utf-?8$/i.test(m[1]!);
}

/**
 * Request ids in the response header, security headers, one access log line per request
 * (fastify's own request logging is off because it would log the raw URL), and the body rules:
 * JSON only, sent as `application/json` (a browser form can post `text/plain` cross-site with
 * the cookie attached, so any other type is refused with 415 before the body is read), clean
 * strings only (string-checks.ts).
 */
export function installRequestContext(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    reply.headers(SECURITY_HEADERS);
    request.log.info({ method: request.method, url: redactUrl(request.url), remote: request.ip }, 'request received');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    if (!charsetIsUtf8(request)) {
      done(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'JSON bodies must be UTF-8; drop the charset parameter or send charset=utf-8'), undefined);
      return;
    }
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJsonBody(text));
    } catch {
      done(new ApiError('INVALID_JSON_BODY'), undefined);
    }
  });

  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) return;
    for (const path of request.routeOptions.config.trimStrings ?? []) trimAt(request.body, path);
    const bad = findBadString(request.body);
    if (bad) {
      // A carrier key with a control character inside is a bad paste, with its own reason.
      const reason = bad.field === 'credentials' ? 'INVALID_API_KEY' : (fieldReason(bad.field) ?? 'INVALID_ARGUMENT');
      throw new ApiError(reason, `${bad.path} ${bad.problem}`);
    }
  });
}
