import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.ts';
import { Permission, type AgentRecord, type AgentStore } from '../../store/store.ts';
import type { TokenSigner } from './token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    agent: AgentRecord | undefined;
  }
}

/** Credentials, first match wins: cookie `token`, query `?token=`, `Authorization: Bearer`. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const cookie = request.cookies?.token;
  if (cookie) return cookie;
  const query = (request.query as Record<string, unknown> | undefined)?.token;
  if (typeof query === 'string' && query !== '') return query;
  const header = request.headers.authorization;
  if (header) {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return m ? m[1] : header; // a non-Bearer Authorization is a bad credential, not a missing one
  }
  return undefined;
}

/** onRequest hook for every provider, route and dialroute endpoint: ProjectSuperAdmin only. */
export function requireSuperAdmin(tokens: TokenSigner, agents: AgentStore) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = credentialOf(request);
    if (token === undefined) throw new ApiError('AUTHENTICATION_REQUIRED');
    const agentId = await tokens.verify(token);
    const agent = agentId === undefined ? undefined : await agents.get(agentId);
    if (!agent) throw new ApiError('INVALID_CREDENTIALS', 'the token is invalid or expired');
    if ((agent.permission & Permission.ProjectSuperAdmin) === 0) {
      throw new ApiError('PERMISSION_DENIED', 'this endpoint needs the ProjectSuperAdmin permission');
    }
    request.agent = agent;
  };
}
