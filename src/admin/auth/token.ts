import { SignJWT, jwtVerify } from 'jose';

/** HS256 access tokens; the subject is the agent id. */
export interface TokenSigner {
  sign(agent: { id: string; username: string }): Promise<string>;
  /** The agent id, or undefined when the token is forged, expired or malformed. */
  verify(token: string): Promise<string | undefined>;
}

const ISSUER = 'outdial';

export function createTokenSigner(secret: string, ttlSeconds: number): TokenSigner {
  const key = new TextEncoder().encode(secret);
  return {
    async sign(agent) {
      return new SignJWT({ username: agent.username })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(agent.id)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER });
        return typeof payload.sub === 'string' ? payload.sub : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
