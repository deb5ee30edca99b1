import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ProviderTestCalls } from '../call/provider-test-call.ts';
import { ApiError } from '../errors.ts';
import { ProviderCall, ProviderCallBody, ProviderCallListQuery } from './call-schemas.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import { AuthQuery, IdParams, ListOf, SECURITY, errorResponses } from './schemas.ts';

const TAGS = ['providercalls'];

/**
 * `/v1.0/providercalls` (docs/api.md "Provider test calls"): one call through one provider,
 * bypassing the dial plan. POST answers at once with the test call in status `calling` (or
 * already failed, when nothing could be sent); GET shows it as it goes on and once it ended.
 */
export function providerCallEndpoints(calls: Pick<ProviderTestCalls, 'start' | 'get' | 'list'>): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post('/providercalls', {
      schema: {
        tags: TAGS,
        summary: 'Place a test call through one provider (answered calls are hung up at once); answers at once with status calling',
        security: SECURITY,
        querystring: AuthQuery,
        body: ProviderCallBody,
        response: { 200: ProviderCall, ...errorResponses },
      },
    }, async (request) => {
      const b = request.body;
      const call = await calls.start({ providerId: b.provider_id.toLowerCase(), destination: b.destination, source: b.source ?? '' });
      request.log.info({ provider_call_id: call.id, provider_id: call.provider_id }, 'provider test call requested');
      return call;
    });

    app.get('/providercalls', {
      schema: {
        tags: TAGS,
        summary: 'List provider test calls, newest first',
        security: SECURITY,
        querystring: ProviderCallListQuery,
        response: { 200: ListOf(ProviderCall), ...errorResponses },
      },
    }, async (request) => {
      const page = await calls.list({ ...pageRequestOf(request.query), providerId: request.query.provider_id?.toLowerCase() });
      return listResponse(page);
    });

    app.get('/providercalls/:id', {
      schema: { tags: TAGS, summary: 'Get a provider test call: its status, SIP status, timings and Request-URI', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: ProviderCall, ...errorResponses } },
    }, async (request) => {
      const call = await calls.get(request.params.id.toLowerCase());
      if (!call) throw new ApiError('PROVIDER_CALL_NOT_FOUND');
      return call;
    });
  };
}
