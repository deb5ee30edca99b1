import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { providerLimitKey } from '../call/provider-limits.ts';
import type { CallLimiter } from '../cluster/call-limiter.ts';
import { ApiError } from '../errors.ts';
import type { DialPlanSnapshot } from '../routing/dial-plan.ts';
import { previewAttempts } from '../routing/dial-route-preview.ts';
import { DEFAULT_CUSTOMER_ID, type RouteRecord } from '../routing/model.ts';
import { providerView } from './provider-view.ts';
import { Provider, Route, SECURITY, Uuid, errorResponses } from './schemas.ts';

const DialRouteQuery = Type.Object({
  token: Type.Optional(Type.String({ description: 'auth token (alternative to the cookie and the Bearer header)' })),
  target: Type.String({ description: 'the destination, + and 1..15 digits (a + sent unencoded arrives as a space and is accepted)' }),
  customer_id: Type.Optional(Uuid(`the customer; default ${DEFAULT_CUSTOMER_ID} (default routes only)`)),
});

const DialRoute = Type.Object({
  route: Route,
  provider: Provider,
  request_uri: Type.String({ description: 'the Request-URI of this attempt' }),
  headers: Type.Record(Type.String(), Type.String(), { description: 'the provider tech headers added to the INVITE' }),
  codecs: Type.Array(Type.String(), { description: 'the codec filter applied to the SDP offer; [] = offer passed unchanged' }),
  current_calls: Type.Integer({ description: "calls through this provider now (attempts in progress and connected calls; the cluster's count when limits are shared)" }),
});

/**
 * `GET /v1.0/dialroutes`: the attempts the SIP engine would make right now, finished by the same
 * `finalAttempt` over the same in-memory snapshot the call path uses.
 */
export function dialRouteEndpoints(
  snapshot: () => DialPlanSnapshot,
  limiter: Pick<CallLimiter, 'clusterHeld'>,
  routeById: (id: string) => Promise<RouteRecord | undefined>,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get('/dialroutes', {
      schema: {
        tags: ['dialroutes'],
        summary: 'Preview the ordered attempts for a number and customer',
        security: SECURITY,
        querystring: DialRouteQuery,
        response: { 200: Type.Object({ result: Type.Array(DialRoute) }), ...errorResponses },
      },
    }, async (request) => {
      // `+` in a query string decodes to a space (application/x-www-form-urlencoded).
      const target = request.query.target.replace(/^ /, '+');
      if (!/^\+[0-9]{1,15}$/.test(target)) {
        throw new ApiError('INVALID_ARGUMENT', 'target must be + and 1..15 digits');
      }
      const customer = request.query.customer_id?.toLowerCase() ?? DEFAULT_CUSTOMER_ID;
      const attempts = previewAttempts(snapshot(), target, customer);
      // The snapshot keeps only what routing reads of a route (docs/performance.md §4); the
      // preview shows the whole row. One deleted since the snapshot was taken is left out.
      const [rows, calls] = await Promise.all([
        Promise.all(attempts.map((a) => routeById(a.route.id))),
        Promise.all(attempts.map((a) => limiter.clusterHeld(providerLimitKey(a.provider.id)))),
      ]);
      const result = attempts.flatMap((a, i) => {
        const route = rows[i];
        if (route === undefined) return [];
        return [
          {
            route,
            provider: providerView(a.provider),
            request_uri: a.requestUri,
            headers: Object.fromEntries(a.headers.map((h) => [h.name, h.value])),
            codecs: [...a.codecs],
            current_calls: calls[i]!,
          },
        ];
      });
      return { result };
    });
  };
}
