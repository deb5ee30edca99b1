import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.ts';
import type { AccessKeyRecord, AgentRecord } from '../store/store.ts';
import type { AdminDeps } from './admin-deps.ts';
import { generateAccessKey } from './auth/access-key.ts';
import { isSuperAdmin } from './auth/authenticate.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import {
  AccessKey,
  AccessKeyCreateBody,
  AccessKeyCreated,
  AccessKeyUpdateBody,
  AuthQuery,
  IdParams,
  ListOf,
  PageQuery,
  Uuid,
  errorResponses,
  SECURITY,
} from './schemas.ts';

const TAGS = ['accesskeys'];

const AccessKeyListQuery = Type.Object({
  ...PageQuery.properties,
  agent_id: Type.Optional(Uuid('only the keys of this agent (ProjectSuperAdmin; others see only their own)')),
});

/** What the API shows of a key: never its hash. */
export function accessKeyView(k: AccessKeyRecord) {
  return {
    id: k.id,
    agent_id: k.agent_id,
    name: k.name,
    detail: k.detail,
    token_prefix: k.token_prefix,
    tm_expire: k.tm_expire,
    tm_create: k.tm_create,
    tm_update: k.tm_update,
    tm_delete: k.tm_delete,
  };
}

/**
 * `/v1.0/accesskeys` (docs/api.md, "Access keys"), for every authenticated agent: an agent
 * manages its own keys; a ProjectSuperAdmin manages everyone's. Another agent's key is
 * "not found" to a caller who may not see it, so ids reveal nothing.
 */
export function accessKeyEndpoints(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store } = deps;
  const visibleKey = async (caller: AgentRecord, id: string): Promise<AccessKeyRecord> => {
    const key = await store.accessKeys.get(id.toLowerCase());
    if (!key || (key.agent_id !== caller.id && !isSuperAdmin(caller))) throw new ApiError('ACCESS_KEY_NOT_FOUND');
    return key;
  };

  return async (app) => {
    app.get('/accesskeys', {
      schema: { tags: TAGS, summary: 'List live access keys, newest first', security: SECURITY, querystring: AccessKeyListQuery, response: { 200: ListOf(AccessKey), ...errorResponses } },
    }, async (request) => {
      const caller = request.agent!;
      const agentId = isSuperAdmin(caller) ? request.query.agent_id?.toLowerCase() : caller.id;
      const page = await store.accessKeys.list({ ...pageRequestOf(request.query), agentId });
      return listResponse({ items: page.items.map(accessKeyView), nextPageToken: page.nextPageToken });
    });

    app.get('/accesskeys/:id', {
      schema: { tags: TAGS, summary: 'Get an access key (deleted ones too; never the key itself)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: AccessKey, ...errorResponses } },
    }, async (request) => accessKeyView(await visibleKey(request.agent!, request.params.id)));

    app.post('/accesskeys', {
      schema: {
        tags: TAGS,
        summary: 'Create an access key; the key is in this response only (stored as a hash)',
        security: SECURITY,
        querystring: AuthQuery,
        body: AccessKeyCreateBody,
        response: { 200: AccessKeyCreated, ...errorResponses },
      },
    }, async (request, reply) => {
      const caller = request.agent!;
      const b = request.body;
      const agentId = b.agent_id?.toLowerCase() ?? caller.id;
      if (agentId !== caller.id && !isSuperAdmin(caller)) {
        throw new ApiError('PERMISSION_DENIED', "a key for another agent needs the ProjectSuperAdmin permission");
      }
      const generated = generateAccessKey();
      const key = await store.accessKeys.create({
        agentId,
        name: b.name ?? '',
        detail: b.detail ?? '',
        tokenHash: generated.hash,
        tokenPrefix: generated.prefix,
        expiresInSeconds: b.expire,
      });
      request.log.info({ access_key_id: key.id, agent_id: key.agent_id, tm_expire: key.tm_expire }, 'access key created');
      // The one response that holds the key must not be kept by a cache.
      reply.header('Cache-Control', 'no-store');
      return { ...accessKeyView(key), token: generated.key };
    });

    app.put('/accesskeys/:id', {
      schema: {
        tags: TAGS,
        summary: 'Replace the name and detail of an access key (read-only fields of a GET are accepted and ignored)',
        security: SECURITY,
        params: IdParams,
        querystring: AuthQuery,
        body: AccessKeyUpdateBody,
        response: { 200: AccessKey, ...errorResponses },
      },
    }, async (request) => {
      const key = await visibleKey(request.agent!, request.params.id);
      const updated = await store.accessKeys.update(key.id, { name: request.body.name ?? '', detail: request.body.detail ?? '' });
      request.log.info({ access_key_id: updated.id }, 'access key updated');
      return accessKeyView(updated);
    });

    app.delete('/accesskeys/:id', {
      schema: { tags: TAGS, summary: 'Delete an access key: it stops working at once', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: AccessKey, ...errorResponses } },
    }, async (request) => {
      const key = await visibleKey(request.agent!, request.params.id);
      const deleted = await store.accessKeys.softDelete(key.id);
      request.log.info({ access_key_id: deleted.id }, 'access key deleted');
      return accessKeyView(deleted);
    });
  };
}
