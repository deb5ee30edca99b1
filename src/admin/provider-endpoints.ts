import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIVE_SENTINEL, type ProviderRecord } from '../routing/model.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ProviderInput } from '../store/store.ts';
import type { AdminDeps } from './admin-deps.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import { normalizeCodecs, validateAuthUsername, validateHostname, validateTechHeaders } from './provider-fields.ts';
import { providerView } from './provider-view.ts';
import { AuthQuery, IdParams, ListOf, PageQuery, Provider, ProviderBody, ProviderReplaceBody, errorResponses, SECURITY } from './schemas.ts';
import { ApiError } from '../errors.ts';

const TAGS = ['providers'];

/**
 * Body → store input: defaults for omitted fields (PUT is a full replace), semantic checks. Only
 * the settable fields are read; read-only ones a PUT body may carry are ignored here.
 *
 * The password (docs/api.md §9, "Carrier settings"): a string sets it (sealed here, above the
 * store), `""` or `null` removes it, and an omitted one is kept on a PUT (`current` is the stored
 * provider), since a GET never returns it and the GET → edit → PUT round trip must not wipe it.
 * A password is kept only with a user name: a PUT with an empty `auth_username` removes both.
 */
export function providerInputOf(
  body: ProviderBody | ProviderReplaceBody,
  customerHeader: string,
  secrets: SecretBox,
  current?: ProviderRecord,
): ProviderInput {
  const username = validateAuthUsername(body.auth_username ?? '');
  const given = body.auth_password;
  if (typeof given === 'string' && given !== '' && username === '') {
    throw new ApiError('INVALID_AUTH_PASSWORD', 'auth_password needs an auth_username');
  }
  const hasPassword = username !== '' && (typeof given === 'string' ? given !== '' : given === undefined && current !== undefined && current.auth_password_sealed !== '');
  if (username !== '' && !hasPassword) {
    throw new ApiError('INVALID_AUTH_PASSWORD', current ? 'auth_username needs an auth_password, and none is stored' : 'auth_username needs an auth_password');
  }
  if (body.register === true && !hasPassword) {
    throw new ApiError('INVALID_REGISTER', 'register needs auth_username and auth_password');
  }
  return {
    type: body.type,
    hostname: validateHostname(body.hostname),
    tech_prefix: body.tech_prefix ?? '',
    tech_postfix: body.tech_postfix ?? '',
    tech_headers: validateTechHeaders(body.tech_headers ?? {}, customerHeader),
    name: body.name ?? '',
    detail: body.detail ?? '',
    codecs: normalizeCodecs(body.codecs ?? ''),
    auth_username: username,
    // undefined: keep the stored one (the store decides inside its transaction)
    ...(given === undefined ? {} : { auth_password_sealed: given === null || given === '' ? '' : secrets.seal(given, 'auth_password') }),
    register: body.register ?? false,
    register_expires: body.register_expires ?? 3600,
    leading_plus: body.leading_plus ?? true,
    transport: body.transport ?? 'udp',
    max_calls: body.max_calls ?? 0,
    max_cps: body.max_cps ?? 0,
  };
}

export function providerEndpoints(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store, config, secrets } = deps;
  const customerHeader = config.routing.customerHeader;
  return async (app) => {
    app.get('/providers', {
      schema: { tags: TAGS, summary: 'List live providers, newest first', security: SECURITY, querystring: PageQuery, response: { 200: ListOf(Provider), ...errorResponses } },
    }, async (request) => {
      const page = await store.providers.list(pageRequestOf(request.query));
      return listResponse({ ...page, items: page.items.map(providerView) });
    });

    app.get('/providers/:id', {
      schema: { tags: TAGS, summary: 'Get a provider (deleted ones too)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.get(request.params.id.toLowerCase());
      if (!provider) throw new ApiError('PROVIDER_NOT_FOUND');
      return providerView(provider);
    });

    app.post('/providers', {
      schema: { tags: TAGS, summary: 'Create a provider', security: SECURITY, querystring: AuthQuery, body: ProviderBody, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.create(providerInputOf(request.body, customerHeader, secrets));
      request.log.info({ provider_id: provider.id }, 'provider created');
      return providerView(provider);
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
      const id = request.params.id.toLowerCase();
      const current = await store.providers.get(id);
      if (!current || current.tm_delete !== LIVE_SENTINEL) throw new ApiError('PROVIDER_NOT_FOUND');
      const provider = await store.providers.replace(id, providerInputOf(request.body, customerHeader, secrets, current));
      request.log.info({ provider_id: provider.id }, 'provider updated');
      return providerView(provider);
    });

    app.delete('/providers/:id', {
      schema: { tags: TAGS, summary: 'Soft-delete a provider (409 PROVIDER_IN_USE while live routes use it)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Provider, ...errorResponses } },
    }, async (request) => {
      const provider = await store.providers.softDelete(request.params.id.toLowerCase());
      request.log.info({ provider_id: provider.id }, 'provider deleted');
      return providerView(provider);
    });
  };
}
