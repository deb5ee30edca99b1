import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorReason } from '../errors.ts';
import { redactUrl } from './log-redaction.ts';

/** The envelope every error leaves in (docs/api.md, "Errors"). */
export function envelopeOf(err: ApiError, requestId: string) {
  return {
    error: {
      status: err.status,
      reason: err.reason,
      message: err.message,
      request_id: requestId,
      ...(err.details ? { details: err.details } : {}),
    },
  };
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** A schema failure on these body fields has the field's own reason. */
const BODY_FIELD_REASONS: ReadonlyMap<string, ErrorReason> = new Map([
  ['hostname', 'INVALID_HOSTNAME'],
  ['codecs', 'INVALID_CODECS'],
  ['tech_headers', 'INVALID_TECH_HEADERS'],
  ['provider_id', 'INVALID_ID'],
  ['customer_id', 'INVALID_ID'],
  ['agent_id', 'INVALID_ID'],
  ['password', 'INVALID_PASSWORD'],
]);

/** The reason for a bad value in a top-level body field, when the field has its own. */
export function fieldReason(field: string): ErrorReason | undefined {
  return BODY_FIELD_REASONS.get(field);
}

function fromValidation(err: FastifyError & { validation: AjvError[]; validationContext?: string }, request: FastifyRequest): ApiError {
  const first = err.validation[0];
  const context = err.validationContext ?? 'body';
  if (context === 'params') return new ApiError('INVALID_ID', 'the id in the path is not a valid UUID');
  if (!first) return new ApiError('INVALID_ARGUMENT', err.message);
  const field = first.instancePath.split('/')[1];
  const where = `${context}${first.instancePath.replaceAll('/', '.')}`;
  if (first.keyword === 'additionalProperties' && first.instancePath === '') {
    return new ApiError('INVALID_ARGUMENT', `unknown field ${String(first.params.additionalProperty)} in the ${context}`);
  }
  if (context === 'body' && first.instancePath === '' && first.keyword === 'type' && request.body === undefined) {
    return new ApiError('INVALID_JSON_BODY', 'a JSON request body is required');
  }
  if (first.keyword === 'required') return new ApiError('INVALID_ARGUMENT', `${where}.${String(first.params.missingProperty)} is required`);
  // An id filter in a query string (customer_id, provider_id, agent_id) is an id like in a body.
  const reason = field !== undefined && (context === 'body' || (context === 'querystring' && field.endsWith('_id'))) ? fieldReason(field) : undefined;
  return new ApiError(reason ?? 'INVALID_ARGUMENT', `${where} ${first.message ?? 'is invalid'}`);
}

/** Maps anything thrown during a request to an ApiError. */
export function toApiError(err: unknown, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fe.validation)) return fromValidation(fe as FastifyError & { validation: AjvError[] }, request);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError('INVALID_JSON_BODY');
    default:
      break;
  }
  if (fe.statusCode === 429) return new ApiError('RATE_LIMIT_EXCEEDED');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError('INVALID_ARGUMENT', fe.message);
  }
  return new ApiError('INTERNAL', undefined, { cause: err });
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toApiError(err, request);
    if (apiError.httpCode >= 500) {
      request.log.error({ err, reason: apiError.reason }, 'request failed');
    } else {
      request.log.info({ reason: apiError.reason, status: apiError.httpCode }, 'request refused');
    }
    return reply.code(apiError.httpCode).type('application/json').send(envelopeOf(apiError, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const apiError = new ApiError('ROUTE_NOT_FOUND', `no endpoint ${request.method} ${redactUrl(request.url.split('?')[0] ?? '')}`);
    request.log.info({ reason: apiError.reason, status: 404 }, 'request refused');
    return reply.code(404).type('application/json').send(envelopeOf(apiError, request.id));
  });
}
