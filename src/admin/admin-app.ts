import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.ts';
import type { AdminDeps } from './admin-deps.ts';
import { requireSuperAdmin } from './auth/authenticate.ts';
import { installErrorHandling } from './error-handler.ts';
import { loginEndpoint } from './login-endpoint.ts';
import { providerEndpoints } from './provider-endpoints.ts';
import { providerSetupEndpoint } from './provider-setup-endpoint.ts';
import { installRequestContext, requestIdOf } from './request-context.ts';
import { routeEndpoints } from './route-endpoints.ts';
import { errorResponses } from './schemas.ts';

export type { AdminDeps } from './admin-deps.ts';

/** Admin request bodies are small JSON objects; anything bigger is refused (BODY_TOO_LARGE). */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Builds the admin API (not listening; see listenAdmin). Routes under /v1.0 other than login
 * and the OpenAPI document require a ProjectSuperAdmin token.
 */
export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // fastify's own request lines would log the raw URL (with ?token=); request-context.ts logs instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    // Strict bodies: unknown fields fail (never silently dropped), no type coercion ("1" is not 1).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installRequestContext(app, BODY_LIMIT_BYTES);
  installErrorHandling(app);
  app.decorateRequest('agent', undefined);

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: () => new ApiError('RATE_LIMIT_EXCEEDED'),
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'outdial admin API',
        description: 'VoIPBIN v1.0 compatible providers, routes and auth. Errors: {"error":{"status","reason","message","request_id"}}.',
        version: '1.0',
      },
      components: {
        securitySchemes: {
          cookieToken: { type: 'apiKey', in: 'cookie', name: 'token' },
          queryToken: { type: 'apiKey', in: 'query', name: 'token' },
          bearerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
  });

  app.get('/v1.0/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', {
    schema: { tags: ['health'], summary: '200 while the database answers', response: { 200: Type.Object({ status: Type.Literal('ok') }), ...errorResponses } },
  }, async () => {
    if (!(await deps.store.healthy())) throw new ApiError('INTERNAL', 'the database is not usable');
    return { status: 'ok' as const };
  });

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics: calls, attempts, process' } }, async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    });
  }

  await app.register(loginEndpoint(deps));
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireSuperAdmin(deps.tokens, deps.store.agents));
    await scope.register(providerSetupEndpoint(deps));
    await scope.register(providerEndpoints(deps));
    await scope.register(routeEndpoints(deps));
    for (const extra of deps.extraEndpoints ?? []) await scope.register(extra);
  }, { prefix: '/v1.0' });

  return app;
}

/** Listens on host:port (port 0 = any free port) and returns the bound address. */
export async function listenAdmin(app: FastifyInstance, host: string, port: number): Promise<{ host: string; port: number }> {
  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('admin server has no TCP address');
  return { host: address.address, port: address.port };
}
