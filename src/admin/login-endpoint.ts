import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ApiError } from '../errors.ts';
import type { AdminDeps } from './admin-deps.ts';
import { hashPassword, verifyPassword } from './auth/password.ts';
import { LoginBody, LoginResult, errorResponses } from './schemas.ts';

/**
 * POST /auth/login and /v1.0/auth/login. An unknown user costs the same scrypt work as a wrong
 * password, so response time does not reveal which user names exist.
 */
export function loginEndpoint(deps: AdminDeps): FastifyPluginAsyncTypebox {
  const { store, tokens, config } = deps;
  const rate = config.auth.loginRatePerSecond;
  const burst = config.auth.loginBurst;
  // @fastify/rate-limit counts in fixed windows: `burst` per (burst / rate) seconds averages
  // `rate` per second while letting a burst through.
  const rateLimit = { max: burst, timeWindow: Math.max(1000, Math.ceil((burst / rate) * 1000)) };
  let decoyHash: Promise<string> | undefined;

  return async (app) => {
    for (const url of ['/auth/login', '/v1.0/auth/login']) {
      app.post(url, {
        config: { rateLimit },
        schema: { tags: ['auth'], summary: 'Log in; returns a token and sets the token cookie', body: LoginBody, response: { 200: LoginResult, ...errorResponses } },
      }, async (request, reply) => {
        const { username, password } = request.body;
        const agent = await store.agents.findByUsername(username);
        decoyHash ??= hashPassword('decoy password');
        const ok = await verifyPassword(password, agent?.password_hash ?? (await decoyHash));
        if (!agent || !ok) {
          request.log.info({ username }, 'login refused');
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
