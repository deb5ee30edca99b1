import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ApiError, type ErrorReason } from '../errors.ts';
import type { Logger } from '../log/logger.ts';
import { envelopeOf } from './error-handler.ts';
import { redactUrl } from './log-redaction.ts';
import { newRequestId, requestIdOf, SECURITY_HEADERS } from './request-context.ts';

/**
 * Refusals that happen before a request reaches a route: the router cannot decode the URL, the
 * HTTP parser refuses the bytes, the headers or body do not arrive in time. They leave in the
 * same envelope as every other error, with a request id and one log line (docs/api.md, "Errors").
 */

const FRAMEWORK_REASONS: Record<string, ErrorReason> = {
  FST_ERR_BAD_URL: 'INVALID_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
};

/** fastify's `frameworkErrors`: the router's refusals, with a request and a reply already made. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const reason = FRAMEWORK_REASONS[error.code] ?? 'INTERNAL';
  const apiError = new ApiError(reason);
  request.log.info(
    { reason, status: apiError.httpCode, method: request.method, url: redactUrl(request.raw.url ?? ''), remote: request.ip },
    'request refused',
  );
  void reply
    .code(apiError.httpCode)
    .headers({ ...SECURITY_HEADERS, 'X-Request-Id': request.id })
    .type('application/json')
    .send(envelopeOf(apiError, request.id));
}

const CLIENT_ERROR_REASONS: Record<string, ErrorReason> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
};

/** Node's `clientError` (fastify's `clientErrorHandler`): only a socket, no request object. */
export function createClientErrorHandler(logger: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const reason = CLIENT_ERROR_REASONS[err.code ?? ''] ?? 'MALFORMED_REQUEST';
    const apiError = new ApiError(reason);
    // A request whose headers did arrive (its body did not) is answered under its own X-Request-Id.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean; req?: IncomingMessage } })._httpMessage;
    const requestId = inFlight?.req ? requestIdOf(inFlight.req) : newRequestId();
    logger.info({ request_id: requestId, reason, status: apiError.httpCode, code: err.code, remote: socket.remoteAddress }, 'request refused');
    // As Node's own handler: answer only if no response has started on this connection.
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(envelopeOf(apiError, requestId));
      const headers = {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
        'X-Request-Id': requestId,
        ...SECURITY_HEADERS,
        Connection: 'close',
      };
      const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${apiError.httpCode} ${STATUS_CODES[apiError.httpCode] ?? 'Bad Request'}\r\n${head}\r\n${body}`);
    } else {
      socket.destroy();
    }
  };
}

