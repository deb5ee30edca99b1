import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ProviderInput } from '../store/store.ts';
import type { AdminDeps } from './admin-deps.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import { normalizeCodecs, validateHostname, validateTechHeaders } from './provider-fields.ts';
import { AuthQuery, IdParams, ListOf, PageQuery, Provider, ProviderBody, ProviderReplaceBody, errorResponses, SECURITY } from './schemas.ts';
import { ApiError } from '../errors.ts';

const TAGS = ['providers'];

/**
 * Body → store input: defaults for omitted fields (PUT is a full replace), semantic checks. Only
 * the settable fields are read; read-only ones a PUT body may carry are ignored here.
 */
export function providerInputOf(body: ProviderBody | ProviderReplaceBody, customerHeader: string): ProviderInput {
  return {
    type: body.type,
    hostname: validateHostname(body.hostname),
    tech_prefix: body.tech_prefix ?? '',
    tech_postfix: body.tech_postfix ?? '',
    tech_headers: validateTechHeaders(body.tech_headers ?? {}, customerHeader),
    name: body.name ?? '',
    detail: body.detail ?? '',
    codecs: normalizeCodecs(body.codecs ?? ''),
  };
}

export function providerEndpoints(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store, config } = deps;
  const customerHeader = config.routing.customerHeader;
  return async (app) => {
    app.get('/providers', {
      schema: { tags: TAGS, summary: 'List live providers, newest first', security: SECURITY, querystring: PageQuery, response: { 200: ListOf(Provider), ...errorResponses } },
    }, async (request) => listResponse(await store.providers.list(pageRequestOf(request.query))));

    app.get('/providers/:id', {
      schema: { tags: TAGS, summary: 'Get a provider (deleted ones too)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.get(request.params.id.toLowerCase());
      if (!provider) throw new ApiError('PROVIDER_NOT_FOUND');
      return provider;
    });

    app.post('/providers', {
      schema: { tags: TAGS, summary: 'Create a provider', security: SECURITY, querystring: AuthQuery, body: ProviderBody, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.create(providerInputOf(request.body, customerHeader));
      request.log.info({ provider_id: provider.id }, 'provider created');
      return provider;
    });

    app.put('/providers/:id', {
      schema: {
        tags: TAGS,
        summary: 'Replace a provider (omitted fields take their defaults; read-only fields of a GET are accepted and ignored; a hostname change resets health)',
        security: SECURITY,
        params: IdParams,
        querystring: AuthQuery,
        body: ProviderReplaceBody,
        response: { 200: Provider, ...errorResponses },
      },
    }, async (request) => {
      const provider = await store.providers.replace(request.params.id.toLowerCase(), providerInputOf(request.body, customerHeader));
      request.log.info({ provider_id: provider.id }, 'provider updated');
      return provider;
    });

    app.delete('/providers/:id', {
      schema: { tags: TAGS, summary: 'Soft-delete a provider (409 PROVIDER_IN_USE while live routes use it)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.softDelete(request.params.id.toLowerCase());
      request.log.info({ provider_id: provider.id }, 'provider deleted');
      return provider;
    });
  };
}
