import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../errors.ts';
import type { AdminDeps } from './admin-deps.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import { AuthQuery, IdParams, ListOf, Route, RouteCreateBody, RouteListQuery, RouteUpdateBody, errorResponses, SECURITY } from './schemas.ts';

const TAGS = ['routes'];

export function routeEndpoints(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store } = deps;
  return async (app) => {
    app.get('/routes', {
      schema: { tags: TAGS, summary: 'List live routes, newest first', security: SECURITY, querystring: RouteListQuery, response: { 200: ListOf(Route), ...errorResponses } },
    }, async (request) =>
      listResponse(await store.routes.list({ ...pageRequestOf(request.query), customerId: request.query.customer_id?.toLowerCase() })),
    );

    app.get('/routes/:id', {
      schema: { tags: TAGS, summary: 'Get a route (deleted ones too)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Route, ...errorResponses } },
    }, async (request) => {
      const route = await store.routes.get(request.params.id.toLowerCase());
      if (!route) throw new ApiError('ROUTE_NOT_FOUND');
      return route;
    });

    app.post('/routes', {
      schema: { tags: TAGS, summary: 'Create a route', security: SECURITY, querystring: AuthQuery, body: RouteCreateBody, response: { 200: Route, ...errorResponses } },
    }, async (request) => {
      const b = request.body;
      const route = await store.routes.create({
        customer_id: b.customer_id.toLowerCase(),
        name: b.name ?? '',
        detail: b.detail ?? '',
        provider_id: b.provider_id.toLowerCase(),
        priority: b.priority,
        target: b.target,
      });
      request.log.info({ route_id: route.id }, 'route created');
      return route;
    });

    app.put('/routes/:id', {
      schema: { tags: TAGS, summary: 'Replace name, detail, provider_id, priority and target of a route (read-only fields of a GET, and an unchanged customer_id, are accepted and ignored)', security: SECURITY, params: IdParams, querystring: AuthQuery, body: RouteUpdateBody, response: { 200: Route, ...errorResponses } },
    }, async (request) => {
      const b = request.body;
      const id = request.params.id.toLowerCase();
      if (b.customer_id !== undefined) {
        // A round trip carries the route's own customer_id; a different one would be a move,
        // which a route does not do (docs/api.md, "Routes").
        const current = await store.routes.get(id);
        if (current && current.customer_id !== b.customer_id.toLowerCase()) {
          throw new ApiError('INVALID_ARGUMENT', 'customer_id is fixed at creation; create a new route for another customer');
        }
      }
      const route = await store.routes.replace(id, {
        name: b.name ?? '',
        detail: b.detail ?? '',
        provider_id: b.provider_id.toLowerCase(),
        priority: b.priority,
        target: b.target,
      });
      request.log.info({ route_id: route.id }, 'route updated');
      return route;
    });

    app.delete('/routes/:id', {
      schema: { tags: TAGS, summary: 'Soft-delete a route', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Route, ...errorResponses } },
    }, async (request) => {
      const route = await store.routes.softDelete(request.params.id.toLowerCase());
      request.log.info({ route_id: route.id }, 'route deleted');
      return route;
    });
  };
}
