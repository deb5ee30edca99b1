import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors.ts';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echo a sane client X-Request-Id, else make one. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && CLIENT_REQUEST_ID.test(given)) return given;
  return `req_${randomUUID()}`;
}

/** `?token=` carries a credential in the URL; it is masked before a URL reaches a log line. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|api_key|password)=)[^&#]*/gi, '$1[redacted]');
}

/**
 * Request ids in the response header, one access log line per request (fastify's own request
 * logging is off because it would log the raw URL), and a JSON body parser for every content
 * type: the seed's clients send JSON, sometimes without the header.
 */
export function installRequestContext(app: FastifyInstance, bodyLimit: number): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
    request.log.info({ method: request.method, url: redactUrl(request.url), remote: request.ip }, 'request received');
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(
        null,
        JSON.parse(text, (key, value: unknown) => {
          // Prototype-poisoning guard (as fastify's secure-json-parse does).
          if (key === '__proto__') throw new SyntaxError(`forbidden key ${key}`);
          return value;
        }),
      );
    } catch {
      done(new ApiError('INVALID_JSON_BODY'), undefined);
    }
  });
}
