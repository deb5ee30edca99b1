import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.ts';
import { accessKeyEndpoints } from './access-key-endpoints.ts';
import type { AdminDeps } from './admin-deps.ts';
import { agentEndpoints, agentPasswordEndpoint } from './agent-endpoints.ts';
import { callEndpoints } from './call-endpoints.ts';
import { createAuthenticator, requireAgent, requireSuperAdmin } from './auth/authenticate.ts';
import { consoleEndpoint } from './console-endpoint.ts';
import { createClientErrorHandler, frameworkErrorHandler } from './early-errors.ts';
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

const HealthBody = Type.Object({
  status: Type.Literal('ok'),
  store: Type.Object({ readable: Type.Boolean(), writable: Type.Boolean() }),
});

/**
 * Builds the admin API (not listening; see listenAdmin). Routes under /v1.0 other than login
 * and the OpenAPI document need a credential: access keys and one's own password for any live
 * agent, everything else ProjectSuperAdmin (docs/api.md, "Permissions").
 */
export async function buildAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const timeoutMs = deps.config.http.requestTimeoutMs;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // fastify's own request lines would log the raw URL (with ?token=); request-context.ts logs instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    // Headers and body must arrive within the limit (a body that never finishes is answered 408
    // and closed); Node checks the limits every connectionsCheckingInterval, so keep it short.
    requestTimeout: timeoutMs,
    http: { headersTimeout: timeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))) },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: createClientErrorHandler(deps.logger),
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
  // One bucket per client for every password check (both login paths, password changes).
  // @fastify/rate-limit counts in fixed windows: `burst` per (burst / rate) seconds averages
  // `rate` per second while letting a burst through.
  const { loginRatePerSecond: rate, loginBurst: burst } = deps.config.auth;
  const loginLimit = app.rateLimit({ max: burst, timeWindow: Math.max(1000, Math.ceil((burst / rate) * 1000)) });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'outdial admin API',
        description: 'VoIPBIN v1.0 compatible providers, routes, agents, access keys and auth (docs/api.md). Errors: {"error":{"status","reason","message","request_id"}}.',
        version: '1.0',
      },
      components: {
        securitySchemes: {
          bearerToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          queryToken: { type: 'apiKey', in: 'query', name: 'token' },
          queryAccessKey: { type: 'apiKey', in: 'query', name: 'accesskey' },
          cookieToken: { type: 'apiKey', in: 'cookie', name: 'token' },
          cookieAccessKey: { type: 'apiKey', in: 'cookie', name: 'accesskey' },
        },
      },
    },
  });

  app.get('/v1.0/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', {
    schema: {
      tags: ['health'],
      summary: '200 while the store can be read and written; 503 STORAGE_UNAVAILABLE (details.store says which) otherwise',
      response: { 200: HealthBody, ...errorResponses },
    },
  }, async () => {
    const health = await deps.store.health();
    if (!health.readable || !health.writable) {
      const what = health.readable ? 'cannot be written' : 'cannot be read';
      throw new ApiError('STORAGE_UNAVAILABLE', `the database ${what}${health.problem ? `: ${health.problem}` : ''}`, {
        details: { store: { readable: health.readable, writable: health.writable } },
      });
    }
    return { status: 'ok' as const, store: { readable: true, writable: true } };
  });

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics: calls, attempts, process' } }, async (_request, reply) => {
      reply.header('content-type', metrics.contentType);
      return metrics.metrics();
    });
  }

  const authenticate = createAuthenticator(deps.tokens, deps.store);
  await app.register(loginEndpoint(deps, loginLimit));
  await app.register(consoleEndpoint({ logger: deps.logger }));
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireSuperAdmin(authenticate));
    await scope.register(providerSetupEndpoint(deps));
    await scope.register(providerEndpoints(deps));
    await scope.register(routeEndpoints(deps));
    await scope.register(agentEndpoints(deps));
    await scope.register(callEndpoints(deps.store));
    for (const extra of deps.extraEndpoints ?? []) await scope.register(extra);
  }, { prefix: '/v1.0' });
  await app.register(async (scope) => {
    scope.addHook('onRequest', requireAgent(authenticate));
    await scope.register(accessKeyEndpoints(deps));
    await scope.register(agentPasswordEndpoint(deps, loginLimit));
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
