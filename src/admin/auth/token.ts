import { SignJWT, jwtVerify } from 'jose';

/** What a valid token says: whose it is, and under which password it was issued. */
export interface TokenClaims {
  agentId: string;
  /** The agent's password_version at issue; a token from before a password change is refused. */
  passwordVersion: number;
}

/** HS256 access tokens; the subject is the agent id. */
export interface TokenSigner {
  sign(agent: { id: string; username: string; password_version: number }): Promise<string>;
  /** The claims, or undefined when the token is forged, expired, malformed or has no expiry. */
  verify(token: string): Promise<TokenClaims | undefined>;
}

const ISSUER = 'outdial';

export function createTokenSigner(secret: string, ttlSeconds: number): TokenSigner {
  const key = new TextEncoder().encode(secret);
  return {
    async sign(agent) {
      return new SignJWT({ username: agent.username, pwv: agent.password_version })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(agent.id)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      try {
        // A token without exp would be valid forever (jose accepts one unless told otherwise).
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, requiredClaims: ['exp', 'iat', 'sub'] });
        if (typeof payload.sub !== 'string') return undefined;
        // Tokens issued before password versions existed count as version 0.
        const pwv = payload.pwv === undefined ? 0 : payload.pwv;
        if (typeof pwv !== 'number' || !Number.isInteger(pwv)) return undefined;
        return { agentId: payload.sub, passwordVersion: pwv };
      } catch {
        return undefined;
      }
    },
  };
}
