import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors.ts';
import { LIVE_SENTINEL } from '../../routing/model.ts';
import { formatMicros } from '../../store/clock.ts';
import { Permission, type AgentRecord, type Store } from '../../store/store.ts';
import { hashAccessKey } from './access-key.ts';
import type { TokenSigner } from './token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    agent: AgentRecord | undefined;
  }
}

export type CredentialKind = 'token' | 'accesskey';

export interface Credential {
  /** `unusable`: something was sent where a credential goes, but it cannot be one (Basic auth, a repeated parameter). */
  kind: CredentialKind | 'unusable';
  value: string;
  carrier: 'authorization header' | 'token query parameter' | 'accesskey query parameter' | 'token cookie' | 'accesskey cookie';
}

function queryValue(request: FastifyRequest, name: string): string | string[] | undefined {
  const v = (request.query as Record<string, unknown> | undefined)?.[name];
  if (typeof v === 'string') return v === '' ? undefined : v;
  return Array.isArray(v) ? v.map(String) : undefined;
}

/**
 * The credential of a request, first match wins (docs/api.md, "Credentials"):
 * `Authorization: Bearer`, `?token=`, `?accesskey=`, the `token` cookie, the `accesskey` cookie.
 * What the client put into this request on purpose beats what a browser attaches by itself, so
 * a planted or stale cookie can never override an explicit credential.
 */
export function credentialOf(request: FastifyRequest): Credential | undefined {
  const header = request.headers.authorization;
  if (header !== undefined && header !== '') {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    // A non-Bearer Authorization is a bad credential, not a missing one: never fall through.
    return m ? { kind: 'token', value: m[1]!, carrier: 'authorization header' } : { kind: 'unusable', value: '', carrier: 'authorization header' };
  }
  for (const [name, kind] of [['token', 'token'], ['accesskey', 'accesskey']] as const) {
    const v = queryValue(request, name);
    if (v === undefined) continue;
    const carrier = `${name} query parameter` as const;
    return typeof v === 'string' ? { kind, value: v, carrier } : { kind: 'unusable', value: '', carrier };
  }
  const cookies = request.cookies ?? {};
  if (cookies.token) return { kind: 'token', value: cookies.token, carrier: 'token cookie' };
  if (cookies.accesskey) return { kind: 'accesskey', value: cookies.accesskey, carrier: 'accesskey cookie' };
  return undefined;
}

export type Authenticator = (request: FastifyRequest) => Promise<AgentRecord>;

/** Resolves a request's credential to a live agent, or throws the 401 that says why not. */
export function createAuthenticator(tokens: TokenSigner, store: Pick<Store, 'agents' | 'accessKeys'>): Authenticator {
  const refuse = (message: string) => new ApiError('INVALID_CREDENTIALS', message);
  const liveAgent = async (id: string): Promise<AgentRecord | undefined> => {
    const agent = await store.agents.get(id);
    return agent && agent.tm_delete === LIVE_SENTINEL ? agent : undefined;
  };
  return async (request) => {
    const credential = credentialOf(request);
    if (credential === undefined) throw new ApiError('AUTHENTICATION_REQUIRED');
    if (credential.kind === 'unusable') throw refuse(`the ${credential.carrier} does not hold a usable credential`);
    if (credential.kind === 'token') {
      const claims = await tokens.verify(credential.value);
      if (!claims) throw refuse('the token is invalid or expired');
      const agent = await liveAgent(claims.agentId);
      if (!agent) throw refuse('the token belongs to an agent that no longer exists');
      if (agent.password_version !== claims.passwordVersion) throw refuse('the token was issued before the password was changed; log in again');
      return agent;
    }
    const key = await store.accessKeys.findByTokenHash(hashAccessKey(credential.value));
    if (!key) throw refuse('the access key is unknown or deleted');
    if (key.tm_expire <= formatMicros(Date.now() * 1000)) throw refuse('the access key has expired');
    const agent = await liveAgent(key.agent_id);
    if (!agent) throw refuse('the access key belongs to an agent that no longer exists');
    return agent;
  };
}

export function isSuperAdmin(agent: AgentRecord): boolean {
  return (agent.permission & Permission.ProjectSuperAdmin) !== 0;
}

/** onRequest hook: any live agent (access keys, one's own password). */
export function requireAgent(authenticate: Authenticator) {
  return async (request: FastifyRequest): Promise<void> => {
    request.agent = await authenticate(request);
  };
}

/** onRequest hook for every provider, route, dialroute and agent endpoint: ProjectSuperAdmin only. */
export function requireSuperAdmin(authenticate: Authenticator) {
  return async (request: FastifyRequest): Promise<void> => {
    const agent = await authenticate(request);
    if (!isSuperAdmin(agent)) throw new ApiError('PERMISSION_DENIED', 'this endpoint needs the ProjectSuperAdmin permission');
    request.agent = agent;
  };
}
