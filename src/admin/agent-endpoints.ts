import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import { ApiError } from '../errors.ts';
import type { AgentRecord } from '../store/store.ts';
import type { AdminDeps } from './admin-deps.ts';
import { isSuperAdmin } from './auth/authenticate.ts';
import { hashPassword, passwordMatches } from './auth/password.ts';
import { listResponse, pageRequestOf } from './pagination.ts';
import {
  Agent,
  AgentCreateBody,
  AgentPasswordBody,
  AgentPermissionBody,
  AgentUpdateBody,
  AuthQuery,
  IdParams,
  ListOf,
  PageQuery,
  errorResponses,
  SECURITY,
} from './schemas.ts';

const TAGS = ['agents'];

/** What the API shows of an agent: never the hash, never the password version. */
export function agentView(a: AgentRecord) {
  return {
    id: a.id,
    username: a.username,
    name: a.name,
    detail: a.detail,
    permission: a.permission,
    tm_create: a.tm_create,
    tm_update: a.tm_update,
    tm_delete: a.tm_delete,
  };
}

/**
 * `/v1.0/agents` (docs/api.md, "Agents"), registered behind the ProjectSuperAdmin check. Deleting
 * or demoting the last ProjectSuperAdmin is refused (409), so the API can never lock itself out.
 */
export function agentEndpoints(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store } = deps;
  return async (app) => {
    app.get('/agents', {
      schema: { tags: TAGS, summary: 'List live agents, newest first', security: SECURITY, querystring: PageQuery, response: { 200: ListOf(Agent), ...errorResponses } },
    }, async (request) => {
      const page = await store.agents.list(pageRequestOf(request.query));
      return listResponse({ items: page.items.map(agentView), nextPageToken: page.nextPageToken });
    });

    app.get('/agents/:id', {
      schema: { tags: TAGS, summary: 'Get an agent (deleted ones too)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Agent, ...errorResponses } },
    }, async (request) => {
      const agent = await store.agents.get(request.params.id.toLowerCase());
      if (!agent) throw new ApiError('AGENT_NOT_FOUND');
      return agentView(agent);
    });

    app.post('/agents', {
      schema: { tags: TAGS, summary: 'Create an agent (the password is write-only)', security: SECURITY, querystring: AuthQuery, body: AgentCreateBody, response: { 200: Agent, ...errorResponses } },
    }, async (request) => {
      const b = request.body;
      const agent = await store.agents.create({
        username: b.username,
        name: b.name ?? '',
        detail: b.detail ?? '',
        passwordHash: await hashPassword(b.password),
        permission: b.permission,
      });
      request.log.info({ agent_id: agent.id, permission: agent.permission }, 'agent created');
      return agentView(agent);
    });

    app.put('/agents/:id', {
      schema: {
        tags: TAGS,
        summary: 'Replace name and detail, and the permission when given (read-only fields of a GET, and an unchanged username, are accepted and ignored)',
        security: SECURITY,
        params: IdParams,
        querystring: AuthQuery,
        body: AgentUpdateBody,
        response: { 200: Agent, ...errorResponses },
      },
    }, async (request) => {
      const id = request.params.id.toLowerCase();
      const b = request.body;
      const current = await store.agents.get(id);
      if (b.username !== undefined && current && b.username !== current.username) {
        throw new ApiError('INVALID_ARGUMENT', 'username is fixed at creation; create a new agent for another username');
      }
      const agent = await store.agents.update(id, { name: b.name ?? '', detail: b.detail ?? '', permission: b.permission ?? current?.permission ?? 0 });
      request.log.info({ agent_id: agent.id, permission: agent.permission }, 'agent updated');
      return agentView(agent);
    });

    app.put('/agents/:id/permission', {
      schema: { tags: TAGS, summary: 'Set the permission bit flags (as VoIPBIN)', security: SECURITY, params: IdParams, querystring: AuthQuery, body: AgentPermissionBody, response: { 200: Agent, ...errorResponses } },
    }, async (request) => {
      const id = request.params.id.toLowerCase();
      const current = await store.agents.get(id);
      if (!current) throw new ApiError('AGENT_NOT_FOUND');
      const agent = await store.agents.update(id, { name: current.name, detail: current.detail, permission: request.body.permission });
      request.log.info({ agent_id: agent.id, permission: agent.permission }, 'agent updated');
      return agentView(agent);
    });

    app.delete('/agents/:id', {
      schema: { tags: TAGS, summary: 'Soft-delete an agent and its access keys (409 for the last ProjectSuperAdmin)', security: SECURITY, params: IdParams, querystring: AuthQuery, response: { 200: Agent, ...errorResponses } },
    }, async (request) => {
      const agent = await store.agents.softDelete(request.params.id.toLowerCase());
      request.log.info({ agent_id: agent.id }, 'agent deleted');
      return agentView(agent);
    });
  };
}

/**
 * `PUT /v1.0/agents/{id}/password`, registered for every authenticated agent: anyone may change
 * their own password (with the current one); only a ProjectSuperAdmin may set another agent's.
 * Either way the agent's earlier tokens stop working. Password guesses share the login bucket.
 */
export function agentPasswordEndpoint(deps: AdminDeps, loginLimit: onRequestHookHandler): FastifyPluginAsyncTypebox {
  const { store } = deps;
  return async (app) => {
    app.put('/agents/:id/password', {
      onRequest: loginLimit,
      schema: {
        tags: TAGS,
        summary: "Change a password: one's own with old_password; another agent's as a ProjectSuperAdmin. Tokens issued before stop working",
        security: SECURITY,
        params: IdParams,
        querystring: AuthQuery,
        body: AgentPasswordBody,
        response: { 200: Agent, ...errorResponses },
      },
    }, async (request) => {
      const caller = request.agent!;
      const id = request.params.id.toLowerCase();
      const own = id === caller.id;
      if (own) {
        if (request.body.old_password === undefined || !(await passwordMatches(request.body.old_password, caller.password_hash))) {
          request.log.info({ agent_id: caller.id }, 'password change refused');
          throw new ApiError('INVALID_OLD_PASSWORD');
        }
      } else if (!isSuperAdmin(caller)) {
        throw new ApiError('PERMISSION_DENIED', "changing another agent's password needs the ProjectSuperAdmin permission");
      }
      const agent = await store.agents.setPassword(id, await hashPassword(request.body.password));
      request.log.info({ agent_id: agent.id, by: caller.id }, 'password changed');
      return agentView(agent);
    });
  };
}
