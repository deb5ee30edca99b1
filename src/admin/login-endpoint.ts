import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import { ApiError } from '../errors.ts';
import type { AdminDeps } from './admin-deps.ts';
import { passwordMatches } from './auth/password.ts';
import { LOGIN_CACHE_CONTROL, LoginBody, LoginResult, errorResponses } from './schemas.ts';

/**
 * POST /auth/login and /v1.0/auth/login. Both paths share one rate-limit bucket per client
 * (`loginLimit`, made once by the app), so alternating between them buys no extra attempts.
 */
export function loginEndpoint(deps: AdminDeps, loginLimit: onRequestHookHandler): FastifyPluginAsyncTypebox {
  const { store, tokens, config } = deps;
  return async (app) => {
    for (const url of ['/auth/login', '/v1.0/auth/login']) {
      app.post(url, {
        onRequest: loginLimit,
        schema: { tags: ['auth'], summary: 'Log in; returns a token and sets the token cookie', body: LoginBody, response: { 200: LoginResult, ...errorResponses } },
      }, async (request, reply) => {
        const { username, password } = request.body;
        const agent = await store.agents.findByUsername(username);
        reply.header('Cache-Control', LOGIN_CACHE_CONTROL);
        if (!(await passwordMatches(password, agent?.password_hash)) || !agent) {
          // An unknown "user name" is often a password typed into the wrong field: not logged.
          request.log.info(agent ? { username, agent_id: agent.id } : { username_known: false }, 'login refused');
          throw new ApiError('INVALID_CREDENTIALS', 'wrong username or password');
        }
        const token = await tokens.sign(agent);
        reply.setCookie('token', token, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: config.auth.tokenTtlSeconds });
        request.log.info({ username, agent_id: agent.id }, 'login succeeded');
        return { username: agent.username, token };
      });
    }
  };
}
